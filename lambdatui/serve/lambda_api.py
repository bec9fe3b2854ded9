"""The Lambda API of `lambdatui serve`: AWS Lambda's REST protocol over a `Backend`.

boto3, the AWS CLI and the SDKs work unchanged against `endpoint_url=http://127.0.0.1:3001`:
Invoke (RequestResponse, Event, DryRun; `LogType: Tail`; `ClientContext`; qualified names and
ARNs), ListFunctions, GetFunction, GetFunctionConfiguration, UpdateFunctionConfiguration,
Get/Put/DeleteFunctionConcurrency and ListProvisionedConcurrencyConfigs. Errors come in Lambda's
JSON shape with the `x-amzn-ErrorType` header, so botocore raises its modelled exceptions
(`client.exceptions.ResourceNotFoundException`…).

Trusted callers only (see `trust`): a request must name this server in `Host`, carry no `Origin`
and be SigV4-signed (with the configured key, when `serve:` names one) before its body is even
read; only then does it reach a handler. The transport is uvicorn (see `asgi_server`): this module
is the ASGI app, and each backend call runs in the event loop's thread pool.

Events (`InvocationType: Event`) go to the injected `async_invoker`, which returns the request id
the 202 carries. Each request is logged in one line to the `lambdatui.serve` logger.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import os
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs, unquote

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.requests import ClientDisconnect
from starlette.requests import Request as StarletteRequest
from starlette.responses import Response as StarletteResponse

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
from .asgi_server import AsgiServer
from .async_invoke import QueueFullError
from .trust import Refusal, SigningKey, allowed_hosts, check_lambda_caller, verify_signature

log = logging.getLogger("lambdatui.serve")

DEFAULT_PORT = 3001
# Lambda raised the asynchronous payload limit from 256 KB to 1 MB in October 2025.
MAX_ASYNC_PAYLOAD_BYTES = 1024 * 1024
# Invoke's ClientContext: "Up to 3,583 bytes of base64-encoded data about the invoking client"
# (Lambda API reference, Invoke).
MAX_CLIENT_CONTEXT_BYTES = 3583
LIST_MAX_ITEMS = 50  # ListFunctions' page size when MaxItems is not given
CODE_SIZE_FILE_LIMIT = 10_000  # files counted for CodeSize before giving up

# Lambda's pattern for FunctionName: a name, a partial ARN or an ARN, with an optional qualifier.
_FUNCTION_NAME = re.compile(
    r"(?:arn:(?:aws[a-zA-Z-]*)?:lambda:)?(?:(?P<region>[a-z]{2}(?:-gov)?-[a-z]+-\d{1}):)?(?:(?P<account>\d{12}):)?(?:function:)?"
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


class AsyncInvoker(Protocol):
    """What the Lambda API needs of the asynchronous queue (`serve.async_invoke`)."""

    def submit(self, name: str, payload: bytes, *, qualifier: str | None = None, client_context: dict[str, Any] | None = None) -> str: ...


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
        headers = {"Content-Type": "application/json", "x-amzn-ErrorType": self.code, **self.headers}
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
    headers: Any  # case-insensitive get()
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


def _too_large() -> ApiError:
    return ApiError(
        "RequestTooLargeException", 413,
        f"Request must be smaller than {MAX_SYNC_PAYLOAD_BYTES} bytes for the InvokeFunction operation",
    )


def _client_context(value: str | None) -> dict[str, Any] | None:
    """Invoke's `X-Amz-Client-Context`: base64 of a JSON object, decoded; None when absent."""
    if value is None or value == "":
        return None
    if len(value) > MAX_CLIENT_CONTEXT_BYTES:
        # Lambda documents the limit; the exact wording of its refusal is not confirmed.
        raise ApiError(
            "InvalidRequestContentException", 400,
            f"Client context must be at most {MAX_CLIENT_CONTEXT_BYTES} bytes of base64-encoded JSON, not {len(value)}.",
        )
    try:
        decoded = json.loads(base64.b64decode(value, validate=True))
    except (binascii.Error, ValueError, RecursionError):
        decoded = None
    if not isinstance(decoded, dict):
        # AWS's answer, recorded (boto/boto3#2153).
        raise ApiError("InvalidRequestContentException", 400, "Client context must be a valid Base64-encoded JSON object.")
    return decoded


