"""The AWS backend against moto's server on 127.0.0.1, and botocore's Stubber only where moto cannot
answer (paging, which moto ignores; LogResult, which moto does not return; update progress)."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time

import pytest
from botocore.stub import ANY, Stubber

from lambdatui import logformat
from lambdatui.backends import BackendError, FunctionNotFoundError, InvalidParameterError, ReadOnlyError, RequestError
from lambdatui.backends.aws import AwsBackend
from lambdatui.backends.aws_errors import AccessDeniedError, CredentialsError, EndpointError, ThrottledError
from lambdatui.config import parse_config
from lambdatui.figures import invocation_cost

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def aws_backend(endpoint: str, **aws) -> AwsBackend:
    settings = {"region": "us-east-1", "endpoint_url": endpoint, **aws}
    body = ", ".join(f"{k}: {json.dumps(v)}" for k, v in settings.items())
    return AwsBackend(parse_config(f"backend: aws\naws: {{{body}}}\n"))


@pytest.fixture
def moto(aws_env):
    aws_env.create_function("alpha", "def handler(e, c):\n    return e\n", environment={"GREETING": "Hello", "API_TOKEN": "s3cr3t-value"})
    aws_env.create_function("beta", "def handler(e, c):\n    return e\n", memory=512, timeout=30)
    return aws_env


def test_list_and_get_read_the_account(moto):
    backend = aws_backend(moto.endpoint)
    functions = {f.name: f for f in backend.list_functions()}
    assert set(functions) == {"alpha", "beta"}
    assert (functions["beta"].memory_size, functions["beta"].timeout) == (512, 30)
    alpha = backend.get_function("alpha")
    assert alpha.environment == {"GREETING": "Hello", "API_TOKEN": "s3cr3t-value"}
    assert alpha.arn.endswith(":function:alpha") and alpha.runtime == "python3.12"
    with pytest.raises(FunctionNotFoundError):
        backend.get_function("missing")


def test_list_functions_follows_every_page():
    # moto ignores MaxItems, so paging is shown with the Stubber: three pages, every one read.
    backend = aws_backend("http://127.0.0.1:9")
    pages = [
        {"Functions": [{"FunctionName": f"fn-{i}", "MemorySize": 128, "Timeout": 3} for i in range(start, start + 50)], **({"NextMarker": f"m{n}"} if n < 2 else {})}
        for n, start in enumerate((0, 50, 100))
    ]
    with Stubber(backend.lambda_client) as stub:
        stub.add_response("list_functions", pages[0], {})
        stub.add_response("list_functions", pages[1], {"Marker": "m0"})
        stub.add_response("list_functions", pages[2], {"Marker": "m1"})
        names = [f.name for f in backend.list_functions()]
    assert names == [f"fn-{i}" for i in range(150)]


def test_update_changes_the_function_and_reserved_concurrency(moto):
    backend = aws_backend(moto.endpoint)
    updated = backend.update_function(
        "alpha",
        {"memory_size": 1024, "timeout": 10, "description": "edited", "environment": {"GREETING": "Hi"}, "reserved_concurrency": 5},
    )
    assert (updated.memory_size, updated.timeout, updated.description) == (1024, 10, "edited")
    assert updated.environment == {"GREETING": "Hi"}
    assert updated.reserved_concurrency == 5
    cfg = moto.client("lambda").get_function_configuration(FunctionName="alpha")
    assert cfg["MemorySize"] == 1024 and cfg["Environment"]["Variables"] == {"GREETING": "Hi"}
    assert backend.update_function("alpha", {"reserved_concurrency": None}).reserved_concurrency is None


@pytest.mark.parametrize(
    "changes, words",
    [
        ({"memory_size": 64}, "64 is outside 128–10240 MB"),
        ({"environment": {"AWS_REGION": "x"}}, "reserved by Lambda"),
        ({"architecture": "arm64"}, "UpdateFunctionCode"),
        ({"provisioned_concurrency": 2}, "version or alias"),
    ],
)
def test_invalid_updates_are_refused_before_any_call(changes, words):
    backend = aws_backend("http://127.0.0.1:9")
    with Stubber(backend.lambda_client):  # any call would fail the stubber
        with pytest.raises(InvalidParameterError, match=words):
            backend.update_function("alpha", changes)


def test_update_waits_for_last_update_status_with_progress(monkeypatch):
    import lambdatui.backends.aws as aws

    monkeypatch.setattr(aws, "WAIT_DELAY_S", 0)
    backend = aws_backend("http://127.0.0.1:9")
    config = {"FunctionName": "alpha", "MemorySize": 256, "Timeout": 3}
    with Stubber(backend.lambda_client) as stub:
        stub.add_response("update_function_configuration", {}, {"FunctionName": "alpha", "MemorySize": 256})
        # botocore's function_updated_v2 waiter polls GetFunction until LastUpdateStatus is Successful.
        stub.add_response("get_function", {"Configuration": {**config, "LastUpdateStatus": "InProgress"}}, {"FunctionName": "alpha"})
        stub.add_response("get_function", {"Configuration": {**config, "LastUpdateStatus": "InProgress"}}, {"FunctionName": "alpha"})
        stub.add_response("get_function", {"Configuration": {**config, "LastUpdateStatus": "Successful"}}, {"FunctionName": "alpha"})
        stub.add_response("get_function_configuration", {**config, "LastUpdateStatus": "Successful"}, {"FunctionName": "alpha"})
        stub.add_response("get_function_concurrency", {}, {"FunctionName": "alpha"})
        stub.add_response("list_provisioned_concurrency_configs", {"ProvisionedConcurrencyConfigs": []}, {"FunctionName": "alpha"})
        seen: list[str] = []
        result = backend.update_function("alpha", {"memory_size": 256}, progress=seen.append)
        stub.assert_no_pending_responses()
    assert result.memory_size == 256
    assert seen[0] == "Updating alpha…" and "LastUpdateStatus" in seen[1]


def test_failed_update_reports_the_reason(monkeypatch):
    import lambdatui.backends.aws as aws

    monkeypatch.setattr(aws, "WAIT_DELAY_S", 0)
    backend = aws_backend("http://127.0.0.1:9")
    with Stubber(backend.lambda_client) as stub:
        stub.add_response("update_function_configuration", {}, {"FunctionName": "alpha", "Timeout": 9})
        stub.add_response(
            "get_function",
            {"Configuration": {"FunctionName": "alpha", "LastUpdateStatus": "Failed", "LastUpdateStatusReason": "The role cannot be assumed"}},
            {"FunctionName": "alpha"},
        )
        with pytest.raises(BackendError, match="The role cannot be assumed"):
            backend.update_function("alpha", {"timeout": 9})


def test_read_only_refuses_every_write(moto):
    backend = aws_backend(moto.endpoint, read_only=True)
    with pytest.raises(ReadOnlyError, match="read_only"):
        backend.update_function("alpha", {"memory_size": 256})
    assert moto.client("lambda").get_function_configuration(FunctionName="alpha")["MemorySize"] == 128
    assert "read-only" in backend.describe()


def test_invoke_through_moto_returns_the_response(moto):
    backend = aws_backend(moto.endpoint)
    result = backend.invoke("alpha", b'{"x": 1}')
    assert result.status_code == 200 and json.loads(result.payload) == {"x": 1}
    assert backend.invoke("alpha", b"{}", invocation_type="Event").status_code == 202


def test_invoke_reads_figures_from_the_report_line_in_log_result():
    # moto returns no LogResult, so Lambda's answer is given to the client by the Stubber.
    backend = aws_backend("http://127.0.0.1:9")
    request_id = "8f5c5d2e-5e0c-4c8e-9d1f-2a3b4c5d6e7f"
    tail = "\n".join([
        f"START RequestId: {request_id} Version: $LATEST",
        "hello",
        f"END RequestId: {request_id}",
        logformat.report_line(request_id, 12.34, 250, 256, 71, 236.8),
    ]) + "\n"
    import io

    from botocore.response import StreamingBody

    response = {
        "StatusCode": 200,
        "LogResult": base64.b64encode(tail.encode()).decode(),
        "ExecutedVersion": "$LATEST",
        "Payload": StreamingBody(io.BytesIO(b'{"ok": true}'), 12),
    }
    with Stubber(backend.invoke_client("alpha")) as stub:
        stub.add_response("invoke", response, {"FunctionName": "alpha", "Payload": ANY, "InvocationType": "RequestResponse", "LogType": "Tail"})
        result = backend.invoke("alpha", b"{}")
    assert result.request_id == request_id
    assert (result.duration_ms, result.billed_duration_ms, result.init_duration_ms) == (12.34, 250, 236.8)
    assert result.cold_start and result.memory_size_mb == 256 and result.max_memory_used_mb == 71
    assert result.cost_usd == pytest.approx(invocation_cost(256, 250))
    assert result.log_tail == tail and json.loads(result.payload) == {"ok": True}


def test_function_error_and_throttle_from_the_invoke_api():
    backend = aws_backend("http://127.0.0.1:9")
    import io

    from botocore.response import StreamingBody

    error_body = b'{"errorMessage": "boom", "errorType": "ValueError", "requestId": "r", "stackTrace": []}'
    with Stubber(backend.invoke_client("alpha")) as stub:
        stub.add_response(
            "invoke",
            {"StatusCode": 200, "FunctionError": "Unhandled", "Payload": StreamingBody(io.BytesIO(error_body), len(error_body))},
            {"FunctionName": "alpha", "Payload": ANY, "InvocationType": "RequestResponse", "LogType": "Tail"},
        )
        stub.add_client_error(
            "invoke", "TooManyRequestsException", "Rate Exceeded.", 429,
            response_meta={"RequestId": "t-1"},
            modeled_fields={"Reason": "ReservedFunctionConcurrentInvocationLimitExceeded", "Type": "User"},
        )
        failed = backend.invoke("alpha", b"{}")
        throttled = backend.invoke("alpha", b"{}")
    assert failed.function_error == "Unhandled" and failed.error_type == "ValueError"
    assert throttled.status_code == 429
    assert throttled.error == {"type": "TooManyRequestsException", "reason": "ReservedFunctionConcurrentInvocationLimitExceeded"}


def test_payload_over_6_mb_is_refused_before_sending():
    backend = aws_backend("http://127.0.0.1:9")
    with Stubber(backend.invoke_client("alpha")):  # nothing may be sent
        with pytest.raises(RequestError) as info:
            backend.invoke("alpha", b'"' + b"x" * (6 * 1024 * 1024) + b'"')
    assert info.value.status_code == 413


def test_unreachable_endpoint_is_one_clear_line_within_seconds(aws_env):
    backend = aws_backend("http://127.0.0.1:9")
    started = time.monotonic()
    with pytest.raises(EndpointError, match=r"Cannot reach http://127\.0\.0\.1:9"):
        backend.list_functions()
    assert time.monotonic() - started < 15


def test_missing_credentials_say_what_to_do(tmp_path, monkeypatch):
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(key, raising=False)
    empty = tmp_path / "empty"
    empty.write_text("")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(empty))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(empty))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    backend = aws_backend("http://127.0.0.1:9")
    with pytest.raises(CredentialsError, match="No AWS credentials found"):
        backend.list_functions()


def test_expired_sso_session_says_to_log_in_again(tmp_path, monkeypatch):
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    config = tmp_path / "config"
    config.write_text(
        "[profile dev]\nsso_session = corp\nsso_account_id = 123456789012\nsso_role_name = Dev\nregion = us-east-1\n"
        "[sso-session corp]\nsso_start_url = https://example.awsapps.com/start\nsso_region = us-east-1\n"
    )
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("HOME", str(tmp_path))  # an empty SSO token cache
    backend = aws_backend("http://127.0.0.1:9", profile="dev")
    with pytest.raises(CredentialsError, match="aws sso login --profile dev"):
        backend.list_functions()


def test_unknown_profile_is_named(tmp_path, monkeypatch):
    empty = tmp_path / "empty"
    empty.write_text("")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(empty))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(empty))
    with pytest.raises(CredentialsError, match="'nosuch' is not configured"):
        aws_backend("http://127.0.0.1:9", profile="nosuch")


def test_access_denied_and_throttling_translate_to_one_line():
    backend = aws_backend("http://127.0.0.1:9")
    with Stubber(backend.lambda_client) as stub:
        stub.add_client_error("get_function_configuration", "AccessDeniedException", "User: x is not authorized", 403)
        stub.add_client_error("get_function_configuration", "ThrottlingException", "Rate exceeded", 400)
        with pytest.raises(AccessDeniedError, match="Access denied to GetFunctionConfiguration for profile 'default': User: x is not authorized"):
            backend.get_function("alpha")
        with pytest.raises(ThrottledError, match="throttled GetFunctionConfiguration"):
            backend.get_function("alpha")


def test_retries_use_botocores_standard_mode():
    backend = aws_backend("http://127.0.0.1:9")
    retries = backend.lambda_client.meta.config.retries
    assert retries["mode"] == "standard" and retries["total_max_attempts"] == 5
    assert backend.lambda_client.meta.config.connect_timeout == 3


def _cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "lambdatui", *args], capture_output=True, text=True, env=env, timeout=60)


def test_cli_lists_and_invokes_on_aws_with_secrets_masked(moto, tmp_path):
    env = dict(os.environ, LAMBDATUI_STATE_DIR=str(tmp_path))
    common = ["--backend", "aws", "--endpoint-url", moto.endpoint, "--region", "us-east-1", "--config", os.path.join(REPO, "lambdatui", "sample", "lambdatui.yaml")]
    listed = _cli("list", "--json", *common, env=env)
    assert listed.returncode == 0, listed.stderr
    rows = {r["name"]: r for r in json.loads(listed.stdout)}
    assert rows["alpha"]["environment"] == {"GREETING": "Hello", "API_TOKEN": "••••••••"}
    revealed = json.loads(_cli("list", "--json", "--reveal", *common, env=env).stdout)
    assert {r["name"]: r for r in revealed}["alpha"]["environment"]["API_TOKEN"] == "s3cr3t-value"
    invoked = _cli("invoke", "alpha", "--json", *common, env=env)
    assert invoked.returncode == 0, invoked.stderr
    line = json.loads(invoked.stdout)
    assert line["payload"] == {} and line["duration_ms"] is None and line["cost_usd"] is None


def test_cli_fault_is_one_line_exit_1(tmp_path):
    env = dict(os.environ, LAMBDATUI_STATE_DIR=str(tmp_path), AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="y")
    proc = _cli("list", "--backend", "aws", "--endpoint-url", "http://127.0.0.1:9", "--region", "us-east-1",
                "--config", os.path.join(REPO, "lambdatui", "sample", "lambdatui.yaml"), env=env)
    assert proc.returncode == 1
    assert proc.stderr.strip().count("\n") == 0 and "Traceback" not in proc.stderr
    assert "Cannot reach http://127.0.0.1:9" in proc.stderr
