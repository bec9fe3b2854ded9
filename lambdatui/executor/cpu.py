"""CPU in proportion to memory, as Lambda allocates it: one vCPU per 1,769 MB, at most 6.

Lambda gives a function CPU power in proportion to its memory size; a local process gets whatever
the machine has, so without a cap a 128 MB function runs as fast as a 3,008 MB one and a power
tuning run learns nothing. `CpuLimiter` caps an environment's process (and every process it starts)
with the kernel's CPU bandwidth controller, where this machine lets us:

* cgroup v2: a cgroup `lambdatui/<env>` below our own, with `cpu.max = "<quota> <period>"`;
* cgroup v1: the same below our cgroup of the `cpu` hierarchy, with `cpu.cfs_quota_us`.

quota = period × min(memory / 1769, 6, the CPUs we may use, any CPU limit an ancestor cgroup sets).

Nothing here is required: `available()` probes once whether a cgroup can be created and given a
quota; where it cannot (no root, read-only /sys, cgroup v2 with processes in our own cgroup, not
Linux) every call is a no-op and environments run uncapped. Cgroups are named
`env-<owner pid>-<n>`; each is removed when its environment is released, and the probe removes
empty ones whose owner is gone (left by a process that was killed).
"""

from __future__ import annotations

import errno
import itertools
import os
import signal
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from ..figures import MAX_VCPUS, vcpu_share

PERIOD_US = 100_000
MIN_QUOTA_US = 1_000  # the kernel refuses less
PARENT = "lambdatui"
RMDIR_WAIT_S = 1.0

__all__ = ["CpuHandle", "CpuLimiter", "MAX_VCPUS", "default_limiter", "vcpus_for"]


def usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def vcpus_for(memory_mb: int, ceiling: float | None = None) -> float:
    """Lambda's vCPUs for a memory size, capped by what this machine (and its cgroups) can give."""
    vcpus = min(vcpu_share(memory_mb), usable_cpus())
    if ceiling is not None:
        vcpus = min(vcpus, ceiling)
    return vcpus


@dataclass
class CpuHandle:
    """One environment's cgroup."""

    path: Path
    pid: int
    memory_mb: int
    vcpus: float
    quota_us: int
    owned: bool = True  # False: the quota was set on the sandbox's own cgroup (v2), not one made here


