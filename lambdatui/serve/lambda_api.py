"""The Lambda API of `lambdatui serve`: AWS Lambda's REST protocol over a `Backend`.

boto3, the AWS CLI and the SDKs work unchanged against `endpoint_url=http://127.0.0.1:3001`:
Invoke (RequestResponse, Event, DryRun; `LogType: Tail`), ListFunctions, GetFunction,
GetFunctionConfiguration, UpdateFunctionConfiguration, Get/Put/DeleteFunctionConcurrency and
ListProvisionedConcurrencyConfigs. Errors come in Lambda's JSON shape with the `x-amzn-ErrorType`
header, so botocore raises its modelled exceptions (`client.exceptions.ResourceNotFoundException`…).

Events (`InvocationType: Event`) are queued in an `AsyncInvoker` and retried as Lambda retries them.
No request signature is checked: the server is for the local machine and binds to 127.0.0.1.
Each request is logged in one line to the `lambdatui.serve` logger.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import re
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from ..backends.base import (
    Backend,
    BackendError,
    FunctionConfiguration,
    FunctionNotFoundError,
    InvalidParameterError,
    ReadOnlyError,
    RequestError,
)
from ..executor.spec import MAX_SYNC_PAYLOAD_BYTES
from .async_invoke import AsyncInvoker, QueueFullError

log = logging.getLogger("lambdatui.serve")

DEFAULT_PORT = 3001
# Lambda raised the asynchronous payload limit from 256 KB to 1 MB in October 2025.
MAX_ASYNC_PAYLOAD_BYTES = 1024 * 1024
LIST_MAX_ITEMS = 50  # ListFunctions' page size when MaxItems is not given
CODE_SIZE_FILE_LIMIT = 10_000  # files counted for CodeSize before giving up
DRAIN_LIMIT_BYTES = 64 * 1024 * 1024  # an oversized body is read and discarded up to this, else the connection is closed

# Lambda's pattern for FunctionName: a name, a partial ARN or an ARN, with an optional qualifier.
_FUNCTION_NAME = re.compile(
    r"(?:arn:(?:aws[a-zA-Z-]*)?:lambda:)?(?:[a-z]{2}(?:-gov)?-[a-z]+-\d{1}:)?(?:\d{12}:)?(?:function:)?"
    r"(?P<name>[a-zA-Z0-9_.-]+)(?::(?P<qualifier>\$LATEST|[a-zA-Z0-9_-]+))?"
)
# Configuration fields of UpdateFunctionConfiguration and their lambdatui names.
_UPDATE_FIELDS = {
    "MemorySize": "memory_size",
    "Timeout": "timeout",
    "Handler": "handler",
    "Runtime": "runtime",
    "Description": "description",
}
_IGNORED_UPDATE_FIELDS = {"FunctionName", "RevisionId"}
# The key of the message in Lambda's error bodies differs by error.
_CAPITAL_MESSAGE = {"ResourceNotFoundException", "ServiceException", "AccessDeniedException"}


class ApiError(Exception):
    """An error response in Lambda's shape: `x-amzn-ErrorType: code`, `{"Type", "message", ...}`."""

    def __init__(self, code: str, status: int, message: str, headers: dict[str, str] | None = None, **fields: Any):
        super().__init__(message)
        self.code = code
        self.status = status
        self.message = message
        self.headers = headers or {}
        self.fields = fields

    def response(self) -> Response:
        body = {
            "Type": "Service" if self.status >= 500 else "User",
            ("Message" if self.code in _CAPITAL_MESSAGE else "message"): self.message,
            **self.fields,
        }
        headers = {"x-amzn-ErrorType": self.code, **self.headers}
        return Response(self.status, json.dumps(body).encode(), headers, error=self.code)


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    error: str | None = None  # the error code, for the request log


@dataclass
class Request:
    method: str
    path: str  # still percent-encoded
    query: dict[str, list[str]]
    headers: Any  # an email.message.Message: case-insensitive get()
    body: bytes

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(status, json.dumps(data).encode(), headers or {})


def _backend_errors(call: Callable[[], Any]) -> Any:
    """Run a backend call; its errors become Lambda's."""
    try:
        return call()
    except FunctionNotFoundError as e:
        raise ApiError("ResourceNotFoundException", 404, str(e)) from None
    except InvalidParameterError as e:
        raise ApiError("InvalidParameterValueException", 400, str(e)) from None
    except RequestError as e:
        raise ApiError(e.code, e.status_code, str(e)) from None
    except ReadOnlyError as e:
        raise ApiError("AccessDeniedException", 403, str(e)) from None
    except BackendError as e:
        raise ApiError("ServiceException", 500, str(e)) from None


