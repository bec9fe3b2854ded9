"""The execution environment's sandbox: how a runtime process is started, contained, measured and
killed, and which of Lambda's isolation guarantees hold on this machine.

Lambda runs each execution environment in a sandbox of its own (AWS: "Lambda execution
environment"): its processes die together, its memory is one cgroup's, `/tmp` is its own
(`EphemeralStorage`, 512–10,240 MB) and survives warm invokes and a reset after a timeout or crash,
it cannot see the host, it has 1,024 file descriptors and 742 processes, `/bin/sh` is bash, and
there is no instance-metadata service. What this module does about each, where the machine allows
(probed once, `capabilities()` says what holds and why not):

* **Containment.** Every runtime is started by a small fork server (`zygote.py`) that is a child
  subreaper and kills what a dead runtime leaves; the runtime itself is a subreaper, so orphans of
  its children stay its descendants; with cgroups (`cgroups.py`) a kill takes the whole cgroup,
  frozen first. A handler that double-forks and calls `setsid` cannot outlive its environment.
* **Memory** by unique memory, never summed RSS (`memory.py`): the environment's cgroup, or PSS.
  The cgroup's limit is `memory_size` plus the private /tmp's size (tmpfs pages are charged to the
  cgroup that writes them; on Lambda /tmp is a disk); the `memory_size` limit itself is enforced on
  the unique-memory figure, as before, and a kernel OOM kill is reported as Runtime.OutOfMemory.
* **Private /tmp** through a mount namespace: a tmpfs of `ephemeral_storage` MB. Without mount
  namespaces: a folder of the environment's, as TMPDIR (software that honours TMPDIR uses it; a
  literal "/tmp/x" still reaches the host's /tmp).
* **The host hidden**: the executor's (and its ancestors') `/proc/<pid>/environ` read empty, and the
  user's home folder is an empty read-only tmpfs. What the function needs from there stays: its code,
  layers, the runtime's interpreter, lambdatui's cache, and paths named in its environment variables.
* **rlimits**: RLIMIT_NOFILE 1024 (soft and hard); processes 742 through the pids cgroup (root
  ignores RLIMIT_NPROC, and for a user it would count all their processes); core files off (Lambda's
  value is not recorded; a core dump would land in the code folder, read-only on Lambda).
* **Environment**: `AWS_EC2_METADATA_DISABLED=true` (SDKs without credentials fail at once instead
  of probing 169.254.169.254 for seconds), and `PATH` starts with a folder where `python3`/`python`
  (or `node`) is the function's runtime, as Lambda's starts with /var/lang/bin.
* **/bin/sh is bash** in the runtime's namespace (bind-mounted over it); without one, a custom
  runtime's `#!/bin/sh` bootstrap is run by bash.

`LAMBDATUI_SANDBOX=off` turns all of it off (processes started as before, figures by PSS).
Where Linux is not the platform nothing here is available and runtimes start as plain processes.
"""

from __future__ import annotations

import atexit
import functools
import hashlib
import os
import pwd
import resource
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Protocol

from . import zygote as zygote_protocol
from .cgroups import CgroupFactory, EnvCgroup, default_factory
from .memory import CgroupMemory, ProcessMemory, descendants
from .spec import FunctionSpec

ZYGOTE = Path(zygote_protocol.__file__).resolve()
LAMBDA_NOFILE = 1024  # RLIMIT_NOFILE on Lambda, soft and hard (lambda-facts: "The sandbox")
LAMBDA_PROCESSES = 742  # processes and threads per sandbox, recorded on AWS (ulimit -u)
LAMBDA_PATH = "/usr/local/bin:/usr/bin/:/bin:/opt/bin"
ENV_SWITCH = "LAMBDATUI_SANDBOX"
ZYGOTE_START_S = 15.0
EXEC_WAIT_S = 30.0
ZYGOTE_RETRY_S = 5.0


class ProcessLike(Protocol):
    """What an Environment needs of its runtime's process (subprocess.Popen's shape)."""

    pid: int
    stdout: IO[bytes]
    stderr: IO[bytes]
    memory: ProcessMemory
    warnings: list[str]

    # The ended process's peak resident memory in KB (wait4's ru_maxrss), 0 until it has ended.
    exit_peak_kb: int
    # When the runtime itself started (time.perf_counter), after the sandbox's set-up: Lambda's
    # INIT phase begins once its sandbox exists, so Init Duration counts from here.
    started_at: float

    @property
    def returncode(self) -> int | None: ...
    def exit_fd(self) -> int: ...
    def cgroup_v2(self) -> Path | None: ...
    def poll(self) -> int | None: ...
    def wait(self, timeout: float | None = None) -> int: ...
    def kill_all(self) -> None: ...
    def release(self) -> None: ...


