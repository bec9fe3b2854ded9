"""Every way an invocation fails, with Lambda's error types, messages, log lines and recovery."""

from __future__ import annotations

import json
import re

import pytest

from lambdatui.executor import InvokeRequestError
from lambdatui.executor.runtimes import launch_for

# Lambda reports a failed invocation differently by runtime generation (logformat.reports_status):
# runtimes on Amazon Linux 2023 put `Status:` on the REPORT line; those on Amazon Linux 2 log the
# old-style error line instead. Both run here on this machine's Python.
AL2023 = "python3.12"
AL2 = "python3.11"

RAISES = """
def handler(event, context):
    return event["action"]
"""


def _payload(result):
    return json.loads(result.payload)


def _stream(ex, name):
    """Every event of the function's log stream(s), in order."""
    return [e.message for e in ex.logs.events(name)]


def _since(events, request_id):
    """The events from this request's START on."""
    return events[events.index(f"START RequestId: {request_id} Version: $LATEST"):]


def test_unhandled_exception_payload_has_aws_shape_and_key_order(make_function, executor_factory):
    spec = make_function(RAISES)
    result = executor_factory(spec).invoke(spec.name, b"{}")
    assert result.status_code == 200  # Lambda still answers 200; the error is in X-Amz-Function-Error
    assert result.function_error == "Unhandled"
    assert result.error_type == "KeyError"
    body = _payload(result)
    assert list(body) == ["errorMessage", "errorType", "requestId", "stackTrace"]
    assert body["errorMessage"] == "'action'"
    assert body["errorType"] == "KeyError"
    assert body["requestId"] == result.request_id
    assert body["stackTrace"][0].startswith(f'  File "{spec.code_dir}/app.py", line 3, in handler')


def test_unhandled_exception_is_one_log_event_joined_by_newlines_as_recorded_on_aws(make_function, executor_factory):
    # AWS's Python runtime writes the error as one framed message to its telemetry descriptor, its
    # lines joined with "\n" (awslambdaric FramedTelemetryLogSink.log_error), recorded on AWS as one event.
    spec = make_function(RAISES)
    ex = executor_factory(spec)
    result = ex.invoke(spec.name, b"{}")
    error_events = [m for m in _stream(ex, spec.name) if m.startswith("[ERROR]")]
    assert len(error_events) == 1
    assert "\r" not in error_events[0]
    lines = error_events[0].split("\n")
    assert lines[0] == "[ERROR] KeyError: 'action'"
    assert lines[1] == "Traceback (most recent call last):"
    # AWS's runtime indents traceback lines with no-break spaces.
    assert lines[2] == f'\u00a0\u00a0File "{spec.code_dir}/app.py", line 3, in handler'
    assert lines[3] == '\u00a0\u00a0\u00a0\u00a0return event["action"]'
    assert len(lines) == 4
    # In the tail (text, a line per line), the event's lines come before END, not overwriting each other.
    tail = result.log_tail.split("\n")
    assert tail[1:5] == lines and tail[5] == f"END RequestId: {result.request_id}"


def test_without_a_telemetry_descriptor_the_error_is_joined_by_carriage_returns_on_stdout(make_function, executor_factory):
    # awslambdaric's fallback (StandardLogSink), when the platform gives no _LAMBDA_TELEMETRY_LOG_FD.
    def plain_stdout(spec, cache_dir):
        launch = launch_for(spec, cache_dir)
        del launch.env["_LAMBDA_TELEMETRY_LOG_FD"]
        return launch

    spec = make_function(RAISES)
    ex = executor_factory(spec, launcher=plain_stdout)
    ex.invoke(spec.name, b"{}")
    [event] = [m for m in _stream(ex, spec.name) if m.startswith("[ERROR]")]
    lines = event.split("\r")
    assert lines[:2] == ["[ERROR] KeyError: 'action'", "Traceback (most recent call last):"] and "\n" not in event


def test_lambda_warning_precedes_an_init_error_not_a_handler_error_as_awslambdaric_since_3_1_1(make_function, executor_factory):
    # awslambdaric #189 ("Move unhandled exception warning message to init errors", 2025, for the
    # managed runtimes): LAMBDA_WARNING is logged before the [ERROR] of an init error only.
    handler_error = make_function(RAISES)
    init_error = make_function("raise RuntimeError('boom at import')\n")
    ex = executor_factory(handler_error, init_error)
    ex.invoke(handler_error.name)
    assert not any("LAMBDA_WARNING" in m for m in _stream(ex, handler_error.name))
    ex.invoke(init_error.name)
    events = _stream(ex, init_error.name)
    error = next(i for i, m in enumerate(events) if m.startswith("[ERROR] RuntimeError: boom at import"))
    warning = events[error - 1]
    assert re.fullmatch(r"\[WARNING\]\t\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\t\tLAMBDA_WARNING: Unhandled exception\. .*\r", warning, re.S)
    assert sum("LAMBDA_WARNING" in m for m in events) == 1


