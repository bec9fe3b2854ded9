"""HTTP triggers: API Gateway's events and answers, through a real LocalBackend and real HTTP."""

from __future__ import annotations

import base64
import json
import re
import sys
import textwrap
import time

import httpx
import pytest

from lambdatui.backends import make_backend
from lambdatui.config import parse_config
from lambdatui.executor.spec import InvokeResult
from lambdatui.serve.http_triggers import (
    HttpRequest,
    HttpTriggerServer,
    Route,
    build_event_v1,
    build_event_v2,
    routes_for,
    to_http_response,
)

PY = f"python{sys.version_info[0]}.{sys.version_info[1]}"

HANDLERS = '''
import base64, json

def echo(event, context):
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": json.dumps(event)}

def binary(event, context):
    data = base64.b64decode(event["body"]) if event["isBase64Encoded"] else event["body"].encode()
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/octet-stream", "X-Was-Base64": str(event["isBase64Encoded"])},
        "isBase64Encoded": True,
        "body": base64.b64encode(data[::-1]).decode(),
    }

def simple(event, context):
    return {"hello": "world"}

def text(event, context):
    return "plain words"

def cookies(event, context):
    return {
        "statusCode": 201,
        "headers": {"content-type": "text/plain", "x-cookies-seen": "|".join(event.get("cookies", []))},
        "cookies": ["session=abc; Path=/; HttpOnly", "theme=dark"],
        "body": "made",
    }

def multi(event, context):
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "text/plain", "X-Single": "one", "X-Both": "a"},
        "multiValueHeaders": {"X-Multi": ["x", "y"], "X-Both": ["a", "b"]},
        "body": "multi",
        "isBase64Encoded": False,
    }

def fails(event, context):
    raise KeyError("action")

def malformed(event, context):
    return {"statusCode": 200, "body": {"not": "a string"}}
'''

FUNCTIONS = ("echo", "binary", "simple", "text", "cookies", "multi", "fails", "malformed", "throttled")

TRIGGERS = {
    "echo": [
        {"type": "http", "path": "/v1/items/{id}", "method": "GET", "payload_format": "1.0"},
        {"type": "http", "path": "/items/{id}", "method": "GET"},
        {"type": "http", "path": "/items/special", "method": "GET"},
        {"type": "http", "path": "/items/{id}", "method": "ANY"},
        {"type": "http", "path": "/files/{proxy+}"},
        {"type": "http", "path": "/{proxy+}", "method": "GET"},
        {"type": "http", "path": "/"},
    ],
    "binary": [{"type": "http", "path": "/binary", "method": "POST"}],
    "simple": [
        {"type": "http", "path": "/simple"},
        {"type": "http", "path": "/v1/simple", "payload_format": "1.0"},
    ],
    "text": [{"type": "http", "path": "/text"}],
    "cookies": [{"type": "http", "path": "/cookies", "method": "POST"}],
    "multi": [{"type": "http", "path": "/v1/multi", "payload_format": "1.0"}],
    "fails": [
        {"type": "http", "path": "/fails"},
        {"type": "http", "path": "/v1/fails", "payload_format": "1.0"},
    ],
    "malformed": [{"type": "http", "path": "/malformed"}],
    "throttled": [{"type": "http", "path": "/throttled"}],
    "missing": [{"type": "http", "path": "/missing"}],  # a function the backend does not have
}


@pytest.fixture(scope="module")
def backend(tmp_path_factory):
    root = tmp_path_factory.mktemp("http")
    (root / "code").mkdir()
    (root / "code" / "app.py").write_text(textwrap.dedent(HANDLERS))
    lines = ["backend: local", "local:", "  keep_warm_seconds: 600", "  functions:"]
    for name in FUNCTIONS:
        handler = "echo" if name == "throttled" else name
        lines += [
            f"    {name}:",
            f"      runtime: {PY}",
            f"      handler: app.{handler}",
            "      code: code",
            "      timeout: 10",
        ]
        if name == "throttled":
            lines.append("      reserved_concurrency: 0")
    path = root / "lambdatui.yaml"
    path.write_text("\n".join(lines) + "\n")
    b = make_backend(parse_config(path.read_text(), path), state_dir=root / "state", watch_code=False)
    yield b
    b.close()


