"""Every log line of every local function, kept per function and log stream, as CloudWatch Logs would.

In memory a bounded ring per function serves the tail pane and `logs`; subscribers see each line as
it is written (live tail). The ring holds plain tuples of str/float/int (`Kept`), not `LogEvent`s:
Python's garbage collector stops tracking exact tuples of such values at its first look (not
instances of a class, nor of a named tuple), so a busy function's 20,000 kept lines add nothing to
the full collections that scan every tracked object at once. With `LogEvent`s in the ring, a
dashboard following a function printing 5,000 lines/s ran one such collection every 2–3 s, each
taking 100–370 ms while its keys waited (benchmarks/bench_log_tail.py). `events` builds the
`LogEvent`s it returns. With a directory, lines are also appended to `<function>.jsonl` there
so another process (`lambdatui logs`, `--follow`) can read them.

Several processes may write one directory at once (the dashboard, `lambdatui serve`, CLI runs on one
state folder), so the files are shared safely:

- Each line is one `write` of the whole line to a descriptor opened with O_APPEND: the kernel puts
  it at the end of the file in one piece, whoever else is appending.
- Past `ROTATE_BYTES` the file rotates: `<function>.jsonl` becomes `.jsonl.1`, `.1` becomes `.2`, …
  up to `ROTATE_KEEP` generations (the oldest beyond that is deleted), so a function's files take at
  most (ROTATE_KEEP + 1) × ROTATE_BYTES (64 MB by default). Rotation holds an exclusive `flock` on
  `.<function>.jsonl.lock`; every append holds it shared and, under it, checks that its descriptor
  is still `<function>.jsonl` (a writer in another process may have rotated it) and reopens it if not.
  So no line goes into a file once it has been rotated: rotated files never change, and every line
  is in exactly one file.
- Readers take the lock shared while they open the files they will read, so they see a consistent
  set of generations; `LogFollower` follows across rotations by the files' identity (device and
  inode), reading each file once, in order, whatever rotated it and however often.

With `write_delay_s` > 0 (the local backend's choice) the appending thread only queues the line: a
writer thread writes a function's queued lines together, in one O_APPEND write of whole lines under
the same shared lock and the same check, at most `write_delay_s` after the first of them. That takes
the four system calls per line (lock, stat, write, unlock) off the invoking threads, where each one
handed the GIL to the other invoking thread and back: with two threads invoking, persisting lines
line by line made the pair slower than one thread. Other processes see the lines that much later;
`flush` writes what is queued at once and returns when it is written, `close` (and the interpreter's
exit) too.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import itertools
import json
import logging
import os
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Container, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

ROTATE_BYTES = 16 * 1024 * 1024
ROTATE_KEEP = 3  # rotated generations kept: `.jsonl.1` (newest) … `.jsonl.3`
FOLLOW_POLL_S = 0.2
# With a write delay, the most bytes of queued lines one write carries (then the file is checked
# for rotation again): a file outgrows ROTATE_BYTES by at most this, or one line.
WRITE_CHUNK_BYTES = 64 * 1024

log = logging.getLogger("lambdatui.executor.logstore")


# A kept line in the in-memory ring: (timestamp, log_stream, message, event_id), a plain tuple the
# garbage collector stops tracking (module docstring).
Kept = tuple[float, str, str, int]


@dataclass(frozen=True)
class LogEvent:
    timestamp: float  # epoch seconds
    function: str
    log_stream: str
    message: str
    event_id: int

    @property
    def timestamp_ms(self) -> int:
        return int(self.timestamp * 1000)


class LogStore:
    def __init__(self, directory: Path | None = None, max_events_per_function: int = 20000, write_delay_s: float = 0.0) -> None:
        self._lock = threading.Lock()
        self._events: dict[str, deque[Kept]] = {}  # per function: see Kept
        self.max_events_per_function = max_events_per_function  # the ring's bound
        self._ids = itertools.count(1)
        self._subscribers: list[Callable[[LogEvent], None]] = []
        self._dir = directory
        self._files: dict[str, _Appender] = {}  # open only with a directory
        self._write_failed = False
        # With a write delay (module docstring): lines queued under _lock, and how many ever were,
        # and written by the writer thread; `_written` counts those it has written (or given up on).
        self._write_delay = write_delay_s
        self._queue: list[LogEvent] = []
        self._queued = 0
        self._written = 0
        self._written_cond = threading.Condition()
        self._wake = threading.Event()  # something is queued
        self._hurry = threading.Event()  # someone waits (flush, close): write without waiting
        self._writer: threading.Thread | None = None
        self._closed = False
        if directory is not None:
            directory.mkdir(parents=True, exist_ok=True)

    def append(self, function: str, log_stream: str, message: str, timestamp: float | None = None) -> LogEvent:
        event = LogEvent(time.time() if timestamp is None else timestamp, function, log_stream, message, next(self._ids))
        with self._lock:
            ring = self._events.get(function)
            if ring is None:
                ring = self._events[function] = deque(maxlen=self.max_events_per_function)
            ring.append((event.timestamp, log_stream, message, event.event_id))
            subscribers = list(self._subscribers)
            queued = False
            if self._dir is not None:
                if self._write_delay > 0 and not self._closed:
                    self._queue.append(event)
                    self._queued += 1
                    queued = True
                    if self._writer is None:
                        self._start_writer()
                else:
                    self._write(self._dir, event.function, _encode(event))
        if queued and not self._wake.is_set():
            self._wake.set()
        for callback in subscribers:
            try:
                callback(event)
            except Exception:
                pass  # a broken subscriber must not break an invocation
        return event

    def _write(self, directory: Path, function: str, data: bytes) -> None:
        """Append whole lines to `function`'s file (under _lock)."""
        for attempt in (1, 2):
            appender = self._files.get(function)
            try:
                if appender is None:
                    directory.mkdir(parents=True, exist_ok=True)  # again: someone may have removed it
                    appender = self._files[function] = _Appender(directory, function)
                appender.write(data)
                return
            except OSError as e:
                # Once more from scratch (the folder made again, the files opened again), then
                # given up: the file is for other processes, and a full disk or a removed folder
                # must not fail the invocation whose line this is. Said once, not once per line.
                if appender is not None:
                    appender.close()
                    self._files.pop(function, None)
                if attempt == 2 and not self._write_failed:
                    self._write_failed = True
                    log.warning("log lines of %s not written to %s: %s", function, directory, e)

    # -- the writer thread (write_delay_s > 0) ------------------------------------------------

    def _start_writer(self) -> None:  # under _lock
        self._writer = threading.Thread(target=self._write_loop, name="lambdatui-log-writer", daemon=True)
        self._writer.start()
        ref = weakref.ref(self)

        def at_exit() -> None:  # a weak reference only: the store may still be collected
            store = ref()
            if store is not None:
                store.flush()

        self._at_exit = at_exit
        atexit.register(at_exit)

    def _write_loop(self) -> None:
        assert self._dir is not None
        while True:
            self._wake.wait()
            self._hurry.wait(self._write_delay)  # let lines gather, unless someone waits
            # Cleared before the queue is taken: what is queued after this is taken next round,
            # and a flush that asks after this is answered by the next round, which does not wait.
            self._wake.clear()
            self._hurry.clear()
            with self._lock:
                events, self._queue = self._queue, []
                upto = self._queued
                try:
                    by_function: dict[str, list[bytes]] = {}
                    for event in events:
                        by_function.setdefault(event.function, []).append(_encode(event))
                    for function, lines in by_function.items():
                        for chunk in _chunks(lines, WRITE_CHUNK_BYTES):
                            self._write(self._dir, function, chunk)
                except Exception:  # (_write handles OSError) the writer must outlive any one batch
                    log.exception("log lines not written to %s", self._dir)
                # Closed, nothing left: nothing more is queued once closed (lines are then written as they come).
                stop = self._closed and not self._queue
                # Not held while this thread waits for the next batch: a burst's events kept alive
                # until then outlive collections and make the full ones frequent (module docstring).
                events = []
                by_function = {}
            with self._written_cond:
                self._written = upto
                self._written_cond.notify_all()
            if stop:
                return

    def flush(self) -> None:
        """Return when every line appended so far is in its file (at once without a write delay)."""
        with self._lock:
            target, writer = self._queued, self._writer
        if writer is None or not writer.is_alive():
            return
        self._hurry.set()
        self._wake.set()
        with self._written_cond:
            self._written_cond.wait_for(lambda: self._written >= target or not writer.is_alive(), timeout=30)

    def events(self, function: str, since: float | None = None, log_stream: str | None = None) -> list[LogEvent]:
        with self._lock:
            ring = list(self._events.get(function, ()))
        return [
            LogEvent(t, function, s, m, i) for t, s, m, i in ring
            if (since is None or t >= since) and (log_stream is None or s == log_stream)
        ]

    def log_streams(self, function: str) -> list[str]:
        seen: dict[str, None] = {}
        for e in self.events(function):
            seen[e.log_stream] = None
        return list(seen)

    def subscribe(self, callback: Callable[[LogEvent], None]) -> Callable[[], None]:
        with self._lock:
            self._subscribers.append(callback)

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)

        return unsubscribe

    def close(self) -> None:
        """Write what is queued and close the files (a line appended later is written as it comes)."""
        with self._lock:
            self._closed = True
            writer = self._writer
        if writer is not None:
            self._hurry.set()
            self._wake.set()
            writer.join(30)
            atexit.unregister(self._at_exit)
        with self._lock:
            for f in self._files.values():
                f.close()
            self._files.clear()


