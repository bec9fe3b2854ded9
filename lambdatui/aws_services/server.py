"""The embedded AWS services' HTTP server: moto's WSGI app, behind a guard, served by werkzeug on
127.0.0.1.

Started lazily: the socket is bound (so the URL is known and every function can be given it) and
werkzeug answers at once, but moto (about 0.5-1 s to import on a 2-core machine) is loaded, reset
and seeded only when the first request for a service arrives, or when `preload()` asks for it
(`serve`, the dashboard). A command whose functions never call AWS pays only the bind.

The guard (`__call__`) serves a request only if
- its Host is 127.0.0.1:PORT or localhost:PORT: a web page that rebinds its own domain name to
  127.0.0.1 (DNS rebinding) still sends its own name as Host;
- it carries no Origin header, not even `null`: browsers add one to cross-origin requests, SDKs
  never send one;
- it is signed (SigV4, or an S3 presigned URL) with this state folder's key (`sigv4.verify`): no
  other local user can read the key (0600), and no web page can compute a signature.
Refusals are 403s with AWS's error codes, in JSON for the JSON protocols and XML for the others.

Two routes are lambdatui's own, signed like the rest: GET /lambdatui/health (whose services these
are, for another process deciding whether to reuse them) and POST /lambdatui/reset (moto's reset,
then the seed again).
"""

from __future__ import annotations

import io
import json
import logging
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .sigv4 import SignatureRejected, verify

if TYPE_CHECKING:
    from .seed import Seed

log = logging.getLogger("lambdatui.aws_services")

SEED_HEADER = "X-Lambdatui-Seed"  # marks the seeding's own requests, which run before others are let in
RAW_HEADERS = "lambdatui.raw_headers"
POLL_S = 0.05  # how often serve_forever looks for a shutdown: close() waits at most this long
LOAD_WAIT_S = 60.0  # a request waits this long for moto to load and the seed to apply

StartResponse = Callable[..., Any]


class ServicesServer:
    """One werkzeug server on 127.0.0.1 in front of moto; see the module docstring."""

    def __init__(
        self,
        *,
        port: int,
        access_key_id: str,
        secret_access_key: str,
        session_token: str,
        region: str,
        state_dir: Path,
        seed: Seed | None,
    ) -> None:
        from werkzeug.serving import WSGIRequestHandler, make_server

        self.access_key_id = access_key_id
        self.secret_access_key = secret_access_key
        self.session_token = session_token
        self.region = region
        self.state_dir = state_dir
        self.seed = seed
        self._seed_token = secrets.token_hex(16)
        self._load_lock = threading.Lock()
        self._moto_app: Any = None  # set once imported: the seeding's requests may use it
        self._ready: Any = None  # set once seeded: every request may use it
        self.load_error: str | None = None
        self.load_seconds: float | None = None
        self._preloader: threading.Thread | None = None
        self._httpd = make_server("127.0.0.1", port, self, threaded=True, request_handler=_quiet(WSGIRequestHandler))
        self.port: int = self._httpd.server_port
        self.hosts = {f"127.0.0.1:{self.port}", f"localhost:{self.port}"}
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": POLL_S}, name="lambdatui-aws-services", daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- loading moto -------------------------------------------------------------------------

    def preload(self, wait: bool = False) -> None:
        """Load moto and apply the seed now, on a thread of its own (or in this one, with `wait`,
        raising the seed's error)."""
        if wait:
            self._load()
            if self.load_error is not None:
                from . import ServicesError

                raise ServicesError(self.load_error)
            return
        if self._preloader is None:
            self._preloader = threading.Thread(target=self._load, name="lambdatui-aws-services-load", daemon=True)
            self._preloader.start()

    def _load(self) -> Any:
        with self._load_lock:
            if self._ready is None and self.load_error is None:
                started = time.perf_counter()
                try:
                    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app

                    # moto's handler keeps the spelling of S3 metadata headers with underscores;
                    # werkzeug makes a handler per connection, so the next one uses it.
                    self._httpd.RequestHandlerClass = _quiet(MotoRequestHandler)
                    self._moto_app = DomainDispatcherApplication(create_backend_app)
                    self._reset_and_seed()
                    self._ready = self._moto_app
                except Exception as e:  # reported to every request, and by preload(wait=True)
                    self.load_error = f"the AWS services could not start: {e}"
                    log.warning("%s", self.load_error)
                self.load_seconds = time.perf_counter() - started
            return self._ready

    def _reset_and_seed(self) -> None:
        from moto.moto_api._internal.models import moto_api_backend

        # moto's state is the process's: a fresh start or a reset begins from nothing but the seed.
        moto_api_backend.reset()
        if self.seed is not None:
            from . import ServicesEndpoint

            endpoint = ServicesEndpoint(self.url, self.region, self.access_key_id, self.secret_access_key, self.session_token)
            self.seed.apply(endpoint, extra_headers={SEED_HEADER: self._seed_token})

    def reset(self) -> None:
        """Back to the seed state: moto's reset, then the seed again."""
        if self._load() is None:
            from . import ServicesError

            raise ServicesError(self.load_error or "the AWS services are not running")
        with self._load_lock:
            ready, self._ready = self._ready, None  # requests wait while the seed is applied again
            try:
                self._reset_and_seed()
            finally:
                self._ready = ready

    # -- serving ------------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        host = environ.get("HTTP_HOST", "").lower()
        if host not in self.hosts:
            return _refuse(environ, start_response, "AccessDenied", f"Host {host or '(none)'!r} is not this server's (127.0.0.1:{self.port} or localhost:{self.port})")
        if "HTTP_ORIGIN" in environ:
            return _refuse(environ, start_response, "AccessDenied", "requests from web pages (with an Origin header) are refused")
        raw = environ.get("REQUEST_URI") or environ.get("RAW_URI") or environ.get("PATH_INFO", "/")
        raw_path, _, raw_query = raw.partition("?")
        body_read: list[bytes] = []

        def body() -> bytes:
            if not body_read:
                from werkzeug.wsgi import get_input_stream

                data = get_input_stream(environ).read()
                body_read.append(data)
                environ["wsgi.input"] = io.BytesIO(data)
                environ["CONTENT_LENGTH"] = str(len(data))
                environ.pop("HTTP_TRANSFER_ENCODING", None)
                environ["wsgi.input_terminated"] = False
            return body_read[0]

        try:
            verify(
                method=environ.get("REQUEST_METHOD", "GET"),
                raw_path=raw_path,
                raw_query=raw_query,
                headers=_headers(environ),
                body=body,
                access_key_id=self.access_key_id,
                secret_access_key=self.secret_access_key,
            )
        except SignatureRejected as e:
            return _refuse(environ, start_response, e.code, e.message)
        path = environ.get("PATH_INFO", "")
        if path == "/lambdatui/health":
            return _json(start_response, "200 OK", {"state_dir": str(self.state_dir), "pid": _pid(), "loaded": self._ready is not None})
        if path == "/lambdatui/reset":
            if environ.get("REQUEST_METHOD") != "POST":
                return _json(start_response, "405 Method Not Allowed", {"message": "POST to reset"})
            try:
                self.reset()
            except Exception as e:
                return _json(start_response, "500 Internal Server Error", {"message": str(e)})
            return _json(start_response, "200 OK", {"reset": True, "seed": str(self.seed.path) if self.seed else None})
        if environ.get("HTTP_" + SEED_HEADER.upper().replace("-", "_")) == self._seed_token and self._moto_app is not None:
            app = self._moto_app
        else:
            app = self._ready or self._wait_loaded()
        if app is None:
            return _json(start_response, "500 Internal Server Error", {"__type": "InternalFailure", "message": self.load_error or "not loaded"})
        return app(environ, start_response)  # type: ignore[no-any-return]

    def _wait_loaded(self) -> Any:
        if self._preloader is not None:
            self._preloader.join(LOAD_WAIT_S)
        return self._load()

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(5)


