"""What an Invoke through serve carries to the function, as on AWS: `ClientContext` to
`context.client_context` (Python) / `context.clientContext` (Node.js), the qualifier of a
qualified name or ARN to `invoked_function_arn`; what AWS refuses (another region's or account's
ARN, a version or alias that does not exist, a bad client context, an event nested too deep) is
refused with AWS's error and runs nothing; an Event's 202 carries the id the function runs with."""

from __future__ import annotations

import base64
import json

import httpx
import pytest
from botocore.exceptions import ClientError
from polling import wait_for

from .project import NODE, Project, client, payload
from .sigv4 import sign

ARN = "arn:aws:lambda:us-east-1:123456789012:function:"
CONTEXT = {"client": {"installation_id": "i-1", "app_title": "Tests", "app_version_name": "1.0", "app_version_code": "1",
                      "app_package_name": "lambdatui.tests"},
           "custom": {"tenant": "acme"}, "env": {"platform": "linux"}}


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    project = Project(tmp_path_factory.mktemp("context"))
    runner = project.start()
    yield project, runner
    runner.stop()


@pytest.fixture
def project(served):
    served[0].record.write_text("")
    return served[0]


@pytest.fixture
def lam(served):
    return client(served[1])


def _b64(value) -> str:
    return base64.b64encode(json.dumps(value).encode()).decode()


def test_client_context_reaches_a_python_function(lam, project):
    result = payload(lam.invoke(FunctionName="rec", Payload=b"{}", ClientContext=_b64(CONTEXT)))
    assert result["client_context"] == CONTEXT
    assert payload(lam.invoke(FunctionName="rec", Payload=b"{}"))["client_context"] is None


@pytest.mark.skipif(NODE is None, reason="Node.js is not on PATH")
def test_client_context_reaches_a_node_function(lam, project):
    result = payload(lam.invoke(FunctionName="noderec", Payload=b"{}", ClientContext=_b64(CONTEXT)))
    context = result["client_context"]
    assert context["custom"] == {"tenant": "acme"} and context["env"] == {"platform": "linux"}
    assert context["client"]["installation_id"] == "i-1"


@pytest.mark.parametrize("value", ["not base64!", base64.b64encode(b"not json").decode(), _b64([1, 2]), _b64("text")])
def test_a_client_context_that_is_not_base64_json_is_refused(lam, project, value):
    with pytest.raises(ClientError) as info:
        lam.invoke(FunctionName="rec", Payload=b"{}", ClientContext=value)
    error = info.value.response
    assert (error["ResponseMetadata"]["HTTPStatusCode"], error["Error"]["Code"]) == (400, "InvalidRequestContentException")
    assert error["Error"]["Message"] == "Client context must be a valid Base64-encoded JSON object."
    assert project.ran() == []


def test_a_client_context_over_3583_bytes_is_refused(lam, project):
    big = _b64({"custom": {"x": "y" * 2700}})
    assert len(big) > 3583
    with pytest.raises(ClientError) as info:
        lam.invoke(FunctionName="rec", Payload=b"{}", ClientContext=big)
    assert info.value.response["Error"]["Code"] == "InvalidRequestContentException"
    assert "3583" in info.value.response["Error"]["Message"]
    assert project.ran() == []
    at_limit = _b64({"custom": {"x": "y" * 2600}})
    assert len(at_limit) <= 3583
    assert payload(lam.invoke(FunctionName="rec", Payload=b"{}", ClientContext=at_limit))["client_context"]["custom"]["x"] == "y" * 2600


@pytest.mark.parametrize(
    "name, qualifier, arn",
    [
        ("rec", None, f"{ARN}rec"),
        ("rec:$LATEST", None, f"{ARN}rec:$LATEST"),
        (f"{ARN}rec:$LATEST", None, f"{ARN}rec:$LATEST"),
        ("123456789012:function:rec:$LATEST", None, f"{ARN}rec:$LATEST"),
        (f"{ARN}rec", "$LATEST", f"{ARN}rec:$LATEST"),
        ("rec", "$LATEST", f"{ARN}rec:$LATEST"),
    ],
)
def test_the_qualifier_used_is_kept_in_invoked_function_arn(lam, name, qualifier, arn):
    extra = {"Qualifier": qualifier} if qualifier else {}
    assert payload(lam.invoke(FunctionName=name, Payload=b"{}", **extra))["arn"] == arn


