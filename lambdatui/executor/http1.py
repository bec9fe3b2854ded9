"""The server side of HTTP/1.1 as the Lambda Runtime API needs it, over one connection.

A runtime's requests are tiny and arrive one at a time per connection, but they sit on the invoke
hot path twice per invocation; a general-purpose server (h11, http.server) costs more than the
whole warm-invoke budget, so this parses exactly what runtimes send: Content-Length or chunked
bodies, keep-alive, `Expect: 100-continue` (curl sends it for bodies over 1 KB) and
`Connection: close`. Bodies over a limit are counted and dropped rather than buffered.

Each request carries the kernel's receive time of its last bytes (`SO_TIMESTAMPNS`, read from
`recvmsg`'s ancillary data): Lambda's Duration ends when the runtime posts its response, and in a
process whose other threads hold the GIL (the dashboard's UI) the moment we get round to reading
the socket can be milliseconds later than that.
"""

from __future__ import annotations

import select
import socket
import struct
import sys
import time
from dataclasses import dataclass, field

_HEADER_LIMIT = 64 * 1024
# SO_TIMESTAMPNS (Linux; Python's socket module does not name it): every received segment is stamped
# with CLOCK_REALTIME in the kernel, and recvmsg hands the stamp of the data it returns as
# SCM_TIMESTAMPNS, a struct timespec (two longs).
SO_TIMESTAMPNS = 35 if sys.platform.startswith("linux") else None
_TIMESPEC = struct.Struct("@ll")
_ANCILLARY = socket.CMSG_SPACE(_TIMESPEC.size) if SO_TIMESTAMPNS is not None else 0


def enable_receive_timestamps(sock: socket.socket) -> bool:
    """Ask the kernel to stamp what `sock` receives; False where it cannot."""
    if SO_TIMESTAMPNS is None:
        return False
    try:
        sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    except OSError:
        return False
    return True


class ProtocolError(Exception):
    pass


def response_bytes(status: int, reason: str, body: bytes = b"", headers: dict[str, str] | None = None) -> bytes:
    head = [f"HTTP/1.1 {status} {reason}"]
    if headers:
        head.extend(f"{k}: {v}" for k, v in headers.items())
    head.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    body_size: int
    truncated: bool = False  # body was larger than the limit and was dropped
    received_ns: int | None = None  # CLOCK_REALTIME when the kernel received its last bytes, if stamped


@dataclass
class Connection:
    sock: socket.socket
    body_limit: int
    buf: bytearray = field(default_factory=bytearray)
    closed: bool = False
    timestamps: bool = False  # the socket's receives are stamped by the kernel (enable_receive_timestamps)
    received_ns: int | None = None  # the kernel's stamp of the last receive
    # State of a request whose headers are parsed but whose body is still arriving.
    _head: tuple[str, str, dict[str, str], bool, int] | None = None  # method, path, headers, chunked, length
    _chunks: list[bytes] = field(default_factory=list)
    _received: int = 0
    _continue_sent: bool = False

    def fileno(self) -> int:
        return self.sock.fileno()

    def receive(self) -> bool:
        """Read what the socket has; False when the peer has closed."""
        try:
            if self.timestamps:
                data, ancillary, _flags, _addr = self.sock.recvmsg(262144, _ANCILLARY)
                self.received_ns = None
                for level, kind, stamp in ancillary:
                    if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(stamp) >= _TIMESPEC.size:
                        seconds, nanoseconds = _TIMESPEC.unpack_from(stamp)
                        self.received_ns = seconds * 1_000_000_000 + nanoseconds
            else:
                data = self.sock.recv(262144)
        except (BlockingIOError, InterruptedError):
            return True
        except OSError:
            data = b""
        if not data:
            self.closed = True
            return False
        self.buf += data
        return True

    def next_request(self) -> Request | None:
        """The next complete request in the buffer, or None until more bytes arrive."""
        if self._head is None:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                if len(self.buf) > _HEADER_LIMIT:
                    raise ProtocolError("request head too large")
                return None
            head = bytes(self.buf[:end]).decode("latin-1")
            del self.buf[: end + 4]
            lines = head.split("\r\n")
            try:
                method, path, _version = lines[0].split(" ", 2)
            except ValueError:
                raise ProtocolError(f"bad request line {lines[0]!r}") from None
            headers: dict[str, str] = {}
            for line in lines[1:]:
                name, sep, value = line.partition(":")
                if sep:
                    headers[name.strip().lower()] = value.strip()
            chunked = "chunked" in headers.get("transfer-encoding", "").lower()
            length = 0 if chunked else int(headers.get("content-length", "0") or 0)
            self._head = (method, path, headers, chunked, length)
            self._chunks, self._received, self._continue_sent = [], 0, False
        method, path, headers, chunked, length = self._head
        if headers.get("expect", "").lower() == "100-continue" and not self._continue_sent:
            self._continue_sent = True
            self.send(b"HTTP/1.1 100 Continue\r\n\r\n")
        done = self._read_chunked() if chunked else self._read_sized(length)
        if not done:
            return None
        self._head = None
        body = b"".join(self._chunks)
        truncated = self._received > self.body_limit
        # Its last bytes came with the latest receive (requests are parsed after each one).
        return Request(method, path, headers, b"" if truncated else body, self._received, truncated, self.received_ns)

    def _keep(self, data: bytes) -> None:
        # Over the limit, count bytes but stop keeping them: the answer is an error either way.
        if self._received + len(data) <= self.body_limit:
            self._chunks.append(data)
        else:
            self._chunks.clear()
        self._received += len(data)

    def _read_sized(self, length: int) -> bool:
        need = length - self._received
        if need > 0 and self.buf:
            take = bytes(self.buf[:need])
            del self.buf[:need]
            self._keep(take)
        return self._received >= length

    def _read_chunked(self) -> bool:
        while True:
            line_end = self.buf.find(b"\r\n")
            if line_end < 0:
                return False
            size_text = bytes(self.buf[:line_end]).split(b";", 1)[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError:
                raise ProtocolError(f"bad chunk size {size_text!r}") from None
            if size == 0:
                # Last chunk, then optional trailers, then an empty line.
                trailer_end = self.buf.find(b"\r\n\r\n", line_end)
                if trailer_end == line_end:
                    del self.buf[: line_end + 4]
                    return True
                if trailer_end < 0:
                    return False
                del self.buf[: trailer_end + 4]
                return True
            if len(self.buf) < line_end + 2 + size + 2:
                return False
            start = line_end + 2
            self._keep(bytes(self.buf[start : start + size]))
            del self.buf[: start + size + 2]

    def send(self, data: bytes, timeout: float = 30.0) -> None:
        # The socket is non-blocking: a timeout socket would poll() before every send and recv,
        # a syscall per call on the hot path. Only a full buffer (a 6 MB event) waits here.
        view = memoryview(data)
        deadline = None
        try:
            while view:
                try:
                    sent = self.sock.send(view)
                    view = view[sent:]
                except BlockingIOError:
                    if deadline is None:
                        deadline = time.monotonic() + timeout
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        raise OSError("send timed out") from None
                    select.select([], [self.sock], [], remaining)
        except OSError:
            self.closed = True

    def respond(self, status: int, reason: str, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.send(response_bytes(status, reason, body, headers))

    def close(self) -> None:
        self.closed = True
        try:
            self.sock.close()
        except OSError:
            pass
