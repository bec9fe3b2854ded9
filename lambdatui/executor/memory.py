"""Memory of an environment's processes, read from /proc.

Max Memory Used is the environment's peak resident set during one invocation: before each invoke
the kernel's high-water mark is reset (writing 5 to /proc/PID/clear_refs, Linux 4.0+), after it
VmHWM is read. Both go through file descriptors kept open, so the pair costs about 10 µs. Processes
the handler starts are counted by polling the process tree while an invocation runs.
"""

from __future__ import annotations

import os


def _field_kb(status: bytes, name: bytes) -> int:
    i = status.find(name)
    if i < 0:
        return 0
    j = status.find(b"kB", i)
    try:
        return int(status[i + len(name) : j])
    except ValueError:
        return 0


def children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/children", "rb") as f:
                found.extend(int(p) for p in f.read().split())
        except OSError:
            continue
    return found


def rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", "rb") as f:
            return _field_kb(f.read(), b"VmRSS:")
    except OSError:
        return 0


class ProcessMemory:
    def __init__(self, pid: int) -> None:
        self.pid = pid
        try:
            self._status = os.open(f"/proc/{pid}/status", os.O_RDONLY)
        except OSError:
            self._status = -1
        try:
            self._clear = os.open(f"/proc/{pid}/clear_refs", os.O_WRONLY)
        except OSError:
            self._clear = -1

    def _read(self) -> bytes:
        if self._status < 0:
            return b""
        try:
            return os.pread(self._status, 8192, 0)
        except OSError:
            return b""

    def reset_peak(self) -> None:
        if self._clear >= 0:
            try:
                os.write(self._clear, b"5")
            except OSError:
                pass

    def peak_kb(self) -> int:
        return _field_kb(self._read(), b"VmHWM:")

    def rss_kb(self) -> int:
        return _field_kb(self._read(), b"VmRSS:")

    def tree_rss_kb(self) -> int:
        """Resident memory of the process and every descendant now."""
        total = self.rss_kb()
        pending = children(self.pid)
        seen = set()
        while pending:
            pid = pending.pop()
            if pid in seen:
                continue
            seen.add(pid)
            total += rss_kb(pid)
            pending.extend(children(pid))
        return total

    def close(self) -> None:
        for fd in (self._status, self._clear):
            if fd >= 0:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self._status = self._clear = -1
