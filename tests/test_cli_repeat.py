"""`lambdatui invoke` as a load generator and as a one-shot, run as a real subprocess: what
--repeat/--concurrency print (the contract in lambdatui/cli/invoke.py's docstring), that the
invocation history gets every invocation exactly once, and what a one-shot invoke leaves out of its
start-up (trigger modules) while still recording its invocation."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from lambdatui.history import History

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "lambdatui" / "sample" / "lambdatui.yaml"
PY = f"python{sys.version_info.major}.{sys.version_info.minor}"
RESULT_KEYS = {
    "function", "request_id", "status_code", "function_error", "payload", "duration_ms",
    "billed_duration_ms", "init_duration_ms", "cold_start", "memory_size_mb", "max_memory_used_mb",
    "cost_usd", "log_tail",
}
PROGRESS = re.compile(
    r"^#(\d+) +(200|429)  (cold|warm|throttled) +(\d+\.\d\d) ms  billed (\d+) ms  (\d+) MB(  \S+)?$"
)
SUMMARY = re.compile(
    r"^(\d+) invocations in (\d+\.\d\d) s \((\d+\.\d)/s\): (\d+) cold, (\d+) warm, (\d+) errors, (\d+) throttled$"
)


@pytest.fixture
def project(tmp_path):
    """A config with an echo function and one with a bad trigger; returns (run, config path, state dir)."""
    code = tmp_path / "fn"
    code.mkdir()
    (code / "app.py").write_text(textwrap.dedent("""
        def handler(event, context):
            if event.get("fail"):
                raise KeyError("fail")
            return {"got": event}
        """))
    config = tmp_path / "lambdatui.yaml"
    config.write_text(textwrap.dedent(f"""\
        local:
          functions:
            echo: {{runtime: {PY}, handler: app.handler, code: fn}}
            scheduled:
              runtime: {PY}
              handler: app.handler
              code: fn
              triggers:
                - {{type: schedule, expression: "rate(0 minutes)"}}
        """))
    state = tmp_path / "state"
    env = {k: v for k, v in os.environ.items() if k != "LAMBDATUI_CONFIG"}
    env["LAMBDATUI_STATE_DIR"] = str(state)

    def run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "lambdatui", *args],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=timeout,
        )

    return run, config, state


def recorded(state: Path, function: str) -> list:
    with History(state / "history.db", max_age_days=None) as h:
        return h.query(function, 0)


def test_a_concurrent_run_records_every_invocation_in_the_history_exactly_once(project):
    run, config, state = project
    proc = run("invoke", "echo", "--repeat", "60", "--concurrency", "4", "--json", "--config", str(config))
    assert proc.returncode == 0, proc.stderr
    printed = [json.loads(line)["request_id"] for line in proc.stdout.splitlines()]
    assert len(printed) == len(set(printed)) == 60
    rows = recorded(state, "echo")
    assert sorted(r.request_id for r in rows) == sorted(printed)
    assert {r.source for r in rows} == {"cli"}
    assert 1 <= sum(r.cold for r in rows) <= 4  # at most one cold start per concurrent slot


def test_a_one_shot_invoke_records_its_invocation(project):
    run, config, state = project
    proc = run("invoke", "echo", "--json", "--config", str(config))
    assert proc.returncode == 0, proc.stderr
    (result,) = [json.loads(line) for line in proc.stdout.splitlines()]
    (row,) = recorded(state, "echo")
    assert (row.request_id, row.source, row.status_code, row.cold) == (result["request_id"], "cli", 200, True)
    assert row.duration_ms == result["duration_ms"] and row.init_duration_ms == result["init_duration_ms"]


def test_repeat_prints_a_line_per_invocation_in_finishing_order_then_the_summary(project):
    run, config, _ = project
    proc = run("invoke", "echo", "--repeat", "12", "--concurrency", "3", "--config", str(config))
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    progress = [PROGRESS.match(line) for line in lines[:12]]
    assert all(progress), lines[:12]
    assert [int(m.group(1)) for m in progress] == list(range(1, 13))  # numbered as they finished
    assert {m.group(2) for m in progress} == {"200"}
    colds = sum(m.group(3) == "cold" for m in progress)
    assert 1 <= colds <= 3
    assert lines[12] == ""
    summary = SUMMARY.match(lines[13])
    assert summary, lines[13]
    assert (int(summary.group(1)), int(summary.group(4)), int(summary.group(5))) == (12, colds, 12 - colds)
    assert summary.group(6) == summary.group(7) == "0"
    assert lines[14].startswith("Duration ms: min ") and lines[-1].startswith("Total cost: $")
    assert proc.stderr == ""


def test_repeat_json_prints_exactly_one_object_per_invocation_and_nothing_else(project):
    run, config, _ = project
    event = Path(config).parent / "fail.json"
    event.write_text('{"fail": 1}')
    proc = run("invoke", "echo", "--repeat", "5", "--concurrency", "2", "--json", "--event", str(event), "--config", str(config))
    assert proc.returncode == 1  # every invocation had a function error
    objects = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(objects) == 5
    assert all(set(o) == RESULT_KEYS for o in objects)
    assert {(o["function_error"], o["payload"]["errorType"]) for o in objects} == {("Unhandled", "KeyError")}


def test_repeat_stops_at_a_refused_request_with_one_line_and_status_2(project):
    run, config, state = project
    event = Path(config).parent / "big.json"
    event.write_text(json.dumps({"x": "y" * (6 * 1024 * 1024)}))  # over Lambda's 6 MB request limit
    proc = run("invoke", "echo", "--repeat", "50", "--concurrency", "2", "--event", str(event), "--config", str(config))
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines() == [
        "lambdatui: RequestTooLargeException: Request must be smaller than 6291456 bytes for the InvokeFunction operation"
    ]
    assert recorded(state, "echo") == []


def test_invoke_reads_no_trigger_and_imports_no_trigger_type(project, tmp_path):
    # Invoking never fires a trigger: their types' modules (the schedule parser, the SQS store)
    # stay out of a one-shot's start-up, and another function's bad trigger does not stop it.
    _, config, state = project
    env = {k: v for k, v in os.environ.items() if k != "LAMBDATUI_CONFIG"}
    env["LAMBDATUI_STATE_DIR"] = str(state)
    code = (
        "import sys; from lambdatui.cli.main import main; "
        f"rc = main(['invoke', 'echo', '--config', {str(config)!r}]); "
        "loaded = [m for m in ('lambdatui.triggers.registry', 'lambdatui.schedule_expr', 'lambdatui.triggers.sqs_queue', "
        "'lambdatui.triggers.s3_watch') if m in sys.modules]; "
        "print('LOADED', loaded, file=sys.stderr); sys.exit(rc)"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "LOADED []" in proc.stderr


def test_the_bad_trigger_an_invoke_skipped_is_reported_by_list(project):
    run, config, _ = project
    proc = run("list", "--config", str(config))
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    line = next(n for n, text in enumerate(Path(config).read_text().splitlines(), 1) if "rate(0 minutes)" in text)
    assert f"{config}:{line}: local.functions.scheduled.triggers[0].expression:" in proc.stderr


def test_commands_without_a_backend_load_neither_the_config_nor_the_executor(tmp_path):
    code = (
        "import sys; from lambdatui.cli.main import main; "
        "rc = main(['cost', '--memory', '512', '--duration-ms', '200', '--invocations', '1000000']); "
        "rc += main(['schedule', 'rate(5 minutes)', '--count', '2']); "
        "loaded = [m for m in ('yaml', 'lambdatui.config', 'lambdatui.executor', 'lambdatui.backends') if m in sys.modules]; "
        "print('LOADED', loaded, file=sys.stderr); sys.exit(rc)"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "LOADED []" in proc.stderr
    assert "$" in proc.stdout


def test_errors_are_still_told_apart_once_their_modules_are_loaded(tmp_path):
    # A config error is status 2 with "config error:", a backend error status 1 (cli/main.py).
    bad = tmp_path / "bad.yaml"
    bad.write_text("backend: nowhere\n")
    env = {k: v for k, v in os.environ.items() if k != "LAMBDATUI_CONFIG"}
    env["LAMBDATUI_STATE_DIR"] = str(tmp_path / "state")

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "lambdatui", *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)

    proc = run("list", "--config", str(bad))
    assert proc.returncode == 2 and proc.stderr.startswith(f"lambdatui: config error: {bad}:1:")
    proc = run("invoke", "nope", "--config", str(SAMPLE))
    assert proc.returncode == 1 and proc.stderr.startswith("lambdatui: Function not found:")
