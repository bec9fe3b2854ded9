"""Waiting for something a background thread or process will do, in tests that are not async."""

from __future__ import annotations

import os
import time


def wait_for(predicate, timeout: float = 10.0, interval: float = 0.01):
    """The predicate's first truthy value within `timeout` seconds; AssertionError when it never comes."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting")
        time.sleep(interval)


def process_ended(pid: int) -> bool:
    """Whether process `pid` has exited (a zombie not yet reaped counts as ended)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rpartition(")")[2].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return True
    if state in ("Z", "X"):
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False
