"""The sandbox's fork server: a small process that starts every execution environment's runtime.

Run as `python -S -I zygote.py STAGE_DIR FD` where FD is its end of a Unix socket (see `sandbox.py`,
which owns it). Standard library only, and nothing imported from lambdatui: it must start fast and
stay small, because each runtime is forked from it (fork copies page tables, so forking the
executor itself, which can be hundreds of MB, costs ~10 ms on some machines; forking this costs
well under one).

What it does, once, at start:

* becomes a child subreaper (PR_SET_CHILD_SUBREAPER), so processes a function leaves behind when
  its runtime dies are reparented here, and killed (Lambda discards the whole sandbox);
* enters a mount namespace of its own (as root; otherwise a user namespace too, where the kernel
  allows one), whose mounts follow the host's but never propagate back, and mounts a small tmpfs
  over STAGE_DIR in it. Each environment's `/tmp` is a tmpfs of its `ephemeral_storage` size
  mounted below that stage: it outlives the runtime's process, so a runtime reset after a timeout
  or a crash finds its `/tmp` again (AWS: "/tmp ... persists in the same execution environment"),
  and it is freed when the executor drops it, or when this process ends. Nothing is ever mounted
  in the host's namespace.

For each `spawn` request, it forks a child that, before exec'ing the runtime: starts a session,
enters a mount namespace of its own in which `/tmp` is the
environment's tmpfs (folders the function needs that live under /tmp are bound back), the user's
home folder is an empty read-only tmpfs (again with what the function needs bound back),
`/proc/<pid>/environ` of the executor and its ancestors read empty, and `/bin/sh` is bash (as on
Lambda); sets Lambda's rlimits and PR_SET_CHILD_SUBREAPER (so the runtime's orphans stay its
descendants, where a kill finds them); then execs. A step the machine refuses is skipped with a
warning sent back on the exec pipe; the exec's own failure is reported the same way.

It reaps every child, writes each runtime's wait status to that environment's status pipe, and
SIGKILLs any other child (an orphan of a runtime that died). When the executor goes (its socket
end closes) it kills every runtime and exits.

Protocol (one request at a time, each answered): a frame is a 4-byte big-endian length then that
many bytes of JSON; a request's file descriptors ride (SCM_RIGHTS) on the 4-byte length.
"""

from __future__ import annotations

import _socket as socket  # not `socket`, `signal`, `json`: their imports (enum, re) double our start-up
import ctypes
import errno
import marshal
import os
import resource
import select
import struct
import sys
import time

TYPE_CHECKING = False  # typing itself costs ~10 ms to import; annotations are never evaluated here
if TYPE_CHECKING:
    import signal
    from typing import Any
else:
    import _signal as signal  # the same functions and numbers, without the enums

MAX_FDS = 8
KILL_ALL_S = 5.0

# Frame types on the exec pipe (runtime's child -> executor) and the status pipe (zygote -> executor).
EXEC_WARNING = b"W"
EXEC_ERROR = b"E"
EXEC_STARTED = b"S"  # + CLOCK_MONOTONIC ns: the sandbox is ready, the runtime starts now
STATUS_EXITED = b"X"

CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_REMOUNT = 32
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18
MS_SLAVE = 1 << 19
MS_SHARED = 1 << 20
MNT_DETACH = 2
PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36

_libc: Any = None


def _c() -> Any:
    global _libc
    if _libc is None:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_void_p]
        libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
        libc.unshare.argtypes = [ctypes.c_int]
        libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
        _libc = libc
    return _libc


def _check(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def unshare(flags: int) -> None:
    _check(_c().unshare(flags), "unshare")


def mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    _check(
        _c().mount(
            source.encode() if source is not None else None,
            target.encode(),
            fstype.encode() if fstype is not None else None,
            flags,
            data.encode() if data is not None else None,
        ),
        f"mount {target}",
    )


def umount(target: str) -> None:
    _check(_c().umount2(target.encode(), MNT_DETACH), f"umount {target}")


def prctl(option: int, value: int) -> None:
    _check(_c().prctl(option, value, 0, 0, 0), "prctl")


# -- framing -----------------------------------------------------------------------------------


def send(sock: socket.socket, message: dict[str, Any], fds: list[int] | None = None) -> None:
    # marshal: both ends run the same interpreter (the zygote is started with sys.executable).
    send_raw(sock, marshal.dumps(message), fds)


def send_raw(sock: socket.socket, data: bytes, fds: list[int] | None = None) -> None:
    head = struct.pack(">I", len(data))
    if fds:
        sock.sendmsg([head], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, struct.pack(f"{len(fds)}i", *fds))])
    else:
        sock.sendall(head)
    sock.sendall(data)


