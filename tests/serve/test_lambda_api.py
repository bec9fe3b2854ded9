"""The Lambda API of `lambdatui serve`, driven by boto3, the AWS backend and the AWS CLI.

A LocalBackend runs small handlers written into tmp_path; a LambdaApiServer serves it on a free
port of 127.0.0.1; clients talk to it exactly as they would to AWS.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import shutil
import subprocess
import sys
import textwrap
import uuid

import boto3
import httpx
import pytest
from botocore.config import Config as BotoConfig
from polling import wait_for

from lambdatui.backends import make_backend
from lambdatui.backends.base import FunctionNotFoundError
from lambdatui.config import parse_config
from lambdatui.serve.async_invoke import AsyncInvoker
from lambdatui.serve.lambda_api import LambdaApiServer

from .sigv4 import sign

PY = f"python{sys.version_info[0]}.{sys.version_info[1]}"
ACCOUNT = "123456789012"
ARN = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:"
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}

FUNCTIONS = {
    "echo": (
        """
        def handler(event, context):
            print("ECHO-MARKER", event.get("marker"))
            return {"event": event, "function": context.function_name}
        """,
        ["      environment: {GREETING: Hello}"],
    ),
    "fails": (
        """
        def handler(event, context):
            return event["action"]
        """,
        [],
    ),
    "throttled": (
        """
        def handler(event, context):
            return "never runs"
        """,
        ["      reserved_concurrency: 0"],
    ),
}


@pytest.fixture
def backend(tmp_path):
    lines = ["backend: local", "local:", "  keep_warm_seconds: 600", "  functions:"]
    for name, (source, settings) in FUNCTIONS.items():
        folder = tmp_path / name
        folder.mkdir()
        (folder / "app.py").write_text(textwrap.dedent(source))
        lines += [f"    {name}:", f"      runtime: {PY}", "      handler: app.handler", f"      code: {name}", *settings]
    path = tmp_path / "lambdatui.yaml"
    path.write_text("\n".join(lines) + "\n")
    b = make_backend(parse_config(path.read_text(), path), state_dir=tmp_path / "state")
    yield b
    b.close()


@pytest.fixture
def server(backend):
    invoker = AsyncInvoker(backend, backend.state_dir / "async.db", retry_delays=(0.05, 0.1))
    s = LambdaApiServer(backend, port=0, async_invoker=invoker).start()
    invoker.start()
    yield s
    s.stop()
    invoker.stop()


@pytest.fixture
def aws_credentials(monkeypatch, tmp_path):
    """Dummy credentials, and no user AWS config that could point anywhere else."""
    for key, value in CREDENTIALS.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))


@pytest.fixture
def client(server, aws_credentials):
    return boto3.client(
        "lambda",
        endpoint_url=server.url,
        region_name="us-east-1",
        config=BotoConfig(retries={"total_max_attempts": 1, "mode": "standard"}),
    )




# -- Invoke ----------------------------------------------------------------------------------


def test_invoke_returns_the_payload_and_the_log_tail(client):
    response = client.invoke(FunctionName="echo", Payload=json.dumps({"marker": "m-1"}), LogType="Tail")

    assert response["StatusCode"] == 200
    assert "FunctionError" not in response
    assert response["ExecutedVersion"] == "$LATEST"
    assert json.loads(response["Payload"].read()) == {"event": {"marker": "m-1"}, "function": "echo"}
    request_id = response["ResponseMetadata"]["RequestId"]
    lines = base64.b64decode(response["LogResult"]).decode().splitlines()
    assert f"START RequestId: {request_id} Version: $LATEST" in lines
    assert any(line.startswith("ECHO-MARKER m-1") for line in lines)
    assert f"END RequestId: {request_id}" in lines
    assert lines[-1].startswith(f"REPORT RequestId: {request_id}\tDuration: ")


def test_invoke_without_log_type_has_no_log_result(client):
    response = client.invoke(FunctionName="echo", Payload=b"{}")
    assert "LogResult" not in response
    assert json.loads(response["Payload"].read())["event"] == {}


def test_invoke_by_arn_partial_arn_and_latest_qualifier(client):
    for name in (f"{ARN}echo", f"{ACCOUNT}:function:echo", f"{ARN}echo:$LATEST"):
        assert client.invoke(FunctionName=name, Payload=b"{}")["StatusCode"] == 200
    assert client.invoke(FunctionName="echo", Payload=b"{}", Qualifier="$LATEST")["StatusCode"] == 200
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.invoke(FunctionName="echo", Payload=b"{}", Qualifier="prod")


def test_function_error_is_unhandled_with_the_error_in_the_payload(client):
    response = client.invoke(FunctionName="fails", Payload=b"{}", LogType="Tail")

    assert response["StatusCode"] == 200
    assert response["FunctionError"] == "Unhandled"
    error = json.loads(response["Payload"].read())
    assert error["errorType"] == "KeyError"
    assert error["errorMessage"] == "'action'"
    assert "KeyError" in base64.b64decode(response["LogResult"]).decode()


def test_missing_function_raises_resource_not_found(client):
    with pytest.raises(client.exceptions.ResourceNotFoundException) as info:
        client.invoke(FunctionName="missing", Payload=b"{}")
    error = info.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert error["Error"]["Message"] == f"Function not found: {ARN}missing"
    assert error["Type"] == "User"
    for call in (client.get_function, client.get_function_configuration, client.get_function_concurrency):
        with pytest.raises(client.exceptions.ResourceNotFoundException):
            call(FunctionName="missing")


def test_throttled_function_raises_too_many_requests_with_its_reason(client):
    with pytest.raises(client.exceptions.TooManyRequestsException) as info:
        client.invoke(FunctionName="throttled", Payload=b"{}")
    error = info.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert error["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
    assert error["Type"] == "User"
    assert error["Error"]["Message"] == "Rate Exceeded."
    assert error["retryAfterSeconds"] == "1"


def test_payload_that_is_not_json_raises_invalid_request_content(client):
    with pytest.raises(client.exceptions.InvalidRequestContentException) as info:
        client.invoke(FunctionName="echo", Payload=b"not json")
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert "Could not parse request body into json" in info.value.response["Error"]["Message"]
    with pytest.raises(client.exceptions.InvalidRequestContentException):
        client.invoke(FunctionName="echo", Payload=b"not json", InvocationType="Event")


def test_payload_over_6_mb_raises_request_too_large(client):
    big = json.dumps({"data": "x" * (6 * 1024 * 1024)}).encode()
    with pytest.raises(client.exceptions.RequestTooLargeException) as info:
        client.invoke(FunctionName="echo", Payload=big)
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 413
    # The connection is still good for the next request.
    assert client.invoke(FunctionName="echo", Payload=b"{}")["StatusCode"] == 200


def test_dry_run_answers_204_and_runs_nothing(client, backend):
    response = client.invoke(FunctionName="echo", Payload=b"{}", InvocationType="DryRun")
    assert response["StatusCode"] == 204
    assert backend.logs.events("echo") == []
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.invoke(FunctionName="missing", InvocationType="DryRun")


def test_unknown_invocation_type_is_refused(server):
    url = f"{server.url}/2015-03-31/functions/echo/invocations"
    r = httpx.post(url, content=b"{}", headers=sign("POST", url, b"{}", {"X-Amz-Invocation-Type": "Sometime"}))
    assert r.status_code == 400
    assert r.headers["x-amzn-ErrorType"] == "InvalidParameterValueException"


# -- asynchronous invocation -----------------------------------------------------------------


def test_event_is_accepted_with_202_and_runs(client, backend, server):
    marker = uuid.uuid4().hex
    response = client.invoke(FunctionName="echo", Payload=json.dumps({"marker": marker}), InvocationType="Event")

    assert response["StatusCode"] == 202
    assert response["Payload"].read() == b""
    assert response["ResponseMetadata"]["RequestId"]
    wait_for(lambda: any(marker in e.message for e in backend.logs.events("echo")))
    assert server.async_invoker.wait_idle(5)
    assert server.async_invoker.failed == []


def test_event_for_a_missing_function_is_refused_at_once(client):
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.invoke(FunctionName="missing", Payload=b"{}", InvocationType="Event")


def test_failing_event_is_retried_twice_then_dropped(client, backend, server):
    response = client.invoke(FunctionName="fails", Payload=b"{}", InvocationType="Event")
    assert response["StatusCode"] == 202

    assert server.async_invoker.wait_idle(15)
    starts = [e for e in backend.logs.events("fails") if e.message.startswith("START RequestId:")]
    assert len(starts) == 3  # the first attempt and two retries
    assert server.async_invoker.failed == [(response["ResponseMetadata"]["RequestId"], "fails", "KeyError")]


def test_throttled_event_stays_queued_with_back_off(client, server):
    # Lambda returns a throttled event to its queue and retries it with exponential back-off (from
    # 1 s) until its maximum age: it is neither dropped nor counted against the retry attempts.
    response = client.invoke(FunctionName="throttled", Payload=b"{}", InvocationType="Event")
    request_id = response["ResponseMetadata"]["RequestId"]
    stored = wait_for(lambda: (e := server.async_invoker.store.get(request_id)) is not None and e.throttles >= 2 and e)
    assert (stored.attempts, stored.last_error_type) == (0, "TooManyRequestsException")
    assert server.async_invoker.pending("throttled") == 1
    assert server.async_invoker.failed == []


# -- functions -------------------------------------------------------------------------------


def test_list_functions_pages_with_max_items(client):
    pages = list(client.get_paginator("list_functions").paginate(PaginationConfig={"PageSize": 1}))
    assert len(pages) == 3
    assert all(len(page["Functions"]) == 1 for page in pages)
    assert sorted(f["FunctionName"] for page in pages for f in page["Functions"]) == ["echo", "fails", "throttled"]
    first = client.list_functions(MaxItems=2)
    assert len(first["Functions"]) == 2 and first["NextMarker"]
    rest = client.list_functions(MaxItems=2, Marker=first["NextMarker"])
    assert len(rest["Functions"]) == 1 and "NextMarker" not in rest
    assert len(client.list_functions()["Functions"]) == 3


def test_function_configuration_has_lambdas_shape(client):
    c = client.get_function_configuration(FunctionName="echo")
    assert c["FunctionName"] == "echo"
    assert c["FunctionArn"] == f"{ARN}echo"
    assert c["Runtime"] == PY
    assert c["Role"] == f"arn:aws:iam::{ACCOUNT}:role/lambdatui-local"
    assert c["Handler"] == "app.handler"
    assert c["CodeSize"] > 0
    assert (c["MemorySize"], c["Timeout"], c["Description"]) == (128, 3, "")
    assert c["Version"] == "$LATEST"
    assert c["Environment"] == {"Variables": {"GREETING": "Hello"}}
    assert c["Architectures"] == ["x86_64"]
    assert (c["State"], c["LastUpdateStatus"], c["PackageType"]) == ("Active", "Successful", "Zip")
    assert c["EphemeralStorage"] == {"Size": 512}
    assert c["LastModified"].endswith("+0000")
    assert "Environment" not in client.get_function_configuration(FunctionName="fails")


def test_get_function_has_configuration_code_and_concurrency(client):
    f = client.get_function(FunctionName="echo")
    assert f["Configuration"]["FunctionName"] == "echo"
    assert f["Code"]["RepositoryType"] == "S3"
    assert f["Code"]["Location"].startswith("file://")
    assert "Concurrency" not in f
    throttled = client.get_function(FunctionName=f"{ARN}throttled")
    assert throttled["Concurrency"] == {"ReservedConcurrentExecutions": 0}
    assert client.list_provisioned_concurrency_configs(FunctionName="echo")["ProvisionedConcurrencyConfigs"] == []


def test_update_function_configuration(client, backend):
    c = client.update_function_configuration(
        FunctionName="echo", MemorySize=256, Timeout=10, Description="edited",
        Environment={"Variables": {"GREETING": "Hi", "MODE": "test"}},
    )
    assert (c["MemorySize"], c["Timeout"], c["Description"]) == (256, 10, "edited")
    assert c["Environment"]["Variables"] == {"GREETING": "Hi", "MODE": "test"}
    assert c["LastUpdateStatus"] == "Successful"
    f = backend.get_function("echo")
    assert (f.memory_size, f.timeout, f.environment) == (256, 10, {"GREETING": "Hi", "MODE": "test"})
    # The running server changes; the config file only with --persist-changes (test_serve_trust.py).
    assert "memory_size: 256" not in backend.config.path.read_text()
    report = base64.b64decode(client.invoke(FunctionName="echo", Payload=b"{}", LogType="Tail")["LogResult"]).decode()
    assert "Memory Size: 256 MB" in report


def test_update_function_configuration_ephemeral_storage_sizes_tmp(client, backend):
    # AWS: EphemeralStorage {"Size": 512-10240} sets the function's /tmp; outside it, InvalidParameterValueException.
    c = client.update_function_configuration(FunctionName="echo", EphemeralStorage={"Size": 2048})
    assert c["EphemeralStorage"] == {"Size": 2048}
    assert backend.get_function("echo").ephemeral_storage == 2048
    with pytest.raises(client.exceptions.InvalidParameterValueException):
        client.update_function_configuration(FunctionName="echo", EphemeralStorage={"Size": 20000})
    assert client.get_function_configuration(FunctionName="echo")["EphemeralStorage"] == {"Size": 2048}


def test_invalid_update_raises_invalid_parameter_value(client, backend):
    with pytest.raises(client.exceptions.InvalidParameterValueException) as info:
        client.update_function_configuration(FunctionName="echo", MemorySize=20000)  # botocore checks the minimum
    assert "memory_size" in info.value.response["Error"]["Message"]
    with pytest.raises(client.exceptions.InvalidParameterValueException):
        client.update_function_configuration(FunctionName="echo", Environment={"Variables": {"AWS_REGION": "x"}})
    with pytest.raises(client.exceptions.InvalidParameterValueException):
        client.update_function_configuration(FunctionName="echo", KMSKeyArn="arn:aws:kms:us-east-1:1:key/x")
    assert backend.get_function("echo").memory_size == 128


def test_function_concurrency_put_get_delete(client, backend):
    assert "ReservedConcurrentExecutions" not in client.get_function_concurrency(FunctionName="echo")
    assert client.put_function_concurrency(FunctionName="echo", ReservedConcurrentExecutions=5)["ReservedConcurrentExecutions"] == 5
    assert client.get_function_concurrency(FunctionName="echo")["ReservedConcurrentExecutions"] == 5
    assert backend.get_function("echo").reserved_concurrency == 5
    with pytest.raises(client.exceptions.InvalidParameterValueException):
        client.put_function_concurrency(FunctionName="echo", ReservedConcurrentExecutions=5000)
    assert client.delete_function_concurrency(FunctionName="echo")["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert backend.get_function("echo").reserved_concurrency is None
    # Lifting the throttle lets the function run.
    client.delete_function_concurrency(FunctionName="throttled")
    assert json.loads(client.invoke(FunctionName="throttled", Payload=b"{}")["Payload"].read()) == "never runs"


def test_unknown_route_is_404_in_lambdas_error_shape(server):
    url = f"{server.url}/2015-03-31/nothing-here"
    r = httpx.get(url, headers=sign("GET", url))
    assert r.status_code == 404
    assert r.headers["x-amzn-ErrorType"] == "UnknownOperationException"
    assert "message" in r.json()
    url = f"{server.url}/2015-03-31/functions/echo"
    assert httpx.delete(url, headers=sign("DELETE", url)).status_code == 404


def test_each_request_is_logged_in_one_line(client, caplog):
    with caplog.at_level(logging.INFO, logger="lambdatui.serve"):
        response = client.invoke(FunctionName="echo", Payload=b"{}")
        with pytest.raises(client.exceptions.ResourceNotFoundException):
            client.get_function(FunctionName="missing")
    lines = [r.getMessage() for r in caplog.records if r.name == "lambdatui.serve"]
    assert any(
        line.startswith("POST /2015-03-31/functions/echo/invocations 200")
        and response["ResponseMetadata"]["RequestId"] in line for line in lines
    )
    assert any(line.startswith("GET /2015-03-31/functions/missing 404 ResourceNotFoundException") for line in lines)


# -- clients end to end ----------------------------------------------------------------------


def test_aws_backend_through_the_server(server, backend, aws_credentials):
    from lambdatui.backends.aws import AwsBackend

    aws = AwsBackend(parse_config(f"backend: aws\naws: {{region: us-east-1, endpoint_url: '{server.url}'}}\n"))

    first = aws.invoke("echo", b'{"marker": "e2e"}')
    assert first.ok and json.loads(first.payload)["event"] == {"marker": "e2e"}
    assert first.has_figures and first.cold_start
    assert first.duration_ms > 0 and first.billed_duration_ms >= 1
    assert first.init_duration_ms is not None and first.init_duration_ms > 0
    assert first.max_memory_used_mb > 0 and first.memory_size_mb == 128
    assert f"START RequestId: {first.request_id}" in first.log_tail
    second = aws.invoke("echo", b"{}")
    assert second.has_figures and not second.cold_start and second.init_duration_ms is None
    assert second.request_id != first.request_id

    failed = aws.invoke("fails", b"{}")
    assert (failed.function_error, failed.error_type) == ("Unhandled", "KeyError")
    with pytest.raises(FunctionNotFoundError):
        aws.invoke("missing", b"{}")
    assert aws.invoke("echo", b"{}", invocation_type="Event").status_code == 202
    assert aws.invoke("echo", b"{}", invocation_type="DryRun").status_code == 204

    assert sorted(f.name for f in aws.list_functions()) == ["echo", "fails", "throttled"]
    echo = aws.get_function("echo")
    assert (echo.memory_size, echo.environment, echo.reserved_concurrency) == (128, {"GREETING": "Hello"}, None)
    assert aws.get_function("throttled").reserved_concurrency == 0

    updated = aws.update_function("echo", {"memory_size": 512, "reserved_concurrency": 7})
    assert (updated.memory_size, updated.reserved_concurrency) == (512, 7)
    assert (backend.get_function("echo").memory_size, backend.get_function("echo").reserved_concurrency) == (512, 7)
    assert aws.invoke("echo", b"{}").memory_size_mb == 512


def test_aws_backend_sees_throttles(server, aws_credentials):
    from lambdatui.backends.aws import AwsBackend

    config = parse_config(f"backend: aws\naws: {{region: us-east-1, endpoint_url: '{server.url}'}}\n")
    aws = AwsBackend(config, max_attempts=1)
    result = aws.invoke("throttled", b"{}")
    assert result.status_code == 429
    assert result.error == {"type": "TooManyRequestsException", "reason": "ReservedFunctionConcurrentInvocationLimitExceeded"}


@pytest.mark.skipif(shutil.which("aws") is None, reason="the AWS CLI is not installed")
def test_aws_cli_through_the_server(server, aws_credentials, tmp_path):
    def aws(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["aws", "--endpoint-url", server.url, "--region", "us-east-1", "--output", "json", "lambda", *args],
            capture_output=True, text=True, timeout=60, env=dict(os.environ),
        )

    out = tmp_path / "out.json"
    version = subprocess.run(["aws", "--version"], capture_output=True, text=True, timeout=60)
    payload_args = ["--cli-binary-format", "raw-in-base64-out"] if "aws-cli/2" in version.stdout + version.stderr else []
    done = aws("invoke", "--function-name", "echo", "--payload", '{"marker": "cli"}', *payload_args, "--log-type", "Tail", str(out))
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["StatusCode"] == 200
    assert "ECHO-MARKER cli" in base64.b64decode(answer["LogResult"]).decode()
    assert json.loads(out.read_text())["event"] == {"marker": "cli"}

    listed = aws("list-functions")
    assert listed.returncode == 0, listed.stderr
    assert sorted(f["FunctionName"] for f in json.loads(listed.stdout)["Functions"]) == ["echo", "fails", "throttled"]

    missing = aws("get-function", "--function-name", "missing")
    assert missing.returncode != 0
    assert "ResourceNotFoundException" in missing.stderr
