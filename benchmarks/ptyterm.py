"""A pseudo-terminal for the dashboard benchmarks: a real process, a real tty, timed frames.

The process runs on a pty of a stated size, as in a terminal emulator. A thread drains its output
(as a terminal would, so a chatty app is never blocked on a full pty) and records when each
synchronized-output frame ends: the terminal answers Textual's DECRQM query for mode 2026, so
Textual wraps every frame in `ESC[?2026h` … `ESC[?2026l`. A key's latency is the time from writing
its bytes to the end of the first frame that shows its effect (a marker string in that frame).
"""

from __future__ import annotations

import fcntl
import os
import re
import select
import struct
import subprocess
import termios
import threading
import time
from collections.abc import Sequence

SYNC_QUERY = b"\x1b[?2026$p"
SYNC_SUPPORTED = b"\x1b[?2026;2$y"
FRAME_END = b"\x1b[?2026l"


class Term:
    def __init__(self, argv: Sequence[str], *, size: tuple[int, int] = (120, 40), env: dict[str, str] | None = None, cwd: str | None = None) -> None:
        self.master, slave = os.openpty()
        cols, rows = size
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        environment = dict(env if env is not None else os.environ, TERM="xterm-256color", COLORTERM="truecolor")
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(list(argv), stdin=slave, stdout=slave, stderr=slave, start_new_session=True, env=environment, cwd=cwd)
        os.close(slave)
        self._lock = threading.Condition()
        self._frames: list[tuple[float, int]] = []  # (time a frame ended, its end offset in the output)
        self._out = bytearray()
        self._closed = False
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        answered = False
        while not self._closed:
            try:
                ready, _, _ = select.select([self.master], [], [], 0.05)
                if not ready:
                    continue
                data = os.read(self.master, 1 << 16)
            except OSError:
                break
            if not data:
                break
            now = time.perf_counter()
            with self._lock:
                start = len(self._out)
                self._out += data
                if not answered and SYNC_QUERY in self._out:
                    os.write(self.master, SYNC_SUPPORTED)
                    answered = True
                i = self._out.find(FRAME_END, max(0, start - len(FRAME_END)))
                while i != -1:
                    self._frames.append((now, i + len(FRAME_END)))
                    i = self._out.find(FRAME_END, i + 1)
                if len(self._out) > 64 << 20:  # a long chatty run: keep what the markers need
                    cut = len(self._out) - (8 << 20)
                    del self._out[:cut]
                    self._frames = [(t, o - cut) for t, o in self._frames if o > cut]
                self._lock.notify_all()

    @property
    def offset(self) -> int:
        with self._lock:
            return len(self._out)

    def wait_frame_with(self, marker: bytes | re.Pattern[bytes], since: int = 0, timeout: float = 60.0) -> float:
        """The time the first frame ended that holds `marker` (bytes, or a pattern) after output offset `since`."""
        deadline = time.perf_counter() + timeout
        with self._lock:
            while True:
                if isinstance(marker, re.Pattern):
                    found = marker.search(self._out, since)
                    i = -1 if found is None else found.start()
                else:
                    i = self._out.find(marker, since)
                if i != -1:
                    for t, end in self._frames:
                        if end > i:
                            return t
                remaining = deadline - time.perf_counter()
                if remaining <= 0 or self.proc.poll() is not None:
                    tail = bytes(self._out[-400:])
                    raise TimeoutError(f"no frame with {marker!r} within {timeout} s (exit {self.proc.poll()}); last output {tail!r}")
                self._lock.wait(min(remaining, 0.1))

    def quiet(self, seconds: float = 0.3, timeout: float = 10.0) -> None:
        """Wait until no output came for `seconds` (the app has settled)."""
        deadline = time.perf_counter() + timeout
        last = self.offset
        quiet_since = time.perf_counter()
        while time.perf_counter() < deadline:
            time.sleep(0.02)
            now = self.offset
            if now != last:
                last, quiet_since = now, time.perf_counter()
            elif time.perf_counter() - quiet_since >= seconds:
                return

    def key(self, data: bytes, marker: bytes | re.Pattern[bytes], timeout: float = 10.0) -> float:
        """Seconds from writing `data` to the end of the first frame showing `marker`."""
        since = self.offset
        sent = time.perf_counter()
        os.write(self.master, data)
        return self.wait_frame_with(marker, since, timeout) - sent

    def write(self, data: bytes) -> None:
        os.write(self.master, data)

    def rss_mb(self) -> float:
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        return float("nan")

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, 9)
            except ProcessLookupError:
                pass
            self.proc.wait(timeout=10)
        self._closed = True
        self._reader.join(timeout=2)
        os.close(self.master)
