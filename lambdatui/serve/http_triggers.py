"""HTTP triggers: `lambdatui serve` answers HTTP on `--http-port` (3000 by default, as SAM's
start-api) the way API Gateway fronts Lambda with a proxy integration.

A function's `triggers` may hold `{type: http, path: /items/{id}, method: GET, payload_format: "2.0"}`
(method defaults to ANY, payload_format to "2.0"). Paths take whole-segment `{param}` variables
and a greedy `{proxy+}` as the last segment.

- Payload format "1.0" is a REST API's Lambda proxy event (`resource`, `multiValueHeaders`, ...),
  "2.0" an HTTP API's (`routeKey`, `rawPath`, `cookies`, ...); both are built field for field as
  AWS sends them, and the function's answer is read back with the same rules API Gateway applies.
- Routing picks the most specific matching route, as API Gateway does: segment by segment from
  the left, a literal beats a `{param}`, which beats a `{proxy+}`; on the same path an explicit
  method beats ANY. A path whose routes do not take the method is an unknown route.
- An unknown route answers as the API type would: 403 `{"message":"Missing Authentication Token"}`
  when every route is payload 1.0 (the server then stands for a REST API), else 404
  `{"message":"Not Found"}` (an HTTP API). HEAD and OPTIONS are ordinary methods: they reach a
  function only through a HEAD/OPTIONS or ANY route (unless the route configures CORS, a preflight
  is an ordinary OPTIONS request); a HEAD answer never carries a body.
- Errors, as AWS documents them (Lambda developer guide, "Handling Lambda errors with an API Gateway
  API"): an invoke the Lambda API refuses (a throttle, a missing function, a request too large)
  gives 500, a function error or a response in the wrong format 502, both with the body
  `{"message": "Internal server error"}`. A request body over API Gateway's 10 MB quota gives 413.
- Like an API Gateway endpoint the port takes requests from anyone (no signature), browsers
  included, but only under this server's own address: a `Host` that is not 127.0.0.1, localhost,
  [::1] or the `--host` value (with the port) gets 403 `{"message":"Forbidden"}`, so a page
  reached through DNS rebinding cannot use it. CORS headers are added only for routes with a
  `cors:` configuration, which also answers their preflight `OPTIONS` without invoking.

The transport is uvicorn (see `asgi_server`): each request that matches a route invokes its function
synchronously through the `Backend` in the event loop's thread pool, so concurrent requests scale
out like Lambda does, and a request is only ever handled once its body has fully arrived.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import os
import re
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote

from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect
from starlette.requests import Request as StarletteRequest

from ..backends.base import Backend, BackendError
from ..executor.spec import InvokeResult
from ..triggers.http import HTTP_METHODS, PAYLOAD_FORMATS, HttpCors, http_url
from .asgi_server import RAW_HEADERS, AsgiServer
from .trust import allowed_hosts, host_allowed

__all__ = [
    "HTTP_METHODS",
    "MAX_REQUEST_BODY_BYTES",
    "PAYLOAD_FORMATS",
    "HttpRequest",
    "HttpTriggerServer",
    "Route",
    "build_event_v1",
    "build_event_v2",
    "distinct_routes",
    "routes_for",
    "to_http_response",
]

log = logging.getLogger("lambdatui.serve")

# API Gateway's payload quota, REST and HTTP APIs alike. Lambda's own 6 MB invoke limit applies
# after it: a body between the two passes the gateway and is refused by Lambda (→ 500).
MAX_REQUEST_BODY_BYTES = 10 * 1024 * 1024

REST_STAGE = "Prod"  # the stage SAM's start-api puts in payload 1.0 events
HTTP_API_STAGE = "$default"

_INTERNAL_ERROR = {"message": "Internal server error"}
_PARAM_NAME = re.compile(r"[A-Za-z0-9_.\-]+")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

# Segment kinds, in the order API Gateway prefers them when several routes match.
_LITERAL, _PARAM, _GREEDY = 0, 1, 2


# -- routes ------------------------------------------------------------------------------------


@dataclass
class Route:
    """One `type: http` trigger: requests for `method path` invoke `function`."""

    function: str
    path: str
    method: str = "ANY"
    payload_format: str = "2.0"
    cors: HttpCors | None = None  # None: no CORS headers, no preflight answers
    stage: str | None = None  # requestContext.stage; None: REST_STAGE (1.0) or HTTP_API_STAGE (2.0)
    # (kind, text): text is the literal, or the variable's name for {param} / {proxy+}.
    _segments: tuple[tuple[int, str], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.path, str) or not self.path.startswith("/"):
            raise ValueError(f"http trigger of {self.function}: path {self.path!r} must start with /")
        if self.method not in HTTP_METHODS:
            raise ValueError(
                f"http trigger of {self.function}: method {self.method!r} is not one of: {', '.join(HTTP_METHODS)}"
            )
        if self.payload_format not in PAYLOAD_FORMATS:
            raise ValueError(
                f"http trigger of {self.function}: payload_format {self.payload_format!r} is not \"1.0\" or \"2.0\""
            )
        self._segments = _parse_path(self.function, self.path)

    @classmethod
    def from_trigger(cls, function_name: str, trigger: dict[str, Any]) -> Route:
        """The route of a trigger as the config holds it; ValueError says what is wrong."""
        if not isinstance(trigger, dict):
            raise ValueError(f"http trigger of {function_name}: must be a mapping, not {type(trigger).__name__}")
        kind = trigger.get("type", "http")
        if kind != "http":
            raise ValueError(f"http trigger of {function_name}: type {kind!r} is not http")
        if "path" not in trigger:
            raise ValueError(f"http trigger of {function_name}: path is required (e.g. /items/{{id}})")
        method = trigger.get("method") or "ANY"
        if isinstance(method, str):
            method = method.upper()  # "get" is what the user meant
        return cls(
            function=function_name,
            path=trigger["path"],
            method=method,
            payload_format=_payload_format(function_name, trigger.get("payload_format", "2.0")),
            cors=HttpCors.from_mapping(f"http trigger of {function_name}: cors", trigger["cors"]) if trigger.get("cors") is not None else None,
        )

    @property
    def route_key(self) -> str:
        """The HTTP API's name for the route: `GET /items/{id}`, `ANY /{proxy+}`."""
        return f"{self.method} {self.path}"

    @property
    def rank(self) -> tuple[tuple[int, ...], bool]:
        """Sort key, most specific first: per segment literal < {param} < {proxy+}, then the
        explicit method before ANY."""
        return (tuple(kind for kind, _ in self._segments), self.method == "ANY")

    def match(self, method: str, path: str) -> dict[str, str] | None:
        """The path parameters (URL-decoded) when this route takes `method` on `path` (the path as
        sent, percent-encoded, without the query string), else None."""
        if self.method != "ANY" and self.method != method.upper():
            return None
        parts = _split(path)
        params: dict[str, str] = {}
        for i, (kind, text) in enumerate(self._segments):
            if kind == _GREEDY:
                rest = parts[i:]
                # {proxy+} stands for one segment or more: "/" alone is not under "/{proxy+}".
                if not rest or rest == [""]:
                    return None
                params[text] = unquote("/".join(rest))
                return params
            if i >= len(parts):
                return None
            if kind == _LITERAL:
                if unquote(parts[i]) != text:
                    return None
            else:
                if parts[i] == "":
                    return None
                params[text] = unquote(parts[i])
        return params if len(parts) == len(self._segments) else None


