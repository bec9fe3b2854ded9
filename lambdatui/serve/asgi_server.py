"""The HTTP transport of `lambdatui serve`: an ASGI app served by uvicorn (h11) from a background
thread that runs its own asyncio event loop.

Both of serve's ports (the Lambda API and the HTTP triggers) run on this. What it owns:

- Parsing HTTP is h11's job (through uvicorn): a malformed request line or header, an invalid or
  conflicting `Content-Length`, a `Transfer-Encoding` other than `chunked`, a request head still
  incomplete past `MAX_HEAD_BYTES` — all are answered 400 and the connection closed before the app
  is called. `_refuse_ambiguous_framing` adds what h11 tolerates: `Content-Length` together with
  `Transfer-Encoding`, and a repeated `Content-Length`. A body shorter than its Content-Length
  reaches the app as a client disconnect, never as a body.
- Time limits uvicorn does not have, in `_GuardedH11`: a connection must deliver a complete request
  head within `HEAD_TIMEOUT_S` of opening (or of its previous response), and the body within
  `BODY_TIMEOUT_S` of the head; else it is closed. An idle keep-alive connection is closed after
  `KEEP_ALIVE_S` (uvicorn's own timer). A request whose body never completes therefore ends as a
  client disconnect, never as an invocation.
- Bounds: at most `LIMIT_CONCURRENCY` connections/requests (uvicorn answers 503 beyond), and at
  most `THREAD_TOKENS` blocking calls (backend invokes) at once in the loop's thread pool: an idle
  or slow connection costs a few kilobytes in the event loop and no thread.
- Stopping: `stop()` closes the listener and connections, gives running requests
  `GRACEFUL_STOP_S`, then cancels them.

Every accepted socket has TCP_NODELAY (see `bind`): uvicorn writes a response's head and body
separately, and with Nagle's algorithm on the body would wait for the client's delayed ACK.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from typing import Any

import anyio.to_thread
import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

log = logging.getLogger("lambdatui.serve")

HEAD_TIMEOUT_S = 10.0  # from connect (or the previous response) to a complete request line + headers
BODY_TIMEOUT_S = 30.0  # from the request head to the end of its body (6 MB at ~200 KB/s)
KEEP_ALIVE_S = 15.0  # an idle keep-alive connection between requests
LIMIT_CONCURRENCY = 1000  # connections (and requests) at once; uvicorn answers 503 beyond
MAX_HEAD_BYTES = 16 * 1024  # h11_max_incomplete_event_size: a head still incomplete past this → 400
THREAD_TOKENS = 100  # blocking calls (invokes) running at once per server; more wait for a token
GRACEFUL_STOP_S = 2.0  # running requests get this long at stop() before they are cancelled
BACKLOG = 2048

# Where the raw (case-preserving) request headers are put in the ASGI scope's extensions: ASGI
# lower-cases header names, API Gateway's payload 1.0 keeps them as the client sent them.
RAW_HEADERS = "lambdatui.raw_headers"


class _GuardedH11(H11Protocol):
    """uvicorn's h11 protocol with deadlines on the request head and body (uvicorn has none: a
    connection that sends nothing, or one byte every few seconds, would be kept forever), and the
    client's header names as sent."""

    head_timeout = HEAD_TIMEOUT_S
    body_timeout = BODY_TIMEOUT_S

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._phase: str | None = None
        self._deadline: asyncio.TimerHandle | None = None
        self._raw_headers: list[tuple[bytes, bytes]] | None = None
        next_event = self.conn.next_event

        def capture() -> Any:
            event = next_event()
            if isinstance(event, h11.Request):
                self._raw_headers = list(event.headers.raw_items())
                _refuse_ambiguous_framing(self._raw_headers)
            return event

        self.conn.next_event = capture  # type: ignore[method-assign]
        self._watch()

    def handle_events(self) -> None:
        super().handle_events()
        # h11 pauses after one request until its response is complete, so at most one request was
        # started here, and its task has not run yet: its scope can still be given the raw headers.
        raw, self._raw_headers = self._raw_headers, None
        if raw is not None and self.cycle is not None:
            self.cycle.scope.setdefault("extensions", {})[RAW_HEADERS] = raw
        self._watch()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._watch()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel()
        super().connection_lost(exc)

    def _watch(self) -> None:
        """Arm the deadline of the phase the client is in: sending a head, sending a body, or none."""
        if self.transport.is_closing():
            self._cancel()
            return
        state = self.conn.their_state
        phase = "head" if state is h11.IDLE else "body" if state is h11.SEND_BODY else None
        if phase == self._phase:
            return
        self._cancel()
        self._phase = phase
        if phase is not None:
            timeout = self.head_timeout if phase == "head" else self.body_timeout
            self._deadline = self.loop.call_later(timeout, self._expire, phase, timeout)

    def _cancel(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None
        self._phase = None

    def _expire(self, phase: str, timeout: float) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        client = "%s:%d" % self.client if self.client else "a client"
        if phase == "head" and self.cycle is None and not self.conn.trailing_data[0]:
            log.debug("closing an idle connection from %s after %g s", client, timeout)
        else:
            log.info("closing the connection from %s: no complete request %s within %g s", client, phase, timeout)
        self.transport.close()


def _refuse_ambiguous_framing(headers: list[tuple[bytes, bytes]]) -> None:
    """Refuse a request whose body length two headers could disagree on. h11 follows RFC 9112:
    Transfer-Encoding wins over Content-Length and repeated equal Content-Lengths count once; but
    a proxy in front that reads them the other way would see a different request boundary
    (request smuggling), and RFC 9112 §6.1 says to close such a connection anyway. uvicorn answers
    the RemoteProtocolError with 400 and closes, before the app is called."""
    names = [name.lower() for name, _ in headers]
    if names.count(b"content-length") > 1:
        raise h11.RemoteProtocolError("more than one Content-Length header")
    if b"content-length" in names and b"transfer-encoding" in names:
        raise h11.RemoteProtocolError("both Content-Length and Transfer-Encoding")


def _protocol(head_timeout: float, body_timeout: float) -> type[_GuardedH11]:
    return type("GuardedH11", (_GuardedH11,), {"head_timeout": head_timeout, "body_timeout": body_timeout})


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on host:port (IPv6 for an IPv6 host); OSError when it cannot bind."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP, flags=socket.AI_PASSIVE)
    family, kind, proto, _, address = infos[0]
    # proto must say TCP: asyncio sets TCP_NODELAY on accepted sockets only when it does (a socket
    # made with proto 0 keeps Nagle on, and every small answer waits ~40 ms for a delayed ACK).
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # inherited by accepted sockets on Linux
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind(address)
        sock.listen(BACKLOG)
    except BaseException:
        sock.close()
        raise
    sock.set_inheritable(False)
    return sock


class AsgiServer:
    """`app` served on host:port from a daemon thread with its own event loop."""

    def __init__(
        self,
        app: Any,
        host: str,
        port: int,
        *,
        name: str,
        limit_concurrency: int = LIMIT_CONCURRENCY,
        head_timeout: float = HEAD_TIMEOUT_S,
        body_timeout: float = BODY_TIMEOUT_S,
        keep_alive: float = KEEP_ALIVE_S,
        thread_tokens: int = THREAD_TOKENS,
    ) -> None:
        self.app = app
        self.host = host
        self.name = name
        self.thread_tokens = thread_tokens
        self._requested_port = port
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._server: uvicorn.Server | None = None
        self._config = uvicorn.Config(
            app,
            http=_protocol(head_timeout, body_timeout),
            lifespan="off",
            log_config=None,  # lambdatui's logging stays as it is
            access_log=False,  # the apps log each request in one line of their own
            server_header=False,
            # No proxy sits in front: X-Forwarded-* from a local process must not rewrite who the
            # client is (uvicorn trusts them from 127.0.0.1 by default).
            proxy_headers=False,
            timeout_keep_alive=int(keep_alive) or 1,
            limit_concurrency=limit_concurrency,
            h11_max_incomplete_event_size=MAX_HEAD_BYTES,
            timeout_graceful_shutdown=int(GRACEFUL_STOP_S),
            backlog=BACKLOG,
        )

    @property
    def port(self) -> int:
        """The bound port (the requested one until `start`)."""
        return self._sock.getsockname()[1] if self._sock is not None else self._requested_port

    def start(self) -> None:
        """Bind (OSError when the port is taken) and serve from a daemon thread."""
        if self._thread is not None:
            return
        self._sock = bind(self.host, self._requested_port)
        server = self._server = uvicorn.Server(self._config)
        ready = threading.Event()
        failed: list[BaseException] = []

        async def main() -> None:
            # The loop's own thread pool: blocking backend calls run there, at most this many at once.
            anyio.to_thread.current_default_thread_limiter().total_tokens = self.thread_tokens
            assert self._sock is not None
            await server.serve(sockets=[self._sock])

        def run() -> None:
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            try:
                task = loop.create_task(main())
                loop.call_soon(lambda: _when_started(server, ready, loop))
                loop.run_until_complete(task)
            except BaseException as e:  # uvicorn exits with SystemExit when it cannot start
                failed.append(e)
                log.error("%s stopped: %s", self.name, e)
            finally:
                ready.set()
                loop.close()

        self._thread = threading.Thread(target=run, name=self.name, daemon=True)
        self._thread.start()
        ready.wait(30)
        if failed or not server.started:
            self.stop()
            raise OSError(f"{self.name} did not start: {failed[0] if failed else 'timed out'}")

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.should_exit = True
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(GRACEFUL_STOP_S + 5)
        sock, self._sock = self._sock, None
        if sock is not None:
            sock.close()


def _when_started(server: uvicorn.Server, ready: threading.Event, loop: asyncio.AbstractEventLoop) -> None:
    if server.started or server.should_exit:
        ready.set()
    else:
        loop.call_later(0.01, _when_started, server, ready, loop)
