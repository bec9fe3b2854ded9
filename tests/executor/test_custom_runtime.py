"""Custom runtimes (provided.al2023, provided.al2): the function's own `bootstrap`, through the real
launcher, with Lambda's errors when it is missing, cannot run, or fails to initialise."""

from __future__ import annotations

import json
import re
import shutil
import sys
import textwrap
from pathlib import Path

import pytest

from lambdatui.executor import FunctionSpec, UnsupportedRuntime

PYTHON = shutil.which("python3", path="/usr/local/bin:/usr/bin/:/bin") or sys.executable

PY_BOOTSTRAP = f"""#!{PYTHON}
# A minimal runtime written against AWS's Runtime API documentation, in plain Python.
import json, os, sys, urllib.request
api = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2018-06-01/runtime"
print("bootstrap up, handler", os.environ["_HANDLER"], "exec env", os.environ.get("AWS_EXECUTION_ENV", "<unset>"), flush=True)
hog = []
while True:
    with urllib.request.urlopen(api + "/invocation/next") as r:
        rid = r.headers["Lambda-Runtime-Aws-Request-Id"]
        event = json.loads(r.read())
    if event.get("fail"):
        req = urllib.request.Request(api + f"/invocation/{{rid}}/error", data=json.dumps({{"errorMessage": "custom", "errorType": "Function.Custom"}}).encode(),
                                     headers={{"Lambda-Runtime-Function-Error-Type": "Function.Custom"}}, method="POST")
    else:
        if event.get("sleep"):
            import time; time.sleep(event["sleep"])
        if event.get("hog"):
            while True:
                hog.append(bytearray(8 * 1024 * 1024))
        body = json.dumps({{"echo": event, "task_root": os.environ["LAMBDA_TASK_ROOT"]}}).encode()
        req = urllib.request.Request(api + f"/invocation/{{rid}}/response", data=body, method="POST")
    urllib.request.urlopen(req).read()
"""


def stream(ex, name: str) -> list[str]:
    """Every event of the function's log stream(s), in order."""
    return [e.message for e in ex.logs.events(name)]


def custom(tmp_path: Path, source: str | None, name: str = "custom", executable: bool = True, **settings) -> FunctionSpec:
    code = tmp_path / name
    code.mkdir()
    if source is not None:
        bootstrap = code / "bootstrap"
        bootstrap.write_text(textwrap.dedent(source))
        bootstrap.chmod(0o755 if executable else 0o644)
    return FunctionSpec(name=name, runtime="provided.al2023", handler="function.handler", code=code, **settings)


def test_bootstrap_runs_cold_then_warm_without_aws_execution_env(tmp_path, executor_factory):
    spec = custom(tmp_path, PY_BOOTSTRAP)
    ex = executor_factory(spec)
    cold = ex.invoke("custom", b'{"n": 1}')
    warm = ex.invoke("custom", b'{"n": 2}')
    assert cold.function_error is None, cold.payload
    assert json.loads(cold.payload) == {"echo": {"n": 1}, "task_root": str(spec.code_dir)}
    assert cold.cold_start and not warm.cold_start and cold.init_duration_ms > 0
    # AWS_EXECUTION_ENV is absent on provided runtimes, as Lambda documents. What the bootstrap prints
    # at start-up is in the log stream, before START, and so not in the tail (which starts at START).
    events = stream(ex, "custom")
    printed = events.index("bootstrap up, handler function.handler exec env <unset>")
    assert printed < events.index(f"START RequestId: {cold.request_id} Version: $LATEST")
    assert "bootstrap up" not in cold.log_tail
    assert cold.max_memory_used_mb > 0 and warm.billed_duration_ms >= 1


def test_function_error_declared_by_the_runtime(tmp_path, executor_factory):
    ex = executor_factory(custom(tmp_path, PY_BOOTSTRAP))
    failed = ex.invoke("custom", b'{"fail": true}')
    assert failed.function_error == "Unhandled" and failed.error_type == "Function.Custom"


def test_timeout_and_memory_limits_apply_to_any_runtime(tmp_path, executor_factory):
    ex = executor_factory(custom(tmp_path, PY_BOOTSTRAP, timeout=1, memory_size=128))
    timed_out = ex.invoke("custom", b'{"sleep": 5}')
    assert timed_out.error_type == "Sandbox.Timedout"
    oom = ex.invoke("custom", b'{"hog": true}')
    assert oom.error_type == "Runtime.OutOfMemory"