def _payload_format(function_name: str, value: Any) -> str:
    # YAML reads an unquoted `payload_format: 2.0` as a float; it means "2.0".
    if isinstance(value, (int, float)) and not isinstance(value, bool) and float(value) in (1.0, 2.0):
        return f"{float(value):.1f}"
    if not isinstance(value, str) or value not in PAYLOAD_FORMATS:
        raise ValueError(f"http trigger of {function_name}: payload_format {value!r} is not \"1.0\" or \"2.0\"")
    return value


def _split(path: str) -> list[str]:
    parts = path.split("/")[1:]
    if parts and parts[-1] == "" and len(parts) > 1:
        parts = parts[:-1]  # "/items/" is "/items", as API Gateway treats a trailing slash
    return [] if parts == [""] else parts


def _parse_path(function: str, path: str) -> tuple[tuple[int, str], ...]:
    where = f"http trigger of {function}: path {path!r}"
    if path == "/":
        return ()
    segments: list[tuple[int, str]] = []
    names: set[str] = set()
    raw = path[1:].split("/")
    for i, seg in enumerate(raw):
        if seg == "":
            raise ValueError(f"{where} has an empty segment (// or a trailing /)")
        if seg.startswith("{") and seg.endswith("}"):
            name = seg[1:-1]
            greedy = name.endswith("+")
            if greedy:
                name = name[:-1]
                if i != len(raw) - 1:
                    raise ValueError(f"{where}: a greedy {{{name}+}} must be the last segment")
            if not _PARAM_NAME.fullmatch(name):
                raise ValueError(f"{where}: {seg} is not a variable (letters, digits, _ . -)")
            if name in names:
                raise ValueError(f"{where}: variable {{{name}}} appears twice")
            names.add(name)
            segments.append((_GREEDY if greedy else _PARAM, name))
        elif "{" in seg or "}" in seg:
            # API Gateway has no partial-segment variables such as /files/{name}.json.
            raise ValueError(f"{where}: a variable must be a whole segment, not {seg!r}")
        else:
            segments.append((_LITERAL, seg))
    return tuple(segments)