class LambdaApiServer:
    """Lambda's API for `backend` on http://host:port (uvicorn, from a daemon thread).

    `async_invoker` queues Event invokes (the one `ServeRunner` made; its owner stops it).
    `signing_key`, when given, is the only key whose SigV4 signatures are accepted."""

    def __init__(
        self,
        backend: Backend,
        host: str = "127.0.0.1",
        port: int = DEFAULT_PORT,
        *,
        async_invoker: AsyncInvoker,
        region: str = "us-east-1",
        account_id: str = "123456789012",
        signing_key: SigningKey | None = None,
        persist_changes: bool = False,
    ) -> None:
        self.backend = backend
        # UpdateFunctionConfiguration changes the running server; the config file only with --persist-changes.
        self.persist_changes = persist_changes
        self.host = host
        self.region = region
        self.account_id = account_id
        self.async_invoker = async_invoker
        self.signing_key = signing_key
        self._server = AsgiServer(self, host, port, name="lambdatui-lambda-api")
        self._allowed_hosts = allowed_hosts(host, port)
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
        self._server.start()
        self._allowed_hosts = allowed_hosts(self.host, self.port)
        log.info("Lambda API listening on %s", self.url)
        return self

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> LambdaApiServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The bound port (the requested one until `start`)."""
        return self._server.port

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.host in ("", "0.0.0.0") else "[::1]" if self.host == "::" else self.host
        return f"http://{f'[{host}]' if ':' in host and not host.startswith('[') else host}:{self.port}"

    # -- the ASGI app ------------------------------------------------------------------------

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        started = time.monotonic()
        method = scope["method"]
        raw_path = scope["raw_path"].decode("latin-1") if scope.get("raw_path") else scope["path"]
        query = scope["query_string"].decode("latin-1")
        headers = Headers(scope=scope)
        try:
            # Who is asking, before a byte of the body is read.
            authorization = check_lambda_caller(headers, self._allowed_hosts)
            body = await _read_body(StarletteRequest(scope, receive), headers)
            if self.signing_key is not None:
                verify_signature(
                    self.signing_key, self.region, authorization, method=method, raw_path=raw_path,
                    query=query, headers=headers.items(), body=body,
                )
            request = Request(method, raw_path, parse_qs(query, keep_blank_values=True), headers, body)
            response = await run_in_threadpool(self.handle, request)
        except Refusal as e:
            response = ApiError(e.code, e.status, e.message).response()
        except ApiError as e:
            response = e.response()
        except ClientDisconnect:
            client = scope.get("client") or ("?", 0)
            log.info("%s %s from %s:%s: the client went away before its request was complete; nothing ran",
                     method, raw_path, *client)
            return
        request_id = response.headers.setdefault("x-amzn-RequestId", str(uuid.uuid4()))
        # Logged before the answer goes out, so whoever reads the answer finds the line already there.
        log.info(
            "%s %s%s %d%s %d B %.1f ms %s",
            method, raw_path, f"?{query}" if query else "", response.status,
            f" {response.error}" if response.error else "", len(response.body),
            (time.monotonic() - started) * 1000, request_id,
        )
        await StarletteResponse(response.body, response.status, response.headers)(scope, receive, send)

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

    def _resolve(self, function_name: str, request: Request, action: str) -> tuple[str, str | None]:
        """(name, qualifier) from a name, partial ARN or ARN and `?Qualifier=`, refused as AWS
        refuses them: a bad name, an ARN of another region or account, a qualifier that does not
        exist (lambdatui has $LATEST only)."""
        match = _FUNCTION_NAME.fullmatch(function_name)
        if match is None or len(function_name) > 170:
            raise ApiError(
                "ValidationException", 400,
                f"1 validation error detected: Value '{function_name}' at 'functionName' failed to satisfy "
                f"constraint: Member must satisfy regular expression pattern: {_FUNCTION_NAME.pattern}",
            )
        name, derived = match.group("name"), match.group("qualifier")
        region, account = match.group("region"), match.group("account")
        if region and region != self.region:
            # AWS's answer to another region's ARN (recorded: alexcasalboni/aws-lambda-power-tuning#18).
            raise ApiError(
                "ResourceNotFoundException", 404,
                f"Functions from '{region}' are not reachable in this region ('{self.region}')",
            )
        if account and account != self.account_id:
            # Another account's function: AWS refuses it unless that function's resource policy
            # grants this caller, and lambdatui's account is the only one here.
            arn = f"arn:aws:lambda:{self.region}:{account}:function:{name}"
            raise ApiError(
                "AccessDeniedException", 403,
                f"User: arn:aws:iam::{self.account_id}:user/lambdatui is not authorized to perform: "
                f"lambda:{action} on resource: {arn} because no resource-based policy allows the lambda:{action} action",
            )
        qualifier = request.param("Qualifier")
        if derived and qualifier and derived != qualifier:
            raise ApiError(
                "InvalidParameterValueException", 400,
                "The derived qualifier from the function name does not match the specified qualifier.",
            )
        qualifier = qualifier or derived
        if qualifier and qualifier != "$LATEST":
            # No published versions or aliases here: AWS's answer for one that does not exist.
            raise ApiError("ResourceNotFoundException", 404, f"Function not found: {self._arn(name)}:{qualifier}")
        return name, qualifier

    # -- invoke ------------------------------------------------------------------------------

    def _invoke(self, request: Request, function_name: str) -> Response:
        name, qualifier = self._resolve(function_name, request, "InvokeFunction")
        invocation_type = request.headers.get("X-Amz-Invocation-Type") or "RequestResponse"
        client_context = _client_context(request.headers.get("X-Amz-Client-Context"))
        payload = request.body or b"{}"
        if invocation_type == "RequestResponse":
            return self._invoke_sync(
                name, payload, qualifier, client_context, tail=(request.headers.get("X-Amz-Log-Type") or "").lower() == "tail"
            )
        if invocation_type == "DryRun":
            _backend_errors(lambda: self.backend.invoke(name, payload, invocation_type="DryRun", qualifier=qualifier))
            return Response(204)
        if invocation_type == "Event":
            return self._invoke_async(name, payload, qualifier)
        raise ApiError(
            "InvalidParameterValueException", 400,
            f"Invalid invocation type {invocation_type!r}: RequestResponse, Event or DryRun",
        )

    def _invoke_sync(
        self, name: str, payload: bytes, qualifier: str | None, client_context: dict[str, Any] | None, *, tail: bool
    ) -> Response:
        result = _backend_errors(
            lambda: self.backend.invoke(name, payload, source="api", qualifier=qualifier, client_context=client_context)
        )
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

    def _invoke_async(self, name: str, payload: bytes, qualifier: str | None) -> Response:
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
        except RecursionError:
            raise ApiError("InvalidRequestContentException", 400, "Could not parse request body into json: nesting too deep") from None
        try:
            # "Lambda passes the ClientContext object to your function for synchronous invocations
            # only" (Lambda API reference, Invoke): an event carries none.
            request_id = self.async_invoker.submit(name, payload, qualifier=qualifier, client_context=None)
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
        name, _ = self._resolve(function_name, request, "GetFunction")
        f = _backend_errors(lambda: self.backend.get_function(name))
        body: dict[str, Any] = {"Configuration": self._configuration(f), "Code": {"RepositoryType": "S3", "Location": _code_location(f.code)}}
        if f.reserved_concurrency is not None:
            body["Concurrency"] = {"ReservedConcurrentExecutions": f.reserved_concurrency}
        return _json(body)

    def _get_configuration(self, request: Request, function_name: str) -> Response:
        name, _ = self._resolve(function_name, request, "GetFunctionConfiguration")
        return _json(self._configuration(_backend_errors(lambda: self.backend.get_function(name))))

    def _update_configuration(self, request: Request, function_name: str) -> Response:
        name, _ = self._resolve(function_name, request, "UpdateFunctionConfiguration")
        body = _json_body(request)
        changes: dict[str, Any] = {}
        unsupported = []
        for key, value in body.items():
            if key in _UPDATE_FIELDS:
                changes[_UPDATE_FIELDS[key]] = value
            elif key == "Environment":
                variables = (value or {}).get("Variables") if isinstance(value, dict) else None
                changes["environment"] = variables or {}
            elif key == "EphemeralStorage":
                # {"Size": MB}: the function's private /tmp (512-10,240 MB; validated with the rest).
                changes["ephemeral_storage"] = value.get("Size") if isinstance(value, dict) else value
            elif key not in _IGNORED_UPDATE_FIELDS:
                unsupported.append(key)
        if unsupported:
            raise ApiError(
                "InvalidParameterValueException", 400,
                f"lambdatui cannot change {', '.join(unsupported)} (it changes "
                f"{', '.join([*_UPDATE_FIELDS, 'Environment', 'EphemeralStorage'])})",
            )
        if changes:
            f = _backend_errors(lambda: self.backend.update_function(name, changes, persist=self.persist_changes))
        else:
            f = _backend_errors(lambda: self.backend.get_function(name))
        return _json(self._configuration(f))

    # -- concurrency -------------------------------------------------------------------------

    def _get_concurrency(self, request: Request, function_name: str) -> Response:
        name, _ = self._resolve(function_name, request, "GetFunctionConcurrency")
        f = _backend_errors(lambda: self.backend.get_function(name))
        return _json({} if f.reserved_concurrency is None else {"ReservedConcurrentExecutions": f.reserved_concurrency})

    def _put_concurrency(self, request: Request, function_name: str) -> Response:
        name, _ = self._resolve(function_name, request, "PutFunctionConcurrency")
        value = _json_body(request).get("ReservedConcurrentExecutions")
        if isinstance(value, bool) or not isinstance(value, int):
            raise ApiError("InvalidParameterValueException", 400, "ReservedConcurrentExecutions must be a whole number")
        f = _backend_errors(lambda: self.backend.update_function(name, {"reserved_concurrency": value}, persist=self.persist_changes))
        return _json({"ReservedConcurrentExecutions": f.reserved_concurrency})

    def _delete_concurrency(self, request: Request, function_name: str) -> Response:
        name, _ = self._resolve(function_name, request, "DeleteFunctionConcurrency")
        _backend_errors(lambda: self.backend.update_function(name, {"reserved_concurrency": None}, persist=self.persist_changes))
        return Response(204)

    def _list_provisioned(self, request: Request, function_name: str) -> Response:
        # Provisioned concurrency lives on published versions and aliases; lambdatui serves $LATEST only.
        name, _ = self._resolve(function_name, request, "ListProvisionedConcurrencyConfigs")
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




async def _read_body(request: StarletteRequest, headers: Headers) -> bytes:
    """The whole body, or ClientDisconnect when the client goes before sending it all (h11 has
    checked it against Content-Length); one over Lambda's 6 MB limit is refused unread (413)."""
    length = headers.get("content-length")
    if length is not None and int(length) > MAX_SYNC_PAYLOAD_BYTES:
        raise _too_large()
    chunks: list[bytes] = []
    total = 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > MAX_SYNC_PAYLOAD_BYTES:  # chunked: no length announced
            raise _too_large()
        chunks.append(chunk)
    return b"".join(chunks)