@pytest.fixture(scope="module")
def server(backend):
    s = HttpTriggerServer(backend, routes_for(TRIGGERS), port=0)
    s.start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def client(server):
    with httpx.Client(base_url=f"http://127.0.0.1:{server.port}", timeout=15) as c:
        yield c


@pytest.fixture(scope="module")
def rest_client(backend):
    """A server with only payload 1.0 routes: a REST API."""
    routes = routes_for({"echo": [{"type": "http", "path": "/items/{id}", "method": "GET", "payload_format": "1.0"}]})
    with HttpTriggerServer(backend, routes, port=0) as s, httpx.Client(
        base_url=f"http://127.0.0.1:{s.port}", timeout=15
    ) as c:
        yield c


# -- payload 1.0 ------------------------------------------------------------------------------


def test_v1_event_fields(client):
    r = client.get(
        "/v1/items/42?a=1&a=2&b=3",
        headers=[("X-Repeat", "first"), ("X-Repeat", "second"), ("User-Agent", "tests/1.0")],
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/json"
    assert r.headers["x-amzn-requestid"]
    event = r.json()
    assert set(event) == {
        "resource", "path", "httpMethod", "headers", "multiValueHeaders", "queryStringParameters",
        "multiValueQueryStringParameters", "pathParameters", "stageVariables", "requestContext", "body",
        "isBase64Encoded",
    }
    assert event["resource"] == "/v1/items/{id}"
    assert event["path"] == "/v1/items/42"
    assert event["httpMethod"] == "GET"
    assert event["pathParameters"] == {"id": "42"}
    assert event["queryStringParameters"] == {"a": "2", "b": "3"}
    assert event["multiValueQueryStringParameters"] == {"a": ["1", "2"], "b": ["3"]}
    assert event["headers"]["X-Repeat"] == "second"
    assert event["multiValueHeaders"]["X-Repeat"] == ["first", "second"]
    assert event["headers"]["User-Agent"] == "tests/1.0"
    assert event["headers"]["X-Forwarded-For"] == "127.0.0.1"
    assert event["headers"]["X-Forwarded-Proto"] == "http"
    assert event["headers"]["X-Amzn-Trace-Id"].startswith("Root=1-")
    assert event["stageVariables"] is None
    assert event["body"] is None and event["isBase64Encoded"] is False

    ctx = event["requestContext"]
    assert ctx["accountId"] == "123456789012"
    assert re.fullmatch(r"[0-9a-z]{10}", ctx["apiId"])
    assert ctx["domainName"] == "127.0.0.1"
    assert ctx["httpMethod"] == "GET"
    assert ctx["identity"]["sourceIp"] == "127.0.0.1"
    assert ctx["identity"]["userAgent"] == "tests/1.0"
    assert ctx["identity"]["accessKey"] is None and ctx["identity"]["userArn"] is None
    assert ctx["path"] == "/v1/items/42"
    assert ctx["protocol"] == "HTTP/1.1"
    assert re.fullmatch(r"[0-9a-f-]{36}", ctx["requestId"])
    assert ctx["requestId"] == r.headers["x-amzn-requestid"]
    assert re.fullmatch(r"[A-Za-z0-9+/]{15}=", ctx["extendedRequestId"])
    assert re.fullmatch(r"\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d \+0000", ctx["requestTime"])
    assert abs(ctx["requestTimeEpoch"] / 1000 - time.time()) < 60
    assert re.fullmatch(r"[0-9a-z]{6}", ctx["resourceId"])
    assert ctx["resourcePath"] == "/v1/items/{id}"
    assert ctx["stage"] == "Prod"


def test_v1_multi_value_headers_in_response(client):
    r = client.get("/v1/multi")
    assert r.status_code == 200
    assert r.text == "multi"
    assert r.headers["x-single"] == "one"
    assert r.headers.get_list("x-multi") == ["x", "y"]
    assert r.headers.get_list("x-both") == ["a", "b"]  # a pair in both is sent once
    assert r.headers["content-type"] == "text/plain"


def test_v1_response_without_status_code_is_502(client):
    r = client.get("/v1/simple")
    assert r.status_code == 502
    assert r.json() == {"message": "Internal server error"}


def test_rest_api_unknown_route_is_403(rest_client):
    for method, path in (("GET", "/nowhere"), ("POST", "/items/1")):  # unknown path; method not taken
        r = rest_client.request(method, path)
        assert r.status_code == 403
        assert r.json() == {"message": "Missing Authentication Token"}
    assert rest_client.get("/items/1").status_code == 200


# -- payload 2.0 ------------------------------------------------------------------------------


def test_v2_event_fields(client):
    r = client.get(
        "/items/42?a=1&a=2&b=3",
        headers=[("X-Repeat", "first"), ("X-Repeat", "second"), ("User-Agent", "tests/2.0")],
    )
    assert r.status_code == 200
    event = r.json()
    assert event["version"] == "2.0"
    assert event["routeKey"] == "GET /items/{id}"
    assert event["rawPath"] == "/items/42"
    assert event["rawQueryString"] == "a=1&a=2&b=3"
    assert event["queryStringParameters"] == {"a": "1,2", "b": "3"}
    assert event["pathParameters"] == {"id": "42"}
    assert event["headers"]["x-repeat"] == "first,second"
    assert all(name == name.lower() for name in event["headers"])
    assert "cookies" not in event and "body" not in event and "stageVariables" not in event
    assert event["isBase64Encoded"] is False
    ctx = event["requestContext"]
    assert ctx["http"] == {
        "method": "GET", "path": "/items/42", "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "tests/2.0",
    }
    assert ctx["routeKey"] == "GET /items/{id}"
    assert ctx["stage"] == "$default"
    assert ctx["requestId"] == r.headers["apigw-requestid"]
    assert ctx["domainName"] == "127.0.0.1" and ctx["accountId"] == "123456789012"
    assert re.fullmatch(r"\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d \+0000", ctx["time"])
    assert isinstance(ctx["timeEpoch"], int)


def test_v2_cookies_in_and_set_cookie_out(client):
    r = client.post("/cookies", headers={"Cookie": "a=1; b=2"}, content=b"{}")
    assert r.status_code == 201
    assert r.text == "made"
    assert r.headers["x-cookies-seen"] == "a=1|b=2"
    assert r.headers.get_list("set-cookie") == ["session=abc; Path=/; HttpOnly", "theme=dark"]
    assert r.headers["content-type"] == "text/plain"


def test_v2_cookie_header_becomes_cookies_list(client):
    event = client.get("/items/7", headers={"Cookie": "session=5f2b; theme=dark"}).json()
    assert event["cookies"] == ["session=5f2b", "theme=dark"]
    assert "cookie" not in event["headers"]


def test_text_body_is_passed_as_text(client):
    event = client.put("/items/9", json={"name": "notebook"}).json()
    assert event["routeKey"] == "ANY /items/{id}"
    assert json.loads(event["body"]) == {"name": "notebook"}
    assert event["isBase64Encoded"] is False


def test_binary_body_round_trip(client):
    data = bytes(range(256)) + b"\xff\xfe\x00"
    r = client.post("/binary", content=data, headers={"Content-Type": "application/octet-stream"})
    assert r.status_code == 200
    assert r.headers["x-was-base64"] == "True"
    assert r.content == data[::-1]
    assert r.headers["content-type"] == "application/octet-stream"


def test_non_utf8_body_without_binary_type_is_base64(client):
    r = client.post("/binary", content=b"\xc3\x28 not utf-8", headers={"Content-Type": "text/plain"})
    assert r.headers["x-was-base64"] == "True"
    assert r.content == b"\xc3\x28 not utf-8"[::-1]


def test_v2_simplified_response(client):
    r = client.get("/simple")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    assert r.json() == {"hello": "world"}
    r = client.get("/text")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    assert r.text == "plain words"  # a string is the body itself, unquoted


# -- routing ----------------------------------------------------------------------------------


def test_greedy_proxy(client):
    event = client.get("/files/docs/2024/report%20final.pdf").json()
    assert event["routeKey"] == "ANY /files/{proxy+}"
    assert event["pathParameters"] == {"proxy": "docs/2024/report final.pdf"}
    assert event["rawPath"] == "/files/docs/2024/report%20final.pdf"


def test_most_specific_route_wins(client):
    assert client.get("/items/special").json()["routeKey"] == "GET /items/special"
    assert client.get("/items/other").json()["routeKey"] == "GET /items/{id}"  # GET beats ANY
    assert client.delete("/items/other").json()["routeKey"] == "ANY /items/{id}"
    assert client.get("/items/1/extra").json()["routeKey"] == "GET /{proxy+}"
    assert client.get("/").json()["routeKey"] == "ANY /"


def test_any_method(client):
    for method in ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"):
        r = client.request(method, "/files/a.txt")
        assert r.status_code == 200, method
        assert r.json()["requestContext"]["http"]["method"] == method
    r = client.head("/files/a.txt")
    assert r.status_code == 200 and r.content == b""
    assert int(r.headers["content-length"]) > 0


def test_unknown_route_and_method_mismatch_are_404(client):
    # GET /{proxy+} catches every GET; other methods on routes that do not take them find nothing.
    assert client.get("/binary").json()["routeKey"] == "GET /{proxy+}"
    for method, path in (("POST", "/nowhere"), ("PUT", "/binary"), ("DELETE", "/cookies")):
        r = client.request(method, path)
        assert r.status_code == 404, (method, path)
        assert r.json() == {"message": "Not Found"}


def test_unsupported_method_is_an_unknown_route(client):
    r = client.request("TRACE", "/items/1")
    assert r.status_code == 404
    assert r.json() == {"message": "Not Found"}


def test_chunked_request_body(client):
    event = client.post("/files/upload", content=iter([b'{"part": 1,', b' "more": true}'])).json()
    assert json.loads(event["body"]) == {"part": 1, "more": True}


# -- failures ---------------------------------------------------------------------------------


def test_function_error_is_502(client):
    for path in ("/fails", "/v1/fails"):
        r = client.get(path)
        assert r.status_code == 502
        assert r.json() == {"message": "Internal server error"}


def test_malformed_response_is_502(client):
    r = client.get("/malformed")
    assert r.status_code == 502
    assert r.json() == {"message": "Internal server error"}


def test_throttle_and_missing_function_are_500(client):
    for path in ("/throttled", "/missing"):
        r = client.get(path)
        assert r.status_code == 500, path
        assert r.json() == {"message": "Internal server error"}


def test_body_over_10_mb_is_413(server):
    with httpx.Client(base_url=f"http://127.0.0.1:{server.port}", timeout=15) as c:
        r = c.post("/binary", content=b"x" * (10 * 1024 * 1024 + 1))
    assert r.status_code == 413


# -- units --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "trigger, message",
    [
        ({"type": "http", "path": "items"}, "must start with /"),
        ({"type": "http"}, "path is required"),
        ({"type": "http", "path": "/x", "method": "FETCH"}, "is not one of"),
        ({"type": "http", "path": "/x", "payload_format": "3.0"}, "payload_format"),
        ({"type": "http", "path": "/x", "payload_format": 2}, None),  # 2 means "2.0"
        ({"type": "http", "path": "/{proxy+}/x"}, "last segment"),
        ({"type": "http", "path": "/files/{name}.json"}, "whole segment"),
        ({"type": "http", "path": "/a//b"}, "empty segment"),
        ({"type": "http", "path": "/{id}/{id}"}, "appears twice"),
        ({"type": "schedule", "path": "/x"}, "not http"),
    ],
)
def test_from_trigger_validation(trigger, message):
    if message is None:
        assert Route.from_trigger("fn", trigger).payload_format == "2.0"
        return
    with pytest.raises(ValueError, match=message) as e:
        Route.from_trigger("fn", trigger)
    assert "fn" in str(e.value)