def _recv_exactly(sock: socket.socket, n: int) -> bytes:
    chunks = []
    while n:
        chunk = sock.recv(n)
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def receive(sock: socket.socket) -> tuple[dict[str, Any], list[int]]:
    """One frame; EOFError when the other end has gone."""
    data, fds = receive_raw(sock)
    message: dict[str, Any] = marshal.loads(data)
    return message, fds


def receive_raw(sock: socket.socket) -> tuple[bytes, list[int]]:
    head, ancillary, _flags, _addr = sock.recvmsg(4, socket.CMSG_SPACE(MAX_FDS * 4))
    fds: list[int] = []
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            usable = len(data) - len(data) % 4
            fds.extend(struct.unpack(f"{usable // 4}i", data[:usable]))
    if not head:
        for fd in fds:
            os.close(fd)
        raise EOFError
    if len(head) < 4:
        head += _recv_exactly(sock, 4 - len(head))
    for fd in fds:
        os.set_inheritable(fd, False)
    (length,) = struct.unpack(">I", head)
    return _recv_exactly(sock, length), fds


# -- start-up ----------------------------------------------------------------------------------


def _map_user(uid: int, gid: int) -> None:
    """Inside a new user namespace: keep our own ids (the function runs as the user, as on the host)."""
    with open("/proc/self/setgroups", "w") as f:
        f.write("deny")
    with open("/proc/self/uid_map", "w") as f:
        f.write(f"{uid} {uid} 1")
    with open("/proc/self/gid_map", "w") as f:
        f.write(f"{gid} {gid} 1")


