"""How much memory an execution environment uses: unique memory, never summed RSS.

Lambda's Max Memory Used and its out-of-memory kill both come from the sandbox's memory cgroup,
which charges each page once, however many processes map it. Adding up the resident sets of a
process tree instead counts a forked child's copy-on-write pages once per child: 24 small forks
of a 40 MB runtime read as ~1 GB. So:

* `CgroupMemory`, where the environment has its own memory cgroup (see `cgroups.py`): the cgroup's
  usage, less what is not the function's memory on Lambda: its page cache of files the kernel would
  drop first (`inactive_file`), and the pages of its private `/tmp` (a tmpfs here; ephemeral storage,
  a disk, on Lambda). The peak adds the cgroup's own high-water mark, taken with the same deductions.
* `ProcessMemory` elsewhere: the proportional set size (PSS, from `/proc/<pid>/smaps_rollup`)
  summed over the tree, which splits each shared page among its sharers, so the sum counts it once.
  A runtime without children is read from its status (VmRSS), which is cheap; PSS, which walks page
  tables, is read only while the tree has children, and no more often than keeps its cost under a
  fifth of the time.

Both include the runtime's own peak (VmHWM, the kernel's exact high-water mark for the process,
reset before each invoke by writing 5 to /proc/PID/clear_refs), so a brief spike between two polls
still counts. The environment's OOM decision uses the same figure as Max Memory Used.
"""

from __future__ import annotations

import os
import time

from .cgroups import EnvCgroup

PSS_BUDGET = 0.2  # at most this share of the time goes to reading PSS


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


def descendants(pid: int) -> list[int]:
    """Every process below `pid` now (children first)."""
    found: list[int] = []
    pending = children(pid)
    seen: set[int] = set()
    while pending:
        child = pending.pop()
        if child in seen:
            continue
        seen.add(child)
        found.append(child)
        pending.extend(children(child))
    return found


def rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", "rb") as f:
            return _field_kb(f.read(), b"VmRSS:")
    except OSError:
        return 0


def pss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as f:
            return _field_kb(f.read(), b"\nPss:")
    except OSError:
        return 0


class ProcessMemory:
    """Unique memory of a process tree, by PSS (see the module docstring)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        try:
            self._status = os.open(f"/proc/{pid}/status", os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            self._status = -1
        try:
            self._clear = os.open(f"/proc/{pid}/clear_refs", os.O_WRONLY | os.O_CLOEXEC)
        except OSError:
            self._clear = -1
        self._last_tree = 0
        self._next_tree_read = 0.0

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

    def process_peak_kb(self) -> int:
        """The runtime process's own high-water mark since the last reset (VmHWM)."""
        return _field_kb(self._read(), b"VmHWM:")

    def peak_kb(self) -> int:
        return self.process_peak_kb()

    def rss_kb(self) -> int:
        return _field_kb(self._read(), b"VmRSS:")

    def used_kb(self) -> int:
        """The environment's unique memory now."""
        tree = descendants(self.pid)
        if not tree:
            return self.rss_kb()
        now = time.monotonic()
        if now < self._next_tree_read:
            return max(self._last_tree, self.rss_kb())
        total = pss_kb(self.pid) + sum(pss_kb(pid) for pid in tree)
        cost = time.monotonic() - now
        self._next_tree_read = now + cost / PSS_BUDGET
        self._last_tree = total
        return total

    # The environment's invoke loop polls this name; it is unique memory, no longer summed RSS.
    tree_rss_kb = used_kb

    def oom_killed(self) -> bool:
        """Whether the kernel's OOM killer took the environment (known only with a cgroup)."""
        return False

    def close(self) -> None:
        for fd in (self._status, self._clear):
            if fd >= 0:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self._status = self._clear = -1


class CgroupMemory(ProcessMemory):
    """Unique memory from the environment's memory cgroup (see the module docstring)."""

    def __init__(self, pid: int, cgroup: EnvCgroup, tmp_fd: int | None = None) -> None:
        super().__init__(pid)
        self.cgroup = cgroup
        self._tmp_fd = tmp_fd  # the private /tmp's root (O_PATH), for how much of it is in use
        # The runtime joins its cgroup while it starts (see cgroups.EnvCgroup.adopt): the anonymous
        # memory it had by then stays charged where it was, and is added here.
        self.charged_elsewhere_kb = _field_kb(self._read(), b"RssAnon:")

    def tmp_used_bytes(self) -> int:
        if self._tmp_fd is None:
            return 0
        try:
            st = os.fstatvfs(self._tmp_fd)
        except OSError:
            return 0
        return (st.f_blocks - st.f_bfree) * st.f_frsize

    def reset_peak(self) -> None:
        super().reset_peak()
        self.cgroup.reset_peak()

    def used_kb(self) -> int:
        inactive, _ = self.cgroup.file_cache_bytes()
        used = max(self.cgroup.usage_bytes() - inactive - self.tmp_used_bytes(), 0) // 1024
        return max(used + self.charged_elsewhere_kb, self.rss_kb())

    tree_rss_kb = used_kb

    def peak_kb(self) -> int:
        # The cgroup's high-water mark counted /tmp and page cache at that moment; what they hold
        # now is the best estimate of what to take off (an under-estimate when they shrank since).
        process_peak = self.process_peak_kb()
        raw = self.cgroup.peak_bytes() - self.tmp_used_bytes()
        if raw // 1024 + self.charged_elsewhere_kb <= process_peak:
            return process_peak  # deducting the page cache could only lower it: memory.stat unread
        _, cache = self.cgroup.file_cache_bytes()
        return max(process_peak, max(raw - cache, 0) // 1024 + self.charged_elsewhere_kb)

    def oom_killed(self) -> bool:
        return self.cgroup.oom_killed()

    def close(self) -> None:
        super().close()
        if self._tmp_fd is not None:
            try:
                os.close(self._tmp_fd)
            except OSError:
                pass
            self._tmp_fd = None