def test_from_trigger_defaults_and_normalisation():
    route = Route.from_trigger("fn", {"type": "http", "path": "/items/{id}"})
    assert (route.method, route.payload_format) == ("ANY", "2.0")
    route = Route.from_trigger("fn", {"type": "http", "path": "/x", "method": "post", "payload_format": 1.0})
    assert (route.method, route.payload_format) == ("POST", "1.0")


def test_match():
    route = Route("fn", "/users/{user}/orders/{order}", "GET")
    assert route.match("GET", "/users/u%201/orders/7") == {"user": "u 1", "order": "7"}
    assert route.match("get", "/users/1/orders/7/") == {"user": "1", "order": "7"}
    assert route.match("POST", "/users/1/orders/7") is None
    assert route.match("GET", "/users/1/orders") is None
    assert route.match("GET", "/users//orders/7") is None
    greedy = Route("fn", "/{proxy+}")
    assert greedy.match("GET", "/") is None
    assert greedy.match("PATCH", "/a/b") == {"proxy": "a/b"}
    assert Route("fn", "/").match("GET", "/") == {}


def test_routes_for_ignores_other_types_and_refuses_duplicates():
    routes = routes_for({"a": [{"type": "schedule", "expression": "rate(1 minute)"}, {"type": "http", "path": "/{p+}"}],
                         "b": [{"type": "http", "path": "/x/{id}", "method": "GET"}]})
    assert [r.function for r in routes] == ["b", "a"]  # most specific first
    with pytest.raises(ValueError, match="conflicts"):
        routes_for({"a": [{"type": "http", "path": "/x/{id}"}], "b": [{"type": "http", "path": "/x/{key}"}]})