class LambdaApiServer:
    """Lambda's API for `backend` on http://host:port, served from a daemon thread."""

    def __init__(
        self,
        backend: Backend,
        host: str = "127.0.0.1",
        port: int = DEFAULT_PORT,
        *,
        region: str = "us-east-1",
        account_id: str = "123456789012",
        async_retry_delays: tuple[float, ...] = (60.0, 120.0),
        async_workers: int = 2,
        async_invoker: AsyncInvoker | None = None,
    ) -> None:
        self.backend = backend
        self.host = host
        self.region = region
        self.account_id = account_id
        self._requested_port = port
        self._async_retry_delays = tuple(async_retry_delays)
        self._async_workers = async_workers
        # Given by the caller (ServeRunner), who starts and stops it; else made at start, in the state dir.
        self.async_invoker: AsyncInvoker | None = async_invoker
        self._owns_async_invoker = async_invoker is None
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._routes: list[tuple[str, re.Pattern[str], Callable[..., Response]]] = [
            ("POST", re.compile(r"/2015-03-31/functions/([^/]+)/invocations/?"), self._invoke),
            ("GET", re.compile(r"/2015-03-31/functions/?"), self._list_functions),
            ("GET", re.compile(r"/2015-03-31/functions/([^/]+)/?"), self._get_function),
            ("GET", re.compile(r"/2015-03-31/functions/([^/]+)/configuration/?"), self._get_configuration),
            ("PUT", re.compile(r"/2015-03-31/functions/([^/]+)/configuration/?"), self._update_configuration),
            ("GET", re.compile(r"/2019-09-30/functions/([^/]+)/concurrency/?"), self._get_concurrency),
            ("PUT", re.compile(r"/2017-10-31/functions/([^/]+)/concurrency/?"), self._put_concurrency),
            ("DELETE", re.compile(r"/2017-10-31/functions/([^/]+)/concurrency/?"), self._delete_concurrency),
            ("GET", re.compile(r"/2019-09-30/functions/([^/]+)/provisioned-concurrency/?"), self._list_provisioned),
        ]

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> LambdaApiServer:
        """Bind and serve in a daemon thread; raises OSError when the port is taken."""
        if self._httpd is not None:
            return self
        httpd = ThreadingHTTPServer((self.host, self._requested_port), _Handler)
        httpd.daemon_threads = True
        httpd.api = self  # type: ignore[attr-defined]
        self._httpd = httpd
        if self.async_invoker is None:
            state = self.backend.state_dir or Path(tempfile.mkdtemp(prefix="lambdatui-async-"))
            self.async_invoker = AsyncInvoker(
                self.backend, state / "async.db", retry_delays=self._async_retry_delays, workers=self._async_workers,
                region=self.region, account_id=self.account_id,
            ).start()
        self._thread = threading.Thread(target=httpd.serve_forever, args=(0.1,), name="lambdatui-lambda-api", daemon=True)
        self._thread.start()
        log.info("Lambda API listening on %s", self.url)
        return self

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is not None:
            httpd.shutdown()
            httpd.server_close()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None
        if self.async_invoker is not None and self._owns_async_invoker:
            self.async_invoker.stop()
            self.async_invoker = None

    def __enter__(self) -> LambdaApiServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The bound port (the requested one until `start`)."""
        return self._httpd.server_address[1] if self._httpd is not None else self._requested_port

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    # -- dispatch ----------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        """Answer one request (any failure becomes an error response)."""
        try:
            for method, pattern, handler in self._routes:
                match = pattern.fullmatch(request.path)
                if match and method == request.method:
                    return handler(request, *(unquote(g) for g in match.groups()))
            raise ApiError(
                "UnknownOperationException", 404, f"lambdatui does not serve {request.method} {request.path}"
            )
        except ApiError as e:
            return e.response()
        except Exception as e:
            log.exception("%s %s failed", request.method, request.path)
            return ApiError("ServiceException", 500, f"{type(e).__name__}: {e}").response()

    def _resolve(self, function_name: str, request: Request) -> str:
        """The function's name from a name, partial ARN or ARN; only $LATEST may be qualified."""
        match = _FUNCTION_NAME.fullmatch(function_name)
        if match is None or len(function_name) > 170:
            raise ApiError(
                "ValidationException", 400,
                f"1 validation error detected: Value '{function_name}' at 'functionName' failed to satisfy "
                f"constraint: Member must satisfy regular expression pattern: {_FUNCTION_NAME.pattern}",
            )
        name, derived = match.group("name"), match.group("qualifier")
        qualifier = request.param("Qualifier")
        if derived and qualifier and derived != qualifier:
            raise ApiError(
                "InvalidParameterValueException", 400,
                "The derived qualifier from the function name does not match the specified qualifier.",
            )
        qualifier = qualifier or derived
        if qualifier and qualifier != "$LATEST":
            raise ApiError(
                "ResourceNotFoundException", 404,
                f"Function not found: {self._arn(name)}:{qualifier} (lambdatui serves $LATEST only)",
            )
        return name

    # -- invoke ------------------------------------------------------------------------------

    def _invoke(self, request: Request, function_name: str) -> Response:
        name = self._resolve(function_name, request)
        invocation_type = request.headers.get("X-Amz-Invocation-Type") or "RequestResponse"
        payload = request.body or b"{}"
        if invocation_type == "RequestResponse":
            return self._invoke_sync(name, payload, tail=(request.headers.get("X-Amz-Log-Type") or "").lower() == "tail")
        if invocation_type == "DryRun":
            _backend_errors(lambda: self.backend.invoke(name, payload, invocation_type="DryRun"))
            return Response(204)
        if invocation_type == "Event":
            return self._invoke_async(name, payload)
        raise ApiError(
            "InvalidParameterValueException", 400,
            f"Invalid invocation type {invocation_type!r}: RequestResponse, Event or DryRun",
        )

    def _invoke_sync(self, name: str, payload: bytes, *, tail: bool) -> Response:
        result = _backend_errors(lambda: self.backend.invoke(name, payload, source="api"))
        request_id = result.request_id or str(uuid.uuid4())
        if result.error:  # refused before reaching the function: a throttle
            code = result.error.get("type") or "TooManyRequestsException"
            try:
                message = json.loads(result.payload).get("message") or "Rate Exceeded."
            except (ValueError, AttributeError):
                message = "Rate Exceeded."
            fields = {"Reason": result.error["reason"]} if result.error.get("reason") else {}
            status = 429 if code == "TooManyRequestsException" else max(result.status_code, 400)
            headers = {"x-amzn-RequestId": request_id}
            if status == 429:
                headers["Retry-After"] = "1"  # botocore's retryAfterSeconds
            raise ApiError(code, status, message, headers, **fields)
        headers = {
            "Content-Type": "application/json",
            "x-amzn-RequestId": request_id,
            "X-Amz-Executed-Version": result.executed_version or "$LATEST",
        }
        if result.function_error:
            headers["X-Amz-Function-Error"] = result.function_error
        if tail:
            tail_bytes = (result.log_tail or "").encode("utf-8")[-4096:]
            headers["X-Amz-Log-Result"] = base64.b64encode(tail_bytes).decode("ascii")
        return Response(result.status_code or 200, result.payload or b"", headers)

    def _invoke_async(self, name: str, payload: bytes) -> Response:
        _backend_errors(lambda: self.backend.get_function(name))
        if len(payload) > MAX_ASYNC_PAYLOAD_BYTES:
            raise ApiError(
                "RequestTooLargeException", 413,
                f"Request must be smaller than {MAX_ASYNC_PAYLOAD_BYTES} bytes for the InvokeFunction operation",
            )
        try:
            json.loads(payload)
        except ValueError as e:
            raise ApiError("InvalidRequestContentException", 400, f"Could not parse request body into json: {e}") from None
        assert self.async_invoker is not None
        try:
            request_id = self.async_invoker.submit(name, payload)
        except QueueFullError as e:
            raise ApiError("TooManyRequestsException", 429, str(e), {"Retry-After": "1"}, Reason="CallerRateLimitExceeded") from None
        return Response(202, b"", {"x-amzn-RequestId": request_id})

    # -- functions ---------------------------------------------------------------------------

    def _list_functions(self, request: Request) -> Response:
        max_items = request.param("MaxItems")
        try:
            limit = int(max_items) if max_items is not None else LIST_MAX_ITEMS
        except ValueError:
            limit = 0
        if not 1 <= limit <= 10_000:
            raise ApiError("InvalidParameterValueException", 400, f"MaxItems must be 1–10000, not {max_items!r}")
        functions = sorted(_backend_errors(self.backend.list_functions), key=lambda f: f.name)
        start = 0
        marker = request.param("Marker")
        if marker:
            try:
                start = int(base64.urlsafe_b64decode(marker.encode()).decode())
            except ValueError:
                raise ApiError("InvalidParameterValueException", 400, f"Invalid Marker {marker!r}") from None
        page = functions[start:start + limit]
        body: dict[str, Any] = {"Functions": [self._configuration(f) for f in page]}
        if start + limit < len(functions):
            body["NextMarker"] = base64.urlsafe_b64encode(str(start + limit).encode()).decode()
        return _json(body)

    def _get_function(self, request: Request, function_name: str) -> Response:
        name = self._resolve(function_name, request)
        f = _backend_errors(lambda: self.backend.get_function(name))
        body: dict[str, Any] = {"Configuration": self._configuration(f), "Code": {"RepositoryType": "S3", "Location": _code_location(f.code)}}
        if f.reserved_concurrency is not None:
            body["Concurrency"] = {"ReservedConcurrentExecutions": f.reserved_concurrency}
        return _json(body)

    def _get_configuration(self, request: Request, function_name: str) -> Response:
        name = self._resolve(function_name, request)
        return _json(self._configuration(_backend_errors(lambda: self.backend.get_function(name))))

    def _update_configuration(self, request: Request, function_name: str) -> Response:
        name = self._resolve(function_name, request)
        body = _json_body(request)
        changes: dict[str, Any] = {}
        unsupported = []
        for key, value in body.items():
            if key in _UPDATE_FIELDS:
                changes[_UPDATE_FIELDS[key]] = value
            elif key == "Environment":
                variables = (value or {}).get("Variables") if isinstance(value, dict) else None
                changes["environment"] = variables or {}
            elif key not in _IGNORED_UPDATE_FIELDS:
                unsupported.append(key)
        if unsupported:
            raise ApiError(
                "InvalidParameterValueException", 400,
                f"lambdatui cannot change {', '.join(unsupported)} (it changes "
                f"{', '.join([*_UPDATE_FIELDS, 'Environment'])})",
            )
        if changes:
            f = _backend_errors(lambda: self.backend.update_function(name, changes))
        else:
            f = _backend_errors(lambda: self.backend.get_function(name))
        return _json(self._configuration(f))

    # -- concurrency -------------------------------------------------------------------------

    def _get_concurrency(self, request: Request, function_name: str) -> Response:
        name = self._resolve(function_name, request)
        f = _backend_errors(lambda: self.backend.get_function(name))
        return _json({} if f.reserved_concurrency is None else {"ReservedConcurrentExecutions": f.reserved_concurrency})

    def _put_concurrency(self, request: Request, function_name: str) -> Response:
        name = self._resolve(function_name, request)
        value = _json_body(request).get("ReservedConcurrentExecutions")
        if isinstance(value, bool) or not isinstance(value, int):
            raise ApiError("InvalidParameterValueException", 400, "ReservedConcurrentExecutions must be a whole number")
        f = _backend_errors(lambda: self.backend.update_function(name, {"reserved_concurrency": value}))
        return _json({"ReservedConcurrentExecutions": f.reserved_concurrency})

    def _delete_concurrency(self, request: Request, function_name: str) -> Response:
        name = self._resolve(function_name, request)
        _backend_errors(lambda: self.backend.update_function(name, {"reserved_concurrency": None}))
        return Response(204)

    def _list_provisioned(self, request: Request, function_name: str) -> Response:
        # Provisioned concurrency lives on published versions and aliases; lambdatui serves $LATEST only.
        name = self._resolve(function_name, request)
        _backend_errors(lambda: self.backend.get_function(name))
        return _json({"ProvisionedConcurrencyConfigs": []})

    # -- shapes ------------------------------------------------------------------------------

    def _arn(self, name: str) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account_id}:function:{name}"

    def _configuration(self, f: FunctionConfiguration) -> dict[str, Any]:
        """Lambda's FunctionConfiguration for a backend's function: the model's AWS view, with what
        only a server knows (its ARNs, sizes on disk, a role for functions that name none)."""
        c = f.to_aws()
        c.update(
            FunctionArn=f.arn or self._arn(f.name),
            Role=f.role or f"arn:aws:iam::{self.account_id}:role/lambdatui-local",
            CodeSize=_code_size(f.code),
            LastModified=f.last_modified or _now(),
        )
        if f.layers:
            c["Layers"] = [{"Arn": self._layer_arn(layer), "CodeSize": _code_size(layer)} for layer in f.layers]
        return c

    def _layer_arn(self, layer: str) -> str:
        if layer.startswith("arn:"):
            return layer
        name = re.sub(r"[^a-zA-Z0-9_-]", "-", Path(layer).name or "layer")[:140]
        return f"arn:aws:lambda:{self.region}:{self.account_id}:layer:{name}:1"



