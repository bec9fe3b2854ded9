"""Who `lambdatui serve` answers (issue 13): the Lambda API only callers that name it by its own
address, send no Origin and sign with SigV4 (with the configured key when `serve:` has one); the
HTTP trigger port anyone, but under its own address only, with CORS only where a route asks.

Every refusal is proved by the function not running: the handlers append their request id to a
file, and the file stays empty.
"""

from __future__ import annotations

import json
import socket
from datetime import datetime, timedelta, timezone

import httpx
import pytest
from botocore.exceptions import ClientError

from lambdatui.config import ConfigError, load_config, parse_config
from lambdatui.serve.runner import ServeRunner

from .project import Project, client, payload
from .sigv4 import sign

KEYS = "serve:\n  access_key_id: AKIDLOCALTEST\n  secret_access_key: local-secret-123\n"


@pytest.fixture
def project(tmp_path):
    return Project(tmp_path)


@pytest.fixture
def runner(project):
    r = project.start()
    yield r
    r.stop()


@pytest.fixture
def keyed(tmp_path):
    """A project whose config names the one key serve accepts."""
    project = Project(tmp_path, serve=KEYS)
    r = project.start()
    yield project, r
    r.stop()


def _invoke_url(runner, name="rec"):
    return f"http://127.0.0.1:{runner.lambda_api.port}/2015-03-31/functions/{name}/invocations"


