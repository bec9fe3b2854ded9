"""`lambdatui logs`, run as a real subprocess: the local backend's persisted lines (written by
`lambdatui invoke` in another process), `--since`, `--filter`, `--follow`, exit statuses, and the AWS
backend against moto's server."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time
from datetime import datetime, timezone

import pytest
from aws_support import cli_credentials

PY = f"python{sys.version_info.major}.{sys.version_info.minor}"
LINE = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3})Z (.*)$")
HANDLER = """
def handler(event, context):
    print("MARKER", event.get("marker", "none"))
    if event.get("fail"):
        raise ValueError("failed on demand")
    return {"ok": True}
"""


@pytest.fixture
def env(tmp_path):
    e = {k: v for k, v in os.environ.items() if k not in ("LAMBDATUI_CONFIG", "AWS_PROFILE")}
    e["LAMBDATUI_STATE_DIR"] = str(tmp_path / "state")
    e["PYTHONUNBUFFERED"] = "1"
    return e


@pytest.fixture
def config(tmp_path) -> str:
    code = tmp_path / "code"
    code.mkdir()
    (code / "app.py").write_text(textwrap.dedent(HANDLER))
    path = tmp_path / "lambdatui.yaml"
    path.write_text(
        "backend: local\nlocal:\n  functions:\n"
        f"    marker-fn:\n      runtime: {PY}\n      handler: app.handler\n      code: {code}\n"
    )
    return str(path)


@pytest.fixture
def cli(env, tmp_path):
    def run(*args: str, input: str | None = None, timeout: float = 30) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "lambdatui", *args],
            cwd=tmp_path, env=env, capture_output=True, text=True, input=input, timeout=timeout,
        )

    return run


def invoke(cli, config: str, event: str) -> None:
    r = cli("invoke", "marker-fn", "--config", config, "--event", "-", input=event)
    assert r.returncode in (0, 1), r.stderr  # 1: the function failed on demand
    assert "MARKER" in r.stdout


def messages(stdout: str) -> list[str]:
    """The messages of the printed events (continuation lines are not events)."""
    out = []
    for line in stdout.splitlines():
        m = LINE.match(line)
        if m:
            out.append(m.group(2))
        else:
            assert line.startswith(" "), f"neither an event nor a continuation: {line!r}"
    return out


def _ctrl_c_works() -> None:
    # A shell without job control starts background commands with SIGINT ignored, and a child
    # inherits that: `pytest &` (or a CI runner doing the same) would make ctrl+c do nothing here.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class Reader:
    """A child's stdout, line by line, without blocking the test forever."""

    def __init__(self, proc: subprocess.Popen) -> None:
        self.proc = proc
        self.lines: queue.Queue = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))

    def until(self, text: str, timeout: float = 10) -> list[str]:
        deadline = time.monotonic() + timeout
        while not any(text in line for line in self.seen):
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"{text!r} not printed within {timeout} s: {self.seen}"
            try:
                self.seen.append(self.lines.get(timeout=remaining))
            except queue.Empty:
                pass
        return self.seen

    def interrupt(self) -> int:
        self.proc.send_signal(signal.SIGINT)  # ctrl+c
        try:
            return self.proc.wait(timeout=10)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()


# -- local backend ---------------------------------------------------------------------------------


