"""`lambdatui logs NAME`: a function's log lines, one per line with a UTC timestamp; `--follow` tails.

AWS: the backend's `tail_logs` (CloudWatch Logs: the log group the function's `LoggingConfig`
names, polled with FilterLogEvents — never a Live Tail session, which is billed per minute). A log
group that does not exist is one line and exit 1, with or without `--follow`, as `aws logs tail`
reports it. Local: a new process has no in-memory logs and
must not start the executor, so it reads the JSON lines the local backend persists under the state
dir (`<state>/logs/<function>.jsonl` and its rotated generations `.jsonl.1`, …), and with `--follow`
reads the lines appended later, as `tail -F` does (`executor.logstore`: safe with other processes
writing and rotating the files).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from .main import UsageError, open_backend

if TYPE_CHECKING:
    from ..backends.base import Backend

FOLLOW_POLL_S = 0.2
DEFAULT_SINCE = "10m"

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
# The timestamp's width plus the space after it: continuation lines are indented to the message.
_INDENT = " " * len("2026-01-01T00:00:00.000Z ")


def parse_since(text: str, now: float | None = None) -> float:
    """`30s`, `10m`, `2h`, `1d`, `1w` ago, or an ISO 8601 time (UTC unless it names a zone): epoch s."""
    now = time.time() if now is None else now
    m = _DURATION.match(text)
    if m:
        return now - float(m.group(1)) * _UNITS[m.group(2)]
    iso = text.strip()
    if iso[-1:] in ("Z", "z"):
        iso = iso[:-1] + "+00:00"  # Python 3.10's fromisoformat does not read "Z"
    try:
        when = datetime.fromisoformat(iso)
    except ValueError:
        raise UsageError(
            f"--since {text!r}: expected a duration (30s, 10m, 2h, 1d) or an ISO 8601 time "
            "(2026-11-27T10:00:00Z)"
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when.timestamp()


def format_event(timestamp: float, message: str) -> str:
    """`<ISO 8601 UTC, ms>Z <message>`; a multi-line message (AWS's runtime joins a traceback's
    lines with "\\r") continues on following lines, indented under the message."""
    ms = int(round(timestamp * 1000))
    stamp = datetime.fromtimestamp(ms // 1000, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    text = message.rstrip("\r\n").replace("\r\n", "\n").replace("\r", "\n")
    return f"{stamp}.{ms % 1000:03d}Z " + text.replace("\n", "\n" + _INDENT)


def run_logs(args: argparse.Namespace) -> int:
    from ..config import load_config
    from ..logfilter import compile_filter

    since = parse_since(args.since if args.since is not None else DEFAULT_SINCE)
    config = load_config(getattr(args, "config", None))
    kind = getattr(args, "backend", None) or config.backend
    out = _Printer()
    try:
        if kind == "local":
            from ..backends.base import FunctionNotFoundError

            if args.name not in config.local.functions:
                arn = f"arn:aws:lambda:{config.local.region}:{config.local.account_id}:function:{args.name}"
                raise FunctionNotFoundError(f"Function not found: {arn}")
            from ..backends.local import default_state_dir

            match = compile_filter(args.filter_pattern)
            directory = default_state_dir() / "logs"
            for timestamp, message in local_events(directory, args.name, since, args.follow):
                if match(message):
                    out.line(timestamp, message)
            return 0
        backend = open_backend(args, config=config)
        try:
            return _run_remote(backend, args, since, out)
        finally:
            backend.close()
    except KeyboardInterrupt:
        return 0  # ctrl+c is how --follow ends
    except BrokenPipeError:
        # The reader went away (`| head`): not an error. Stop Python complaining at exit too.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _run_remote(backend: Backend, args: argparse.Namespace, since: float, out: _Printer) -> int:
    import asyncio

    async def tail() -> None:
        if args.follow:
            # `aws logs tail --follow` reports a missing log group rather than waiting for it; a
            # follow would poll quietly for it to appear. One read of the last moment finds out.
            probe = backend.tail_logs(args.name, since=time.time(), follow=False, filter_pattern=args.filter_pattern)
            async for _event in probe:
                pass
        async for event in backend.tail_logs(
            args.name, since=since, follow=args.follow, filter_pattern=args.filter_pattern
        ):
            out.line(event.timestamp, event.message)

    asyncio.run(tail())
    return 0


class _Printer:
    def line(self, timestamp: float, message: str) -> None:
        # Flushed per line, so `--follow` output reaches a pipe (or a test) as it happens.
        sys.stdout.write(format_event(timestamp, message) + "\n")
        sys.stdout.flush()


# -- the local backend's persisted log lines --------------------------------------------------------


def local_events(directory: Path, function: str, since: float, follow: bool) -> Iterator[tuple[float, str]]:
    """(timestamp, message) of `function`'s persisted lines from `since`, oldest first; with
    `follow`, then the lines appended later, forever (across rotations: the log store's follower)."""
    from ..executor.logstore import LogFollower, read_log_file

    events = LogFollower(directory, function, interval=FOLLOW_POLL_S).events() if follow else read_log_file(directory, function)
    for event in events:
        if event.timestamp >= since:
            yield event.timestamp, event.message


__all__ = ["run_logs", "parse_since", "format_event", "local_events"]
