"""One cgroup per execution environment: memory limited and accounted, processes counted and capped,
every process killed together, as Lambda's sandbox does.

Where this machine lets us (probed once by `CgroupFactory.available()`):

* cgroup v2: `<our cgroup>/lambdatui/sbx-<pid>-<n>` with `memory.max`, `memory.swap.max = 0`,
  `memory.oom.group = 1`, `pids.max`; figures from `memory.current`/`memory.peak`/`memory.stat`;
  killed with `cgroup.kill` (or freeze, kill, thaw on kernels before 5.14);
* cgroup v1: the same name in the `memory` hierarchy (`memory.limit_in_bytes`,
  `memory.memsw.limit_in_bytes`, `memory.max_usage_in_bytes`), in `pids` (`pids.max`) and in
  `freezer` when present (a kill freezes the group first, so nothing forks while it is emptied).

The executor moves the runtime's process into its cgroups while the runtime starts (`adopt`: the
first migration waits for an RCU grace period, too long to wait for before exec). Cgroups are removed when their environment is
released (any process still in them is killed first), and a probe removes empty ones whose owner
process has gone (left by an executor that was killed). Nothing here raises for a machine without
cgroups: `available()` is False and says why in `reason`.
"""

from __future__ import annotations

import errno
import itertools
import os
import re
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .cpu import _alive, _mounts, _own_cgroups, _procs, _under, _write

PARENT = "lambdatui"
PREFIX = "sbx"
RMDIR_WAIT_S = 2.0
FREEZE_WAIT_S = 1.0
V1_CONTROLLERS = ("memory", "pids", "freezer")


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def _stat_value(text: str, key: str) -> int:
    """A `key value` line of memory.stat / memory.events / memory.oom_control (0 when absent)."""
    for line in text.splitlines():
        name, _, value = line.partition(" ")
        if name == key:
            try:
                return int(value)
            except ValueError:
                return 0
    return 0


# memory.stat's file page cache: v2's own counters; v1's hierarchical (`total_`) ones.
_FILE_CACHE_V2 = re.compile(r"^((?:in)?active_file) (\d+)$", re.M)
_FILE_CACHE_V1 = re.compile(r"^total_((?:in)?active_file) (\d+)$", re.M)