def routes_for(functions: dict[str, list[dict[str, Any]]]) -> list[Route]:
    """The routes of every `type: http` trigger (function name → its triggers as mappings), most
    specific first; see `distinct_routes`."""
    return distinct_routes(
        Route.from_trigger(name, trigger)
        for name, triggers in functions.items()
        for trigger in triggers or ()
        if isinstance(trigger, dict) and trigger.get("type") == "http"
    )


def distinct_routes(routes: Iterable[Route]) -> list[Route]:
    """The routes, most specific first. Two routes API Gateway could not tell apart (same method,
    same path shape) are refused."""
    out: list[Route] = []
    seen: dict[tuple[str, tuple[str | int, ...]], Route] = {}
    for route in routes:
        shape = (route.method, tuple(text if kind == _LITERAL else kind for kind, text in route._segments))
        if shape in seen:
            other = seen[shape]
            raise ValueError(
                f"http trigger of {route.function}: {route.route_key} conflicts with "
                f"{other.route_key} of {other.function}"
            )
        seen[shape] = route
        out.append(route)
    return sorted(out, key=lambda r: r.rank)


# -- requests and events -----------------------------------------------------------------------


@dataclass
class HttpRequest:
    """An HTTP request as received: the path percent-encoded as sent, headers in order."""

    method: str
    path: str
    query: str = ""
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    source_ip: str = "127.0.0.1"
    protocol: str = "HTTP/1.1"
    time: float = field(default_factory=time.time)  # epoch seconds

    def header(self, name: str) -> str | None:
        """The last value of a header (case-insensitive), or None."""
        found = None
        for key, value in self.headers:
            if key.lower() == name.lower():
                found = value
        return found


def _request_time(epoch: float) -> str:
    # API Gateway's format, 12/Mar/2024:14:22:05 +0000; month names fixed, whatever the locale.
    t = time.gmtime(epoch)
    return f"{t.tm_mday:02d}/{_MONTHS[t.tm_mon - 1]}/{t.tm_year}:{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} +0000"


def _extended_request_id() -> str:
    # The shape of API Gateway's ids such as "UkLq9FvxoAMEbTQ=": base64 of 11 bytes.
    return base64.b64encode(os.urandom(11)).decode("ascii")


def _short_id(seed: str, length: int) -> str:
    """A stable lower-case alphanumeric id (API ids are 10 characters, resource ids 6)."""
    n = int.from_bytes(hashlib.sha256(seed.encode()).digest(), "big")
    alphabet = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = []
    for _ in range(length):
        n, r = divmod(n, 36)
        out.append(alphabet[r])
    return "".join(out)


def _domain(request: HttpRequest, api_id: str, region: str) -> tuple[str, str]:
    """domainName and domainPrefix: the Host the client used (without the port)."""
    host = request.header("host") or f"{api_id}.execute-api.{region}.amazonaws.com"
    if host.startswith("["):  # [::1]:3000
        name = host[: host.find("]") + 1]
    else:
        name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    is_ip = name.startswith("[") or re.fullmatch(r"[\d.]+", name) is not None
    return name, (name if is_ip else name.split(".")[0])


# Content types whose bodies reach the function as text; everything else is base64-encoded, as
# an API that lists every non-text type among its binary media types would send it.
_TEXT_TYPES = {
    "application/json", "application/xml", "application/javascript", "application/ecmascript",
    "application/x-www-form-urlencoded", "application/graphql", "application/x-ndjson",
    "application/yaml", "application/x-yaml",
}


