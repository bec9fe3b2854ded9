"""The command line, run as a real subprocess: `lambdatui invoke` and `lambdatui list`, their JSON
contracts, exit statuses (0 ok, 1 function/backend failure, 2 bad usage/config/input) and messages."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "lambdatui" / "sample" / "lambdatui.yaml"
PY = f"python{sys.version_info.major}.{sys.version_info.minor}"

RESULT_KEYS = {
    "function", "request_id", "status_code", "function_error", "payload", "duration_ms",
    "billed_duration_ms", "init_duration_ms", "cold_start", "memory_size_mb", "max_memory_used_mb",
    "cost_usd", "log_tail",
}
SAMPLE_FUNCTIONS = ["hello-world", "api-gateway", "s3-processor", "heavy-init", "failing", "logging-demo"]
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@pytest.fixture
def run(tmp_path):
    """Run `python -m lambdatui ARGS` in a temporary cwd with a temporary state dir."""
    env = {k: v for k, v in os.environ.items() if k != "LAMBDATUI_CONFIG"}
    env["LAMBDATUI_STATE_DIR"] = str(tmp_path / "state")
    cwd = tmp_path / "cwd"
    cwd.mkdir()

    def run(*args: str, input: str | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "lambdatui", *args],
            cwd=cwd, env=env, capture_output=True, text=True, input=input, timeout=timeout,
        )

    return run


@pytest.fixture
def config(tmp_path):
    """Write handlers and a config for them into tmp_path; returns the config's path as text."""

    def make(functions: dict[str, dict], sources: dict[str, str]) -> str:
        for folder, source in sources.items():
            d = tmp_path / folder
            d.mkdir(exist_ok=True)
            (d / "app.py").write_text(textwrap.dedent(source))
        lines = ["backend: local", "local:", "  functions:"]
        for name, settings in functions.items():
            lines.append(f"    {name}:")
            settings = {"runtime": PY, "handler": "app.handler", **settings}
            for k, v in settings.items():
                lines.append(f"      {k}: {json.dumps(v)}")
        path = tmp_path / "lambdatui.yaml"
        path.write_text("\n".join(lines) + "\n")
        return str(path)

    return make


ECHO = """
def handler(event, context):
    return {"got": event}
"""
KEYERROR = """
def handler(event, context):
    return event["missing"]
"""