def test_build_events_without_a_server():
    request = HttpRequest(
        "POST", "/items/1", "x=1", [("Host", "api.example.com:3000"), ("Content-Type", "image/png")], b"\x89PNG"
    )
    v1 = build_event_v1(Route("fn", "/items/{id}", "POST", "1.0"), request)
    assert v1["isBase64Encoded"] is True and base64.b64decode(v1["body"]) == b"\x89PNG"
    assert v1["requestContext"]["domainName"] == "api.example.com"
    assert v1["requestContext"]["domainPrefix"] == "api"
    assert v1["requestContext"]["identity"]["userAgent"] is None
    v2 = build_event_v2(Route("fn", "/items/{id}"), request)
    assert v2["routeKey"] == "ANY /items/{id}" and v2["pathParameters"] == {"id": "1"}
    assert v2["isBase64Encoded"] is True and v2["queryStringParameters"] == {"x": "1"}


def _result(payload, **kw) -> InvokeResult:
    return InvokeResult(function="fn", request_id="r", status_code=kw.pop("status_code", 200),
                        payload=json.dumps(payload).encode(), **kw)


def test_to_http_response_mapping():
    assert to_http_response(_result([1, 2]), "2.0") == (200, [("Content-Type", "application/json")], b"[1, 2]")
    status, headers, body = to_http_response(
        _result({"statusCode": "404", "body": "gone", "headers": {"X-N": 3, "Content-Length": "99"}}), "1.0"
    )
    assert (status, body) == (404, b"gone")
    assert ("X-N", "3") in headers and not any(k == "Content-Length" for k, _ in headers)
    # payload 2.0 has no multiValueHeaders: they are ignored, as by HTTP APIs
    _, headers, _ = to_http_response(_result({"statusCode": 200, "multiValueHeaders": {"X": ["a"]}}), "2.0")
    assert not any(k == "X" for k, _ in headers)
    throttled = _result({}, status_code=429, error={"type": "TooManyRequestsException", "reason": "x"})
    assert to_http_response(throttled, "2.0")[0] == 500
    for bad in ({"statusCode": 99}, {"statusCode": 200, "headers": {"X": "a\r\nY: b"}},
                {"statusCode": 200, "isBase64Encoded": True, "body": "not base64!"}):
        assert to_http_response(_result(bad), "2.0")[0] == 502, bad
    assert to_http_response(_result({}, function_error="Unhandled"), "2.0")[0] == 502


def test_url_for_and_port(backend):
    route = Route("fn", "/items/{id}")
    s = HttpTriggerServer(backend, [route], host="0.0.0.0", port=0)
    assert s.url_for(route) == "http://127.0.0.1:0/items/{id}"
    s.start()
    try:
        assert s.port != 0
        assert s.url_for(route) == f"http://127.0.0.1:{s.port}/items/{{id}}"
    finally:
        s.stop()


def test_a_forwarded_header_from_a_local_client_does_not_change_the_source_ip(client):
    # No proxy sits in front of serve: like API Gateway, the source IP is the peer's, and a
    # client's own X-Forwarded-For is kept only as the left part of the header it appends to.
    r = client.get("/v1/items/1", headers={"X-Forwarded-For": "203.0.113.9"})
    assert r.status_code == 200, r.text
    event = r.json()
    assert event["requestContext"]["identity"]["sourceIp"] == "127.0.0.1"
    assert event["headers"]["X-Forwarded-For"] == "203.0.113.9, 127.0.0.1"