# -- the files ----------------------------------------------------------------------------------


def _chunks(lines: list[bytes], limit: int) -> Iterator[bytes]:
    """Whole lines joined into pieces of at most `limit` bytes (a longer line is a piece alone)."""
    piece: list[bytes] = []
    size = 0
    for line in lines:
        if piece and size + len(line) > limit:
            yield b"".join(piece)
            piece, size = [], 0
        piece.append(line)
        size += len(line)
    if piece:
        yield b"".join(piece)


def _encode(event: LogEvent) -> bytes:
    """One line of a function's file."""
    return (json.dumps({"t": event.timestamp_ms, "s": event.log_stream, "m": event.message}) + "\n").encode("utf-8")


def _log_path(directory: Path, function: str) -> Path:
    return directory / f"{function}.jsonl"


def _generation(directory: Path, function: str, n: int) -> Path:
    return directory / f"{function}.jsonl.{n}"


def _lock_path(directory: Path, function: str) -> Path:
    return directory / f".{function}.jsonl.lock"


def _identity(st: os.stat_result) -> tuple[int, int]:
    return (st.st_dev, st.st_ino)


class _Appender:
    """Appends whole lines to one function's file, rotating it past ROTATE_BYTES (module docstring)."""

    def __init__(self, directory: Path, function: str) -> None:
        self.directory = directory
        self.function = function
        self.path = str(_log_path(directory, function))  # a str: stat-ed on every line, faster than a Path
        self._lock_fd = _open_lock(directory, function)
        self._fd: int | None = None
        self._identity: tuple[int, int] | None = None

    def write(self, data: bytes) -> None:
        # Read at each write, so that tests (and a reconfigured module) take effect at once.
        limit, keep = ROTATE_BYTES, ROTATE_KEEP
        fcntl.flock(self._lock_fd, fcntl.LOCK_SH)
        try:
            size = self._current_size()
            assert self._fd is not None  # _current_size opened it
            _write_all(self._fd, data)
        finally:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
        if size + len(data) > limit:
            self._rotate(limit, keep)

    def _current_size(self) -> int:
        """The size of `<function>.jsonl` before this write, (re)opening it when the descriptor
        held is no longer that file (rotated by whoever, or never opened). Under the shared lock."""
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            st = None
        if self._fd is None or st is None or _identity(st) != self._identity:
            self._close_file()
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
            st = os.fstat(self._fd)
            self._identity = _identity(st)
        return st.st_size

    def _rotate(self, limit: int, keep: int) -> None:
        fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
        try:
            try:
                st = os.stat(self.path)
            except FileNotFoundError:
                return  # rotated by another process, and nothing written since
            if st.st_size <= limit:
                return  # rotated by another process while this one waited for the lock
            count = _generations(self.directory, self.function)
            for n in range(count, max(keep, 0), -1):  # beyond the bound (ROTATE_KEEP may have shrunk)
                _unlink(_generation(self.directory, self.function, n))
            if keep <= 0:
                _unlink(self.path)
                return
            for n in range(min(count, keep - 1), 0, -1):
                os.replace(_generation(self.directory, self.function, n), _generation(self.directory, self.function, n + 1))
            os.replace(self.path, _generation(self.directory, self.function, 1))
        except OSError as e:
            log.warning("rotating %s failed: %s", self.path, e)
        finally:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

    def _close_file(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
            self._identity = None

    def close(self) -> None:
        self._close_file()
        os.close(self._lock_fd)


def _open_lock(directory: Path, function: str) -> int:
    return os.open(_lock_path(directory, function), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)


def _write_all(fd: int, data: bytes) -> None:
    # One write puts the whole line at the end (O_APPEND); a short write (a full disk) is finished
    # rather than lost, though it can then interleave with another process's line.
    written = os.write(fd, data)
    while written < len(data):
        written += os.write(fd, data[written:])


def _unlink(path: Path | str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def _generations(directory: Path, function: str) -> int:
    """How many rotated generations there are: `.1` … `.n`, contiguous (rotation keeps them so)."""
    n = 0
    while _generation(directory, function, n + 1).exists():
        n += 1
    return n


@contextlib.contextmanager
def _shared_lock(directory: Path, function: str) -> Iterator[None]:
    """The rotation lock, shared: no rotation happens while it is held."""
    try:
        fd = _open_lock(directory, function)
    except OSError:
        yield  # a folder this process cannot write: read without the lock, as well as can be
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)
        yield
    finally:
        os.close(fd)


def _open_files(directory: Path, function: str, after: tuple[int, int] | None = None) -> list[tuple[int, tuple[int, int]]]:
    """(descriptor, identity) of the function's files, oldest first: all of them, or only those
    newer than the file whose identity is `after` (all of them if that one is gone). Opened under
    the shared lock, so the set is consistent; the descriptors keep their files readable whatever
    rotation does next."""
    opened: list[tuple[int, tuple[int, int]]] = []
    with _shared_lock(directory, function):
        paths = [_generation(directory, function, n) for n in range(_generations(directory, function), 0, -1)]
        paths.append(_log_path(directory, function))
        for path in paths:
            try:
                fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
            except OSError:
                continue  # gone, or not readable by this process
            opened.append((fd, _identity(os.fstat(fd))))
    ids = [ident for _, ident in opened]
    if after is not None and after in ids:
        cut = ids.index(after) + 1
        for fd, _ in opened[:cut]:
            os.close(fd)
        opened = opened[cut:]
    return opened


def _read_all(fd: int) -> bytes:
    chunks: list[bytes] = []
    while True:
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def _stream_of(line: bytes) -> str | None:
    """The log stream of one line as `_encode` writes it, read without parsing the JSON; None when
    it is not plainly there (a stream name JSON had to escape, a line of another shape)."""
    start = line.find(b', "s": "')
    if start < 0:
        return None
    start += 8
    end = line.find(b'", "m": ', start)
    if end < 0 or b"\\" in line[start:end]:
        return None
    return line[start:end].decode("ascii", "replace")


def _parse(lines: Iterable[bytes], skip_streams: Container[str] = ()) -> Iterator[tuple[float, str, str]]:
    for line in lines:
        if not line.strip():
            continue
        if skip_streams and _stream_of(line) in skip_streams:
            continue
        try:
            d = json.loads(line)
            yield d["t"] / 1000.0, d["s"], d["m"]
        except (ValueError, KeyError, TypeError, RecursionError):
            continue  # not a whole line the log store wrote (one being written, say)


def read_log_file(directory: Path, function: str) -> Iterable[LogEvent]:
    """Events another process wrote for `function`, oldest first (rotated generations included)."""
    ids = itertools.count(1)
    opened = _open_files(directory, function)
    try:
        for fd, _ in opened:
            for t, s, m in _parse(_read_all(fd).split(b"\n")):
                yield LogEvent(t, function, s, m, next(ids))
    finally:
        for fd, _ in opened:
            os.close(fd)


class LogFollower:
    """`tail -F` over a function's files: what is there first, then each line appended later, read
    once each and in order across any number of rotations (see the module docstring), as long as a
    file is not rotated out of the ROTATE_KEEP generations before the follower gets to it. Complete
    lines only: a line being written is read once its newline is there."""

    def __init__(
        self, directory: Path, function: str, interval: float = FOLLOW_POLL_S, skip_streams: Container[str] = (),
    ) -> None:
        """`skip_streams`: log streams whose lines are passed over unparsed (the dashboard's tail skips
        its own process's lines, which it has from its store: at 5,000 lines/s, parsing them back
        from the file only to drop them cost the UI's process a core's worth of JSON). It may be a
        set that another thread adds to."""
        self.directory = directory
        self.function = function
        self.skip_streams = skip_streams
        self.path = _log_path(directory, function)
        self.interval = interval
        self._fd: int | None = None  # the file being read: the newest one there was, last we looked
        self._identity: tuple[int, int] | None = None
        self._partial = b""
        self._ids = itertools.count(1)
        self._switched = False

    def events(self) -> Iterator[LogEvent]:
        try:
            while True:
                yield from self.poll()
                time.sleep(self.interval)
        finally:
            self._close()

    def skip_to_end(self) -> None:
        """Start after what is there now, without reading it (a line being written as this runs is
        read from where it was cut, which does not parse, and is dropped)."""
        opened = _open_files(self.directory, self.function)
        for fd, _ in opened[:-1]:
            os.close(fd)
        if opened:
            self._close()
            self._fd, self._identity = opened[-1]
            os.lseek(self._fd, 0, os.SEEK_END)
            self._partial = b""

    def poll(self) -> list[LogEvent]:
        """One look: the lines appended since the last one (`close` when done)."""
        found = list(self._read_new())
        while self._moved_on():
            found.extend(self._switch())
            if not self._switched:
                break
        return found

    def close(self) -> None:
        self._close()

    def _moved_on(self) -> bool:
        """Whether `<function>.jsonl` is not our file: ours was rotated (then it no longer changes:
        appends never go to a rotated file), or we have none yet."""
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return True  # rotated and not written since, or nothing yet: _switch finds out
        return _identity(st) != self._identity

    def _switch(self) -> Iterator[LogEvent]:
        """Read the rest of our file, then every file newer than it; keep the newest open."""
        self._switched = False
        opened = _open_files(self.directory, self.function, after=self._identity)
        if not opened:
            return  # nothing newer than ours yet
        if self._fd is not None:
            yield from self._read_new()
            yield from self._finish_partial()
            self._close()
        for fd, _ in opened[:-1]:
            try:
                yield from self._lines(_read_all(fd))
                yield from self._finish_partial()
            finally:
                os.close(fd)
        self._fd, self._identity = opened[-1]
        self._switched = True

    def _read_new(self) -> Iterator[LogEvent]:
        if self._fd is not None:
            data = _read_all(self._fd)
            if data:
                yield from self._lines(data)

    def _lines(self, data: bytes) -> Iterator[LogEvent]:
        complete, _, self._partial = (self._partial + data).rpartition(b"\n")
        for t, s, m in _parse(complete.split(b"\n"), self.skip_streams):
            yield LogEvent(t, self.function, s, m, next(self._ids))

    def _finish_partial(self) -> Iterator[LogEvent]:
        # A file's last line without its newline once the file no longer changes: its writer died
        # mid-line. Kept if it parses.
        partial, self._partial = self._partial, b""
        for t, s, m in _parse([partial], self.skip_streams):
            yield LogEvent(t, self.function, s, m, next(self._ids))

    def _close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