def test_handler_error_keeps_the_environment_warm(make_function, executor_factory):
    spec = make_function(RAISES)
    ex = executor_factory(spec)
    ex.invoke(spec.name, b"{}")
    assert not ex.invoke(spec.name, b'{"action": 1}').cold_start


TIMED_OUT_LINE = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z %s Task timed out after 1\.00 seconds$"


@pytest.mark.parametrize("runtime", [AL2023, AL2])
def test_timeout_is_sandbox_timedout_reported_as_each_runtime_generation_does(make_function, executor_factory, runtime):
    # Recorded on AWS: python3.14 (Amazon Linux 2023) writes no timeout line and ends REPORT with
    # `\tStatus: timeout`; python3.11 (Amazon Linux 2) writes `<time> <id> Task timed out after …` and a
    # REPORT without Status.
    spec = make_function("import time\ndef handler(e, c):\n    time.sleep(30)\n", timeout=1, runtime=runtime)
    ex = executor_factory(spec)
    result = ex.invoke(spec.name)
    assert result.function_error == "Unhandled"
    assert _payload(result) == {
        "errorType": "Sandbox.Timedout",
        "errorMessage": f"RequestId: {result.request_id} Error: Task timed out after 1.00 seconds",
    }
    # Never more than the timeout (AWS's emulator reports min(elapsed, timeout)).
    assert result.duration_ms == 1000.0
    timed_out = re.search(TIMED_OUT_LINE % result.request_id, result.log_tail, re.M)
    report = result.log_tail.rstrip("\n").split("\n")[-1]
    assert report.startswith(f"REPORT RequestId: {result.request_id}\tDuration: 1000.00 ms\t")
    if runtime == AL2023:
        assert timed_out is None
        assert report.endswith(f"\tMax Memory Used: {result.max_memory_used_mb} MB\tInit Duration: {result.init_duration_ms:.2f} ms\tStatus: timeout")
    else:
        assert timed_out is not None
        assert report.endswith(f"\tInit Duration: {result.init_duration_ms:.2f} ms\t") and "Status" not in report


@pytest.mark.parametrize("runtime, error_type", [(AL2023, "Runtime.OutOfMemory"), (AL2, "Runtime.ExitError")])
def test_memory_over_the_limit_is_killed_as_each_runtime_generation_reports_it(make_function, executor_factory, runtime, error_type):
    # Recorded on AWS: `…\tStatus: error\tError Type: Runtime.OutOfMemory` on the newer platform; on
    # older runtimes the kill is a crash: `RequestId: … Error: Runtime exited with error: signal: killed`
    # then `Runtime.ExitError`, one event.
    spec = make_function(
        """
        def handler(e, c):
            hog = []
            while True:
                hog.append(bytearray(8 * 1024 * 1024))
        """,
        memory_size=128,
        timeout=20,
        runtime=runtime,
    )
    ex = executor_factory(spec)
    result = ex.invoke(spec.name)
    assert result.error_type == error_type
    message = f"RequestId: {result.request_id} Error: Runtime exited with error: signal: killed"
    assert _payload(result) == {"errorType": error_type, "errorMessage": message}
    assert result.max_memory_used_mb == 128
    fault = f"{message}\n{error_type}"
    if runtime == AL2023:
        assert re.search(r"\tStatus: error\tError Type: Runtime.OutOfMemory$", result.log_tail, re.M)
        assert fault not in _stream(ex, spec.name)
    else:
        assert fault in _stream(ex, spec.name) and "Status" not in result.log_tail
    assert result.duration_ms < 5000  # killed promptly, not at the timeout


def test_a_brief_spike_over_the_limit_is_still_out_of_memory(make_function, executor_factory):
    # Lambda's cgroup kills at the moment memory crosses the limit, however briefly.
    spec = make_function("def handler(e, c):\n    x = bytearray(200 * 1024 * 1024)\n    return len(x)\n", memory_size=128, runtime=AL2023)
    result = executor_factory(spec).invoke(spec.name)
    assert result.error_type == "Runtime.OutOfMemory"