def _is_text_type(content_type: str | None) -> bool:
    if not content_type:
        return True  # no declared type: the bytes decide
    media = content_type.split(";", 1)[0].strip().lower()
    return media.startswith("text/") or media in _TEXT_TYPES or media.endswith(("+json", "+xml"))


def _encode_body(request: HttpRequest) -> tuple[str | None, bool]:
    """(body, isBase64Encoded): text as is, binary or non-UTF-8 bytes base64-encoded."""
    if not request.body:
        return None, False
    if _is_text_type(request.header("content-type")):
        try:
            return request.body.decode("utf-8"), False
        except UnicodeDecodeError:
            pass
    return base64.b64encode(request.body).decode("ascii"), True


def _grouped(pairs: list[tuple[str, str]], fold_case: bool) -> dict[str, list[str]]:
    """Values by name, in order; with fold_case, names differing only in case are one (spelt as
    first seen)."""
    out: dict[str, list[str]] = {}
    spelling: dict[str, str] = {}
    for key, value in pairs:
        k = spelling.setdefault(key.lower(), key) if fold_case else key
        out.setdefault(k, []).append(value)
    return out


def build_event_v1(
    route: Route,
    request: HttpRequest,
    *,
    path_parameters: dict[str, str] | None = None,
    stage: str = REST_STAGE,
    account_id: str = "123456789012",
    api_id: str | None = None,
    region: str = "us-east-1",
    request_id: str | None = None,
) -> dict[str, Any]:
    """The REST API Lambda proxy event (payload format 1.0) for `request` on `route`."""
    if path_parameters is None:
        path_parameters = route.match(request.method, request.path) or {}
    api_id = api_id or _short_id("lambdatui", 10)
    domain, prefix = _domain(request, api_id, region)
    multi_headers = _grouped(request.headers, fold_case=True)
    multi_query = _grouped(parse_qsl(request.query, keep_blank_values=True), fold_case=False)
    body, is_b64 = _encode_body(request)
    path = unquote(request.path)
    user_agent = request.header("user-agent")
    return {
        "resource": route.path,
        "path": path,
        "httpMethod": request.method,
        # A repeated header or query parameter: its last value here, all of them in multiValue*.
        "headers": {k: v[-1] for k, v in multi_headers.items()} or None,
        "multiValueHeaders": multi_headers or None,
        "queryStringParameters": {k: v[-1] for k, v in multi_query.items()} or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": path_parameters or None,
        "stageVariables": None,
        "requestContext": {
            "accountId": account_id,
            "apiId": api_id,
            "authorizer": {"claims": None, "scopes": None},
            "domainName": domain,
            "domainPrefix": prefix,
            "extendedRequestId": _extended_request_id(),
            "httpMethod": request.method,
            "identity": {
                "accessKey": None,
                "accountId": None,
                "caller": None,
                "cognitoAuthenticationProvider": None,
                "cognitoAuthenticationType": None,
                "cognitoIdentityId": None,
                "cognitoIdentityPoolId": None,
                "principalOrgId": None,
                "sourceIp": request.source_ip,
                "user": None,
                "userAgent": user_agent,
                "userArn": None,
            },
            # On an execute-api URL this is "/{stage}{path}"; locally the URL has no stage in
            # it, so this is the path as requested (as behind a custom domain), which keeps
            # links a function builds from it working.
            "path": path,
            "protocol": request.protocol,
            "requestId": request_id or str(uuid.uuid4()),
            "requestTime": _request_time(request.time),
            "requestTimeEpoch": int(request.time * 1000),
            "resourceId": _short_id(f"{api_id} {route.path}", 6),
            "resourcePath": route.path,
            "stage": stage,
        },
        "body": body,
        "isBase64Encoded": is_b64,
    }