def test_missing_bootstrap_is_invalid_entrypoint(tmp_path, executor_factory):
    spec = custom(tmp_path, None)
    ex = executor_factory(spec)
    result = ex.invoke("custom")
    assert result.error_type == "Runtime.InvalidEntrypoint"
    message = json.loads(result.payload)["errorMessage"]
    assert message.endswith(f"Error: Couldn't find valid bootstrap(s): [{spec.code_dir}/bootstrap]")
    assert any(m.startswith("INIT_REPORT") and m.endswith("Error Type: Runtime.InvalidEntrypoint") for m in stream(ex, "custom"))
    assert result.log_tail.startswith(f"START RequestId: {result.request_id}")
    assert result.log_tail.rstrip("\n").endswith("\tStatus: error\tError Type: Runtime.InvalidEntrypoint")


def test_bootstrap_that_is_not_executable_is_invalid_entrypoint(tmp_path, executor_factory):
    spec = custom(tmp_path, PY_BOOTSTRAP, executable=False)
    result = executor_factory(spec).invoke("custom")
    assert result.error_type == "Runtime.InvalidEntrypoint"
    assert json.loads(result.payload)["errorMessage"].endswith(f"fork/exec {spec.code_dir}/bootstrap: permission denied")


def test_a_layers_bootstrap_is_used_like_opt_bootstrap(tmp_path, executor_factory):
    layer = tmp_path / "layer"
    layer.mkdir()
    (layer / "bootstrap").write_text(PY_BOOTSTRAP)
    (layer / "bootstrap").chmod(0o755)
    spec = custom(tmp_path, None)
    spec = FunctionSpec(**{**spec.__dict__, "layers": (layer,)})
    assert executor_factory(spec).invoke("custom", b"{}").function_error is None


def test_bootstrap_exiting_before_next_is_an_init_exit_error(tmp_path, executor_factory):
    ex = executor_factory(custom(tmp_path, "#!/bin/sh\necho starting\nexit 4\n"))
    result = ex.invoke("custom")
    assert result.error_type == "Runtime.ExitError"
    assert json.loads(result.payload)["errorMessage"].endswith("Runtime exited with error: exit status 4")
    events = stream(ex, "custom")
    report = next(i for i, m in enumerate(events) if m.startswith("INIT_REPORT"))
    assert re.fullmatch(r"INIT_REPORT Init Duration: [\d.]+ ms\tPhase: init\tStatus: error\tError Type: Runtime.ExitError", events[report])
    # The init's output and INIT_REPORT belong to the stream, before START; the tail starts at START.
    assert events.index("starting") < report < events.index(f"START RequestId: {result.request_id} Version: $LATEST")
    assert "starting" not in result.log_tail
    # The runtime ran: REPORT shows the memory it used, never 0 MB.
    assert result.max_memory_used_mb > 0
    assert f"\tMax Memory Used: {result.max_memory_used_mb} MB\tStatus: error\tError Type: Runtime.ExitError\n" in result.log_tail


def test_bootstrap_that_never_reaches_next_hits_the_init_limit(tmp_path, executor_factory):
    ex = executor_factory(custom(tmp_path, "#!/bin/sh\nsleep 30\n"), init_limit_s=1)
    result = ex.invoke("custom")
    assert result.error_type == "Sandbox.Timedout"
    assert any(re.match(r"INIT_REPORT Init Duration: [\d.]+ ms\tPhase: init\tStatus: timeout", m) for m in stream(ex, "custom"))
    assert re.search(r"^REPORT .*\tStatus: timeout$", result.log_tail, re.M)


def test_init_error_posted_by_the_runtime(tmp_path, executor_factory):
    source = f"#!{PYTHON}\n" + textwrap.dedent("""\
        import json, os, urllib.request
        api = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2018-06-01/runtime"
        req = urllib.request.Request(api + "/init/error", data=json.dumps({"errorMessage": "no config", "errorType": "Runtime.ConfigMissing"}).encode(),
                                     headers={"Lambda-Runtime-Function-Error-Type": "Runtime.ConfigMissing"}, method="POST")
        urllib.request.urlopen(req).read()
        raise SystemExit(1)
        """)
    result = executor_factory(custom(tmp_path, source)).invoke("custom")
    assert result.error_type == "Runtime.ConfigMissing"
    assert json.loads(result.payload) == {"errorMessage": "no config", "errorType": "Runtime.ConfigMissing"}


@pytest.mark.parametrize("runtime, words", [("java21", "Java 21"), ("ruby3.3", "Ruby 3.3"), ("dotnet8", ".NET 8")])
def test_runtimes_without_a_local_toolchain_say_what_is_missing(tmp_path, executor_factory, runtime, words):
    code = tmp_path / "x"
    code.mkdir()
    ex = executor_factory(FunctionSpec(name="x", runtime=runtime, handler="a.b", code=code))
    with pytest.raises(UnsupportedRuntime, match=words):
        ex.invoke("x")
    assert ex.environment_counts("x")["busy"] == 0  # nothing leaked