def test_prints_an_invocations_lines_with_utc_timestamps(cli, config):
    before = time.time()
    invoke(cli, config, '{"marker": "first-run"}')
    r = cli("logs", "marker-fn", "--config", config)
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    lines = messages(r.stdout)
    kinds = [m.split(" ")[0] for m in lines if not m.startswith("INIT_START")]
    assert kinds == ["START", "MARKER", "END", "REPORT"], lines
    assert "MARKER first-run" in lines
    stamps = [LINE.match(line).group(1) for line in r.stdout.splitlines()]
    first = datetime.strptime(stamps[0], "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=timezone.utc).timestamp()
    assert before - 1 <= first <= time.time()  # UTC, not local time
    assert stamps == sorted(stamps)


def test_filter_since_and_multiline_messages(cli, config):
    invoke(cli, config, '{"marker": "one"}')
    first = cli("logs", "marker-fn", "--config", config)
    last_of_first = LINE.match(first.stdout.splitlines()[-1]).group(1)
    time.sleep(0.01)
    invoke(cli, config, '{"marker": "two", "fail": true}')

    r = cli("logs", "marker-fn", "--config", config, "--filter", "MARKER")
    assert messages(r.stdout) == ["MARKER one", "MARKER two"]
    r = cli("logs", "marker-fn", "--config", config, "--filter", '"MARKER two"')
    assert messages(r.stdout) == ["MARKER two"]

    # --since an ISO time just after the first invocation's last line: only the second one.
    since = datetime.strptime(last_of_first, "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=timezone.utc).timestamp() + 0.001
    iso = datetime.fromtimestamp(since, timezone.utc).isoformat(timespec="milliseconds")
    r = cli("logs", "marker-fn", "--config", config, "--since", iso, "--filter", "MARKER")
    assert r.returncode == 0 and messages(r.stdout) == ["MARKER two"]
    r = cli("logs", "marker-fn", "--config", config, "--since", "2999-01-01T00:00:00Z")
    assert r.returncode == 0 and r.stdout == ""
    r = cli("logs", "marker-fn", "--config", config, "--since", "1h")
    assert messages(r.stdout).count("MARKER one") == 1

    # The runtime joins a traceback's lines with "\r": printed as indented continuation lines.
    r = cli("logs", "marker-fn", "--config", config, "--filter", "ERROR")
    out = r.stdout.splitlines()
    assert LINE.match(out[0]) and "[ERROR] ValueError: failed on demand" in out[0]
    assert len(out) > 1 and all(line.startswith(" " * 25) for line in out[1:])
    assert any("Traceback (most recent call last):" in line for line in out[1:])
    assert "\r" not in r.stdout


def test_no_logs_yet_prints_nothing(cli, config):
    r = cli("logs", "marker-fn", "--config", config)
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "")


@pytest.mark.parametrize("since", ["yesterday", "10", "5x", "-3m", "2026-13-45"])
def test_bad_since_is_a_usage_error(cli, config, since):
    r = cli("logs", "marker-fn", "--config", config, f"--since={since}")
    assert r.returncode == 2
    assert r.stdout == ""
    assert "--since" in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_unknown_function(cli, config):
    r = cli("logs", "no-such-fn", "--config", config)
    assert r.returncode == 1
    assert r.stderr.strip().splitlines() == [
        "lambdatui: Function not found: arn:aws:lambda:us-east-1:123456789012:function:no-such-fn"
    ]


def test_follow_prints_lines_of_later_invocations(cli, config, env, tmp_path):
    invoke(cli, config, '{"marker": "before-follow"}')
    proc = subprocess.Popen(
        [sys.executable, "-m", "lambdatui", "logs", "marker-fn", "--config", config, "--follow"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=_ctrl_c_works,
    )
    out = Reader(proc)
    try:
        out.until("MARKER before-follow")
        invoke(cli, config, '{"marker": "while-following"}')
        out.until("MARKER while-following")
    finally:
        code = out.interrupt()
    assert code == 0
    lines = messages("\n".join(out.seen))
    assert lines.count("MARKER before-follow") == 1 and lines.count("MARKER while-following") == 1
    assert proc.stderr.read() == ""


def test_follow_reopens_a_rotated_file(tmp_path, env):
    # The log store rotates <fn>.jsonl to <fn>.jsonl.1; the follower finishes the old file, then
    # reads the new one. Written and rotated by hand here, as another writer might.
    from lambdatui.executor.logstore import LogFollower

    logs = tmp_path / "logs"
    logs.mkdir()
    current = logs / "fn.jsonl"
    now = int(time.time() * 1000)
    current.write_text(f'{{"t": {now}, "s": "s", "m": "one"}}\n{{"t": {now + 1}, "s": "s", "m": "tw')
    got: list[str] = []
    events = LogFollower(logs, "fn", interval=0.02).events()

    def take(n: int) -> None:
        for _ in range(n):
            got.append(next(events).message)

    take(1)
    with open(current, "a") as f:
        f.write('o"}\n')  # the rest of a half-written line
    os.replace(current, logs / "fn.jsonl.1")
    current.write_text(f'{{"t": {now + 2}, "s": "s", "m": "three"}}\n')
    take(2)
    with open(current, "a") as f:
        f.write(f'{{"t": {now + 3}, "s": "s", "m": "four"}}\n')
    take(1)
    # Rotated twice between two looks: the file in between is read too, in order.
    def rotate() -> None:
        for n in (2, 1):
            if (logs / f"fn.jsonl.{n}").exists():
                os.replace(logs / f"fn.jsonl.{n}", logs / f"fn.jsonl.{n + 1}")
        os.replace(current, logs / "fn.jsonl.1")

    rotate()
    current.write_text(f'{{"t": {now + 4}, "s": "s", "m": "five"}}\n')
    rotate()
    current.write_text(f'{{"t": {now + 5}, "s": "s", "m": "six"}}\n')
    take(2)
    events.close()
    assert got == ["one", "two", "three", "four", "five", "six"]


# -- AWS backend -----------------------------------------------------------------------------------


@pytest.fixture
def moto(moto_server):
    return moto_server  # the session's server (tests/conftest.py)


@pytest.fixture
def aws_env(moto, env, monkeypatch, tmp_path):
    cli_credentials(env, monkeypatch, tmp_path)
    moto.reset()
    logs = moto.client("logs")
    logs.create_log_group(logGroupName="/aws/lambda/remote-fn")
    logs.create_log_stream(logGroupName="/aws/lambda/remote-fn", logStreamName="2026/11/27/[$LATEST]abc")
    return moto, logs


def put(logs, *messages: str) -> None:
    now = int(time.time() * 1000)
    logs.put_log_events(
        logGroupName="/aws/lambda/remote-fn", logStreamName="2026/11/27/[$LATEST]abc",
        logEvents=[{"timestamp": now + i, "message": m} for i, m in enumerate(messages)],
    )


def test_aws_backend_prints_cloudwatch_events(cli, config, aws_env):
    moto, logs = aws_env
    put(logs, "START RequestId: r-1 Version: $LATEST\n", "hello from AWS\n",
        "[ERROR] KeyError: 'x'\rTraceback (most recent call last):\r  File \"/var/task/app.py\", line 2\n",
        "END RequestId: r-1\n")
    aws = ("--backend", "aws", "--endpoint-url", moto.endpoint, "--region", "us-east-1")
    r = cli("logs", "remote-fn", "--config", config, *aws)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert messages(r.stdout) == ["START RequestId: r-1 Version: $LATEST", "hello from AWS", "[ERROR] KeyError: 'x'", "END RequestId: r-1"]
    assert lines[3] == " " * 25 + "Traceback (most recent call last):"
    assert lines[4] == " " * 25 + '  File "/var/task/app.py", line 2'

    r = cli("logs", "remote-fn", "--config", config, *aws, "--filter", "hello")
    assert messages(r.stdout) == ["hello from AWS"]
    # A function without a log group: one line and exit 1, as `aws logs tail` reports it.
    r = cli("logs", "never-ran", "--config", config, *aws)
    assert (r.returncode, r.stdout) == (1, "")
    assert r.stderr == "lambdatui: The specified log group does not exist: /aws/lambda/never-ran (never-ran has not logged there yet)\n"


def test_aws_backend_follow_and_unreachable_endpoint(cli, config, aws_env, env, tmp_path):
    moto, logs = aws_env
    put(logs, "already there\n")
    proc = subprocess.Popen(
        [sys.executable, "-m", "lambdatui", "logs", "remote-fn", "--config", config, "--follow",
         "--backend", "aws", "--endpoint-url", moto.endpoint, "--region", "us-east-1"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=_ctrl_c_works,
    )
    out = Reader(proc)
    try:
        out.until("already there")
        put(logs, "arrived later\n")
        out.until("arrived later")
    finally:
        code = out.interrupt()
    assert code == 0
    assert messages("\n".join(out.seen)) == ["already there", "arrived later"]
    assert proc.stderr.read() == ""

    r = cli("logs", "remote-fn", "--config", config, "--backend", "aws", "--endpoint-url", "http://127.0.0.1:9")
    assert r.returncode == 1
    assert len(r.stderr.strip().splitlines()) == 1 and "http://127.0.0.1:9" in r.stderr