def build_event_v2(
    route: Route,
    request: HttpRequest,
    *,
    path_parameters: dict[str, str] | None = None,
    stage: str = HTTP_API_STAGE,
    account_id: str = "123456789012",
    api_id: str | None = None,
    region: str = "us-east-1",
    request_id: str | None = None,
) -> dict[str, Any]:
    """The HTTP API event (payload format 2.0) for `request` on `route`. As AWS sends it, the
    optional fields (cookies, queryStringParameters, pathParameters, body) are absent when empty."""
    if path_parameters is None:
        path_parameters = route.match(request.method, request.path) or {}
    api_id = api_id or _short_id("lambdatui", 10)
    domain, prefix = _domain(request, api_id, region)
    request_id = request_id or _extended_request_id()
    cookies: list[str] = []
    headers: dict[str, str] = {}
    for key, value in request.headers:
        name = key.lower()
        if name == "cookie":
            # The Cookie header is moved to `cookies`, one entry per cookie.
            cookies += [c.strip() for c in value.split(";") if c.strip()]
            continue
        # Header names lower-cased; a repeated header's values joined with commas.
        headers[name] = f"{headers[name]},{value}" if name in headers else value
    query: dict[str, str] = {}
    for key, value in parse_qsl(request.query, keep_blank_values=True):
        query[key] = f"{query[key]},{value}" if key in query else value
    body, is_b64 = _encode_body(request)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route.route_key,
        "rawPath": request.path,
        "rawQueryString": request.query,
    }
    if cookies:
        event["cookies"] = cookies
    event["headers"] = headers
    if query:
        event["queryStringParameters"] = query
    event["requestContext"] = {
        "accountId": account_id,
        "apiId": api_id,
        "domainName": domain,
        "domainPrefix": prefix,
        "http": {
            "method": request.method,
            "path": request.path,
            "protocol": request.protocol,
            "sourceIp": request.source_ip,
            "userAgent": request.header("user-agent") or "",
        },
        "requestId": request_id,
        "routeKey": route.route_key,
        "stage": stage,
        "time": _request_time(request.time),
        "timeEpoch": int(request.time * 1000),
    }
    if body is not None:
        event["body"] = body
    if path_parameters:
        event["pathParameters"] = path_parameters
    event["isBase64Encoded"] = is_b64
    return event


# -- responses ---------------------------------------------------------------------------------


class _Malformed(ValueError):
    """The function's answer is not a proxy response; API Gateway answers 502."""


def _json_body(value: dict[str, Any]) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def _error(status: int, message: str, error_type: str | None = None) -> tuple[int, list[tuple[str, str]], bytes]:
    headers = [("Content-Type", "application/json")]
    if error_type:
        headers.append(("x-amzn-ErrorType", error_type))
    return status, headers, _json_body({"message": message})


def _header_value(name: str, value: Any) -> str:
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, (str, int, float)):
        text = str(value)
    else:
        raise _Malformed(f"header {name!r}: {value!r} is not a string")
    if "\r" in text or "\n" in text or "\r" in name or "\n" in name:
        raise _Malformed(f"header {name!r} holds a line break")
    return text


def _status_code(value: Any) -> int:
    if isinstance(value, bool):
        raise _Malformed("statusCode is not a number")
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    # 1xx are interim answers, not a response a client could be given in their place.
    if not isinstance(value, int) or not 200 <= value <= 599:
        raise _Malformed(f"statusCode {value!r} is not an HTTP status (200-599)")
    return value