@pytest.mark.parametrize("runtime", [AL2023, AL2])
def test_process_exit_is_runtime_exit_error_reported_as_each_runtime_generation_does(make_function, executor_factory, runtime):
    spec = make_function("import os\ndef handler(e, c):\n    os._exit(3)\n", runtime=runtime)
    ex = executor_factory(spec)
    result = ex.invoke(spec.name)
    message = f"RequestId: {result.request_id} Error: Runtime exited with error: exit status 3"
    assert _payload(result) == {"errorType": "Runtime.ExitError", "errorMessage": message}
    if runtime == AL2023:
        assert result.log_tail.endswith("\tStatus: error\tError Type: Runtime.ExitError\n")
        assert not any(m.startswith("RequestId: ") for m in _stream(ex, spec.name))
    else:
        # AWS's emulator renders the fault as one event: `RequestId: %s Error: %s\n%s`.
        assert f"{message}\nRuntime.ExitError" in _stream(ex, spec.name)
        assert "Status" not in result.log_tail


def test_killed_by_a_signal_reports_the_signal_and_the_memory_it_used(make_function, executor_factory):
    spec = make_function("import os, signal\ndef handler(e, c):\n    os.kill(os.getpid(), signal.SIGSEGV)\n")
    result = executor_factory(spec).invoke(spec.name)
    assert _payload(result)["errorMessage"].endswith("Runtime exited with error: signal: segmentation fault")
    # The process is gone when REPORT is written, but Lambda never reports `Max Memory Used: 0 MB`.
    assert result.max_memory_used_mb > 0
    assert f"\tMax Memory Used: {result.max_memory_used_mb} MB\t" in result.log_tail


@pytest.mark.parametrize("where", ["import", "handler"])
def test_sys_exit_0_is_runtime_exited_without_providing_a_reason_as_recorded_on_aws(make_function, executor_factory, where):
    source = (
        "import sys\nsys.exit(0)\ndef handler(e, c):\n    return 1\n" if where == "import"
        else "import sys\ndef handler(e, c):\n    sys.exit(0)\n"
    )
    spec = make_function(source)
    result = executor_factory(spec).invoke(spec.name)
    assert result.error_type == "Runtime.ExitError"
    assert _payload(result) == {
        "errorType": "Runtime.ExitError",
        "errorMessage": f"RequestId: {result.request_id} Error: Runtime exited without providing a reason",
    }


def test_response_over_6_mb_is_function_response_size_too_large_with_aws_message_and_key_order(make_function, executor_factory):
    # Recorded on AWS: the limit only, not the response's size; errorMessage before errorType.
    spec = make_function("def handler(e, c):\n    return 'x' * (7 * 1024 * 1024)\n")
    ex = executor_factory(spec)
    result = ex.invoke(spec.name)
    assert result.error_type == "Function.ResponseSizeTooLarge"
    assert result.payload == (
        b'{"errorMessage": "Response payload size exceeded maximum allowed payload size (6291556 bytes).", '
        b'"errorType": "Function.ResponseSizeTooLarge"}'
    )
    assert ex.invoke(spec.name).function_error == "Unhandled"  # the runtime survives and answers again


def test_response_just_under_the_limit_is_returned(make_function, executor_factory):
    spec = make_function("def handler(e, c):\n    return 'x' * 6291000\n")
    result = executor_factory(spec).invoke(spec.name)
    assert result.function_error is None and len(result.payload) == 6291002


def test_unserialisable_result_is_marshal_error(make_function, executor_factory):
    spec = make_function("def handler(e, c):\n    return {1, 2}\n")
    body = _payload(executor_factory(spec).invoke(spec.name))
    assert body["errorType"] == "Runtime.MarshalError"
    assert body["errorMessage"] == "Unable to marshal response: Object of type set is not JSON serializable"


def test_decimal_results_marshal_as_aws_runtime_does(make_function, executor_factory):
    spec = make_function("from decimal import Decimal\ndef handler(e, c):\n    return {'n': Decimal('3'), 'f': Decimal('1.5')}\n")
    assert _payload(executor_factory(spec).invoke(spec.name)) == {"n": 3, "f": 1.5}