def _json_body(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(request.body or b"{}")
    except ValueError as e:
        raise ApiError("InvalidRequestContentException", 400, f"Could not parse request body into json: {e}") from None
    if not isinstance(body, dict):
        raise ApiError("InvalidRequestContentException", 400, "The request body must be a JSON object")
    return body


def _code_size(code: str) -> int:
    """The bytes in a code folder (Lambda reports the zip's size; this is close enough)."""
    total, count = 0, 0
    try:
        path = Path(code)
        if path.is_file():
            return path.stat().st_size
        if not code or not path.is_dir():
            return 0
        for root, _dirs, files in os.walk(path):
            for file in files:
                count += 1
                if count > CODE_SIZE_FILE_LIMIT:
                    return total
                try:
                    total += os.stat(os.path.join(root, file)).st_size
                except OSError:
                    pass
    except OSError:
        pass
    return total


def _code_location(code: str) -> str:
    try:
        path = Path(code)
        if code and path.is_absolute() and path.exists():
            return path.as_uri()
    except (OSError, ValueError):
        pass
    return ""


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: botocore pools its connections
    server_version = "lambdatui"
    sys_version = ""
    timeout = 300  # an idle keep-alive connection is closed after this many seconds

    def do_GET(self) -> None:
        started = time.monotonic()
        api: LambdaApiServer = self.server.api  # type: ignore[attr-defined]
        url = urlsplit(self.path)
        try:
            body = self._read_body()
        except ApiError as e:
            response = e.response()
        else:
            request = Request(self.command, url.path, parse_qs(url.query), self.headers, body)
            response = api.handle(request)
        request_id = response.headers.setdefault("x-amzn-RequestId", str(uuid.uuid4()))
        # Logged before the answer goes out, so whoever reads the answer finds the line already there.
        log.info(
            "%s %s %d%s %d B %.1f ms %s",
            self.command, self.path, response.status, f" {response.error}" if response.error else "",
            len(response.body), (time.monotonic() - started) * 1000, request_id,
        )
        self._send(response)

    do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_GET

    def _read_body(self) -> bytes:
        """The request body; one over Lambda's 6 MB limit is discarded and refused (413)."""
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            return self._read_chunked()
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            self.close_connection = True
            raise ApiError("InvalidRequestContentException", 400, "Invalid Content-Length") from None
        if length > MAX_SYNC_PAYLOAD_BYTES:
            self._discard(length)
            raise _too_large()
        return self.rfile.read(length) if length > 0 else b""

    def _read_chunked(self) -> bytes:
        parts, total = [], 0
        while True:
            size_line = self.rfile.readline(1024)
            try:
                size = int(size_line.split(b";")[0].strip() or b"0", 16)
            except ValueError:
                self.close_connection = True
                raise ApiError("InvalidRequestContentException", 400, "Invalid chunked body") from None
            if size == 0:
                while self.rfile.readline(1024).strip():  # trailers
                    pass
                break
            total += size
            if total > MAX_SYNC_PAYLOAD_BYTES:
                self.close_connection = True  # the rest is not read
                raise _too_large()
            parts.append(self.rfile.read(size))
            self.rfile.readline(1024)  # the CRLF after the chunk
        return b"".join(parts)

    def _discard(self, length: int) -> None:
        if length > DRAIN_LIMIT_BYTES:
            self.close_connection = True
            return
        while length > 0:
            chunk = self.rfile.read(min(length, 1 << 20))
            if not chunk:
                break
            length -= len(chunk)

    def _send(self, response: Response) -> None:
        self.send_response(response.status)
        for key, value in response.headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(response.body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if response.body and self.command != "HEAD":
            self.wfile.write(response.body)

    def log_request(self, code: Any = "-", size: Any = "-") -> None:
        pass  # do_GET logs each request in one line

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s - %s", self.address_string(), format % args)


def _too_large() -> ApiError:
    return ApiError(
        "RequestTooLargeException", 413,
        f"Request must be smaller than {MAX_SYNC_PAYLOAD_BYTES} bytes for the InvokeFunction operation",
    )
