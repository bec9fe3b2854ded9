"""An AWS-shaped HTTP endpoint on 127.0.0.1 for what moto's server cannot produce.

moto answers most of the Lambda, Logs and CloudWatch APIs, but not: JSON-format log events with a
`platform.report` record, paging by `NextMarker` over hundreds of functions, throttling answers,
error bodies that are not AWS JSON (an HTML 500 or XML 403 from a proxy), or a socket that accepts
and never answers. Tests register the answers they need here, by operation:

    server = AwsShapedServer()
    server.on("GET", "/2015-03-31/functions/", lambda req: Answer(200, {"Functions": [...]}))
    server.on_target("Logs_20140328.FilterLogEvents", lambda req: Answer(200, {"events": [...]}))
    backend = AwsBackend(config_with(endpoint_url=server.endpoint))

boto3 talks real HTTP to it (signing, retries, timeouts and parsing are botocore's own), so this is
an endpoint like LocalStack's, not a stub of boto3. Unregistered operations answer 404 with AWS's
JSON error shape, naming the operation, so a test sees at once what it forgot to register.
`StalledServer` accepts connections and never answers (for timeouts).
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request as StarletteRequest
from starlette.responses import Response
from starlette.routing import Route


@dataclass
class Answer:
    status: int = 200
    body: Any = None  # dict/list → JSON; str/bytes as they are
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str | None = None


@dataclass
class Seen:
    """A request as the endpoint received it."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    @property
    def target(self) -> str:
        return self.headers.get("x-amz-target", "")

    def json(self) -> Any:
        return json.loads(self.body or b"{}")


Handler = Callable[[Seen], Answer]


class AwsShapedServer:
    def __init__(self) -> None:
        self._routes: dict[tuple[str, str], Handler] = {}
        self._targets: dict[str, Handler] = {}
        self.requests: list[Seen] = []
        self._lock = threading.Lock()
        app = Starlette(routes=[Route("/{path:path}", self._handle, methods=["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"])])
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self.port = self._sock.getsockname()[1]
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._server = uvicorn.Server(uvicorn.Config(app, log_level="error", lifespan="off"))
        self._thread = threading.Thread(target=self._run, name="aws-shaped", daemon=True)
        self._thread.start()
        while not self._server.started and self._thread.is_alive():
            threading.Event().wait(0.01)

    def _run(self) -> None:
        asyncio.run(self._server.serve(sockets=[self._sock]))

    def on(self, method: str, path: str, handler: Handler) -> None:
        """Answer `method path` (without the query; a trailing slash does not matter) with `handler`."""
        self._routes[(method.upper(), path.rstrip("/"))] = handler

    def on_target(self, target: str, handler: Handler) -> None:
        """Answer a JSON-protocol operation by its X-Amz-Target (e.g. `Logs_20140328.FilterLogEvents`)."""
        self._targets[target] = handler

    def seen(self, *, path: str | None = None, target: str | None = None) -> list[Seen]:
        with self._lock:
            return [r for r in self.requests if (path is None or r.path.rstrip("/") == path.rstrip("/")) and (target is None or r.target == target)]

    async def _handle(self, request: StarletteRequest) -> Response:
        seen = Seen(
            method=request.method,
            path=request.url.path,
            query=dict(request.query_params),
            headers={k.lower(): v for k, v in request.headers.items()},
            body=await request.body(),
        )
        with self._lock:
            self.requests.append(seen)
        handler = self._targets.get(seen.target) if seen.target else None
        if handler is None:
            handler = self._routes.get((seen.method, seen.path.rstrip("/")))
        if handler is None:
            what = seen.target or f"{seen.method} {seen.path}"
            return Response(
                json.dumps({"__type": "ResourceNotFoundException", "message": f"aws_shaped: nothing registered for {what}"}),
                status_code=404,
                media_type="application/json",
                headers={"x-amzn-ErrorType": "ResourceNotFoundException"},
            )
        answer = await asyncio.get_running_loop().run_in_executor(None, handler, seen)
        body = answer.body
        media = answer.content_type
        if isinstance(body, (dict, list)):
            data = json.dumps(body).encode()
            media = media or ("application/x-amz-json-1.1" if seen.target else "application/json")
        elif isinstance(body, str):
            data = body.encode()
        else:
            data = body or b""
        headers = {"x-amzn-RequestId": "aws-shaped-request", **answer.headers}
        return Response(data, status_code=answer.status, media_type=media, headers=headers)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=5)


class StalledServer:
    """Accepts TCP connections and never answers: a read timeout is the only way out."""

    def __init__(self) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self.endpoint = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        self._held: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        self._sock.settimeout(0.1)
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self._held.append(conn)  # kept open, never read from nor written to

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        for conn in self._held:
            conn.close()
        self._sock.close()
