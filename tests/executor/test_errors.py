"""Every way an invocation fails, with Lambda's error types, messages, log lines and recovery."""

from __future__ import annotations

import json
import re

import pytest

from lambdatui.executor import InvokeRequestError

RAISES = """
def handler(event, context):
    return event["action"]
"""


def _payload(result):
    return json.loads(result.payload)


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


def test_unhandled_exception_is_logged_as_one_event_joined_by_carriage_returns(make_function, executor_factory):
    spec = make_function(RAISES)
    ex = executor_factory(spec)
    result = ex.invoke(spec.name, b"{}")
    error_events = [e.message for e in ex.logs.events(spec.name) if e.message.startswith("[ERROR]")]
    assert len(error_events) == 1
    lines = error_events[0].split("\r")
    assert lines[0] == "[ERROR] KeyError: 'action'"
    assert lines[1] == "Traceback (most recent call last):"
    # AWS's runtime indents traceback lines with no-break spaces.
    assert lines[2].startswith("\u00a0\u00a0File ")
    assert result.log_tail.index("[ERROR]") < result.log_tail.index("END RequestId")


def test_handler_error_keeps_the_environment_warm(make_function, executor_factory):
    spec = make_function(RAISES)
    ex = executor_factory(spec)
    ex.invoke(spec.name, b"{}")
    assert not ex.invoke(spec.name, b'{"action": 1}').cold_start


def test_timeout_kills_the_environment_with_sandbox_timedout(make_function, executor_factory):
    spec = make_function("import time\ndef handler(e, c):\n    time.sleep(30)\n", timeout=1)
    ex = executor_factory(spec)
    result = ex.invoke(spec.name)
    assert result.function_error == "Unhandled"
    assert _payload(result) == {
        "errorType": "Sandbox.Timedout",
        "errorMessage": f"RequestId: {result.request_id} Error: Task timed out after 1.00 seconds",
    }
    assert 1000 <= result.duration_ms < 1500
    assert re.search(
        rf"^\d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{{3}}Z {result.request_id} Task timed out after 1\.00 seconds$",
        result.log_tail,
        re.M,
    )
    assert re.search(r"^REPORT .*\tStatus: timeout$", result.log_tail, re.M)
    assert ex.invoke(spec.name).cold_start  # the environment was reset


def test_memory_over_the_limit_kills_with_out_of_memory(make_function, executor_factory):
    spec = make_function(
        """
        def handler(e, c):
            hog = []
            while True:
                hog.append(bytearray(8 * 1024 * 1024))
        """,
        memory_size=128,
        timeout=20,
    )
    ex = executor_factory(spec)
    result = ex.invoke(spec.name)
    assert result.error_type == "Runtime.OutOfMemory"
    assert _payload(result) == {
        "errorType": "Runtime.OutOfMemory",
        "errorMessage": f"RequestId: {result.request_id} Error: Runtime exited with error: signal: killed",
    }
    assert result.max_memory_used_mb == 128
    assert re.search(r"\tStatus: error\tError Type: Runtime.OutOfMemory$", result.log_tail, re.M)
    assert result.duration_ms < 5000  # killed promptly, not at the timeout
    assert ex.invoke(spec.name).cold_start


def test_a_brief_spike_over_the_limit_is_still_out_of_memory(make_function, executor_factory):
    # Lambda's cgroup kills at the moment memory crosses the limit, however briefly.
    spec = make_function("def handler(e, c):\n    x = bytearray(200 * 1024 * 1024)\n    return len(x)\n", memory_size=128)
    result = executor_factory(spec).invoke(spec.name)
    assert result.error_type == "Runtime.OutOfMemory"


def test_process_exit_is_runtime_exit_error_with_status(make_function, executor_factory):
    spec = make_function("import os\ndef handler(e, c):\n    os._exit(3)\n")
    ex = executor_factory(spec)
    result = ex.invoke(spec.name)
    assert _payload(result) == {
        "errorType": "Runtime.ExitError",
        "errorMessage": f"RequestId: {result.request_id} Error: Runtime exited with error: exit status 3",
    }
    assert "\tStatus: error\tError Type: Runtime.ExitError" in result.log_tail


def test_killed_by_a_signal_reports_the_signal(make_function, executor_factory):
    spec = make_function("import os, signal\ndef handler(e, c):\n    os.kill(os.getpid(), signal.SIGSEGV)\n")
    result = executor_factory(spec).invoke(spec.name)
    assert _payload(result)["errorMessage"].endswith("Runtime exited with error: signal: segmentation fault")


def test_response_over_6_mb_is_function_response_size_too_large(make_function, executor_factory):
    spec = make_function("def handler(e, c):\n    return 'x' * (7 * 1024 * 1024)\n")
    ex = executor_factory(spec)
    result = ex.invoke(spec.name)
    assert result.error_type == "Function.ResponseSizeTooLarge"
    body = _payload(result)
    assert body["errorType"] == "Function.ResponseSizeTooLarge"
    assert body["errorMessage"] == (
        f"Response payload size ({7 * 1024 * 1024 + 2} bytes) exceeded maximum allowed payload size (6291556 bytes)."
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
    spec = make_function(source, handler=handler)
    ex = executor_factory(spec)
    result = ex.invoke(spec.name)
    assert result.function_error == "Unhandled"
    assert result.error_type == error_type
    body = _payload(result)
    assert body["errorType"] == error_type
    assert body["errorMessage"].startswith(message)
    assert re.search(rf"^INIT_REPORT Init Duration: [\d.]+ ms\tPhase: init\tStatus: error\tError Type: {re.escape(error_type)}$", result.log_tail, re.M)
    assert f"[ERROR] {error_type}: {message}" in result.log_tail
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