@dataclass
class EnvCgroup:
    """One environment's cgroup (v2) or cgroups (v1: memory, and pids/freezer when present)."""

    version: int
    paths: dict[str, Path]  # controller -> folder ("unified" for v2)
    memory_limit: int = 0  # bytes
    _oom_base: int = field(default=0, repr=False)
    # The memory files polled every 10 ms while an invocation runs, kept open (pread is ~5x cheaper
    # than open/read/close).
    _fds: dict[str, int] = field(default_factory=dict, repr=False)

    def _pread(self, name: str) -> str:
        fd = self._fds.get(name)
        if fd is None:
            try:
                fd = os.open(self.memory_dir / name, os.O_RDONLY | os.O_CLOEXEC)
            except OSError:
                return ""
            self._fds[name] = fd
        try:
            return os.pread(fd, 65536, 0).decode()
        except OSError:
            return ""

    def close_files(self) -> None:
        for fd in self._fds.values():
            try:
                os.close(fd)
            except OSError:
                pass
        self._fds.clear()

    @property
    def memory_dir(self) -> Path:
        return self.paths["unified" if self.version == 2 else "memory"]

    def procs_files(self) -> list[str]:
        return sorted({str(p / "cgroup.procs") for p in self.paths.values()})

    def adopt(self, pid: int, descendants: Callable[[int], list[int]]) -> None:
        """Move `pid` into every controller's cgroup, then anything it started meanwhile.

        The first migration into a cgroup waits for an RCU grace period (the kernel's
        cgroup_threadgroup_rwsem; 5-25 ms measured on a 2-CPU VM), so the sandbox does this while
        the runtime starts, not before: processes it forks from then on are born inside; the
        sweep that follows moves those it started during the wait.
        """
        files = self.procs_files()
        for path in files:
            try:
                _write(Path(path), str(pid))
            except OSError as e:
                if e.errno == errno.ESRCH:
                    return  # it has gone already
                raise
        for _ in range(2):
            for child in descendants(pid):
                for path in files:
                    try:
                        _write(Path(path), str(child))
                    except OSError:
                        pass

    def pids(self) -> list[int]:
        found: set[int] = set()
        for path in self.paths.values():
            found.update(_procs(path))
        return sorted(found)

    # -- memory --------------------------------------------------------------------------------

    def usage_bytes(self) -> int:
        name = "memory.current" if self.version == 2 else "memory.usage_in_bytes"
        try:
            return int(self._pread(name) or 0)
        except ValueError:
            return 0

    def peak_bytes(self) -> int:
        name = "memory.peak" if self.version == 2 else "memory.max_usage_in_bytes"
        try:
            return int(self._pread(name) or 0)
        except ValueError:
            return 0

    def reset_peak(self) -> None:
        # Once per invoke: the file stays open for writing (see _fds), a pwrite each time.
        fd = self._fds.get("reset")
        if fd is None:
            name = "memory.peak" if self.version == 2 else "memory.max_usage_in_bytes"
            try:
                fd = os.open(self.memory_dir / name, os.O_WRONLY | os.O_CLOEXEC)
            except OSError:
                return
            self._fds["reset"] = fd
        try:
            # v1 resets on any write; v2 resets from Linux 6.12 (older kernels refuse: the peak then
            # covers the environment's life, and the polled figures still cover the invocation).
            os.write(fd, b"0")
        except OSError:
            pass

    def file_cache_bytes(self) -> tuple[int, int]:
        """(inactive, all) page cache of files: memory the kernel reclaims before it kills."""
        # One regex pass over memory.stat (~40 lines) rather than a Python loop: this runs on every
        # invoke's end and every memory poll.
        found = dict(_FILE_CACHE_V2.findall(self._pread("memory.stat")) if self.version == 2
                     else _FILE_CACHE_V1.findall(self._pread("memory.stat")))
        inactive = int(found.get("inactive_file", 0))
        return inactive, inactive + int(found.get("active_file", 0))

    def oom_kills(self) -> int:
        if self.version == 2:
            return _stat_value(_read(self.memory_dir / "memory.events"), "oom_kill")
        return _stat_value(_read(self.memory_dir / "memory.oom_control"), "oom_kill")

    def mark_oom_base(self) -> None:
        self._oom_base = self.oom_kills()

    def oom_killed(self) -> bool:
        """Whether the kernel's OOM killer acted in this cgroup since `mark_oom_base`."""
        return self.oom_kills() > self._oom_base

    # -- killing -------------------------------------------------------------------------------

    def kill(self) -> None:
        """SIGKILL every process in the cgroup, none escaping by forking meanwhile."""
        if self.version == 2:
            try:
                _write(self.paths["unified"] / "cgroup.kill", "1")
                return
            except OSError:
                pass  # before Linux 5.14: freeze, kill, thaw
            self._freeze_kill_thaw(self.paths["unified"] / "cgroup.freeze", "1", "0")
            return
        freezer = self.paths.get("freezer")
        if freezer is not None:
            self._freeze_kill_thaw(freezer / "freezer.state", "FROZEN", "THAWED")
        else:
            for _ in range(10):
                pids = self.pids()
                if not pids:
                    break
                _kill_all(pids)

    def _freeze_kill_thaw(self, state: Path, frozen: str, thawed: str) -> None:
        try:
            _write(state, frozen)
        except OSError:
            _kill_all(self.pids())
            return
        deadline = time.monotonic() + FREEZE_WAIT_S
        while time.monotonic() < deadline:
            current = _read(state).strip()
            # v1 reads FREEZING until every task stopped; v2's cgroup.freeze reads back what was
            # written, cgroup.events says "frozen 1" when done.
            if current == frozen and (self.version == 1 or "frozen 1" in _read(state.parent / "cgroup.events")):
                break
            time.sleep(0.002)
        _kill_all(self.pids())
        try:
            _write(state, thawed)  # SIGKILL is delivered once the tasks run again
        except OSError:
            pass

    def remove(self, wait_s: float = RMDIR_WAIT_S) -> bool:
        """Remove the cgroup folders once empty (killing what is left); False if some remain."""
        self.close_files()
        deadline = time.monotonic() + wait_s
        remaining = dict(self.paths)
        while remaining:
            for key, path in list(remaining.items()):
                try:
                    os.rmdir(path)
                    del remaining[key]
                except FileNotFoundError:
                    del remaining[key]
                except OSError:
                    pass
            if not remaining:
                return True
            if time.monotonic() >= deadline:
                return False
            self.kill()
            time.sleep(0.01)
        return True