# -- what holds here ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Guarantee:
    holds: bool
    how: str  # the mechanism when it holds, else why not and what happens instead

    def to_dict(self) -> dict[str, Any]:
        return {"holds": self.holds, "how": self.how}


@dataclass(frozen=True)
class Isolation:
    """Which of Lambda's sandbox guarantees hold for environments started here."""

    processes_contained: Guarantee
    memory_cgroup: Guarantee
    private_tmp: Guarantee
    environment_hidden: Guarantee
    home_hidden: Guarantee
    open_files_limit: Guarantee
    process_limit: Guarantee
    sh_is_bash: Guarantee
    no_metadata_service: Guarantee

    def items(self) -> list[tuple[str, Guarantee]]:
        return [(name, getattr(self, name)) for name in self.__dataclass_fields__]

    def to_dict(self) -> dict[str, Any]:
        return {name: g.to_dict() for name, g in self.items()}

    def summary(self) -> str:
        held = sum(g.holds for _, g in self.items())
        return f"{held} of {len(self.items())} sandbox guarantees hold"


# -- the fork server -----------------------------------------------------------------------------


class ZygoteError(OSError):
    pass


class _ZygoteClient:
    """The process's connection to its fork server, started on first use."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sock: socket.socket | None = None
        self._starting: socket.socket | None = None  # launched, its hello not read yet
        self._proc: subprocess.Popen[bytes] | None = None
        self._owner = 0
        self.caps: dict[str, Any] = {}
        self.error = ""
        self.stage = ""
        self._failed_at = 0.0

    def ensure(self) -> bool:
        with self._lock:
            return self._ensure()

    def prestart(self) -> None:
        """Start the fork server without waiting for it: it gets ready (~30 ms of interpreter
        start-up) while the executor does other work, and the first cold start does not wait."""
        with self._lock:
            if self._sock is not None or self._starting is not None or not sys.platform.startswith("linux"):
                return
            if self._failed_at and time.monotonic() - self._failed_at < ZYGOTE_RETRY_S:
                return
            try:
                self._launch()
            except OSError as e:
                self.error = f"the sandbox's fork server did not start: {e}"
                self._failed_at = time.monotonic()
                self._stop()

    def _ensure(self) -> bool:
        if self._sock is not None and self._owner == os.getpid() and self._proc is not None and self._proc.poll() is None:
            return True
        if self._owner and self._owner != os.getpid():
            self._sock = self._starting = None  # a forked copy of the executor: start a fork server of its own
        if self._starting is None and self._failed_at and time.monotonic() - self._failed_at < ZYGOTE_RETRY_S:
            return False
        try:
            if self._starting is None:
                self._stop()
                self._launch()
            self._handshake()
            self._failed_at = 0.0
            return True
        except (OSError, EOFError, ValueError) as e:
            self.error = f"the sandbox's fork server did not start: {e}"
            self._failed_at = time.monotonic()
            self._stop()
            return False

    def _launch(self) -> None:
        _clean_stale_stages()
        self.stage = tempfile.mkdtemp(prefix=f"lambdatui-stage-{os.getpid()}-")
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-S", "-I", str(ZYGOTE), self.stage, str(theirs.fileno())],
                pass_fds=(theirs.fileno(),),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                start_new_session=True,  # no terminal signals: it goes when our socket closes
                env={"PATH": os.defpath},  # nothing of ours for a function to find in its /proc
            )
        finally:
            theirs.close()
        self._starting = ours
        self._owner = os.getpid()

    def _handshake(self) -> None:
        ours, self._starting = self._starting, None
        if ours is None or self._proc is None:
            raise ZygoteError("the sandbox's fork server was not started")
        ours.settimeout(ZYGOTE_START_S)
        try:
            hello, _ = zygote_protocol.receive(ours)
        except (OSError, EOFError) as e:
            detail = b""
            if self._proc.stderr is not None:
                try:
                    self._proc.wait(timeout=1)
                    detail = self._proc.stderr.read()[-400:]
                except (OSError, subprocess.TimeoutExpired):
                    pass
            raise ZygoteError(f"{e or 'no answer'} {detail.decode(errors='replace').strip()}".strip()) from None
        if self._proc.stderr is not None:
            self._proc.stderr.close()
        ours.settimeout(None)
        self._sock = ours
        self.caps = hello.get("caps", {})
        self.error = ""

    def request(self, message: dict[str, Any], fds: list[int] | None = None) -> dict[str, Any]:
        with self._lock:
            if not self._ensure() or self._sock is None:
                raise ZygoteError(self.error or "the sandbox's fork server is not running")
            try:
                zygote_protocol.send(self._sock, message, fds)
                reply, _ = zygote_protocol.receive(self._sock)
            except (OSError, EOFError) as e:
                self.error = f"the sandbox's fork server stopped answering: {e or 'closed'}"
                self._stop()
                raise ZygoteError(self.error) from None
        if "error" in reply:
            raise ZygoteError(int(reply.get("errno") or 0), str(reply["error"]))
        return reply

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def _stop(self, wait: bool = True) -> None:
        for sock in (self._sock, self._starting):
            if sock is not None:
                try:
                    sock.close()
                except OSError:
                    pass
        self._sock = self._starting = None
        if self._proc is not None and wait:
            try:
                self._proc.wait(timeout=2)  # it kills its runtimes and exits when the socket closes
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._proc = None
        if self.stage:
            try:
                os.rmdir(self.stage)
            except OSError:
                pass
            self.stage = ""

    def close(self) -> None:
        """At exit: the fork server sees its socket close, kills whatever runtime is left and exits
        by itself; nothing to wait for (its mounts live in its own namespace)."""
        with self._lock:
            if self._owner == os.getpid():
                self._stop(wait=False)


def _clean_stale_stages() -> None:
    """Remove the stage folders (empty) and default cache folders of executors that have gone
    without cleaning up (killed)."""
    root = Path(tempfile.gettempdir())
    try:
        entries = list(root.glob("lambdatui-stage-*")) + list(root.glob("lambdatui-sandbox-*"))
    except OSError:
        return
    for path in entries:
        parts = path.name.split("-")
        if len(parts) < 4 or not parts[2].isdigit() or int(parts[2]) == os.getpid():
            continue
        try:
            os.kill(int(parts[2]), 0)
            continue
        except ProcessLookupError:
            pass
        except PermissionError:
            continue
        if path.name.startswith("lambdatui-sandbox-"):
            shutil.rmtree(path, ignore_errors=True)
            continue
        try:
            path.rmdir()
        except OSError:
            pass


_zygote: _ZygoteClient | None = None
_zygote_lock = threading.Lock()


def _the_zygote() -> _ZygoteClient:
    global _zygote
    with _zygote_lock:
        if _zygote is None:
            _zygote = _ZygoteClient()
            atexit.register(_zygote.close)
        return _zygote


# -- processes -----------------------------------------------------------------------------------


def _kill_tree(pid: int) -> None:
    """SIGKILL everything below `pid`, then `pid` (a runtime is a subreaper: orphans stay below it)."""
    for _ in range(5):
        below = descendants(pid)
        if not below:
            break
        for child in below:
            try:
                os.kill(child, signal.SIGKILL)
            except OSError:
                pass
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        pass


# How long the fork server may take to report a status once the runtime has ended.
STATUS_AFTER_EXIT_S = 1.0


class SandboxProcess:
    """A runtime started by the fork server: Popen's shape, its exit status read from a pipe."""

    def __init__(
        self,
        pid: int,
        stdout: IO[bytes],
        stderr: IO[bytes],
        status_fd: int,
        memory: ProcessMemory,
        cgroup: EnvCgroup | None,
        warnings: list[str],
        on_oom: Callable[[], None] | None,
        started_at: float,
    ) -> None:
        self.pid = pid
        self.started_at = started_at
        self.stdout = stdout
        self.stderr = stderr
        self.returncode: int | None = None
        self.exit_peak_kb = 0
        self.memory = memory
        self.cgroup = cgroup
        self.warnings = warnings
        self._status = status_fd
        self._buffer = b""
        self._on_oom = on_oom
        os.set_blocking(status_fd, False)
        # Signals go through a pidfd: once the fork server has reaped the runtime its pid may be
        # another process's, and a pidfd still names the one we started.
        try:
            self._pidfd = os.pidfd_open(pid)
        except OSError:
            self._pidfd = -1  # gone already (its exec failed)

    def exit_fd(self) -> int:
        return self._status

    def cgroup_v2(self) -> Path | None:
        """The environment's cgroup when it is a v2 one (where a CPU quota must go too)."""
        return self.cgroup.paths["unified"] if self.cgroup is not None and self.cgroup.version == 2 else None

    def poll(self) -> int | None:
        if self.returncode is not None:
            return self.returncode
        if self._status < 0:
            return None
        if not self._buffer and self._pidfd >= 0 and select.select([self._pidfd], [], [], 0)[0]:
            # It has ended (its pidfd is readable once it is a zombie) but the fork server may not
            # have reaped it and sent the status yet: wait for that briefly, so that an environment
            # whose runtime died while idle is never taken for a live one.
            select.select([self._status], [], [], STATUS_AFTER_EXIT_S)
        while True:
            try:
                data = os.read(self._status, 64)
            except BlockingIOError:
                return None
            except OSError:
                data = b""
            if data:
                self._buffer += data
                if len(self._buffer) >= 9:
                    break
                continue
            break
        if self._buffer[:1] == zygote_protocol.STATUS_EXITED and len(self._buffer) >= 9:
            status, self.exit_peak_kb = struct.unpack(">ii", self._buffer[1:9])
            self.returncode = os.waitstatus_to_exitcode(status)
        else:
            self.returncode = -signal.SIGKILL  # the fork server went with it: killed
        if self._on_oom is not None and self.memory.oom_killed():
            self._on_oom()
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            code = self.poll()
            if code is not None:
                return code
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                raise subprocess.TimeoutExpired(str(self.pid), timeout or 0)
            select.select([self._status], [], [], remaining)

    def kill_all(self) -> None:
        if self.cgroup is not None:
            self.cgroup.kill()
        if self.poll() is None and self._pidfd >= 0:
            for child in descendants(self.pid):  # the runtime is their subreaper: still its zombies at worst
                try:
                    os.kill(child, signal.SIGKILL)
                except OSError:
                    pass
            try:
                signal.pidfd_send_signal(self._pidfd, signal.SIGKILL)
            except OSError:
                pass
        # Once the runtime has gone, what it left behind was the fork server's to kill (or the cgroup's).

    def release(self) -> None:
        for fd in (self._status, self._pidfd):
            if fd >= 0:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self._status = self._pidfd = -1