class CpuLimiter:
    """Caps processes' CPU with cgroups where possible; every method is safe to call where not."""

    def __init__(self, base: Path | None = None, version: int | None = None) -> None:
        """`base`/`version`: the cgroup to create `lambdatui/` in, and its cgroup version; found from
        /proc when not given (tests pass them)."""
        self._base = base
        self._version = version
        self._lock = threading.Lock()
        self._available: bool | None = None
        self.reason = ""  # why not available, for messages
        self._counter = itertools.count()
        self._pending: list[Path] = []  # cgroups whose processes had not gone yet at release
        self._ceiling: float | None = None

    # -- public ------------------------------------------------------------------------------

    @property
    def parent(self) -> Path | None:
        return self._base / PARENT if self._base is not None else None

    def available(self) -> bool:
        """Whether environments can be capped here: probed once (create a cgroup, write a quota)."""
        if self._available is None:
            with self._lock:
                if self._available is None:
                    self._available = self._probe()
        return self._available

    def vcpus(self, memory_mb: int) -> float | None:
        """The CPUs an environment of `memory_mb` gets here; None when CPU cannot be capped."""
        if not self.available():
            return None
        return vcpus_for(memory_mb, self._ceiling)

    def attach(self, pid: int, memory_mb: int) -> CpuHandle | None:
        """Put `pid` into a cgroup of its own capped for `memory_mb`; None if that is not possible."""
        if not self.available():
            return None
        self._retry_pending()
        vcpus = vcpus_for(memory_mb, self._ceiling)
        quota = max(MIN_QUOTA_US, int(PERIOD_US * vcpus))
        path = self._known_parent() / f"env-{os.getpid()}-{next(self._counter)}"
        try:
            self._make(path)
            self._set_quota(path, quota)
            _write(path / "cgroup.procs", str(pid))
        except OSError as e:
            self._remove(path)
            if e.errno == errno.ESRCH:  # the process is gone already
                return None
            # Something the probe did not foresee (a cpuset with no CPUs, a policy): stop trying, so
            # callers report honestly that CPU is not scaled.
            self._available = False
            self.reason = f"could not move a process into {path}: {e.strerror or e}"
            return None
        return CpuHandle(path, pid, memory_mb, vcpus, quota)

    def cap(self, pid: int, memory_mb: int, cgroup: Path) -> CpuHandle | None:
        """cgroup v2, where the environment already has a cgroup of its own (the sandbox's, in the
        same hierarchy): set the quota there. A process is in one cgroup per hierarchy, so moving it
        into one made here would take it out of its memory cgroup. None where not possible."""
        if not self.available() or self._version != 2:
            return None
        vcpus = vcpus_for(memory_mb, self._ceiling)
        quota = max(MIN_QUOTA_US, int(PERIOD_US * vcpus))
        try:
            _enable_cpu(cgroup.parent)
            self._set_quota(cgroup, quota)
        except OSError:
            return None
        return CpuHandle(cgroup, pid, memory_mb, vcpus, quota, owned=False)

    def release(self, handle: CpuHandle | None) -> None:
        """Remove an environment's cgroup once its processes are gone (any left are killed: they are
        the environment's, as a sandbox's processes go with it)."""
        if handle is None or not handle.owned:
            return
        if not self._remove(handle.path, kill=True):
            with self._lock:
                self._pending.append(handle.path)

    def close(self) -> None:
        """Remove what is left: pending cgroups, and `lambdatui/` itself when nothing else uses it."""
        self._retry_pending()
        parent = self.parent
        if parent is not None and self._available is not None:
            try:
                os.rmdir(parent)  # refused (EBUSY) while another process has environments in it
            except OSError:
                pass

    def cgroups(self) -> list[Path]:
        """This process's environment cgroups that exist now."""
        parent = self.parent
        if parent is None:
            return []
        try:
            return sorted(p for p in parent.glob(f"env-{os.getpid()}-*") if p.is_dir())
        except OSError:
            return []

    # -- probing -----------------------------------------------------------------------------

    def _probe(self) -> bool:
        if self._base is None or self._version is None:
            found = _discover()
            if found is None:
                self.reason = "no writable cgroup with a CPU controller was found"
                return False
            self._base, self._version = found
        parent = self._known_parent()
        try:
            self._setup_parent()
        except OSError as e:
            self.reason = f"cannot set up {parent}: {e.strerror or e}"
            try:
                os.rmdir(parent)  # made, but the cpu controller could not be enabled for it
            except OSError:
                pass
            return False
        self._clean_stale()
        probe = parent / f"probe-{os.getpid()}-{next(self._counter)}"
        try:
            self._make(probe)
            self._set_quota(probe, PERIOD_US // 10)
        except OSError as e:
            self.reason = f"cannot set a CPU quota in {parent}: {e.strerror or e}"
            self._remove(probe)
            try:
                os.rmdir(parent)
            except OSError:
                pass
            return False
        self._remove(probe)
        self._ceiling = self._ancestor_ceiling()
        return True

    def _location(self) -> tuple[Path, int]:
        """The base cgroup and its version: given, or found by the probe, which runs before anything
        makes a cgroup."""
        if self._base is None or self._version is None:
            raise RuntimeError("the cgroup to work in is not known before the probe")
        return self._base, self._version

    def _known_parent(self) -> Path:
        return self._location()[0] / PARENT

    def _setup_parent(self) -> None:
        base, version = self._location()
        parent = base / PARENT
        parent.mkdir(exist_ok=True)
        if version == 2:
            _enable_cpu(base)
            _enable_cpu(parent)

    def _make(self, path: Path) -> None:
        for attempt in range(3):
            try:
                path.mkdir()
                return
            except FileNotFoundError:
                if attempt == 2:
                    raise
                # Another lambdatui (or executor) removed the parent as it closed: make it again.
                self._setup_parent()

    def _set_quota(self, path: Path, quota_us: int) -> None:
        if self._version == 2:
            _write(path / "cpu.max", f"{quota_us} {PERIOD_US}")
        else:
            _write(path / "cpu.cfs_period_us", str(PERIOD_US))
            _write(path / "cpu.cfs_quota_us", str(quota_us))

    def _ancestor_ceiling(self) -> float | None:
        """The tightest CPU limit (in CPUs) of our cgroup and its ancestors: v1 refuses a child quota
        above it, and on v2 a bigger one would not be honoured anyway."""
        ceiling: float | None = None
        path, version = self._location()
        for _ in range(64):
            limit = _limit_of(path, version)
            if limit is not None:
                ceiling = limit if ceiling is None else min(ceiling, limit)
            if path.parent == path or not (path.parent / ("cgroup.procs")).exists():
                break
            path = path.parent
        return ceiling

    # -- removing ----------------------------------------------------------------------------

    def _clean_stale(self) -> None:
        """Remove empty cgroups left by lambdatui processes that no longer exist."""
        try:
            children = list(self._known_parent().iterdir())
        except OSError:
            return
        for path in children:
            parts = path.name.split("-")
            if len(parts) != 3 or parts[0] not in ("env", "probe") or not parts[1].isdigit():
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
        still = [p for p in pending if not self._remove(p, kill=True, wait_s=0)]
        if still:
            with self._lock:
                self._pending.extend(still)

    def _remove(self, path: Path, kill: bool = False, wait_s: float = RMDIR_WAIT_S) -> bool:
        deadline = time.monotonic() + wait_s
        while True:
            try:
                os.rmdir(path)
                return True
            except FileNotFoundError:
                return True
            except OSError:
                pass
            if kill:
                for pid in _procs(path):
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except OSError:
                        pass
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.01)


