"""Piping a command into `head` ends quietly: no BrokenPipeError traceback, no "Exception ignored"
from the interpreter's last flush (cli/main.py's guard). The pipe is made 4 KB deep so the command is
still writing when the reader goes, whatever the machine's speed: a listing of 4-8 KB is written only
by the final flush (Python buffers 8 KB), which then blocks on the full pipe until the reader leaves.
Longer output meets the closed pipe in an earlier write."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
from pathlib import Path

import pytest
from aws_shaped import Answer, AwsShapedServer

REPO = Path(__file__).resolve().parent.parent
F_SETPIPE_SZ = getattr(fcntl, "F_SETPIPE_SZ", 1031)


def head(args: list[str], env: dict[str, str], lines: int = 2) -> tuple[int, bytes, str]:
    """`lambdatui ARGS | head -LINES`: the exit status, what head read, and stderr."""
    env = {k: v for k, v in env.items() if k != "PYTHONUNBUFFERED"}  # buffered, as a user's stdout into a pipe
    read_end, write_end = os.pipe()
    fcntl.fcntl(write_end, F_SETPIPE_SZ, 4096)
    proc = subprocess.Popen([sys.executable, "-m", "lambdatui", *args], stdout=write_end, stderr=subprocess.PIPE, env=env, cwd=REPO)
    os.close(write_end)
    got = b""
    with os.fdopen(read_end, "rb", buffering=0) as reader:
        while got.count(b"\n") < lines:
            chunk = reader.read(256)
            if not chunk:
                break
            got += chunk
    # The reader is gone, as head's is after its lines.
    _, stderr = proc.communicate(timeout=120)
    return proc.returncode, got, stderr.decode()


def assert_quiet(status: int, stderr: str) -> None:
    assert "Traceback" not in stderr and "Exception ignored" not in stderr and "BrokenPipe" not in stderr, stderr
    assert stderr == ""
    assert status in (0, 141)  # 141: SIGPIPE's status, as `yes | head` reports it


def functions_server(count: int) -> AwsShapedServer:
    """`count` functions over ListFunctions pages of 100 (NextMarker)."""
    server = AwsShapedServer()
    names = [f"service-{i:03d}-handler" for i in range(count)]

    def page(request):
        start = int(request.query.get("Marker") or 0)
        functions = [{"FunctionName": n, "Runtime": "python3.12", "Handler": "app.handler", "MemorySize": 128, "Timeout": 3,
                      "Description": "x" * 60} for n in names[start:start + 100]]
        more = {"NextMarker": str(start + 100)} if start + 100 < len(names) else {}
        return Answer(200, {"Functions": functions, **more})

    server.on("GET", "/2015-03-31/functions/", page)
    for name in names:  # list --json asks each function's reserved concurrency: none reserved
        server.on("GET", f"/2019-09-30/functions/{name}/concurrency", lambda request: Answer(200, {}))
    return server


@pytest.mark.parametrize(
    ("count", "extra"),
    [(80, []), (262, []), (7, ["--json"]), (262, ["--json"])],
    ids=["table-final-flush", "table-262", "json-final-flush", "json-262"],
)
def test_list_into_head_is_quiet(aws_env, tmp_path, count, extra):
    server = functions_server(count)
    try:
        env = dict(os.environ, LAMBDATUI_STATE_DIR=str(tmp_path))
        args = ["list", *extra, "--backend", "aws", "--region", "us-east-1", "--endpoint-url", server.endpoint,
                "--config", str(REPO / "lambdatui" / "sample" / "lambdatui.yaml")]
        status, got, stderr = head(args, env)
    finally:
        server.stop()
    assert got.count(b"\n") >= 2
    assert_quiet(status, stderr)


@pytest.fixture
def project(tmp_path):
    (tmp_path / "fn").mkdir()
    (tmp_path / "fn" / "app.py").write_text("def handler(event, context):\n    print('x' * 200)\n    return {'ok': True}\n")
    cfg = tmp_path / "lambdatui.yaml"
    cfg.write_text(f"local:\n  functions:\n    hello: {{code: fn, handler: app.handler, runtime: python{sys.version_info[0]}.{sys.version_info[1]}}}\n")
    return cfg, dict(os.environ, LAMBDATUI_STATE_DIR=str(tmp_path / "state"))


@pytest.mark.parametrize("extra", [[], ["--json"]], ids=["lines", "json"])
def test_invoke_repeat_into_head_is_quiet(project, extra):
    cfg, env = project
    status, got, stderr = head(["invoke", "hello", "--repeat", "400", *extra, "--config", str(cfg)], env)
    assert got.count(b"\n") >= 2
    assert_quiet(status, stderr)


def test_logs_into_head_is_quiet(project):
    cfg, env = project
    subprocess.run([sys.executable, "-m", "lambdatui", "invoke", "hello", "--repeat", "100", "--json", "--config", str(cfg)],
                   env=env, cwd=REPO, check=True, capture_output=True, timeout=120)
    status, got, stderr = head(["logs", "hello", "--since", "1h", "--config", str(cfg)], env)
    assert got.count(b"\n") >= 2
    assert_quiet(status, stderr)