def _kill_all(pids: list[int]) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


class CgroupFactory:
    """Makes environments' cgroups where possible; `available()` is False (with `reason`) where not."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._available: bool | None = None
        self.reason = ""
        self.version = 0
        self.bases: dict[str, Path] = {}  # controller -> our cgroup's folder in that hierarchy
        self.controllers: tuple[str, ...] = ()
        self._counter = itertools.count()
        self._pending: list[EnvCgroup] = []

    def available(self) -> bool:
        if self._available is None:
            with self._lock:
                if self._available is None:
                    self._available = self._probe()
        return self._available

    def create(self, memory_limit_mb: int, pids_max: int) -> EnvCgroup | None:
        """A new environment's cgroup with its limits; None where cgroups are not available."""
        if not self.available():
            return None
        self._retry_pending()
        name = f"{PREFIX}-{os.getpid()}-{next(self._counter)}"
        group = EnvCgroup(self.version, {c: self.bases[c] / PARENT / name for c in self.controllers})
        try:
            for controller, path in group.paths.items():
                self._make(controller, path)
            self._limit(group, memory_limit_mb * 1024 * 1024, pids_max)
        except OSError as e:
            group.remove(wait_s=0)
            # Something the probe did not foresee: stop trying, so the isolation report says so.
            self._available = False
            self.reason = f"could not set up {group.memory_dir}: {e.strerror or e}"
            return None
        group.mark_oom_base()
        return group

    def release(self, group: EnvCgroup | None) -> None:
        if group is None:
            return
        if not group.remove():
            with self._lock:
                self._pending.append(group)

    def close(self) -> None:
        """Remove what is left, and `lambdatui/` itself where nothing else uses it."""
        self._retry_pending()
        if self._available:
            for controller in self.controllers:
                try:
                    os.rmdir(self.bases[controller] / PARENT)  # EBUSY while another process uses it
                except OSError:
                    pass

    # -- probing ---------------------------------------------------------------------------------

    def _probe(self) -> bool:
        found = _discover()
        if isinstance(found, str):
            self.reason = found
            return False
        self.version, self.bases = found
        self.controllers = ("unified",) if self.version == 2 else tuple(c for c in V1_CONTROLLERS if c in self.bases)
        try:
            for controller in self.controllers:
                self._setup_parent(controller)
        except OSError as e:
            where = self.bases[self.controllers[0]]
            if self.version == 2 and e.errno == errno.EBUSY:
                self.reason = (
                    f"cgroup v2: {where} holds processes, so its memory and pids controllers cannot be handed to "
                    "sub-cgroups (run lambdatui from a cgroup of its own with delegation, e.g. "
                    "`systemd-run --user --scope -p Delegate=yes lambdatui …`, then move it to a leaf)"
                )
            else:
                self.reason = f"cannot set up {where / PARENT}: {e.strerror or e}"
            return False
        self._clean_stale()
        probe = EnvCgroup(self.version, {c: self.bases[c] / PARENT / f"probe-{os.getpid()}-{next(self._counter)}" for c in self.controllers})
        try:
            for controller, path in probe.paths.items():
                self._make(controller, path)
            self._limit(probe, 64 * 1024 * 1024, 100)
        except OSError as e:
            self.reason = f"cannot limit memory in {probe.memory_dir.parent}: {e.strerror or e}"
            probe.remove(wait_s=0)
            return False
        probe.remove(wait_s=0)
        return True

    def _setup_parent(self, controller: str) -> None:
        parent = self.bases[controller] / PARENT
        parent.mkdir(exist_ok=True)
        if self.version == 2:
            for path in (self.bases[controller], parent):
                _enable(path, ("memory", "pids"))

    def _make(self, controller: str, path: Path) -> None:
        for attempt in range(3):
            try:
                path.mkdir()
                return
            except FileNotFoundError:
                if attempt == 2:
                    raise
                self._setup_parent(controller)  # another process removed the parent as it closed

    def _limit(self, group: EnvCgroup, memory_bytes: int, pids_max: int) -> None:
        group.memory_limit = memory_bytes
        if self.version == 2:
            path = group.paths["unified"]
            _write(path / "memory.max", str(memory_bytes))
            for name, value in (("memory.swap.max", "0"), ("memory.oom.group", "1")):
                try:
                    _write(path / name, value)
                except OSError:
                    pass  # no swap accounting, or an older kernel
            _write(path / "pids.max", str(pids_max))
            return
        memory = group.paths["memory"]
        _write(memory / "memory.limit_in_bytes", str(memory_bytes))
        if (memory / "memory.memsw.limit_in_bytes").exists():
            try:
                _write(memory / "memory.memsw.limit_in_bytes", str(memory_bytes))  # no swapping past it
            except OSError:
                pass
        if "pids" in group.paths:
            _write(group.paths["pids"] / "pids.max", str(pids_max))

    def _clean_stale(self) -> None:
        for controller in self.controllers:
            try:
                children = list((self.bases[controller] / PARENT).iterdir())
            except OSError:
                continue
            for path in children:
                parts = path.name.split("-")
                if len(parts) != 3 or parts[0] not in (PREFIX, "probe") or not parts[1].isdigit():
                    continue
                owner = int(parts[1])
                if owner == os.getpid() or _alive(owner) or _procs(path):
                    continue
                try:
                    os.rmdir(path)
                except OSError:
                    pass

    def _retry_pending(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, []
        still = [g for g in pending if not g.remove(wait_s=0)]
        if still:
            with self._lock:
                self._pending.extend(still)


def _enable(path: Path, controllers: tuple[str, ...]) -> None:
    """cgroup v2: let `path`'s children use `controllers` (refused, EBUSY, where `path` has
    processes and is not the root: the "no internal processes" rule)."""
    have = _read(path / "cgroup.subtree_control").split()
    missing = [c for c in controllers if c not in have]
    if missing:
        _write(path / "cgroup.subtree_control", " ".join("+" + c for c in missing))


def _discover() -> tuple[int, dict[str, Path]] | str:
    """(version, controller -> our cgroup's folder) for a writable hierarchy with a memory
    controller, or why there is none."""
    mounts = _mounts()
    own = _own_cgroups()
    if not mounts:
        return "no cgroup file system is mounted (or /proc/self/mountinfo is unreadable)"
    v1: dict[str, Path] = {}
    for root, mount_point, fstype, options in mounts:
        if fstype != "cgroup":
            continue
        for controller in V1_CONTROLLERS:
            if controller not in options or controller in v1:
                continue
            own_path = next((path for names, path in own.items() if controller in names.split(",")), None)
            if own_path is not None:
                v1[controller] = _under(mount_point, root, own_path)
    if "memory" in v1 and os.access(v1["memory"], os.W_OK):
        return 1, v1
    v1_reason = f"cgroup v1: {v1['memory']} is not writable by this user" if "memory" in v1 else ""
    for root, mount_point, fstype, _options in mounts:
        if fstype != "cgroup2" or "" not in own:
            continue
        base = _under(mount_point, root, own[""])
        controllers = _read(base / "cgroup.controllers").split()
        if "memory" in controllers and "pids" in controllers:
            if not os.access(base, os.W_OK):
                return f"cgroup v2: {base} is not writable by this user (no delegated cgroup)"
            return 2, {"unified": base}
        if v1_reason:
            return v1_reason  # a hybrid set-up whose v2 part has no memory controller
        if controllers or (base / "cgroup.controllers").exists():
            return f"cgroup v2: the memory and pids controllers are not available in {base}"
    return v1_reason or "no cgroup hierarchy with a memory controller was found"


_default: CgroupFactory | None = None
_default_lock = threading.Lock()


def default_factory() -> CgroupFactory:
    """The process's one factory (its probe runs once), shared by every executor."""
    global _default
    with _default_lock:
        if _default is None:
            import atexit

            _default = CgroupFactory()
            atexit.register(_default.close)
        return _default


__all__ = ["CgroupFactory", "EnvCgroup", "default_factory"]
