"""serve's HTTP transport (uvicorn + h11, `serve.asgi_server`), driven with raw sockets: what is
malformed, truncated, smuggled, oversized, slow or abandoned never runs a function, and is answered
or closed rather than left hanging; concurrency is bounded; a client reset is one log line.

Requests that pass the parser and still must not run anything are proved by a handler that
records its request id to a file that stays empty.
"""

from __future__ import annotations

import asyncio
import logging
import select
import socket
import struct
import threading
import time

import pytest
from starlette.requests import Request
from starlette.responses import Response

from lambdatui.serve import asgi_server
from lambdatui.serve.asgi_server import AsgiServer

from .project import Project, client, payload
from .sigv4 import sign


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    project = Project(tmp_path_factory.mktemp("transport"))
    runner = project.start()
    yield project, runner
    runner.stop()


@pytest.fixture
def project(served):
    project, _ = served
    project.record.write_text("")
    return project


@pytest.fixture
def runner(served):
    return served[1]


def _exchange(port: int, data: bytes, *, close_write: bool = True, timeout: float = 15.0) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        if close_write:
            s.shutdown(socket.SHUT_WR)
        out = b""
        try:
            while chunk := s.recv(65536):
                out += chunk
        except (TimeoutError, ConnectionResetError):
            pass
        return out


def _lambda_head(runner, body_length: int, extra: str = "") -> bytes:
    """A signed Invoke request head for a body of `body_length` bytes of 'x' (the signature covers
    the whole body, which never arrives in full)."""
    port = runner.lambda_api.port
    url = f"http://127.0.0.1:{port}/2015-03-31/functions/rec/invocations"
    headers = sign("POST", url, b"x" * body_length)
    lines = ["POST /2015-03-31/functions/rec/invocations HTTP/1.1", f"Host: 127.0.0.1:{port}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n" + extra).encode()


def _ports(runner):
    return {"lambda": runner.lambda_api.port, "http": runner.http.port}


# -- truncated, smuggled, malformed ----------------------------------------------------------------


def test_a_body_shorter_than_its_content_length_never_invokes_on_either_port(runner, project, caplog):
    with caplog.at_level(logging.INFO):
        # 19 of 100 bytes, then the client closes.
        answer = _exchange(runner.http.port, b"POST /open HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Length: 100\r\n\r\n" % runner.http.port + b"x" * 19)
        assert answer == b""
        answer = _exchange(runner.lambda_api.port, _lambda_head(runner, 100, "Content-Length: 100\r\n\r\n") + b"x" * 19)
        assert answer == b""
        time.sleep(0.5)
    assert project.ran() == []
    went = [r for r in caplog.records if "went away before its request was complete" in r.getMessage()]
    assert len(went) == 2
    assert not any(r.exc_info for r in caplog.records)


@pytest.mark.parametrize("port_name", ["http", "lambda"])
def test_content_length_with_transfer_encoding_is_refused_and_nothing_is_smuggled(runner, project, port_name):
    port = _ports(runner)[port_name]
    smuggled = b"POST /open HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Length: 0\r\n\r\n" % port
    request = (
        b"POST /open HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Length: %d\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
        % (port, 5 + len(smuggled))
    ) + smuggled
    answer = _exchange(port, request)
    assert answer.startswith(b"HTTP/1.1 400 ")
    assert answer.count(b"HTTP/1.1") == 1  # one answer, then the connection is closed
    assert project.ran() == []


@pytest.mark.parametrize("port_name", ["http", "lambda"])
def test_conflicting_content_lengths_are_refused(runner, project, port_name):
    port = _ports(runner)[port_name]
    answer = _exchange(port, b"POST /open HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Length: 2\r\nContent-Length: 40\r\n\r\n{}" % port)
    assert answer.startswith(b"HTTP/1.1 400 ")
    assert project.ran() == []


def test_repeated_equal_content_lengths_frame_one_body_and_nothing_more(runner, project):
    # RFC 9110 §8.6 lets a recipient take equal repeated values as one: the length is unambiguous,
    # so the bytes after the body are a second request only if they parse as one — here they do
    # not, and that is refused, not run.
    port = runner.http.port
    answer = _exchange(port, b"POST /open HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n{}GARBAGE\r\n\r\n" % port,
                       close_write=False)
    assert answer.startswith(b"HTTP/1.1 200 ") and b"ran" in answer
    assert answer.count(b"HTTP/1.1 200") == 1 and b"HTTP/1.1 400 " in answer
    assert len(project.ran()) == 1