@pytest.mark.skipif(NODE is None, reason="Node.js is not on PATH")
def test_a_node_function_sees_the_qualified_arn(lam):
    assert payload(lam.invoke(FunctionName=f"{ARN}noderec:$LATEST", Payload=b"{}"))["arn"] == f"{ARN}noderec:$LATEST"


def test_an_arn_from_another_region_is_refused_as_aws_does(lam, project):
    with pytest.raises(lam.exceptions.ResourceNotFoundException) as info:
        lam.invoke(FunctionName="arn:aws:lambda:eu-west-1:123456789012:function:rec", Payload=b"{}")
    assert info.value.response["Error"]["Message"] == "Functions from 'eu-west-1' are not reachable in this region ('us-east-1')"
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_function(FunctionName="arn:aws:lambda:eu-west-1:123456789012:function:rec")
    assert project.ran() == []


def test_an_arn_from_another_account_is_access_denied(lam, project):
    for call in (lambda: lam.invoke(FunctionName="arn:aws:lambda:us-east-1:999999999999:function:rec", Payload=b"{}"),
                 lambda: lam.invoke(FunctionName="999999999999:function:rec", Payload=b"{}", InvocationType="Event"),
                 lambda: lam.get_function_configuration(FunctionName="arn:aws:lambda:us-east-1:999999999999:function:rec")):
        with pytest.raises(ClientError) as info:
            call()
        error = info.value.response
        assert (error["ResponseMetadata"]["HTTPStatusCode"], error["Error"]["Code"]) == (403, "AccessDeniedException")
        assert "is not authorized to perform: lambda:" in error["Error"]["Message"]
        assert "arn:aws:lambda:us-east-1:999999999999:function:rec" in error["Error"]["Message"]
    assert project.ran() == []


@pytest.mark.parametrize("name, qualifier, missing", [("rec", "7", "rec:7"), ("rec:prod", None, "rec:prod"), (f"{ARN}rec:1", None, "rec:1")])
def test_a_version_or_alias_that_does_not_exist_is_not_found(lam, project, name, qualifier, missing):
    extra = {"Qualifier": qualifier} if qualifier else {}
    with pytest.raises(lam.exceptions.ResourceNotFoundException) as info:
        lam.invoke(FunctionName=name, Payload=b"{}", **extra)
    assert info.value.response["Error"]["Message"] == f"Function not found: {ARN}{missing}"
    assert project.ran() == []


@pytest.mark.parametrize("invocation_type", ["RequestResponse", "Event"])
def test_a_100000_deep_event_is_invalid_request_content_not_a_500(lam, project, invocation_type):
    deep = b"[" * 100_000 + b"]" * 100_000
    with pytest.raises(lam.exceptions.InvalidRequestContentException) as info:
        lam.invoke(FunctionName="rec", Payload=deep, InvocationType=invocation_type)
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert info.value.response["Error"]["Message"].startswith("Could not parse request body into json")
    assert project.ran() == []


def test_an_event_202_carries_the_request_id_the_function_runs_with(lam, project, served):
    response = lam.invoke(FunctionName="rec", Payload=b"{}", InvocationType="Event")
    assert response["StatusCode"] == 202
    request_id = response["ResponseMetadata"]["RequestId"]
    wait_for(lambda: project.ran() == [request_id])


def test_requests_with_an_empty_or_absent_client_context_header_are_plain_invokes(served, project):
    runner = served[1]
    url = f"http://127.0.0.1:{runner.lambda_api.port}/2015-03-31/functions/rec/invocations"
    r = httpx.post(url, content=b"{}", headers=sign("POST", url, b"{}", {"X-Amz-Client-Context": ""}))
    assert r.status_code == 200 and r.json()["client_context"] is None