def json_lines(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def one_line_error(proc: subprocess.CompletedProcess) -> str:
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("lambdatui: "), lines[0]
    return lines[0]


# -- invoke --json -------------------------------------------------------------------------------


def test_invoke_json_prints_one_line_with_exactly_the_contract_keys(run):
    proc = run("invoke", "hello-world", "--json", "--config", str(SAMPLE))
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == 1, proc.stdout
    r = json.loads(lines[0])
    assert set(r) == RESULT_KEYS  # no "error" key unless throttled
    assert r["function"] == "hello-world"
    assert r["status_code"] == 200
    assert r["function_error"] is None
    # The seed's handler returns AWS's "Hello from Lambda!" shape, decoded from the JSON payload.
    assert r["payload"] == {"statusCode": 200, "body": "\"Hello from Lambda!\""}
    assert UUID.match(r["request_id"]), r["request_id"]
    # A first invocation is a cold start: REPORT carries an Init Duration.
    assert r["cold_start"] is True
    assert isinstance(r["init_duration_ms"], (int, float)) and r["init_duration_ms"] > 0
    assert isinstance(r["duration_ms"], (int, float)) and r["duration_ms"] >= 0
    assert isinstance(r["billed_duration_ms"], int) and r["billed_duration_ms"] >= 1
    assert r["memory_size_mb"] == 128
    assert isinstance(r["max_memory_used_mb"], int) and 0 < r["max_memory_used_mb"] <= 128
    assert isinstance(r["cost_usd"], float) and r["cost_usd"] > 0
    rid = r["request_id"]
    tail = r["log_tail"]
    assert f"START RequestId: {rid} Version: $LATEST" in tail
    assert f"END RequestId: {rid}" in tail
    assert f"REPORT RequestId: {rid}\t" in tail
    assert "Init Duration:" in tail  # only cold starts report it
    assert f"request {rid}" in tail  # the handler's own print()


def test_invoke_repeat_reuses_warm_environments_within_one_run(run):
    proc = run("invoke", "hello-world", "--repeat", "6", "--concurrency", "2", "--json", "--config", str(SAMPLE))
    assert proc.returncode == 0, proc.stderr
    results = json_lines(proc.stdout)
    assert len(results) == 6
    assert len({r["request_id"] for r in results}) == 6
    assert all(r["status_code"] == 200 and r["function_error"] is None for r in results)
    cold = [r for r in results if r["cold_start"]]
    warm = [r for r in results if not r["cold_start"]]
    # At most C environments are ever needed for C concurrent requests; the rest reuse them warm.
    assert 1 <= len(cold) <= 2
    assert len(warm) >= 1
    assert all(r["init_duration_ms"] is None for r in warm)
    assert all(isinstance(r["init_duration_ms"], (int, float)) for r in cold)


def test_invoke_repeat_text_prints_a_summary(run):
    proc = run("invoke", "hello-world", "--repeat", "3", "--config", str(SAMPLE))
    assert proc.returncode == 0, proc.stderr
    assert "3 invocations in" in proc.stdout
    assert "1 cold, 2 warm, 0 errors, 0 throttled" in proc.stdout
    assert "Duration ms: min" in proc.stdout and "Total cost: $" in proc.stdout


def test_invoke_reserved_concurrency_zero_is_throttled_429_exit_1(run, config):
    # Lambda: reserved concurrency 0 throttles every invocation with TooManyRequestsException (429).
    cfg = config({"throttled": {"code": "fn", "reserved_concurrency": 0}}, {"fn": ECHO})
    proc = run("invoke", "throttled", "--json", "--config", cfg)
    assert proc.returncode == 1, proc.stderr
    results = json_lines(proc.stdout)
    assert len(results) == 1
    r = results[0]
    assert set(r) == RESULT_KEYS | {"error"}
    assert r["status_code"] == 429
    assert r["error"] == {"type": "TooManyRequestsException", "reason": "ReservedFunctionConcurrentInvocationLimitExceeded"}
    assert r["function_error"] is None
    assert r["cost_usd"] == 0 and r["billed_duration_ms"] == 0  # never reached a function


def test_invoke_throttled_text_output_says_throttled(run, config):
    cfg = config({"throttled": {"code": "fn", "reserved_concurrency": 0}}, {"fn": ECHO})
    proc = run("invoke", "throttled", "--config", cfg)
    assert proc.returncode == 1
    assert "throttled: TooManyRequestsException (ReservedFunctionConcurrentInvocationLimitExceeded)" in proc.stdout


def test_invoke_unhandled_function_error_exits_1_with_error_payload(run, config):
    # Lambda returns 200 with X-Amz-Function-Error: Unhandled and {errorMessage, errorType, stackTrace}.
    cfg = config({"broken": {"code": "fn"}}, {"fn": KEYERROR})
    proc = run("invoke", "broken", "--json", "--config", cfg)
    assert proc.returncode == 1, proc.stderr
    (r,) = json_lines(proc.stdout)
    assert r["status_code"] == 200
    assert r["function_error"] == "Unhandled"
    assert r["payload"]["errorType"] == "KeyError"
    assert r["payload"]["errorMessage"] == "'missing'"
    assert isinstance(r["payload"]["stackTrace"], list)
    assert "[ERROR] KeyError" in r["log_tail"]


def test_invoke_function_error_text_output_names_the_error(run, config):
    cfg = config({"broken": {"code": "fn"}}, {"fn": KEYERROR})
    proc = run("invoke", "broken", "--config", cfg)
    assert proc.returncode == 1
    assert "Function error (Unhandled): KeyError" in proc.stdout


# -- events --------------------------------------------------------------------------------------


def test_invoke_event_file_is_passed_to_the_handler(run, config, tmp_path):
    cfg = config({"echo": {"code": "fn"}}, {"fn": ECHO})
    event = tmp_path / "event.json"
    event.write_text('{"name": "Ada", "n": [1, 2]}')
    proc = run("invoke", "echo", "--json", "--event", str(event), "--config", cfg)
    assert proc.returncode == 0, proc.stderr
    assert json_lines(proc.stdout)[0]["payload"] == {"got": {"name": "Ada", "n": [1, 2]}}


def test_invoke_without_event_sends_empty_object(run, config):
    cfg = config({"echo": {"code": "fn"}}, {"fn": ECHO})
    proc = run("invoke", "echo", "--json", "--config", cfg)
    assert proc.returncode == 0, proc.stderr
    assert json_lines(proc.stdout)[0]["payload"] == {"got": {}}


def test_invoke_event_dash_reads_standard_input(run, config):
    cfg = config({"echo": {"code": "fn"}}, {"fn": ECHO})
    proc = run("invoke", "echo", "--json", "--event", "-", "--config", cfg, input='{"from": "stdin"}\n')
    assert proc.returncode == 0, proc.stderr
    assert json_lines(proc.stdout)[0]["payload"] == {"got": {"from": "stdin"}}


def test_invoke_invalid_json_event_file_exits_2_naming_file_and_line(run, config, tmp_path):
    cfg = config({"echo": {"code": "fn"}}, {"fn": ECHO})
    event = tmp_path / "bad-event.json"
    event.write_text('{\n  "a": ,\n  "b": 2\n}\n')
    proc = run("invoke", "echo", "--event", str(event), "--config", cfg)
    assert proc.returncode == 2
    message = one_line_error(proc)
    assert str(event) in message
    assert "line 2" in message
    assert proc.stdout == ""


def test_invoke_missing_event_file_exits_2_naming_it(run, config, tmp_path):
    cfg = config({"echo": {"code": "fn"}}, {"fn": ECHO})
    missing = tmp_path / "no-such-event.json"
    proc = run("invoke", "echo", "--event", str(missing), "--config", cfg)
    assert proc.returncode == 2
    message = one_line_error(proc)
    assert str(missing) in message and "No such file" in message


def test_invoke_empty_stdin_event_exits_2(run, config):
    cfg = config({"echo": {"code": "fn"}}, {"fn": ECHO})
    proc = run("invoke", "echo", "--event", "-", "--config", cfg, input="")
    assert proc.returncode == 2
    assert "standard input" in one_line_error(proc)


DEEP = "[" * 100_000 + "]" * 100_000  # valid JSON, nested past any parser's recursion limit


@pytest.mark.parametrize("source", ["file", "stdin"])
def test_invoke_deeply_nested_event_exits_2_with_one_line(run, config, tmp_path, source):
    cfg = config({"echo": {"code": "fn"}}, {"fn": ECHO})
    if source == "file":
        event = tmp_path / "deep.json"
        event.write_text(DEEP)
        proc = run("invoke", "echo", "--event", str(event), "--config", cfg)
        label = f"event file {event}"
    else:
        proc = run("invoke", "echo", "--event", "-", "--config", cfg, input=DEEP)
        label = "standard input"
    assert proc.returncode == 2, proc.stderr
    assert one_line_error(proc) == f"lambdatui: {label}: invalid JSON: nesting too deep"
    assert proc.stdout == ""


DEEP_BOOTSTRAP = """#!{python}
# A custom runtime may answer with any bytes: this one, JSON nested past the CLI's parser.
import os, urllib.request
api = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2018-06-01/runtime"
while True:
    with urllib.request.urlopen(api + "/invocation/next") as r:
        rid = r.headers["Lambda-Runtime-Aws-Request-Id"]
    body = b"[" * {depth} + b"]" * {depth}
    urllib.request.urlopen(urllib.request.Request(api + f"/invocation/{{rid}}/response", data=body, method="POST")).read()
"""


@pytest.mark.parametrize("as_json", [False, True])
@pytest.mark.parametrize("depth", [100_000, 700])  # past the parser; parsed, but past what is printed as JSON
def test_invoke_deeply_nested_response_is_printed_as_text_not_a_traceback(run, config, tmp_path, as_json, depth):
    cfg = config({"deep": {"code": "deep", "runtime": "provided.al2023", "handler": "x"}}, {"deep": "# unused"})
    bootstrap = tmp_path / "deep" / "bootstrap"
    bootstrap.write_text(DEEP_BOOTSTRAP.format(python=sys.executable, depth=depth))
    bootstrap.chmod(0o755)
    proc = run("invoke", "deep", "--config", cfg, *(["--json"] if as_json else []))
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    if as_json:
        assert json_lines(proc.stdout)[0]["payload"] == "[" * depth + "]" * depth
    else:
        assert proc.stdout.startswith("[" * depth + "]" * depth + "\n")


@pytest.mark.parametrize("flag", ["--repeat", "--concurrency"])
def test_invoke_repeat_or_concurrency_below_1_exits_2(run, flag):
    proc = run("invoke", "hello-world", flag, "0", "--config", str(SAMPLE))
    assert proc.returncode == 2
    assert f"{flag} must be at least 1" in one_line_error(proc)


# -- failures ------------------------------------------------------------------------------------


def test_invoke_unknown_function_exits_1_with_one_line_message(run):
    # Lambda: ResourceNotFoundException "Function not found: arn:aws:lambda:...:function:NAME".
    proc = run("invoke", "no-such-function", "--config", str(SAMPLE))
    assert proc.returncode == 1
    message = one_line_error(proc)
    assert "no-such-function" in message
    assert "not found" in message.lower()
    assert proc.stdout == ""


def test_config_error_exits_2_with_located_one_line_message(run, config, tmp_path):
    cfg = config({"echo": {"code": "fn", "memory_size": 64}}, {"fn": ECHO})
    for args in (["invoke", "echo"], ["list"]):
        proc = run(*args, "--config", cfg)
        assert proc.returncode == 2, args
        message = one_line_error(proc)
        assert message.startswith("lambdatui: config error:")
        assert f"{cfg}:" in message
        assert "local.functions.echo.memory_size" in message
        assert "64 is outside 128–10240 MB" in message
        assert proc.stdout == ""


def test_missing_config_file_exits_2(run, tmp_path):
    missing = tmp_path / "nope.yaml"
    proc = run("list", "--config", str(missing))
    assert proc.returncode == 2
    message = one_line_error(proc)
    assert message.startswith("lambdatui: config error:") and str(missing) in message


# -- text output ---------------------------------------------------------------------------------


def test_invoke_text_output_shows_response_figures_and_log_tail(run):
    proc = run("invoke", "hello-world", "--config", str(SAMPLE))
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert '"statusCode": 200' in out
    assert "Hello from Lambda!" in out
    for label in ("Duration:", "Billed:", "cold start", "Memory:", "Cost: $"):
        assert label in out, label
    assert re.search(r"Memory: \d+/128 MB", out)
    assert "--- log tail" in out
    assert re.search(r"^START RequestId: [0-9a-f-]{36} Version: \$LATEST$", out, re.M)
    assert re.search(r"^END RequestId: [0-9a-f-]{36}$", out, re.M)
    assert re.search(r"^REPORT RequestId: [0-9a-f-]{36}\tDuration: ", out, re.M)
    # The response comes before the figures, the figures before the log tail.
    assert out.index("Hello from Lambda!") < out.index("Duration:") < out.index("--- log tail")


# -- list ----------------------------------------------------------------------------------------


def test_list_json_describes_the_sample_functions(run):
    proc = run("list", "--json", "--config", str(SAMPLE))
    assert proc.returncode == 0, proc.stderr
    functions = json.loads(proc.stdout)
    assert isinstance(functions, list)
    assert [f["name"] for f in functions] == SAMPLE_FUNCTIONS
    for f in functions:
        assert {"name", "runtime", "memory_size", "timeout", "handler", "last_modified"} <= set(f)
        assert f["runtime"] == "python3.12" and f["handler"] == "app.lambda_handler"
        # Lambda's LastModified format, e.g. 2019-10-26T04:57:09.279+0000.
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000", f["last_modified"]), f["last_modified"]
    by_name = {f["name"]: f for f in functions}
    assert (by_name["hello-world"]["memory_size"], by_name["hello-world"]["timeout"]) == (128, 3)
    assert (by_name["s3-processor"]["memory_size"], by_name["s3-processor"]["timeout"]) == (256, 10)
    assert (by_name["heavy-init"]["memory_size"], by_name["heavy-init"]["timeout"]) == (512, 3)
    assert (by_name["failing"]["memory_size"], by_name["failing"]["timeout"]) == (128, 2)


def test_list_text_has_header_row_and_one_row_per_function(run):
    proc = run("list", "--config", str(SAMPLE))
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].split() == ["NAME", "RUNTIME", "MEMORY", "TIMEOUT", "HANDLER", "LAST", "MODIFIED"]
    assert [line.split()[0] for line in lines[1:]] == SAMPLE_FUNCTIONS
    s3 = next(line for line in lines if line.startswith("s3-processor"))
    assert "256 MB" in s3 and "10 s" in s3
    # Columns are aligned: every row's runtime starts where the header's RUNTIME does.
    col = lines[0].index("RUNTIME")
    assert all(line[col:].startswith("python3.12") for line in lines[1:])