@pytest.mark.parametrize(
    "source, handler, error_type, message",
    [
        ("import missing_dep\n", "app.handler", "Runtime.ImportModuleError", "Unable to import module 'app': No module named 'missing_dep'"),
        ("def handler(e, c)\n    return 1\n", "app.handler", "Runtime.UserCodeSyntaxError", "Syntax error in module 'app': "),
        ("def other(e, c):\n    return 1\n", "app.nope", "Runtime.HandlerNotFound", "Handler 'nope' missing on module 'app'"),
        ("def handler(e, c):\n    return 1\n", "app", "Runtime.MalformedHandlerName", "Bad handler 'app': not enough values to unpack (expected 2, got 1)"),
        ("def handler(e, c):\n    return 1\n", "sys.handler", "Runtime.BuiltInModuleConflict", "Cannot use built-in module sys as a handler module"),
        ("raise RuntimeError('boom at import')\n", "app.handler", "RuntimeError", "boom at import"),
    ],
)
def test_init_errors_match_aws_python_runtime(make_function, executor_factory, source, handler, error_type, message):
    spec = make_function(source, handler=handler, runtime=AL2023)
    ex = executor_factory(spec)
    result = ex.invoke(spec.name)
    assert result.function_error == "Unhandled"
    assert result.error_type == error_type
    body = _payload(result)
    assert body["errorType"] == error_type
    assert body["errorMessage"].startswith(message)
    # As recorded on AWS, the init's error and INIT_REPORT come before START, in the stream only; the
    # tail is START, END and a REPORT with the error and the memory the runtime used.
    events = _stream(ex, spec.name)
    start = events.index(f"START RequestId: {result.request_id} Version: $LATEST")
    assert re.fullmatch(rf"INIT_REPORT Init Duration: [\d.]+ ms\tPhase: init\tStatus: error\tError Type: {re.escape(error_type)}", events[start - 1])
    assert any(m.startswith(f"[ERROR] {error_type}: {message}") for m in events[:start])
    tail = result.log_tail.rstrip("\n").split("\n")
    assert tail[:2] == [events[start], f"END RequestId: {result.request_id}"] and len(tail) == 3
    assert result.max_memory_used_mb > 0
    assert tail[2].endswith(f"\tMax Memory Used: {result.max_memory_used_mb} MB\tStatus: error\tError Type: {error_type}")
    # Init failed, so the environment was reset: the next invoke initialises again.
    assert ex.invoke(spec.name).cold_start


def test_handler_path_with_slash_is_a_package_module(make_function, executor_factory):
    spec = make_function("def handler(e, c):\n    return 'nested'\n", handler="pkg/mod.handler", module="placeholder")
    (spec.code_dir / "pkg").mkdir()
    (spec.code_dir / "pkg" / "__init__.py").write_text("")
    (spec.code_dir / "pkg" / "mod.py").write_text("def handler(e, c):\n    return 'nested'\n")
    assert executor_factory(spec).invoke(spec.name).payload == b'"nested"'


def test_exit_during_init_is_runtime_exit_error(make_function, executor_factory):
    spec = make_function("import os\nos._exit(2)\n")
    result = executor_factory(spec).invoke(spec.name)
    assert result.error_type == "Runtime.ExitError"
    assert _payload(result)["errorMessage"].endswith("Runtime exited with error: exit status 2")


def test_request_over_6_mb_is_refused_before_any_environment(make_function, executor_factory):
    spec = make_function("def handler(e, c):\n    return 1\n")
    ex = executor_factory(spec)
    with pytest.raises(InvokeRequestError) as info:
        ex.invoke(spec.name, b'"' + b"x" * (6 * 1024 * 1024) + b'"')
    assert info.value.status_code == 413 and info.value.error_type == "RequestTooLargeException"
    assert ex.environment_counts(spec.name) == {"idle": 0, "provisioned": 0, "busy": 0}


def test_payload_that_is_not_json_is_invalid_request_content(make_function, executor_factory):
    spec = make_function("def handler(e, c):\n    return 1\n")
    with pytest.raises(InvokeRequestError) as info:
        executor_factory(spec).invoke(spec.name, b"{not json")
    assert info.value.status_code == 400 and info.value.error_type == "InvalidRequestContentException"
    assert "Could not parse request body into json" in info.value.message


def test_unknown_function_is_resource_not_found(executor_factory):
    from lambdatui.executor import FunctionNotFound

    ex = executor_factory()
    with pytest.raises(FunctionNotFound) as info:
        ex.invoke("nope")
    assert str(info.value) == "Function not found: arn:aws:lambda:us-east-1:123456789012:function:nope"