def _proxy_response(obj: dict[str, Any], payload_format: str) -> tuple[int, list[tuple[str, str]], bytes]:
    status = _status_code(obj.get("statusCode"))
    headers_in = obj.get("headers") or {}
    if not isinstance(headers_in, dict):
        raise _Malformed("headers is not an object")
    multi_in: dict[str, Any] = {}
    if payload_format == "1.0":
        multi_in = obj.get("multiValueHeaders") or {}
        if not isinstance(multi_in, dict):
            raise _Malformed("multiValueHeaders is not an object")
    # Payload 2.0 has no multiValueHeaders (AWS ignores it there); repeated values go in one
    # comma-joined header, cookies in `cookies`.
    multi: dict[str, tuple[str, list[str]]] = {}
    for name, values in multi_in.items():
        if values is None:
            continue
        if not isinstance(values, list):
            raise _Malformed(f"multiValueHeaders {name!r} is not a list")
        multi[name.lower()] = (name, [_header_value(name, v) for v in values])
    headers: list[tuple[str, str]] = []
    for name, value in headers_in.items():
        if value is None:
            continue
        value = _header_value(name, value)
        if name.lower() in multi:
            # In both: API Gateway merges them, a key-value pair present in both only once.
            spelt, values = multi[name.lower()]
            if value not in values:
                values.insert(0, value)
            continue
        headers.append((name, value))
    for spelt, values in multi.values():
        headers += [(spelt, v) for v in values]
    if payload_format == "2.0":
        cookies = obj.get("cookies") or []
        if not isinstance(cookies, list):
            raise _Malformed("cookies is not a list")
        headers += [("Set-Cookie", _header_value("Set-Cookie", c)) for c in cookies]
    body = obj.get("body")
    if body is None:
        data = b""
    elif not isinstance(body, str):
        raise _Malformed("body is not a string")
    elif obj.get("isBase64Encoded") is True:
        try:
            data = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise _Malformed("body is not base64 although isBase64Encoded is true") from None
    else:
        data = body.encode("utf-8")
    if obj.get("isBase64Encoded") not in (None, True, False):
        raise _Malformed("isBase64Encoded is not a boolean")
    # A hop-by-hop or length header from the function would contradict the body sent.
    headers = [(k, v) for k, v in headers if k.lower() not in ("content-length", "transfer-encoding", "connection")]
    if not any(k.lower() == "content-type" for k, _ in headers):
        headers.append(("Content-Type", "application/json"))  # API Gateway's default
    return status, headers, data


def to_http_response(result: InvokeResult, payload_format: str) -> tuple[int, list[tuple[str, str]], bytes]:
    """The HTTP answer API Gateway makes of an invoke result: (status, headers, body)."""
    if result.error is not None or result.status_code != 200:
        # Refused by the Lambda API before the function ran (a throttle is 429 there): API
        # Gateway answers 500 for these, not the 429 (Lambda developer guide, "Handling Lambda
        # errors with an API Gateway API": "If the Lambda API rejects the invocation request,
        # API Gateway returns a 500 error code").
        return _error(500, _INTERNAL_ERROR["message"], "InternalServerErrorException")
    if result.function_error:
        # "If the function runs but returns an error, or returns a response in the wrong
        # format, API Gateway returns a 502" (same page).
        return _error(502, _INTERNAL_ERROR["message"], "InternalServerErrorException")
    try:
        value = json.loads(result.payload)
    except ValueError:
        log.warning("%s: the function's response is not JSON", result.function)
        return _error(502, _INTERNAL_ERROR["message"], "InternalServerErrorException")
    try:
        if isinstance(value, dict) and "statusCode" in value:
            return _proxy_response(value, payload_format)
        if payload_format == "1.0":
            raise _Malformed("a payload 1.0 response needs statusCode (and body, headers)")
    except _Malformed as e:
        log.warning("%s: malformed Lambda proxy response: %s", result.function, e)
        return _error(502, _INTERNAL_ERROR["message"], "InternalServerErrorException")
    # Payload 2.0, valid JSON without statusCode: API Gateway assumes statusCode 200,
    # content-type application/json, isBase64Encoded false, and the response as the body
    # (AWS: "Create AWS Lambda proxy integrations for HTTP APIs"); a string is sent unquoted.
    body = value.encode("utf-8") if isinstance(value, str) else result.payload
    return 200, [("Content-Type", "application/json")], body


# -- the server --------------------------------------------------------------------------------


class _TooLarge(Exception):
    pass


async def _read_body(receive: Any, limit: int) -> bytes:
    """The whole body (h11 has checked it against Content-Length or the chunked framing);
    ClientDisconnect when the client goes before it is complete, _TooLarge past `limit`."""
    chunks: list[bytes] = []
    total = 0
    async for chunk in StarletteRequest({"type": "http"}, receive).stream():
        total += len(chunk)
        if total > limit:
            raise _TooLarge()
        chunks.append(chunk)
    return b"".join(chunks)


def _latin1(text: str) -> bytes:
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return text.encode("utf-8")