def test_list_of_a_config_without_functions_prints_only_the_header(run, tmp_path):
    cfg = tmp_path / "empty.yaml"
    cfg.write_text("backend: local\nlocal: {functions: {}}\n")
    proc = run("list", "--config", str(cfg))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["NAME  RUNTIME  MEMORY  TIMEOUT  HANDLER  LAST MODIFIED"]
    proc = run("list", "--json", "--config", str(cfg))
    assert json.loads(proc.stdout) == []


# -- imports -------------------------------------------------------------------------------------


def test_invoke_and_list_never_import_textual_or_boto3(tmp_path):
    # `invoke` and `list` on the local backend must start fast: no Textual, no boto3.
    env = {k: v for k, v in os.environ.items() if k != "LAMBDATUI_CONFIG"}
    env["LAMBDATUI_STATE_DIR"] = str(tmp_path / "state")
    code = (
        "import sys; from lambdatui.cli.main import main; "
        f"rc1 = main(['list','--config',{str(SAMPLE)!r}]); "
        f"rc2 = main(['invoke','hello-world','--config',{str(SAMPLE)!r}]); "
        "assert (rc1, rc2) == (0, 0), (rc1, rc2); "
        "assert 'textual' not in sys.modules, 'textual'; "
        "assert 'boto3' not in sys.modules, 'boto3'"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "hello-world" in proc.stdout and "Hello from Lambda!" in proc.stdout


# -- regressions: bugs found while writing these tests, now fixed ------------------------------


def test_global_config_option_before_the_subcommand_is_honoured(run, config):
    cfg = config({"echo": {"code": "fn"}}, {"fn": ECHO})
    proc = run("--config", cfg, "list", "--json")
    assert proc.returncode == 0, proc.stderr
    assert [f["name"] for f in json.loads(proc.stdout)] == ["echo"]


def test_non_utf8_config_file_exits_2_without_traceback(run, tmp_path):
    cfg = tmp_path / "latin1.yaml"
    cfg.write_bytes("local:\n  region: café\n".encode("latin-1"))
    proc = run("list", "--config", str(cfg))
    assert proc.returncode == 2
    assert one_line_error(proc).startswith("lambdatui: config error:")