class PlainProcess:
    """A runtime started with subprocess.Popen, where the fork server is not available."""

    def __init__(self, popen: subprocess.Popen[bytes], memory: ProcessMemory, warnings: list[str], started_at: float) -> None:
        self.popen = popen
        self.started_at = started_at
        self.pid = popen.pid
        if popen.stdout is None or popen.stderr is None:  # never: both are PIPE
            raise RuntimeError("the runtime's stdout and stderr were not opened as pipes")
        self.stdout: IO[bytes] = popen.stdout
        self.stderr: IO[bytes] = popen.stderr
        self.memory = memory
        self.warnings = warnings
        self.exit_peak_kb = 0
        self._pidfd = os.pidfd_open(popen.pid)

    @property
    def returncode(self) -> int | None:
        return self.popen.returncode

    def exit_fd(self) -> int:
        return self._pidfd

    def cgroup_v2(self) -> Path | None:
        return None

    def _wait4(self, flags: int) -> None:
        # wait4 rather than Popen's waitpid, for the process's peak memory (see exit_peak_kb).
        try:
            pid, status, usage = os.wait4(self.pid, flags)
        except ChildProcessError:  # reaped elsewhere: Popen knows how to settle that
            self.popen.poll()
            return
        if pid:
            self.popen.returncode = os.waitstatus_to_exitcode(status)
            self.exit_peak_kb = usage.ru_maxrss

    def poll(self) -> int | None:
        if self.popen.returncode is None:
            self._wait4(os.WNOHANG)
        return self.popen.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.popen.returncode is None:
            if timeout is not None and self._pidfd >= 0:
                ready, _, _ = select.select([self._pidfd], [], [], timeout)
                if not ready:
                    raise subprocess.TimeoutExpired(self.popen.args, timeout)
            self._wait4(0)
        return self.popen.wait()

    def kill_all(self) -> None:
        if self.popen.poll() is None:
            _kill_tree(self.pid)
        try:
            os.killpg(self.pid, signal.SIGKILL)  # what stayed in its process group
        except OSError:
            pass

    def release(self) -> None:
        if self._pidfd >= 0:
            try:
                os.close(self._pidfd)
            except OSError:
                pass
            self._pidfd = -1