def _quiet(base: type) -> type:
    """`base` (a werkzeug request handler) logging to this module's logger at debug level instead
    of printing every request on stderr."""

    class Quiet(base):  # type: ignore[misc]
        def make_environ(self) -> Any:
            environ = super().make_environ()
            # The headers as received: WSGI drops or folds names with underscores (S3 metadata),
            # which a signature covers as sent.
            environ[RAW_HEADERS] = list(self.headers.items())
            return environ

        def log(self, type: str, message: str, *args: Any) -> None:
            log.debug("%s " + message, self.address_string(), *args)

    return Quiet


def _pid() -> int:
    import os

    return os.getpid()


def _headers(environ: dict[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    raw = environ.get(RAW_HEADERS)
    if raw is not None:
        for name, value in raw:
            name = name.lower()
            out[name] = f"{out[name]},{value}" if name in out else value
        return out
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            out[key[5:].lower().replace("_", "-")] = value
    if environ.get("CONTENT_TYPE"):
        out["content-type"] = environ["CONTENT_TYPE"]
    if environ.get("CONTENT_LENGTH"):
        out["content-length"] = environ["CONTENT_LENGTH"]
    return out


def _json(start_response: StartResponse, status: str, document: dict[str, Any]) -> list[bytes]:
    body = json.dumps(document).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


def _refuse(environ: dict[str, Any], start_response: StartResponse, code: str, message: str) -> list[bytes]:
    """403 in the protocol the caller reads: JSON (`__type`) for the JSON protocols, else XML."""
    log.info("refused %s %s: %s", environ.get("REQUEST_METHOD"), environ.get("PATH_INFO"), message)
    if "json" in environ.get("CONTENT_TYPE", ""):
        body = json.dumps({"__type": code, "message": message}).encode()
        content_type = "application/x-amz-json-1.1"
    else:
        from xml.sax.saxutils import escape

        body = f"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{escape(message)}</Message></Error>".encode()
        content_type = "application/xml"
    start_response("403 Forbidden", [("Content-Type", content_type), ("Content-Length", str(len(body))), ("x-amzn-ErrorType", code)])
    return [body]