# -- the machine's cgroups -----------------------------------------------------------------------


def _write(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def _procs(path: Path) -> list[int]:
    try:
        return [int(line) for line in (path / "cgroup.procs").read_text().split() if line.strip().isdigit()]
    except OSError:
        return []


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _enable_cpu(path: Path) -> None:
    """cgroup v2: let `path`'s children use the cpu controller (refused when `path` has processes
    and is not the root: the "no internal processes" rule)."""
    control = path / "cgroup.subtree_control"
    if "cpu" in control.read_text().split():
        return
    _write(control, "+cpu")


def _limit_of(path: Path, version: int) -> float | None:
    try:
        if version == 2:
            quota, _, period = (path / "cpu.max").read_text().strip().partition(" ")
            if quota == "max":
                return None
            return int(quota) / int(period or PERIOD_US)
        quota_us = int((path / "cpu.cfs_quota_us").read_text())
        if quota_us < 0:
            return None
        return quota_us / int((path / "cpu.cfs_period_us").read_text())
    except (OSError, ValueError):
        return None


def _mounts() -> list[tuple[str, str, str, list[str]]]:
    """(root, mount point, fstype, super options) of each cgroup mount."""
    found: list[tuple[str, str, str, list[str]]] = []
    try:
        lines = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return found
    for line in lines:
        left, sep, right = line.partition(" - ")
        if not sep:
            continue
        fields, rfields = left.split(), right.split()
        if len(fields) < 5 or len(rfields) < 3 or rfields[0] not in ("cgroup", "cgroup2"):
            continue
        root, mount_point = _unescape(fields[3]), _unescape(fields[4])
        found.append((root, mount_point, rfields[0], rfields[2].split(",")))
    return found


def _unescape(field: str) -> str:
    return field.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n").replace("\\134", "\\")


def _own_cgroups() -> dict[str, str]:
    """Our cgroup path per hierarchy: "" for v2, the controller list (e.g. "cpu,cpuacct") for v1."""
    own: dict[str, str] = {}
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return own
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) == 3:
            own[parts[1]] = parts[2]
    return own


def _under(mount_point: str, mount_root: str, own_path: str) -> Path:
    """Our cgroup's folder: our path relative to the mount's root, below the mount point."""
    if own_path == mount_root or not own_path.startswith(mount_root.rstrip("/") + "/"):
        return Path(mount_point)  # at the root, or the mount shows only our part of the tree
    return Path(mount_point) / os.path.relpath(own_path, mount_root)


def _discover() -> tuple[Path, int] | None:
    """Where to make cgroups with a CPU controller: v2 if its cpu controller is usable, else v1."""
    mounts = _mounts()
    own = _own_cgroups()
    for root, mount_point, fstype, _options in mounts:
        if fstype != "cgroup2" or "" not in own:
            continue
        base = _under(mount_point, root, own[""])
        try:
            controllers = (base / "cgroup.controllers").read_text().split()
        except OSError:
            continue
        if "cpu" in controllers:
            return base, 2
    for root, mount_point, fstype, options in mounts:
        if fstype != "cgroup" or "cpu" not in options:
            continue
        own_path = next((path for controllers, path in own.items() if "cpu" in controllers.split(",")), None)
        if own_path is None:
            continue
        base = _under(mount_point, root, own_path)
        if (base / "cpu.cfs_quota_us").exists():
            return base, 1
    return None


_default: CpuLimiter | None = None
_default_lock = threading.Lock()


def default_limiter() -> CpuLimiter:
    """The process's one limiter (its probe runs once), shared by every executor."""
    global _default
    with _default_lock:
        if _default is None:
            import atexit

            _default = CpuLimiter()
            atexit.register(_default.close)
        return _default