async def _send(send: Any, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
    """One HTTP answer: the headers as given (repeated ones too), Content-Length, the body."""
    raw = [(_latin1(k.lower()), _latin1(v)) for k, v in headers]
    if status in (204, 304):
        body = b""  # these statuses have no body, and no Content-Length to announce one
    else:
        raw.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


class HttpTriggerServer:
    """API Gateway in front of `backend`: each request that matches a route invokes its function.

    Served by uvicorn (see `asgi_server`) from a daemon thread; the instance is the ASGI app. Open
    to any caller, like an API Gateway endpoint, but only under this server's own address (`Host`),
    and with CORS only on routes that configure it."""

    def __init__(
        self,
        backend: Backend,
        routes: list[Route],
        host: str = "127.0.0.1",
        port: int = 3000,
        region: str = "us-east-1",
        account_id: str = "123456789012",
    ) -> None:
        self.backend = backend
        self.routes = sorted(routes, key=lambda r: r.rank)  # first match = most specific
        self.host = host
        self.region = region
        self.account_id = account_id
        # With only payload 1.0 routes this stands for a REST API, else for an HTTP API.
        self.rest_api = bool(self.routes) and all(r.payload_format == "1.0" for r in self.routes)
        self.api_id = _short_id(f"{host}:{port}", 10)
        self._server = AsgiServer(self, host, port, name="lambdatui-http")
        self._allowed_hosts = allowed_hosts(host, port)

    # -- lifecycle

    @property
    def port(self) -> int:
        """The port served (the one chosen by the system once started with port 0)."""
        return self._server.port

    def start(self) -> None:
        self._server.start()
        self._allowed_hosts = allowed_hosts(self.host, self.port)

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> HttpTriggerServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def url_for(self, route: Route) -> str:
        """Where the route is served, its variables as written: http://127.0.0.1:3000/items/{id}."""
        return http_url(self.host, self.port, route.path)

    # -- the ASGI app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        method = scope["method"]
        raw = (scope.get("extensions") or {}).get(RAW_HEADERS) or scope["headers"]
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in raw]
        path = scope["raw_path"].decode("latin-1") if scope.get("raw_path") else scope["path"]
        request = HttpRequest(
            method=method,
            path=path or "/",
            query=scope["query_string"].decode("latin-1"),
            headers=headers,
            source_ip=(scope.get("client") or ("127.0.0.1", 0))[0],
            protocol=f"HTTP/{scope.get('http_version', '1.1')}",
        )
        host = request.header("host")
        if not host_allowed(host, self._allowed_hosts):
            # Another name for this address (DNS rebinding): not this API. API Gateway's answer
            # for a request it cannot map to an API.
            log.info("%s %s refused: Host %r is not this server's address", method, path, host)
            await _send(send, *_error(403, "Forbidden", "ForbiddenException"))
            return
        preflight = self.preflight(request)
        if preflight is not None:
            await _send(send, *preflight)
            return
        length = request.header("content-length")
        try:
            if length is not None and int(length) > MAX_REQUEST_BODY_BYTES:
                raise _TooLarge()
            request.body = await _read_body(receive, MAX_REQUEST_BODY_BYTES)
        except _TooLarge:
            # uvicorn reads and discards the rest, so the client sees this answer, not a reset.
            log.info("%s %s refused: body over %d bytes", method, path, MAX_REQUEST_BODY_BYTES)
            await _send(send, *self.too_large())
            return
        except ClientDisconnect:
            log.info("%s %s from %s: the client went away before its request was complete; nothing ran",
                     method, path, request.source_ip)
            return
        self.gateway_headers(request)
        try:
            status, out_headers, data = await run_in_threadpool(self.handle, request)
        except Exception:  # a bug here must not kill the connection silently
            log.exception("%s %s failed", method, path)
            status, out_headers, data = _error(500, _INTERNAL_ERROR["message"])
        await _send(send, status, out_headers, data)

    # -- gateway logic (no sockets: testable on its own)

    def find_route(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        for route in self.routes:
            params = route.match(method, path)
            if params is not None:
                return route, params
        return None

    def not_found(self) -> tuple[int, list[tuple[str, str]], bytes]:
        if self.rest_api:
            return _error(403, "Missing Authentication Token", "MissingAuthenticationTokenException")
        return _error(404, "Not Found")

    def too_large(self) -> tuple[int, list[tuple[str, str]], bytes]:
        # The gateway responses' texts (REQUEST_TOO_LARGE); not confirmed against a live API.
        return _error(413, "Request Too Long" if self.rest_api else "Request Entity Too Large")

    def preflight(self, request: HttpRequest) -> tuple[int, list[tuple[str, str]], bytes] | None:
        """The answer to a CORS preflight for a route that configures CORS; None for anything else.
        As API Gateway does for an API with CORS configured, the preflight is answered without
        invoking anything, OPTIONS route or not (API Gateway developer guide, "Configuring CORS
        for an HTTP API"). An origin not allowed gets the answer without CORS headers, which the
        browser treats as a refusal."""
        origin = request.header("origin")
        wanted = request.header("access-control-request-method")
        if request.method != "OPTIONS" or not origin or not wanted:
            return None
        found = self.find_route(wanted, request.path)
        if found is None or found[0].cors is None:
            return None
        cors = found[0].cors
        headers: list[tuple[str, str]] = []
        allowed = cors.allow_origin(origin)
        if allowed is not None:
            headers.append(("Access-Control-Allow-Origin", allowed))
            if cors.allow_methods:
                headers.append(("Access-Control-Allow-Methods", ",".join(cors.allow_methods)))
            if cors.allow_headers:
                headers.append(("Access-Control-Allow-Headers", ",".join(cors.allow_headers)))
            if cors.max_age is not None:
                headers.append(("Access-Control-Max-Age", str(cors.max_age)))
        log.info("OPTIONS %s: CORS preflight from %s (%s)", request.path, origin, "allowed" if allowed else "not allowed")
        return 204, headers, b""

    def handle(self, request: HttpRequest) -> tuple[int, list[tuple[str, str]], bytes]:
        """Route, build the event, invoke, map the answer: (status, headers, body)."""
        # API Gateway's methods are these; ANY stands for them, not for TRACE, CONNECT or others.
        found = self.find_route(request.method, request.path) if request.method in HTTP_METHODS[:-1] else None
        if found is None:
            return self.not_found()
        route, params = found
        v1 = route.payload_format == "1.0"
        request_id = str(uuid.uuid4()) if v1 else _extended_request_id()
        build = build_event_v1 if v1 else build_event_v2
        stage = {"stage": route.stage} if route.stage is not None else {}
        event = build(
            route,
            request,
            path_parameters=params,
            **stage,
            account_id=self.account_id,
            api_id=self.api_id,
            region=self.region,
            request_id=request_id,
        )
        started = time.monotonic()
        try:
            result = self.backend.invoke(route.function, json.dumps(event).encode(), source="http")
        except BackendError as e:
            # A missing function or a refused request: for API Gateway a failed integration (500).
            log.warning("%s %s → %s: %s", request.method, request.path, route.function, e)
            status, headers, body = _error(500, _INTERNAL_ERROR["message"], "InternalServerErrorException")
        else:
            status, headers, body = to_http_response(result, route.payload_format)
            if result.error:
                log.warning("%s %s → %s: %s", request.method, request.path, route.function, result.error)
        log.info(
            "%s %s → %s %d (%.0f ms)",
            request.method, request.path, route.function, status, (time.monotonic() - started) * 1000,
        )
        if route.cors is not None:
            # With CORS configured, API Gateway sets the CORS headers itself and ignores the
            # integration's ("Configuring CORS for an HTTP API").
            headers = [(k, v) for k, v in headers if not k.lower().startswith("access-control-")]
            allowed = route.cors.allow_origin(request.header("origin"))
            if allowed is not None:
                headers.append(("Access-Control-Allow-Origin", allowed))
        if v1:
            headers = headers + [("x-amzn-RequestId", request_id)]
        else:
            headers = headers + [("apigw-requestid", request_id)]
        return status, headers, body

    def gateway_headers(self, request: HttpRequest) -> None:
        """Add the headers API Gateway adds on the way in (X-Forwarded-*, X-Amzn-Trace-Id)."""
        names = {k.lower() for k, _ in request.headers}
        forwarded = request.header("x-forwarded-for")
        request.headers = [(k, v) for k, v in request.headers if k.lower() != "x-forwarded-for"]
        request.headers.append(
            ("X-Forwarded-For", f"{forwarded}, {request.source_ip}" if forwarded else request.source_ip)
        )
        if "x-forwarded-port" not in names:
            request.headers.append(("X-Forwarded-Port", str(self.port)))
        if "x-forwarded-proto" not in names:
            request.headers.append(("X-Forwarded-Proto", "http"))
        if "x-amzn-trace-id" not in names:
            trace = f"Root=1-{int(request.time):08x}-{os.urandom(12).hex()}"
            request.headers.append(("X-Amzn-Trace-Id", trace))