@pytest.mark.parametrize("port_name", ["http", "lambda"])
@pytest.mark.parametrize("encoding", ["xchunked", "chunked, identity", "gzip"])
def test_unsupported_transfer_encodings_are_answered_not_hung(runner, project, port_name, encoding):
    port = _ports(runner)[port_name]
    started = time.monotonic()
    answer = _exchange(port, b"POST /open HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nTransfer-Encoding: %s\r\n\r\n2\r\n{}\r\n0\r\n\r\n" % (port, encoding.encode()),
                       close_write=False, timeout=8)
    assert answer.startswith((b"HTTP/1.1 400 ", b"HTTP/1.1 501 "))
    assert time.monotonic() - started < 5
    assert project.ran() == []


@pytest.mark.parametrize("port_name", ["http", "lambda"])
def test_malformed_request_lines_and_headers_are_refused(runner, project, port_name):
    port = _ports(runner)[port_name]
    for bad in (b"POST /open HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Length: -1\r\n\r\n" % port,
                b"POST /open HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nBad Header: x\r\n\r\n" % port,
                b"POST /open HTTP/1.1\r\nContent-Length: 0\r\n\r\n",  # HTTP/1.1 without Host
                b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 tls hello\r\n\r\n"):
        assert _exchange(port, bad).startswith(b"HTTP/1.1 400 "), bad
    assert project.ran() == []


def test_oversized_bodies_are_refused_on_both_ports(runner, project):
    http = runner.http.port
    answer = _exchange(http, b"POST /open HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Length: %d\r\n\r\n" % (http, 10 * 1024 * 1024 + 1), close_write=False, timeout=5)
    assert answer.startswith(b"HTTP/1.1 413 ")
    lam = client(runner)
    with pytest.raises(lam.exceptions.RequestTooLargeException):
        lam.invoke(FunctionName="rec", Payload=b'"' + b"x" * (6 * 1024 * 1024) + b'"')
    with pytest.raises(lam.exceptions.RequestTooLargeException):
        lam.invoke(FunctionName="rec", Payload=b'"' + b"x" * (1024 * 1024) + b'"', InvocationType="Event")
    assert project.ran() == []
    # The client's connection is still good afterwards.
    assert payload(lam.invoke(FunctionName="rec", Payload=b"{}"))["request_id"] in project.ran()


# -- time limits, bounds and resets (one app on the same transport, with short limits) ----------------


class _Recorder:
    """An ASGI app that records each request it handles, after reading the whole body."""

    def __init__(self, delay: float = 0.0) -> None:
        self.handled: list[bytes] = []
        self.delay = delay

    async def __call__(self, scope, receive, send):
        body = await Request(scope, receive).body()
        if self.delay:
            await asyncio.sleep(self.delay)
        self.handled.append(body)
        await Response(b"ok", 200)(scope, receive, send)


@pytest.fixture
def short():
    app = _Recorder()
    server = AsgiServer(app, "127.0.0.1", 0, name="test-transport", head_timeout=0.5, body_timeout=0.5, keep_alive=1, limit_concurrency=4)
    server.start()
    yield server, app
    server.stop()


def test_serve_runs_both_ports_with_the_documented_limits(runner):
    for server in (runner.lambda_api._server, runner.http._server):
        config = server._config
        assert config.http.head_timeout == asgi_server.HEAD_TIMEOUT_S == 10
        assert config.http.body_timeout == asgi_server.BODY_TIMEOUT_S == 30
        assert config.timeout_keep_alive == asgi_server.KEEP_ALIVE_S == 15
        assert config.limit_concurrency == asgi_server.LIMIT_CONCURRENCY == 1000


@pytest.mark.parametrize("sent", [b"", b"GET / HTTP/1.1\r\nHost: a\r\n", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc"])
def test_idle_slow_head_and_slow_body_connections_are_closed_and_never_handled(short, sent):
    server, app = short
    started = time.monotonic()
    answer = _exchange(server.port, sent, close_write=False, timeout=10)
    assert answer == b""  # closed by the server, unanswered
    assert 0.4 < time.monotonic() - started < 5
    assert app.handled == []


def test_a_slowloris_drip_does_not_reset_the_head_deadline(short):
    server, app = short  # head deadline 0.5 s
    drip = b"GET / HTTP/1.1\r\nHost: a\r\nX-Slow: " + b"x" * 60  # 80 bytes, one every 50 ms: 4 s
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
        started = time.monotonic()
        for byte in drip:
            if _closed_by_server(s):
                break
            try:
                s.sendall(bytes([byte]))
            except OSError:
                break
            time.sleep(0.05)
        else:
            pytest.fail("the server kept a dripping connection open")
        elapsed = time.monotonic() - started
    assert elapsed < 2.5
    assert app.handled == []


def _closed_by_server(s: socket.socket) -> bool:
    if not select.select([s], [], [], 0)[0]:
        return False
    try:
        return s.recv(1, socket.MSG_PEEK) == b""
    except OSError:
        return True


def test_connections_beyond_the_limit_get_503(short):
    server, app = short
    idle = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(4)]
    try:
        time.sleep(0.1)
        answer = _exchange(server.port, b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        assert answer.startswith(b"HTTP/1.1 503 ")
    finally:
        for s in idle:
            s.close()
    time.sleep(0.2)
    assert _exchange(server.port, b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n").startswith(b"HTTP/1.1 200 ")


def _reset(s: socket.socket) -> None:
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()  # RST, not FIN


def test_a_client_reset_while_its_answer_is_prepared_is_quiet(runner, project, caplog):
    port = runner.lambda_api.port
    with caplog.at_level(logging.DEBUG):
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(_lambda_head(runner, 2, "Content-Length: 2\r\n\r\n") + b"xx")
        time.sleep(0.05)
        _reset(s)
        time.sleep(1.5)
    # Sent whole, so it may run (Lambda would too); whatever happened, it is never a traceback.
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    assert len(project.ran()) <= 1


def test_a_client_reset_mid_body_is_one_log_line_and_no_traceback_on_either_port(runner, project, caplog):
    with caplog.at_level(logging.DEBUG):
        s = socket.create_connection(("127.0.0.1", runner.http.port))
        s.sendall(b"POST /open HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Length: 50\r\n\r\nabc" % runner.http.port)
        time.sleep(0.2)
        _reset(s)
        s = socket.create_connection(("127.0.0.1", runner.lambda_api.port))
        s.sendall(_lambda_head(runner, 50, "Content-Length: 50\r\n\r\n") + b"abc")
        time.sleep(0.2)
        _reset(s)
        time.sleep(0.5)
    lines = [r.getMessage() for r in caplog.records if r.name == "lambdatui.serve"]
    assert len([line for line in lines if line.startswith("POST /open from 127.0.0.1: the client went away")]) == 1
    assert len([line for line in lines if line.startswith("POST /2015-03-31/functions/rec/invocations from 127.0.0.1:")
                and "went away" in line]) == 1
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    assert project.ran() == []


def test_stop_returns_promptly_with_idle_connections_open():
    app = _Recorder()
    server = AsgiServer(app, "127.0.0.1", 0, name="test-stop")
    server.start()
    idle = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(20)]
    started = time.monotonic()
    server.stop()
    assert time.monotonic() - started < asgi_server.GRACEFUL_STOP_S + 3
    assert not any(t.name == "test-stop" for t in threading.enumerate())
    for s in idle:
        s.close()


def test_a_port_in_use_is_an_oserror_at_start():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        server = AsgiServer(_Recorder(), "127.0.0.1", taken.getsockname()[1], name="test-taken")
        with pytest.raises(OSError):
            server.start()


def test_accepted_connections_have_nagle_off(short):
    # uvicorn writes a response's head and body separately; with Nagle on, the body waits ~40 ms
    # for the client's delayed ACK. asyncio turns it off only on sockets whose proto says TCP,
    # and Linux passes the listener's TCP_NODELAY on to accepted sockets.
    server, _ = short
    sock = server._sock
    assert sock.proto == socket.IPPROTO_TCP
    assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