# -- storage for /tmp ----------------------------------------------------------------------------


@dataclass
class Storage:
    """An environment's /tmp: a tmpfs held by the fork server, or a folder (TMPDIR)."""

    id: str
    size_mb: int
    private: bool  # a tmpfs mounted on /tmp, else `folder` as TMPDIR
    folder: Path | None = None
    key: tuple[Any, ...] = ()
    parked_at: float = 0.0


# -- the sandboxes of one executor ---------------------------------------------------------------


def _enabled() -> bool:
    return os.environ.get(ENV_SWITCH, "").strip().lower() not in ("0", "off", "false", "no")


class Sandboxes:
    """Starts, contains and releases the environments of one executor (or of tests' environments).

    `cache_dir` holds the runtime `bin` folders and, without mount namespaces, the /tmp folders.
    With `keep_reset_s` > 0, the /tmp of an environment reset after a timeout, crash or OOM kill is
    kept that long for the next environment of the same function: Lambda resets the same sandbox,
    whose /tmp survives.
    """

    def __init__(
        self,
        cache_dir: Path | None = None,
        *,
        keep_reset_s: float = 0.0,
        cgroups: CgroupFactory | None = None,
        enabled: bool | None = None,
    ) -> None:
        self._own_cache = cache_dir is None
        self.cache_dir = Path(cache_dir) if cache_dir is not None else Path(tempfile.mkdtemp(prefix=f"lambdatui-sandbox-{os.getpid()}-"))
        self.keep_reset_s = keep_reset_s
        self.enabled = _enabled() if enabled is None else enabled
        self._cgroups = cgroups
        self._lock = threading.Lock()
        self._parked: list[Storage] = []
        self._closed = False
        self._bin_dirs: dict[tuple[str, str], Path] = {}
        if self.enabled and sys.platform.startswith("linux") and not self._own_cache:
            _the_zygote().prestart()  # an executor will start environments: have it ready

    # -- what this machine allows --------------------------------------------------------------

    @property
    def cgroups(self) -> CgroupFactory:
        if self._cgroups is None:
            self._cgroups = default_factory()
        return self._cgroups

    def _zygote(self) -> _ZygoteClient | None:
        if not self.enabled or not sys.platform.startswith("linux"):
            return None
        z = _the_zygote()
        return z if z.ensure() else None

    def _mount_ns(self, z: _ZygoteClient | None) -> bool:
        return z is not None and bool(z.caps.get("mount_ns"))

    def isolation(self, spec: FunctionSpec | None = None) -> Isolation:
        """Which guarantees hold for environments started here (of `spec`, for the sizes)."""
        z = self._zygote()
        cg = self.enabled and sys.platform.startswith("linux") and self.cgroups.available()
        tmp_mb = spec.ephemeral_storage if spec is not None else 512
        memory_mb = spec.memory_size if spec is not None else 128
        if not self.enabled:
            off = f"{ENV_SWITCH}=off"
            why = f"the sandbox is turned off ({off})"
        elif not sys.platform.startswith("linux"):
            why = f"namespaces, cgroups and subreapers are Linux's; this is {sys.platform}"
        else:
            why = (_the_zygote().error or "the sandbox's fork server is not running") if z is None else ""
        caps = z.caps if z is not None else {}
        mount_ns = self._mount_ns(z)
        ns_why = why or str(caps.get("mount_ns_error") or "no mount namespace")
        cgroup_why = why or self.cgroups.reason

        if cg:
            contained = Guarantee(True, f"its own cgroup{' (frozen, then killed)' if self.cgroups.version == 1 and 'freezer' in self.cgroups.controllers else ''}"
                                  f" and a child subreaper: every process goes with the environment")
        elif z is not None and caps.get("subreaper"):
            contained = Guarantee(True, "child subreapers: the runtime keeps its orphans below it, the fork server kills those a dead runtime leaves")
        else:
            contained = Guarantee(False, f"process group only, so a child that calls setsid outlives the environment ({why or caps.get('subreaper_error', '')})")
        memory = (
            Guarantee(True, f"cgroup v{self.cgroups.version}: unique memory, limited by the kernel at {memory_mb} MB"
                      f"{f' + {tmp_mb} MB of /tmp' if mount_ns else ''}")
            if cg
            else Guarantee(False, f"unique memory by PSS, polled every 10 ms; no memory cgroup: {cgroup_why}")
        )
        tmp = (
            Guarantee(True, f"a tmpfs of {tmp_mb} MB mounted on /tmp in the environment's mount namespace; kept across a reset")
            if mount_ns
            else Guarantee(False, f"a folder of the environment's as TMPDIR, not sized; a literal /tmp path is the host's ({ns_why})")
        )
        environ = (
            Guarantee(True, "/proc/<pid>/environ of the executor and its ancestors reads empty (other host processes stay visible in /proc)")
            if mount_ns and caps.get("mask_proc")
            else Guarantee(False, f"the executor's /proc/<pid>/environ is readable ({ns_why if not mount_ns else caps.get('mask_proc_error', '')})")
        )
        homes = ", ".join(_homes())
        if not homes:
            home = Guarantee(True, "there is no home folder to hide (none, or it is under /tmp, which is private)")
        elif mount_ns:
            home = Guarantee(True, f"{homes} is an empty read-only tmpfs; the function's code, layers, runtime and configured paths stay")
        else:
            home = Guarantee(False, f"{homes} is readable ({ns_why})")
        nofile = (
            Guarantee(True, f"RLIMIT_NOFILE {LAMBDA_NOFILE} (soft and hard)")
            if z is not None or self.enabled
            else Guarantee(False, why)
        )
        if cg and (self.cgroups.version == 2 or "pids" in self.cgroups.controllers):
            processes = Guarantee(True, f"pids cgroup: at most {LAMBDA_PROCESSES} processes and threads")
        else:
            reason = cgroup_why if not cg else "no pids controller"
            processes = Guarantee(False, f"no pids cgroup ({reason}); RLIMIT_NPROC is not used: root ignores it and for a user it counts every process they run")
        bash = _bash()
        if mount_ns and bash and _sh_needs_bash(bash):
            sh = Guarantee(True, f"{bash} bind-mounted over /bin/sh in the environment's namespace")
        elif bash and not _sh_needs_bash(bash):
            sh = Guarantee(True, "/bin/sh is bash on this machine")
        elif bash:
            sh = Guarantee(False, f"only a custom runtime's #!/bin/sh bootstrap runs with bash; `sh` it starts is the host's ({ns_why})")
        else:
            sh = Guarantee(False, "bash is not installed")
        return Isolation(contained, memory, tmp, environ, home, nofile, processes, sh,
                         Guarantee(True, "AWS_EC2_METADATA_DISABLED=true: SDKs do not probe 169.254.169.254"))

    # -- starting ------------------------------------------------------------------------------

    def spawn(
        self,
        spec: FunctionSpec,
        argv: list[str],
        env: dict[str, str],
        cwd: str,
        on_oom: Callable[[], None] | None = None,
    ) -> tuple[ProcessLike, Storage]:
        """Start a runtime process for `spec`. Raises OSError as Popen does when it cannot run."""
        z = self._zygote()
        private = self._mount_ns(z)
        storage = self._storage_for(spec, private)
        env = dict(env)
        env.setdefault("AWS_EC2_METADATA_DISABLED", "true")
        bin_dir = self._bin_dir(spec.runtime, argv)
        if bin_dir is not None:
            env["PATH"] = f"{bin_dir}:{env.get('PATH') or LAMBDA_PATH}"
        if not storage.private and storage.folder is not None:
            storage.folder.mkdir(parents=True, exist_ok=True)
            env["TMPDIR"] = str(storage.folder)
        warnings: list[str] = []
        if z is None and self.enabled and sys.platform.startswith("linux"):
            warnings.append(f"sandbox: {_the_zygote().error}; the runtime runs as a plain process")
        try:
            if z is None:
                return self._spawn_plain(spec, argv, env, cwd, warnings), storage
            return self._spawn_sandboxed(z, spec, argv, env, cwd, storage, on_oom, warnings), storage
        except BaseException:
            self._drop(storage)
            raise

    def _spawn_plain(self, spec: FunctionSpec, argv: list[str], env: dict[str, str], cwd: str, warnings: list[str]) -> PlainProcess:
        if spec.runtime.startswith("provided"):
            argv = _bash_for_sh_bootstrap(argv)
        started_at = time.perf_counter()
        proc = subprocess.Popen(
            argv,
            env=env,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,  # its own process group, so a kill takes its children too
            close_fds=True,
        )
        return PlainProcess(proc, ProcessMemory(proc.pid), warnings, started_at)

    def _spawn_sandboxed(
        self,
        z: _ZygoteClient,
        spec: FunctionSpec,
        argv: list[str],
        env: dict[str, str],
        cwd: str,
        storage: Storage,
        on_oom: Callable[[], None] | None,
        warnings: list[str],
    ) -> SandboxProcess:
        mount_ns = self._mount_ns(z)
        if spec.runtime.startswith("provided") and not (mount_ns and _bash()):
            argv = _bash_for_sh_bootstrap(argv)
        cgroup: EnvCgroup | None = None
        if self.cgroups.available():
            # tmpfs pages are charged to the cgroup that writes them: room for /tmp above memory_size.
            hard_mb = spec.memory_size + (storage.size_mb if storage.private else 0)
            cgroup = self.cgroups.create(hard_mb, LAMBDA_PROCESSES)
        nofile = LAMBDA_NOFILE
        if os.geteuid() != 0:
            nofile = min(nofile, resource.getrlimit(resource.RLIMIT_NOFILE)[1])
        request: dict[str, Any] = {
            "op": "spawn",
            "argv": argv,
            "env": env,
            "cwd": cwd,
            "rlimits": [[resource.RLIMIT_NOFILE, nofile, nofile], [resource.RLIMIT_CORE, 0, 0]],
        }
        if mount_ns:
            request.update(
                storage={"id": storage.id, "size_mb": storage.size_mb} if storage.private else None,
                keep=sorted(self._keep_paths(spec, argv, env, cwd)),
                hide=_homes(),
            )
        pipes = [os.pipe2(os.O_CLOEXEC) for _ in range(4)]  # stdout, stderr, exec, status
        (out_r, out_w), (err_r, err_w), (exec_r, exec_w), (status_r, status_w) = pipes
        try:
            reply = z.request(request, [out_w, err_w, exec_w, status_w])
        except BaseException:
            for fd in (out_r, err_r, exec_r, status_r):
                os.close(fd)
            if cgroup is not None:
                self.cgroups.release(cgroup)
            raise
        finally:
            for fd in (out_w, err_w, exec_w, status_w):
                os.close(fd)
        pid = int(reply["pid"])
        # After the exec: a process exec'ing waits while a migration into a cgroup is pending.
        error, notes, started_ns = _read_exec_pipe(exec_r)
        started_at = time.perf_counter()
        if started_ns is not None:  # the same clock (CLOCK_MONOTONIC), another process
            started_at -= max(time.monotonic_ns() - started_ns, 0) / 1e9
        if cgroup is not None and error is None:
            try:
                cgroup.adopt(pid, descendants)
            except OSError as e:
                warnings.append(f"sandbox: could not move the runtime into {cgroup.memory_dir}: {e.strerror or e}")
        warnings.extend(notes)
        stdout, stderr = open(out_r, "rb", buffering=0), open(err_r, "rb", buffering=0)
        tmp_fd: int | None = None
        if storage.private and not any(n.startswith("sandbox: private /tmp") for n in notes):
            try:
                tmp_fd = os.open(f"/proc/{pid}/root/tmp", os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
            except OSError:
                tmp_fd = None
        memory: ProcessMemory = CgroupMemory(pid, cgroup, tmp_fd) if cgroup is not None else ProcessMemory(pid)
        proc = SandboxProcess(pid, stdout, stderr, status_r, memory, cgroup, warnings, on_oom, started_at)
        if error is not None:
            proc.wait()
            proc.release()
            memory.close()
            stdout.close()
            stderr.close()
            if cgroup is not None:
                self.cgroups.release(cgroup)
            raise error
        return proc

    def finish(self, proc: ProcessLike | None, storage: Storage | None, reset: bool) -> None:
        """An environment is done with its processes (all gone): release its cgroup, and keep its
        /tmp for the next environment of the function when it was reset (see the class docstring)."""
        if isinstance(proc, SandboxProcess) and proc.cgroup is not None:
            self.cgroups.release(proc.cgroup)
            proc.cgroup = None
        if storage is None:
            return
        if reset and self.keep_reset_s > 0 and not self._closed:
            storage.parked_at = time.monotonic()
            with self._lock:
                self._parked.append(storage)
            return
        self._drop(storage)

    def close(self) -> None:
        """Release what is kept for resets (environments are closed by their executor first)."""
        self._closed = True
        with self._lock:
            parked, self._parked = self._parked, []
        for storage in parked:
            self._drop(storage)
        if self._own_cache:
            shutil.rmtree(self.cache_dir, ignore_errors=True)

    # -- helpers -------------------------------------------------------------------------------

    def _storage_for(self, spec: FunctionSpec, private: bool) -> Storage:
        key = (spec.name, spec.runtime_identity(), private)
        now = time.monotonic()
        expired: list[Storage] = []
        found: Storage | None = None
        with self._lock:
            for s in list(self._parked):
                if now - s.parked_at > self.keep_reset_s:
                    self._parked.remove(s)
                    expired.append(s)
                elif found is None and s.key == key:
                    self._parked.remove(s)
                    found = s
        for s in expired:
            self._drop(s)
        if found is not None:
            return found
        sid = uuid.uuid4().hex
        folder = None if private else self.cache_dir / "sandbox" / "tmp" / sid
        return Storage(sid, spec.ephemeral_storage, private, folder, key)

    def _drop(self, storage: Storage) -> None:
        if storage.private:
            try:
                _the_zygote().request({"op": "drop", "id": storage.id})
            except OSError:
                pass  # the fork server is gone, and its mounts with it
        elif storage.folder is not None:
            shutil.rmtree(storage.folder, ignore_errors=True)

    def _bin_dir(self, runtime: str, argv: list[str]) -> Path | None:
        """A folder where the runtime's commands are the function's interpreter (Lambda's /var/lang/bin)."""
        if runtime.startswith("python"):
            names = ["python3", "python", runtime]
        elif runtime.startswith("nodejs"):
            names = ["node"]
        else:
            return None
        target = argv[0]
        known = self._bin_dirs.get((runtime, target))
        if known is not None and known.is_dir():
            return known
        key = hashlib.sha256(f"{runtime}\0{target}".encode()).hexdigest()[:16]
        folder = self.cache_dir / "sandbox" / "bin" / key
        try:
            folder.mkdir(parents=True, exist_ok=True)
            for name in names:
                link = folder / name
                if link.is_symlink() and os.readlink(link) == target:
                    continue
                tmp = folder / f".{name}.{os.getpid()}.{threading.get_ident()}"
                tmp.unlink(missing_ok=True)
                tmp.symlink_to(target)
                os.replace(tmp, link)
        except OSError:
            return None
        self._bin_dirs[(runtime, target)] = folder
        return folder

    def _keep_paths(self, spec: FunctionSpec, argv: list[str], env: dict[str, str], cwd: str) -> set[str]:
        """Paths the function needs that may live under /tmp or the home folder."""
        keep: set[str] = {cwd, str(self.cache_dir), str(spec.code_dir), *(str(p) for p in spec.layer_dirs), *_installation()}
        for i, arg in enumerate(argv):
            if not os.path.isabs(arg) or not os.path.exists(arg):
                continue
            keep.add(os.path.dirname(arg))
            if i == 0:  # the interpreter: its installation (a venv's, and the one behind it)
                for exe in (arg, os.path.realpath(arg)):
                    keep.add(os.path.dirname(os.path.dirname(exe)))
        for value in env.values():
            for part in value.split(os.pathsep):
                if not os.path.isabs(part):
                    continue
                # A folder named in the environment, or the folder of a file named there, whether
                # it exists yet or not: a function writing OUT=/x/out.txt may write /x/out.txt.done.
                path = part if os.path.isdir(part) else os.path.dirname(part)
                while not os.path.exists(path) and os.path.dirname(path) != path:
                    path = os.path.dirname(path)
                if path != "/":
                    keep.add(path)
                if os.path.isfile(part):
                    keep.add(part)  # in case its folder is one hidden as a whole (/tmp itself)
        return {os.path.normpath(os.path.abspath(p)) for p in keep}


def _read_exec_pipe(fd: int) -> tuple[OSError | None, list[str], int | None]:
    """Warnings the runtime's child sent before exec, the exec's error if it failed, and when the
    child was ready to exec (CLOCK_MONOTONIC ns)."""
    data = b""
    deadline = time.monotonic() + EXEC_WAIT_S
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return OSError(0, "the runtime's process did not start in time"), [], None
            ready, _, _ = select.select([fd], [], [], remaining)
            if not ready:
                continue
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            data += chunk
    finally:
        os.close(fd)
    error: OSError | None = None
    notes: list[str] = []
    started_ns: int | None = None
    for line in data.splitlines():
        kind, body = line[:1], line[1:]
        if kind == zygote_protocol.EXEC_WARNING:
            notes.append("sandbox: " + body.decode(errors="replace"))
        elif kind == zygote_protocol.EXEC_STARTED and body.isdigit():
            started_ns = int(body)
        elif kind == zygote_protocol.EXEC_ERROR:
            number_text, filename, message = (body.decode(errors="replace").split("\t", 2) + ["", ""])[:3]
            number = int(number_text) if number_text.isdigit() else 0
            # OSError(errno, …) is the errno's subclass (FileNotFoundError, PermissionError …), as Popen raises.
            error = OSError(number, message or os.strerror(number), filename or None)
    return error, notes, started_ns


@functools.cache
def _installation() -> tuple[str, ...]:
    """lambdatui's own Python installation: the SDK a function imports is found there."""
    paths = (sys.prefix, sys.base_prefix, sys.exec_prefix, sysconfig.get_path("purelib"), sysconfig.get_path("platlib"))
    return tuple(p for p in paths if p)


@functools.cache
def _homes() -> list[str]:
    """The home folders to hide: $HOME and the user's entry in the password database."""
    found: list[str] = []
    candidates = [os.environ.get("HOME", "")]
    try:
        candidates.append(pwd.getpwuid(os.getuid()).pw_dir)
    except (KeyError, OSError):
        pass
    for home in candidates:
        if not home or not os.path.isabs(home):
            continue
        home = os.path.normpath(home)
        if home == "/" or home == "/tmp" or home.startswith("/tmp/") or "/tmp".startswith(home.rstrip("/") + "/") or not os.path.isdir(home):
            continue
        if home not in found:
            found.append(home)
    return found


def _bash() -> str | None:
    for candidate in ("/usr/bin/bash", "/bin/bash", "/usr/local/bin/bash"):
        if os.access(candidate, os.X_OK):
            return os.path.realpath(candidate)
    return None


def _sh_needs_bash(bash: str) -> bool:
    return os.path.exists("/bin/sh") and os.path.realpath("/bin/sh") != bash


def _bash_for_sh_bootstrap(argv: list[str]) -> list[str]:
    """A custom runtime's bootstrap written for Lambda's /bin/sh (bash), run by bash where /bin/sh
    is not (dash on Debian and Ubuntu rejects AWS's own tutorial bootstrap's `set -o pipefail`)."""
    bash = _bash()
    path = argv[0] if argv else ""
    if not bash or not _sh_needs_bash(bash) or not os.access(path, os.X_OK):
        return argv
    try:
        with open(path, "rb") as f:
            first = f.readline(256)
    except OSError:
        return argv
    if not first.startswith(b"#!"):
        return argv
    interpreter, *args = first[2:].decode(errors="replace").split() or [""]
    if interpreter != "/bin/sh":
        return argv
    return [bash, *args, *argv]


_default: Sandboxes | None = None
_default_lock = threading.Lock()


def default_sandboxes() -> Sandboxes:
    """For environments started without an executor: no /tmp kept across resets."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Sandboxes()
            atexit.register(_default.close)
        return _default


def capabilities() -> Isolation:
    """Which of Lambda's sandbox guarantees hold on this machine (probes once, then cached)."""
    return default_sandboxes().isolation()


__all__ = [
    "Guarantee",
    "Isolation",
    "PlainProcess",
    "SandboxProcess",
    "Sandboxes",
    "Storage",
    "capabilities",
    "default_sandboxes",
]
