"""Cross-process locks on files (`flock`), and the temp files of atomic writes that they protect.

Several processes share one project and one state folder: the dashboard, `lambdatui serve`, one-shot
CLI runs. This module owns the two pieces they need to write without losing each other's work:

- `lock_file(path)`: an exclusive `flock` for a read-modify-write of a file that is replaced whole,
  waited for with a deadline. `flock` belongs to the open file description, so it also excludes
  other threads that opened the file themselves, and the kernel drops it when its process dies: a
  killed process never leaves a lock held.
- `temp_file(folder, prefix)` makes the temp file of an atomic write (written, then `os.replace`d
  over its target) and holds an exclusive lock on it until it is closed; `remove_stale_temp_files`
  removes the temp files that killed processes left behind: only old ones whose lock it can take,
  so another process's write in progress is never touched.

Why not the `filelock` package: it locks a separate lock file (left beside the user's
lambdatui.yaml for good), opened with O_TRUNC, so it cannot lock the descriptor of the temp file
being written, which is how a live temp file is told from a leftover; the few `fcntl.flock` calls
here do both. The log store (`executor/logstore.py`) takes its rotation lock with `flock` directly:
a shared lock around every line, where a deadline's polling would only add cost. POSIX only, as
the rest of lambdatui (process groups, /proc).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import stat
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

__all__ = [
    "LOCK_TIMEOUT_S",
    "STALE_TEMP_S",
    "LockTimeout",
    "lock_file",
    "remove_stale_temp_files",
    "temp_file",
]

# A lock is held for one read-modify-write of a small file (milliseconds): a process that holds it
# this long is stuck, and waiting on would hang the user's command.
LOCK_TIMEOUT_S = 10.0
# A temp file is written and renamed within milliseconds; one older than this whose lock is free was
# left by a process that died. The age also covers the instant between creating a temp file and
# locking it, when it is live but not yet locked.
STALE_TEMP_S = 30.0


class LockTimeout(TimeoutError):
    """Another process held the lock for longer than the deadline."""


def _acquire(fd: int, *, timeout: float | None) -> None:
    """Take an exclusive `flock` on `fd`; LockTimeout when it is not free within `timeout` seconds."""
    if timeout is None:
        fcntl.flock(fd, fcntl.LOCK_EX)
        return
    deadline = time.monotonic() + timeout
    delay = 0.001
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except OSError as e:
            if e.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise
        left = deadline - time.monotonic()
        if left <= 0:
            raise LockTimeout(f"still locked by another process after {timeout:g} s")
        time.sleep(min(delay, left))
        delay = min(delay * 2, 0.05)  # short waits first: locks are held for milliseconds


@contextlib.contextmanager
def lock_file(path: Path, *, timeout: float | None = LOCK_TIMEOUT_S) -> Iterator[None]:
    """Hold an exclusive lock on the file at `path`, a file that writers replace whole (temp file,
    then `os.replace`), for the block: a read-modify-write inside it sees every earlier one's result.

    The lock is on the file itself, so no lock file is left beside it. A writer replaces the file
    while holding the lock, so whoever was waiting gets a lock on the old file: that is noticed
    (`path` no longer names it) and the new one is locked instead. FileNotFoundError if `path` does
    not exist; LockTimeout after `timeout` seconds."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            _acquire(fd, timeout=left)
            held = os.fstat(fd)
            try:
                now = os.stat(path)
            except FileNotFoundError:
                now = None
            if now is not None and (now.st_dev, now.st_ino) == (held.st_dev, held.st_ino):
                yield  # the lock goes with the descriptor, closed below
                return
        finally:
            os.close(fd)
        if now is None:
            raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), str(path))


def temp_file(folder: Path, prefix: str, suffix: str = ".tmp") -> tuple[int, str]:
    """`tempfile.mkstemp` in `folder`, its descriptor exclusively locked until it is closed: a
    `remove_stale_temp_files` elsewhere sees it is live however old it looks."""
    fd, name = tempfile.mkstemp(dir=folder, prefix=prefix, suffix=suffix)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # a new file: nobody else can hold it
    except OSError:
        os.close(fd)
        os.unlink(name)
        raise
    return fd, name


def remove_stale_temp_files(folder: Path, prefix: str, suffix: str = ".tmp", older_than: float | None = None) -> list[Path]:
    """Remove the regular files in `folder` named `prefix…suffix` that are older than `older_than`
    seconds (default STALE_TEMP_S) and that no process holds locked: what `temp_file`'s users left
    when they were killed. Never follows a link; errors are ignored (another process may be doing the
    same). Returns what it removed."""
    older_than = STALE_TEMP_S if older_than is None else older_than
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    now = time.time()
    for entry in entries:
        name = entry.name
        if not (name.startswith(prefix) and name.endswith(suffix)) or len(name) <= len(prefix) + len(suffix):
            continue
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if not stat.S_ISREG(st.st_mode) or now - st.st_mtime < older_than:
            continue
        path = Path(entry.path)
        if _remove_if_unlocked(path, st):
            removed.append(path)
    return removed


def _remove_if_unlocked(path: Path, seen: os.stat_result) -> bool:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        st = os.fstat(fd)
        if (st.st_dev, st.st_ino) != (seen.st_dev, seen.st_ino):
            return False  # replaced since it was listed
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False  # its writer is alive and holds it
        try:
            current = os.lstat(path)
        except OSError:
            return False
        if (current.st_dev, current.st_ino) != (st.st_dev, st.st_ino):
            return False
        os.unlink(path)
        return True
    except OSError:
        return False
    finally:
        os.close(fd)
