"""What a runtime writes to stdout and stderr, turned into log events as Lambda does; and the log tail.

Lambda makes one log event of each line a function writes to stdout or stderr, and one of each
message a runtime writes to its telemetry log descriptor (`_LAMBDA_TELEMETRY_LOG_FD`), whatever
newlines the message holds. That is how AWS's runtimes log an unhandled error, or a `logging` record
with a traceback, as one event (awslambdaric's `FramedTelemetryLogSink`, the Node.js runtime's
`LogPatch.js`; AWS's .NET runtime moved its logging there "so log messages with newlines will not get
broken up over multiple CloudWatch Log records"). Each message is a frame:

    +----------------------+------------------------+---------------------+-----------------------+
    | Frame Type - 4 bytes | Length (len) - 4 bytes | Timestamp - 8 bytes | Message - 'len' bytes |
    +----------------------+------------------------+---------------------+-----------------------+

big-endian, the type `0xa55a00XX` (text or JSON, and a level). lambdatui's runtimes are given their
own stdout as that descriptor, so frames and plain lines arrive in one pipe, in the order they were
written: `OutputReader` reads frames out of the byte stream wherever they start (their type bytes
never occur in UTF-8 text, and the header is checked further before it is trusted), and lines from
the rest.

An event is at most `MAX_EVENT_BYTES` (256 KB, CloudWatch Logs' limit on an event, which Lambda
applies to what a function logs): a longer line or message becomes several events, cut on character
boundaries. Buffering is linear: a line written in many pieces without a newline is kept as a list
of pieces until it ends or reaches the limit, never concatenated piece by piece.

`TailBuffer` keeps only what `LogType=Tail` needs of an invocation's events: the last 4 KB.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

MAX_EVENT_BYTES = 256 * 1024
LOG_TAIL_BYTES = 4096

FRAME_HEADER_BYTES = 16
_MAGIC = b"\xa5\x5a\x00"
# The frame types AWS's runtimes write (awslambdaric lambda_runtime_log_utils, Node's LogPatch.js):
# 0xa55a0002/3 (JSON/text) with a level in bits 2-4.
_FRAME_TYPES = frozenset(base | (level << 2) for base in (0x02, 0x03) for level in range(7))
# A frame's timestamp (µs) must be within this of now to be believed: a further guard, with the type,
# against reading a frame out of bytes that merely look like one (binary output).
_TIMESTAMP_SLACK_US = 24 * 3600 * 1_000_000
_MAX_FRAME_BYTES = 1 << 30


def split_event(data: bytes, limit: int = MAX_EVENT_BYTES) -> list[bytes]:
    """`data` cut into pieces of at most `limit` bytes, never inside a UTF-8 character."""
    if len(data) <= limit:
        return [data]
    pieces = []
    start = 0
    while len(data) - start > limit:
        cut = start + limit
        # Back off continuation bytes (10xxxxxx) so that a character stays whole.
        while cut > start + limit - 4 and (data[cut] & 0xC0) == 0x80:
            cut -= 1
        pieces.append(data[start:cut])
        start = cut
    pieces.append(data[start:])
    return pieces


class OutputReader:
    """Bytes from one of a runtime's pipes in, log events (str) out through `emit`.

    `frames` says whether telemetry frames may appear in the stream (stdout of lambdatui's own
    runtimes); stderr carries plain lines only.
    """

    def __init__(self, emit: Callable[[str], None], *, frames: bool = False, limit: int = MAX_EVENT_BYTES) -> None:
        self._emit = emit
        self._frames = frames
        self._limit = limit
        self._line: list[bytes] = []  # pieces of the line being written, not yet ended by a newline
        self._line_bytes = 0
        self._carry = b""  # bytes held back: the start of a frame header, or what may be one
        self._frame_left = 0  # bytes of the current frame's message still to come
        self._frame: list[bytes] = []  # the current frame's message so far (less than `limit` bytes)
        self._frame_bytes = 0

    # -- input ---------------------------------------------------------------------------------

    def feed(self, data: bytes) -> None:
        if self._carry:
            data = self._carry + data
            self._carry = b""
        pos, end = 0, len(data)
        while pos < end:
            if self._frame_left:
                pos = self._frame_body(data, pos)
                continue
            magic = data.find(_MAGIC, pos) if self._frames else -1
            if magic < 0:
                # No frame in the rest, but the last bytes may start one: hold them back.
                keep = _partial_magic(data, end) if self._frames else 0
                self._text(data, pos, end - keep)
                if keep:
                    self._carry = data[end - keep:]
                return
            if magic > pos:
                self._text(data, pos, magic)
            if end - magic < FRAME_HEADER_BYTES:
                self._carry = data[magic:]
                return
            length = self._frame_header(data, magic)
            if length is None:
                # Not a frame after all: its first byte is text, and the search goes on after it.
                self._text(data, magic, magic + 1)
                pos = magic + 1
                continue
            pos = magic + FRAME_HEADER_BYTES
            self._frame_left = length
            if length == 0:
                self._end_frame()

    def flush(self, final: bool = True) -> None:
        """Log a line that has no newline yet (the invocation ended: its output goes before END).

        `final` (the process is gone): also what is held back, as text, and a frame cut short, as far
        as it came. Otherwise a frame still arriving (a background thread's) is left to complete."""
        if final:
            if self._carry:
                carry, self._carry = self._carry, b""
                self._text(carry, 0, len(carry))
            if self._frame_left:
                self._frame_left = 0
                self._end_frame()
        if self._line:
            self._emit_bytes(b"".join(self._line))
            self._line.clear()
            self._line_bytes = 0

    # -- lines ---------------------------------------------------------------------------------

    def _text(self, data: bytes, start: int, stop: int) -> None:
        if start >= stop:
            return
        nl = data.find(b"\n", start, stop)
        if nl < 0:
            self._append(data[start:stop])
            return
        if self._line:
            self._append(data[start:nl])
            self._emit_bytes(b"".join(self._line))
            self._line.clear()
            self._line_bytes = 0
        else:
            self._emit_bytes(data[start:nl])
        start = nl + 1
        if start >= stop:
            return
        # The common case, whole lines: split in C rather than line by line.
        *lines, rest = data[start:stop].split(b"\n")
        for line in lines:
            self._emit_bytes(line)
        if rest:
            self._append(rest)

    def _append(self, piece: bytes) -> None:
        self._line.append(piece)
        self._line_bytes += len(piece)
        if self._line_bytes >= self._limit:
            # Lambda does not hold a line back forever: past the limit it is an event of its own.
            pieces = split_event(b"".join(self._line), self._limit)
            rest = pieces.pop()
            for full in pieces:
                self._emit_text(full)
            self._line[:] = [rest] if rest else []
            self._line_bytes = len(rest)
            if self._line_bytes >= self._limit:  # exactly the limit: nothing more can join it
                self._emit_text(rest)
                self._line.clear()
                self._line_bytes = 0

    def _emit_bytes(self, line: bytes) -> None:
        if len(line) > self._limit:
            for piece in split_event(line, self._limit):
                self._emit_text(piece)
        else:
            self._emit_text(line)

    def _emit_text(self, data: bytes) -> None:
        self._emit(data.decode("utf-8", "replace"))

    # -- frames --------------------------------------------------------------------------------

    @staticmethod
    def _frame_header(data: bytes, at: int) -> int | None:
        """The message length of a frame header at `at`, or None when those bytes are not one."""
        kind = int.from_bytes(data[at:at + 4], "big")
        if kind & 0xFF not in _FRAME_TYPES:
            return None
        length = int.from_bytes(data[at + 4:at + 8], "big")
        stamp = int.from_bytes(data[at + 8:at + 16], "big")
        if length > _MAX_FRAME_BYTES or abs(stamp - time.time_ns() // 1000) > _TIMESTAMP_SLACK_US:
            return None
        return length

    def _frame_body(self, data: bytes, pos: int) -> int:
        take = min(self._frame_left, len(data) - pos)
        piece = data[pos:pos + take]
        self._frame_left -= take
        self._frame.append(piece)
        self._frame_bytes += take
        if self._frame_left and self._frame_bytes > self._limit:
            # A long message is logged in pieces as it comes, not held whole.
            pieces = split_event(b"".join(self._frame), self._limit)
            rest = pieces.pop()
            for full in pieces:
                self._emit_text(full)
            self._frame[:] = [rest]
            self._frame_bytes = len(rest)
        if not self._frame_left:
            self._end_frame()
        return pos + take

    def _end_frame(self) -> None:
        message = b"".join(self._frame)
        self._frame.clear()
        self._frame_bytes = 0
        # Runtimes end a message with a newline (a logging record's format does); the event does not.
        if message.endswith(b"\n"):
            message = message[:-1]
        for piece in split_event(message, self._limit):
            self._emit_text(piece)


def _partial_magic(data: bytes, end: int) -> int:
    """How many bytes at the end of `data` could be the beginning of a frame's type."""
    for n in (3, 2, 1):
        if end >= n and data[end - n:end] == _MAGIC[:n]:
            return n
    return 0


class TailBuffer:
    """The last `limit` bytes of an invocation's log lines, as `LogType=Tail` returns them.

    Holds just enough lines to make up `limit` bytes (each line's newline included) and drops the
    older ones as new lines come, so a long, chatty invocation keeps a few kilobytes, not its log.
    """

    def __init__(self, limit: int = LOG_TAIL_BYTES) -> None:
        self._limit = limit
        self._lines: deque[str] = deque()
        self._bytes = 0  # UTF-8 bytes of the lines held, a newline each
        self._oldest = 0  # bytes of the oldest line held

    def append(self, line: str) -> None:
        size = len(line.encode("utf-8")) + 1 if not line.isascii() else len(line) + 1
        self._lines.append(line)
        self._bytes += size
        if len(self._lines) == 1:
            self._oldest = size
        while len(self._lines) > 1 and self._bytes - self._oldest >= self._limit:
            self._lines.popleft()
            self._bytes -= self._oldest
            first = self._lines[0]
            self._oldest = (len(first.encode("utf-8")) if not first.isascii() else len(first)) + 1

    def text(self) -> str:
        """The tail: the last `limit` bytes of the lines, each ended by a newline (a character cut by
        the limit is dropped)."""
        data = ("\n".join(self._lines) + "\n").encode("utf-8") if self._lines else b""
        return data[-self._limit:].decode("utf-8", "ignore")