def _raw(port: int, request: bytes, timeout: float = 10.0) -> bytes:
    """Send bytes as they are, read the answer until the server closes or goes quiet."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(request)
        s.shutdown(socket.SHUT_WR)
        out = b""
        try:
            while chunk := s.recv(65536):
                out += chunk
        except (TimeoutError, ConnectionResetError):
            pass
        return out


def _error(response: httpx.Response) -> tuple[int, str, str]:
    body = response.json()
    return response.status_code, response.headers["x-amzn-ErrorType"], body.get("message") or body.get("Message")


# -- the Lambda API: Host ---------------------------------------------------------------------


@pytest.mark.parametrize("host", ["rebind.evil.example", "rebind.evil.example:{port}", "127.0.0.1:1", "localhost", "attacker.localhost:{port}"])
def test_lambda_api_refuses_a_host_that_is_not_its_own_address_and_runs_nothing(runner, project, host):
    port = runner.lambda_api.port
    url = _invoke_url(runner)
    headers = sign("POST", url, b"{}")
    headers["Host"] = host.format(port=port)  # signed for the right host, sent under another name
    r = httpx.post(url, content=b"{}", headers=headers)
    status, code, message = _error(r)
    assert (status, code) == (403, "AccessDeniedException")
    assert "own address" in message
    assert project.ran() == []


@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "localhost:{port}", "LOCALHOST:{port}"])
def test_lambda_api_answers_its_own_loopback_names(runner, project, host):
    url = _invoke_url(runner)
    headers = sign("POST", f"http://{host.format(port=runner.lambda_api.port)}/2015-03-31/functions/rec/invocations", b"{}")
    r = httpx.post(url, content=b"{}", headers=headers)
    assert r.status_code == 200, r.text
    assert project.ran() == [r.json()["request_id"]]


def test_rebinding_host_cannot_reconfigure_a_function_nor_write_the_config(runner, project):
    before = project.config_path.read_text()
    url = f"http://127.0.0.1:{runner.lambda_api.port}/2015-03-31/functions/rec/configuration"
    body = json.dumps({"Handler": "pty.spawn"}).encode()
    headers = sign("PUT", url, body, {"Content-Type": "application/json"})
    headers["Host"] = f"rebind.evil.example:{runner.lambda_api.port}"
    r = httpx.put(url, content=body, headers=headers)
    assert r.status_code == 403
    assert runner.backend.get_function("rec").handler == "app.handler"
    assert project.config_path.read_text() == before
    # And the function still runs its own handler.
    assert payload(client(runner).invoke(FunctionName="rec", Payload=b"{}"))["request_id"] in project.ran()


# -- the Lambda API: Origin ---------------------------------------------------------------------


def test_cross_origin_text_plain_post_from_a_page_is_refused_and_runs_nothing(runner, project):
    # What a page's fetch(url, {method: "POST", body: "{}"}) sends: a "simple" request, no preflight.
    url = _invoke_url(runner)
    r = httpx.post(url, content=b"{}", headers={"Content-Type": "text/plain;charset=UTF-8", "Origin": "http://evil.example"})
    assert _error(r)[:2] == (403, "AccessDeniedException")
    assert "access-control-allow-origin" not in r.headers
    assert project.ran() == []


def test_a_signed_request_with_an_origin_is_refused_too(runner, project):
    url = _invoke_url(runner)
    headers = sign("POST", url, b"{}", {"Origin": "http://127.0.0.1:8000"})
    status, code, message = _error(httpx.post(url, content=b"{}", headers=headers))
    assert (status, code) == (403, "AccessDeniedException")
    assert "Origin" in message
    assert project.ran() == []


# -- the Lambda API: signatures ----------------------------------------------------------------


def test_unsigned_request_gets_missing_authentication_token_and_runs_nothing(runner, project):
    r = httpx.post(_invoke_url(runner), content=b"{}")
    assert _error(r) == (403, "MissingAuthenticationTokenException", "Missing Authentication Token")
    assert project.ran() == []


@pytest.mark.parametrize(
    "authorization, code",
    [
        ("Bearer abc", "IncompleteSignatureException"),
        ("AWS4-HMAC-SHA256 SignedHeaders=host, Signature=abc", "IncompleteSignatureException"),
        ("AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/lambda/aws4_request, SignedHeaders=host", "IncompleteSignatureException"),
        ("AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=ab", "InvalidSignatureException"),
        ("AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/lambda/aws4_request, SignedHeaders=x-amz-date, Signature=ab", "InvalidSignatureException"),
    ],
)
def test_malformed_authorization_is_refused_in_aws_shape(runner, project, authorization, code):
    r = httpx.post(_invoke_url(runner), content=b"{}", headers={"Authorization": authorization, "X-Amz-Date": "20260101T000000Z"})
    assert _error(r)[:2] == (403, code)
    assert r.json()["Type"] == "User"
    assert project.ran() == []


def test_a_signature_dated_over_15_minutes_ago_is_expired(runner, project):
    url = _invoke_url(runner)
    headers = sign("POST", url, b"{}")
    old = (datetime.now(timezone.utc) - timedelta(minutes=16)).strftime("%Y%m%dT%H%M%SZ")
    headers["X-Amz-Date"] = old
    headers["Authorization"] = headers["Authorization"].replace(headers["Authorization"].split("/")[1], old[:8])
    status, code, message = _error(httpx.post(url, content=b"{}", headers=headers))
    assert (status, code) == (403, "InvalidSignatureException")
    assert message.startswith(f"Signature expired: {old} is now earlier than ") and message.endswith(" - 15 min.)")
    assert project.ran() == []


def test_boto3_with_any_key_works_by_default(runner, project):
    response = client(runner, aws_access_key_id="AKIDANY", aws_secret_access_key="anything").invoke(FunctionName="rec", Payload=b"{}")
    assert response["StatusCode"] == 200
    assert project.ran() == [payload(response)["request_id"]]


def test_boto3_with_the_configured_key_works(keyed):
    project, runner = keyed
    lam = client(runner, aws_access_key_id="AKIDLOCALTEST", aws_secret_access_key="local-secret-123")
    response = lam.invoke(FunctionName="rec", Payload=json.dumps({"x": "y/z?&"}), Qualifier="$LATEST")
    assert project.ran() == [payload(response)["request_id"]]
    # Every route, query strings and qualified ARNs included, verifies.
    assert len(lam.list_functions(MaxItems=1)["Functions"]) == 1
    assert lam.get_function(FunctionName="arn:aws:lambda:us-east-1:123456789012:function:rec:$LATEST")["Configuration"]["FunctionName"] == "rec"


def test_boto3_with_a_wrong_secret_gets_invalid_signature_and_runs_nothing(keyed):
    project, runner = keyed
    lam = client(runner, aws_access_key_id="AKIDLOCALTEST", aws_secret_access_key="not-the-secret")
    with pytest.raises(ClientError) as info:
        lam.invoke(FunctionName="rec", Payload=b"{}")
    error = info.value.response
    assert error["Error"]["Code"] == "InvalidSignatureException"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert error["Error"]["Message"].startswith("The request signature we calculated does not match the signature you provided.")
    assert project.ran() == []


def test_boto3_with_an_unknown_key_gets_unrecognized_client(keyed):
    project, runner = keyed
    lam = client(runner, aws_access_key_id="AKIDSOMEONEELSE", aws_secret_access_key="local-secret-123")
    with pytest.raises(ClientError) as info:
        lam.invoke(FunctionName="rec", Payload=b"{}")
    assert info.value.response["Error"]["Code"] == "UnrecognizedClientException"
    assert info.value.response["Error"]["Message"] == "The security token included in the request is invalid."
    assert project.ran() == []


def test_a_signed_request_whose_body_was_swapped_is_refused(keyed):
    project, runner = keyed
    url = _invoke_url(runner)
    headers = sign("POST", url, b'{"amount": 1}', key="AKIDLOCALTEST", secret="local-secret-123")
    r = httpx.post(url, content=b'{"amount": 1000}', headers=headers)
    assert _error(r)[:2] == (403, "InvalidSignatureException")
    headers.pop("X-Amz-Content-SHA256", None)
    assert _error(httpx.post(url, content=b'{"amount": 1000}', headers=headers))[:2] == (403, "InvalidSignatureException")
    assert project.ran() == []


def test_configured_keys_are_validated_with_file_line_and_key(tmp_path):
    path = tmp_path / "lambdatui.yaml"
    cases = {
        "serve:\n  access_key_id: AKID\n": (2, "serve.secret_access_key", "is required with the other key"),
        "serve:\n  access_kye_id: AKID\n  secret_access_key: s\n": (2, "serve.access_kye_id", "did you mean 'access_key_id'?"),
        "serve:\n  access_key_id: 'A/B'\n  secret_access_key: s\n": (2, "serve.access_key_id", "must not contain /"),
        "serve:\n  access_key_id: AKID\n  secret_access_key: [s]\n": (3, "serve.secret_access_key", "single value"),
    }
    for text, (line, key, words) in cases.items():
        with pytest.raises(ConfigError) as info:
            parse_config(text, path)
        assert (info.value.line, info.value.key) == (line, key), text
        assert str(info.value).startswith(f"{path}:{line}: {key}: ") and words in str(info.value)


def test_the_secret_is_masked_wherever_the_config_is_shown(keyed):
    project, runner = keyed
    assert "local-secret-123" not in repr(runner.config)
    assert "local-secret-123" not in repr(runner.config.serve)
    assert "local-secret-123" not in repr(runner.lambda_api.signing_key)
    lines = runner.describe()
    assert any("AKIDLOCALTEST" in line for line in lines)
    assert not any("local-secret-123" in line for line in lines)


# -- UpdateFunctionConfiguration changes the running server only ---------------------------------


def test_update_function_configuration_changes_the_running_server_but_not_the_file(runner, project):
    before = project.config_path.read_text()
    lam = client(runner)
    assert lam.update_function_configuration(FunctionName="rec", MemorySize=256, Timeout=9)["MemorySize"] == 256
    lam.put_function_concurrency(FunctionName="rec", ReservedConcurrentExecutions=4)
    assert lam.get_function_configuration(FunctionName="rec")["Timeout"] == 9
    assert lam.invoke(FunctionName="rec", Payload=b"{}")["StatusCode"] == 200
    assert project.config_path.read_text() == before


def test_persist_changes_writes_api_edits_to_the_config_file(project):
    runner = project.start(persist_changes=True)
    try:
        client(runner).update_function_configuration(FunctionName="rec", MemorySize=320)
    finally:
        runner.stop()
    assert parse_config(project.config_path.read_text(), project.config_path).local.functions["rec"].memory_size == 320


def test_dashboard_serve_keeps_api_edits_off_the_file_while_the_dashboards_own_edits_are_saved(project):
    # `lambdatui --serve`: the Lambda API shares the dashboard's backend, which saves the user's own
    # edits; an API caller still changes only what is running.
    from lambdatui.backends.local import LocalBackend

    config = load_config(project.config_path)
    backend = LocalBackend(config, state_dir=project.root / "state", persist_config=True)
    runner = ServeRunner(config, port=0, http_port=0, state_dir=project.root / "state", backend=backend)
    runner.start()
    try:
        before = project.config_path.read_text()
        client(runner).update_function_configuration(FunctionName="rec", MemorySize=320)
        assert backend.get_function("rec").memory_size == 320
        assert project.config_path.read_text() == before
        backend.update_function("rec", {"timeout": 11})  # the configuration pane's save
        assert parse_config(project.config_path.read_text(), project.config_path).local.functions["rec"].timeout == 11
    finally:
        runner.stop()


# -- the HTTP trigger port -----------------------------------------------------------------------


def test_http_port_refuses_a_rebinding_host_and_runs_nothing(runner, project):
    port = runner.http.port
    for host in (f"rebind.evil.example:{port}", "rebind.evil.example", f"localhost.evil.example:{port}"):
        r = httpx.get(f"http://127.0.0.1:{port}/open", headers={"Host": host})
        assert r.status_code == 403
        assert r.json() == {"message": "Forbidden"}
    assert project.ran() == []
    ok = httpx.get(f"http://localhost:{port}/open")
    assert (ok.status_code, ok.text) == (200, "ran")
    assert len(project.ran()) == 1


def test_http_port_is_open_to_browsers_but_adds_no_cors_unless_the_route_configures_it(runner, project):
    port = runner.http.port
    # A cross-origin page may call an API Gateway endpoint; without CORS the browser gets no
    # Access-Control-Allow-Origin from the gateway (the function's own headers pass through).
    r = httpx.post(f"http://127.0.0.1:{port}/open", content=b"hi", headers={"Origin": "http://evil.example", "Content-Type": "text/plain"})
    assert r.status_code == 200
    assert r.headers.get("access-control-allow-origin") == "*"  # set by the function itself, passed through
    assert not any(k.lower().startswith("access-control-") and k.lower() != "access-control-allow-origin" for k in r.headers)
    # A preflight on a route without CORS is an ordinary OPTIONS request: ANY takes it.
    pre = httpx.options(f"http://127.0.0.1:{port}/open", headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "PUT"})
    assert "access-control-allow-methods" not in pre.headers


def test_a_route_with_cors_answers_preflight_itself_and_only_allowed_origins(runner, project):
    port = runner.http.port
    url = f"http://127.0.0.1:{port}/shared"
    pre = httpx.options(url, headers={"Origin": "http://app.example:5173", "Access-Control-Request-Method": "POST",
                                      "Access-Control-Request-Headers": "content-type"})
    assert pre.status_code == 204
    assert pre.headers["access-control-allow-origin"] == "http://app.example:5173"
    assert pre.headers["access-control-allow-methods"] == "GET,POST"
    assert pre.headers["access-control-allow-headers"] == "content-type"
    assert pre.headers["access-control-max-age"] == "600"
    assert project.ran() == []  # the gateway answered the preflight

    denied = httpx.options(url, headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"})
    assert denied.status_code == 204 and "access-control-allow-origin" not in denied.headers

    allowed = httpx.post(url, content=b"x", headers={"Origin": "http://app.example:5173"})
    assert allowed.headers["access-control-allow-origin"] == "http://app.example:5173"
    other = httpx.post(url, content=b"x", headers={"Origin": "http://evil.example"})
    # The function's own "*" is dropped: with CORS configured the gateway decides.
    assert other.status_code == 200 and "access-control-allow-origin" not in other.headers


def test_cors_configuration_is_validated_with_its_key(tmp_path):
    (tmp_path / "code").mkdir()
    base = "local:\n  functions:\n    f:\n      code: code\n      triggers:\n        - type: http\n          path: /x\n          cors: "
    with pytest.raises(ConfigError, match=r"cors\.allow_origins"):
        parse_config(base + "{allow_methods: [GET]}\n", tmp_path / "c.yaml")
    with pytest.raises(ConfigError, match=r"cors\.allow_origins"):
        parse_config(base + "{allow_origins: [evil]}\n", tmp_path / "c.yaml")
    with pytest.raises(ConfigError, match=r"cors\.max_age"):
        parse_config(base + "{allow_origins: ['*'], max_age: 100000}\n", tmp_path / "c.yaml")
    with pytest.raises(ConfigError, match=r"cors\.allow_credentials"):
        parse_config(base + "{allow_origins: ['*'], allow_credentials: true}\n", tmp_path / "c.yaml")
    ok = parse_config(base + "{allow_origins: ['*'], allow_methods: [get]}\n", tmp_path / "c.yaml")
    assert ok.local.functions["f"].triggers[0].cors.allow_methods == ("GET",)