def set_up(stage: str) -> dict[str, Any]:
    """Probe and prepare what this machine allows; returns the capabilities found (and why not)."""
    caps: dict[str, Any] = {"pid": os.getpid(), "subreaper": False, "mount_ns": False, "user_ns": False, "mask_proc": False}
    try:
        prctl(PR_SET_CHILD_SUBREAPER, 1)
        caps["subreaper"] = True
    except OSError as e:
        caps["subreaper_error"] = str(e)
    try:
        if os.geteuid() == 0:
            unshare(CLONE_NEWNS)
        else:
            uid, gid = os.getuid(), os.getgid()
            unshare(CLONE_NEWUSER | CLONE_NEWNS)
            _map_user(uid, gid)
            caps["user_ns"] = True
        # Follow the host's mounts (a drive mounted later stays visible), never propagate back.
        mount(None, "/", None, MS_REC | MS_SLAVE)
        mount("lambdatui-stage", stage, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=0700")
        # Shared: a spare child unshares its namespace before it knows its storage, which is
        # mounted here later and must reach it (its copy is made a slave: nothing comes back).
        mount(None, stage, None, MS_SHARED)
        caps["mount_ns"] = True
    except OSError as e:
        caps["mount_ns_error"] = e.strerror or str(e)
        return caps
    try:
        # Whether a process's /proc entries can be masked (the runtime's namespace does this).
        target = f"/proc/{os.getpid()}/environ"
        mount("/dev/null", target, None, MS_BIND)
        umount(target)
        caps["mask_proc"] = True
        caps["mask_pids"] = _ancestry()
    except OSError as e:
        caps["mask_proc_error"] = e.strerror or str(e)
    caps["bash"], caps["sh"] = _bash_over_sh()
    return caps


def _ancestry() -> list[int]:
    """This process, the executor that started it and the executor's ancestors: the processes
    whose environment a function must not read (they hold the user's)."""
    pids: list[int] = []
    pid = os.getpid()
    while pid > 0 and pid not in pids:
        pids.append(pid)
        try:
            with open(f"/proc/{pid}/stat") as f:
                pid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            break
    return pids


def _bash_over_sh() -> tuple[str | None, str | None]:
    """(bash, what /bin/sh is) when /bin/sh is not bash: on Lambda it is."""
    sh = os.path.realpath("/bin/sh")
    for candidate in ("/usr/bin/bash", "/bin/bash", "/usr/local/bin/bash"):
        if os.access(candidate, os.X_OK):
            bash = os.path.realpath(candidate)
            return (bash, sh) if os.path.exists(sh) and sh != bash else (None, None)
    return None, None


# -- the runtime's process, between fork and exec ------------------------------------------------


def _warn(pipe: int, text: str) -> None:
    try:
        os.write(pipe, EXEC_WARNING + text.replace("\n", " ").encode() + b"\n")
    except OSError:
        pass


def _under(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def _open_keep(keep: list[str], roots: list[str]) -> list[tuple[str, int, bool]]:
    """(path, O_PATH fd of what it is now, is a folder) for each path to keep visible under a
    folder about to be hidden; outermost only (a kept folder brings what is inside it)."""
    chosen: list[str] = []
    for path in sorted(set(keep), key=len):
        if not any(_under(path, root) and path != root for root in roots):
            continue
        if any(_under(path, outer) for outer in chosen):
            continue
        chosen.append(path)
    opened = []
    for path in chosen:
        try:
            fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
        except OSError:
            continue
        opened.append((path, fd, os.path.isdir(f"/proc/self/fd/{fd}")))
    return opened


def _bind_back(kept: list[tuple[str, int, bool]], root: str) -> None:
    for path, fd, is_dir in kept:
        if not _under(path, root):
            continue
        if is_dir:
            os.makedirs(path, exist_ok=True)
        else:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            if not os.path.exists(path):
                os.close(os.open(path, os.O_CREAT | os.O_WRONLY | os.O_CLOEXEC, 0o600))
        mount(f"/proc/self/fd/{fd}", path, None, MS_BIND | MS_REC)


def _isolate(req: dict[str, Any], stage: str, caps: dict[str, Any], pipe: int) -> None:
    """The runtime's mount namespace, once its request is known: private /tmp, hidden home."""
    keep = req.get("keep") or []
    hide_tmp = "/tmp"
    # A home under /tmp is hidden with it; one above /tmp (or /) is not hidden at all.
    homes = [h for h in (req.get("hide") or []) if h and h != "/" and not _under(hide_tmp, h) and not _under(h, hide_tmp)]
    kept = _open_keep(keep, [hide_tmp, *homes])
    stage_fd = os.open(stage, os.O_PATH | os.O_CLOEXEC)
    storage = req.get("storage")
    if storage:
        try:
            if any(_under(hide_tmp, path) for path in keep):
                raise OSError(errno.EBUSY, "the function's own folders include /tmp itself")
            mount(os.path.join(stage, storage["id"]), hide_tmp, None, MS_BIND)
            try:
                _bind_back(kept, hide_tmp)
            except OSError:
                umount(hide_tmp)
                raise
        except OSError as e:
            _warn(pipe, f"private /tmp: {e.strerror or e}; the host's /tmp is used")
    # The other environments' storage stays out of reach.
    try:
        umount(f"/proc/self/fd/{stage_fd}")
    except OSError:
        pass
    os.close(stage_fd)
    for home in homes:
        try:
            mount("lambdatui-home", home, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=0755")
            try:
                _bind_back(kept, home)
                mount(None, home, None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)
            except OSError:
                umount(home)
                raise
        except OSError as e:
            _warn(pipe, f"hiding {home}: {e.strerror or e}; it stays visible")
    for _path, fd, _is_dir in kept:
        os.close(fd)


def _prepare(caps: dict[str, Any]) -> list[str]:
    """What a runtime's process does before it knows its request: its session, signals, and the
    parts of its mount namespace every environment shares (/proc entries masked, bash as sh).
    Returns warnings for the request's exec pipe."""
    notes: list[str] = []
    os.setsid()
    signal.set_wakeup_fd(-1)
    for sig in (signal.SIGCHLD, signal.SIGPIPE, signal.SIGXFSZ, signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_DFL)
    try:
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # the zygote gone means the executor is gone
    except OSError:
        pass
    if not caps.get("mount_ns"):
        return notes
    try:
        unshare(CLONE_NEWNS)
        mount(None, "/", None, MS_REC | MS_SLAVE)  # the stage's copy included: nothing goes back
    except OSError as e:
        caps["mount_ns"] = False
        return [f"mount namespace: {e.strerror or e}"]
    for pid in caps.get("mask_pids") or []:
        for target, is_dir in ((f"/proc/{pid}/environ", False), (f"/proc/{pid}/task", True)):
            try:
                if is_dir:
                    mount("lambdatui-mask", target, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV, "size=4k,mode=0555")
                else:
                    mount("/dev/null", target, None, MS_BIND)
            except OSError:
                pass  # that process has gone already
    bash, sh = caps.get("bash"), caps.get("sh")
    if bash and sh:
        try:
            mount(bash, sh, None, MS_BIND)
        except OSError as e:
            notes.append(f"/bin/sh as bash: {e.strerror or e}")
    return notes


def _become_runtime(req: dict[str, Any], fds: list[int], stage: str, caps: dict[str, Any], notes: list[str]) -> None:
    """In the forked child, once it has its request: set up, then exec the runtime. Never returns."""
    out, err, pipe = fds[0], fds[1], fds[2]
    try:
        for note in notes:
            _warn(pipe, note)
        if caps.get("mount_ns"):
            try:
                _isolate(req, stage, caps, pipe)
            except OSError as e:
                _warn(pipe, f"mount namespace: {e.strerror or e}")
        for which, soft, hard in req.get("rlimits") or []:
            try:
                resource.setrlimit(which, (soft, hard))
            except (OSError, ValueError) as e:
                _warn(pipe, f"rlimit {which}: {e}")
        try:
            prctl(PR_SET_CHILD_SUBREAPER, 1)  # orphans stay the runtime's descendants
        except OSError:
            pass
        os.chdir(req["cwd"])
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(out, 1)
        os.dup2(err, 2)
        argv, env = req["argv"], req["env"]
        try:
            # Lambda's INIT phase (and Init Duration) begins once the sandbox exists: mark the moment.
            os.write(pipe, EXEC_STARTED + str(time.monotonic_ns()).encode() + b"\n")
        except OSError:
            pass
        if "/" in argv[0]:
            os.execve(argv[0], argv, env)
        os.execvpe(argv[0], argv, env)
    except OSError as e:
        _exec_error(pipe, e.errno or 0, e.strerror or str(e), req["argv"][0])
    except BaseException as e:  # noqa: BLE001 - anything else must still end this process, reported
        _exec_error(pipe, 0, repr(e), "")
    os._exit(127)


def _exec_error(pipe: int, number: int, message: str, filename: str) -> None:
    """`E<errno>\t<filename>\t<message>`: why the runtime could not be exec'd (see sandbox.py)."""
    clean = [str(part).replace("\t", " ").replace("\n", " ") for part in (number, filename, message)]
    try:
        os.write(pipe, EXEC_ERROR + "\t".join(clean).encode() + b"\n")
    except OSError:
        pass


def _close_all_but(keep: set[int]) -> None:
    """A forked child holds copies of every descriptor of the zygote (other environments' status
    pipes, the control socket): close them, so each end closes when its owner means it to."""
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        if fd > 2 and fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass


def _spare_main(sock: socket.socket, stage: str, caps: dict[str, Any]) -> None:
    """A spare child: prepared in advance, it waits for its request. Never returns."""
    try:
        _close_all_but({sock.fileno()})
        notes = _prepare(caps)
        req, fds = receive(sock)
    except BaseException:  # noqa: BLE001 - the zygote sees it exit and makes another
        os._exit(126)
    sock.close()
    _become_runtime(req, fds, stage, caps, notes)


# -- the server --------------------------------------------------------------------------------


class Zygote:
    def __init__(self, sock: socket.socket, stage: str, caps: dict[str, Any]) -> None:
        self.sock = sock
        self.stage = stage
        self.caps = caps
        self.runtimes: dict[int, int] = {}  # pid -> status pipe (write end)
        self.storage: set[str] = set()
        # A child forked and prepared ahead of the next request: forking this process takes
        # ~1-2 ms on a small VM, which a cold start then does not wait for.
        self.spare: tuple[int, socket.socket] | None = None

    def serve(self) -> None:
        wake_r, wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        signal.set_wakeup_fd(wake_w)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        send(self.sock, {"op": "hello", "caps": self.caps})
        self.make_spare()
        try:
            while True:
                ready, _, _ = select.select([self.sock.fileno(), wake_r], [], [])
                if wake_r in ready:
                    try:
                        while os.read(wake_r, 512):
                            pass
                    except BlockingIOError:
                        pass
                    self.reap()
                if self.sock.fileno() in ready:
                    try:
                        raw, fds = receive_raw(self.sock)
                    except EOFError:
                        return
                    try:
                        reply = self.handle(marshal.loads(raw), fds, raw)
                    except OSError as e:
                        reply = {"error": e.strerror or str(e), "errno": e.errno or 0}
                    finally:
                        for fd in fds:
                            try:
                                os.close(fd)
                            except OSError:
                                pass
                    send(self.sock, reply)
                    self.reap()
                    if self.spare is None:
                        self.make_spare()
        finally:
            self.kill_all()

    def handle(self, req: dict[str, Any], fds: list[int], raw: bytes) -> dict[str, Any]:
        op = req.get("op")
        if op == "spawn":
            return self.spawn(req, fds, raw)
        if op == "drop":
            self.drop(req["id"])
            return {}
        if op == "ping":
            return {"runtimes": sorted(self.runtimes), "storage": sorted(self.storage)}
        return {"error": f"unknown request {op!r}"}

    def spawn(self, req: dict[str, Any], fds: list[int], raw: bytes) -> dict[str, Any]:
        if len(fds) != 4:
            return {"error": "spawn needs stdout, stderr, exec and status pipes"}
        storage = req.get("storage")
        if storage and self.caps.get("mount_ns") and storage["id"] not in self.storage:
            self.make_storage(storage["id"], int(storage["size_mb"]))
        status = os.dup(fds[3])
        os.set_inheritable(status, False)
        pid = 0
        if self.spare is not None:
            spare_pid, spare_sock = self.spare
            self.spare = None
            try:
                send_raw(spare_sock, raw, fds[:3])
                pid = spare_pid
            except OSError:
                pass  # it died meanwhile: reaped as an orphan
            spare_sock.close()
        if not pid:
            pid = os.fork()
            if pid == 0:
                _close_all_but(set(fds[:3]))
                _become_runtime(req, fds, self.stage, self.caps, _prepare(self.caps))
        self.runtimes[pid] = status
        return {"pid": pid}

    def make_spare(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM, 0)
        try:
            pid = os.fork()
        except OSError:
            ours.close()
            theirs.close()
            return
        if pid == 0:
            ours.close()
            _spare_main(theirs, self.stage, self.caps)
        theirs.close()
        self.spare = (pid, ours)

    def make_storage(self, storage_id: str, size_mb: int) -> None:
        if "/" in storage_id or storage_id.startswith("."):
            raise OSError(errno.EINVAL, f"bad storage id {storage_id!r}")
        path = os.path.join(self.stage, storage_id)
        os.mkdir(path, 0o700)
        try:
            mount("lambdatui-tmp", path, "tmpfs", MS_NOSUID | MS_NODEV, f"size={size_mb}m,mode=1777")
        except OSError:
            os.rmdir(path)
            raise
        self.storage.add(storage_id)

    def drop(self, storage_id: str) -> None:
        if storage_id not in self.storage:
            return
        path = os.path.join(self.stage, storage_id)
        umount(path)  # lazily: a runtime still using it keeps it until it goes
        os.rmdir(path)
        self.storage.discard(storage_id)

    def reap(self) -> None:
        while True:
            try:
                # wait4: the runtime's peak resident memory goes back with its status, since /proc
                # no longer has it and a runtime that died in init still used memory.
                pid, status, usage = os.wait4(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            if self.spare is not None and pid == self.spare[0]:
                self.spare[1].close()
                self.spare = None
            pipe = self.runtimes.pop(pid, None)
            if pipe is not None:
                try:
                    os.write(pipe, STATUS_EXITED + struct.pack(">ii", status, usage.ru_maxrss))
                except OSError:
                    pass
                os.close(pipe)
        # Any other child is a process a runtime left behind when it died: the sandbox went with it.
        spare = self.spare[0] if self.spare is not None else 0
        for pid in self.children():
            if pid not in self.runtimes and pid != spare:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass

    @staticmethod
    def children() -> list[int]:
        found: list[int] = []
        try:
            tasks = os.listdir("/proc/self/task")
        except OSError:
            return found
        for task in tasks:
            try:
                with open(f"/proc/self/task/{task}/children") as f:
                    found.extend(int(p) for p in f.read().split())
            except OSError:
                continue
        return found

    def kill_all(self) -> None:
        """Every runtime and everything below it (the executor has gone). A runtime's children
        come to us as it dies (we are their subreaper): kill until none is left."""
        deadline = time.monotonic() + KILL_ALL_S
        while time.monotonic() < deadline:
            victims = set(self.runtimes) | set(self.children())
            if self.spare is not None:
                victims.add(self.spare[0])
            for pid in list(victims):
                victims.update(_descendants(pid))
            if not victims:
                return
            for pid in victims:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            self.spare = None
            time.sleep(0.005)
            while True:
                try:
                    pid, _status = os.waitpid(-1, os.WNOHANG)
                except ChildProcessError:
                    break
                if pid == 0:
                    break
                self.runtimes.pop(pid, None)


def _descendants(pid: int) -> list[int]:
    found: list[int] = []
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            tasks = os.listdir(f"/proc/{current}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                with open(f"/proc/{current}/task/{task}/children") as f:
                    children = [int(p) for p in f.read().split()]
            except OSError:
                continue
            found.extend(children)
            pending.extend(children)
    return found


def main() -> int:
    stage, fd = sys.argv[1], int(sys.argv[2])
    sock = socket.socket(fileno=fd)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the executor decides when we go: its socket closing
    caps = set_up(stage)
    Zygote(sock, stage, caps).serve()
    return 0


if __name__ == "__main__":
    sys.exit(main())
