"""Every log line of every local function, kept per function and log stream, as CloudWatch Logs would.

In memory a bounded ring per function serves the tail pane and `logs`; subscribers see each line as
it is written (live tail). With a directory, lines are also appended to `<function>.jsonl` there
so another process (`lambdatui logs --follow`) can read them; each file rotates once past a size.
"""

from __future__ import annotations

import itertools
import json
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

ROTATE_BYTES = 16 * 1024 * 1024


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
    def __init__(self, directory: Path | None = None, max_events_per_function: int = 20000) -> None:
        self._lock = threading.Lock()
        self._events: dict[str, deque[LogEvent]] = {}
        self._max = max_events_per_function
        self._ids = itertools.count(1)
        self._subscribers: list[Callable[[LogEvent], None]] = []
        self._dir = directory
        self._files: dict[str, TextIO] = {}  # open only with a directory
        if directory is not None:
            directory.mkdir(parents=True, exist_ok=True)

    def append(self, function: str, log_stream: str, message: str, timestamp: float | None = None) -> LogEvent:
        event = LogEvent(time.time() if timestamp is None else timestamp, function, log_stream, message, next(self._ids))
        with self._lock:
            ring = self._events.get(function)
            if ring is None:
                ring = self._events[function] = deque(maxlen=self._max)
            ring.append(event)
            subscribers = list(self._subscribers)
            if self._dir is not None:
                self._write(self._dir, event)
        for callback in subscribers:
            try:
                callback(event)
            except Exception:
                pass  # a broken subscriber must not break an invocation
        return event

    def _write(self, directory: Path, event: LogEvent) -> None:
        f = self._files.get(event.function)
        if f is None:
            f = self._files[event.function] = open(_log_path(directory, event.function), "a", encoding="utf-8")
        f.write(json.dumps({"t": event.timestamp_ms, "s": event.log_stream, "m": event.message}) + "\n")

    def flush(self) -> None:
        with self._lock:
            directory = self._dir
            if directory is None:
                return  # no files: they are written only with a directory
            for name, f in list(self._files.items()):
                f.flush()
                if f.tell() > ROTATE_BYTES:
                    f.close()
                    path = _log_path(directory, name)
                    os.replace(path, path.with_suffix(".jsonl.1"))
                    del self._files[name]

    def events(self, function: str, since: float | None = None, log_stream: str | None = None) -> list[LogEvent]:
        with self._lock:
            ring = list(self._events.get(function, ()))
        return [
            e for e in ring
            if (since is None or e.timestamp >= since) and (log_stream is None or e.log_stream == log_stream)
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
        with self._lock:
            for f in self._files.values():
                f.close()
            self._files.clear()


def _log_path(directory: Path, function: str) -> Path:
    return directory / f"{function}.jsonl"


def read_log_file(directory: Path, function: str) -> Iterable[LogEvent]:
    """Events another process wrote for `function`, oldest first (rotated file included)."""
    ids = itertools.count(1)
    for path in (directory / f"{function}.jsonl.1", directory / f"{function}.jsonl"):
        try:
            with open(path, encoding="utf-8") as f:
                for line in f:
                    try:
                        d = json.loads(line)
                    except ValueError:
                        continue  # a line still being written
                    yield LogEvent(d["t"] / 1000.0, function, d["s"], d["m"], next(ids))
        except FileNotFoundError:
            continue
