"""One execution environment: an OS process running a runtime, and the Runtime API it talks to.

Each environment owns a listening socket on 127.0.0.1 whose address it gets as
`AWS_LAMBDA_RUNTIME_API`, exactly as a Lambda sandbox has its own Runtime API endpoint. There is no
server thread: the thread that invokes an environment drives its sockets itself (answering the
pending `GET /next` with the event, reading the `POST .../response`), so a warm invoke costs two
loopback round trips and no thread hand-offs. The same loop reads the function's stdout/stderr into
the log, watches the process's exit, enforces the deadline and polls memory.

What the function writes becomes log events through `output.OutputReader` (lines, the runtime's
framed messages, 256 KB events); while an invocation runs only its last 4 KB is kept for the log
tail (`output.TailBuffer`), whatever it prints.

The process itself is started, contained, measured and killed by the environment's sandbox
(`sandbox.py`: its own cgroup, mount namespace and private /tmp where the machine allows).
"""

from __future__ import annotations

import json
import os
import re
import selectors
import signal
import socket
import subprocess
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, NamedTuple

from .cpu import CpuHandle, CpuLimiter
from .http1 import Connection, ProtocolError, Request, enable_receive_timestamps, response_bytes
from .memory import ProcessMemory
from .output import OutputReader, TailBuffer
from .sandbox import ProcessLike, Sandboxes, Storage, default_sandboxes
from .spec import MAX_RESPONSE_BYTES, FunctionSpec

API_PREFIX = "/2018-06-01/runtime"
_ERROR_TYPE = re.compile(r"^(Runtime|Function)\.[A-Z][a-zA-Z]+$")
_JSON = {"Content-Type": "application/json"}
_ACCEPTED = b'{"status":"OK"}'
# The answer to every accepted POST, built once: it is sent on the hot path of every invoke.
_ACCEPTED_RESPONSE = (
    b"HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(_ACCEPTED)
) + _ACCEPTED
MEMORY_POLL_S = 0.01

# How Go's os.ProcessState names signals: Lambda's "Runtime exited with error: signal: killed" comes from it.
_SIGNAL_NAMES = {
    signal.SIGKILL: "killed",
    signal.SIGSEGV: "segmentation fault",
    signal.SIGABRT: "aborted",
    signal.SIGTERM: "terminated",
    signal.SIGBUS: "bus error",
    signal.SIGILL: "illegal instruction",
    signal.SIGFPE: "floating point exception",
    signal.SIGINT: "interrupt",
    signal.SIGHUP: "hangup",
    signal.SIGPIPE: "broken pipe",
}


def exit_description(returncode: int) -> str:
    if returncode < 0:
        sig = -returncode
        try:
            name = _SIGNAL_NAMES.get(signal.Signals(sig)) or signal.Signals(sig).name.lower()
        except ValueError:
            name = f"signal {sig}"
        return f"signal: {name}"
    return f"exit status {returncode}"


def exit_message(returncode: int) -> str:
    """What Lambda says when the runtime process ends: exit status 0 is no error but no reason either
    (AWS's Runtime Interface Emulator: `Runtime exited without providing a reason`, recorded on AWS
    for `sys.exit(0)` at import and in a handler)."""
    if returncode == 0:
        return "Runtime exited without providing a reason"
    return f"Runtime exited with error: {exit_description(returncode)}"


@dataclass
class Outcome:
    """How one phase (init or invoke) of an environment ended."""

    kind: str  # ready | response | error | init_error | timeout | exit | oom | too_large
    body: bytes = b""
    error_type: str | None = None
    returncode: int | None = None
    size: int = 0
    duration_ms: float = 0.0
    peak_kb: int = 0


class _Event(NamedTuple):
    """What the event loop saw: next | init_error | response | error | too_large | exit | deadline | tick."""

    kind: str
    body: bytes = b""  # init_error, response, error
    error_type: str | None = None  # init_error, error
    returncode: int | None = None  # exit
    size: int = 0  # too_large: the response's size in bytes
    received_ns: int | None = None  # response, error, too_large: the kernel's receive time (http1)


_NEXT = _Event("next")
_DEADLINE = _Event("deadline")
_TICK = _Event("tick")


@dataclass
class _Invocation:
    request_id: str
    deadline_mono: float


def _duration_ms(started: float, started_ns: int, received_ns: int | None) -> float:
    """An invocation's Duration: to the kernel's receive time of the runtime's POST where the socket
    stamped it (AWS: Duration ends when the runtime posts the response), else to now.

    The stamp is CLOCK_REALTIME, so it is compared with a realtime start; the monotonic figure is an
    upper bound (it is taken later), which also guards against a clock step in between."""
    read = (time.perf_counter() - started) * 1000.0
    if received_ns is None:
        return read
    stamped = (received_ns - started_ns) / 1e6
    return stamped if 0.0 <= stamped <= read else read


class Environment:
    """An execution environment process. Not thread-safe: one invoker drives it at a time."""

    def __init__(
        self,
        spec: FunctionSpec,
        argv: list[str],
        env: dict[str, str],
        *,
        init_type: str = "on-demand",
        emit: Callable[[str, str], None],
        cpu_limiter: CpuLimiter | None = None,
        sandbox: Sandboxes | None = None,
    ) -> None:
        self.spec = spec
        self.id = uuid.uuid4().hex
        self.log_stream_name = time.strftime("%Y/%m/%d", time.gmtime()) + "/[$LATEST]" + self.id
        self.init_type = init_type
        self.emit = emit  # emit(log_stream_name, message)
        self.capture: TailBuffer | None = None  # the last lines of the invocation in progress, for its log tail
        self.invocations = 0
        self.last_used = time.monotonic()
        self.init_duration_ms: float | None = None
        self.init_peak_kb = 0  # the runtime process's peak memory during init, as last seen
        # A reset environment (after a timeout or crash) initialises again inside its next invoke:
        # Lambda's suppressed init, reported in neither INIT_START nor Init Duration.
        self.suppressed_init = False
        self.dead = False
        self.killed_for: str | None = None
        self.warnings: list[str] = []

        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(16)
        self._listener.setblocking(False)
        self.runtime_api = "127.0.0.1:%d" % self._listener.getsockname()[1]
        self._argv = argv
        self._base_env = env
        self._env = dict(env, AWS_LAMBDA_RUNTIME_API=self.runtime_api, AWS_LAMBDA_LOG_STREAM_NAME=self.log_stream_name)
        self._sel = selectors.DefaultSelector()
        self._events: deque[_Event] = deque()
        self._next_conn: Connection | None = None
        self._current: _Invocation | None = None
        # stdout may carry the runtime's framed messages (_LAMBDA_TELEMETRY_LOG_FD); stderr is lines only.
        self._readers = {"out": OutputReader(self._log, frames=True), "err": OutputReader(self._log)}
        self.proc: ProcessLike | None = None
        self._pipes: dict[str, IO[bytes]] = {}  # "out"/"err": the process's stdout and stderr, once spawned
        self.memory: ProcessMemory | None = None
        self._cpu_limiter = cpu_limiter  # caps the process's CPU to its memory size (executor.cpu)
        self.cpu: CpuHandle | None = None
        self._sandbox = sandbox or default_sandboxes()
        self._storage: Storage | None = None  # its /tmp (kept by the sandbox across a reset)

    # -- lifecycle ---------------------------------------------------------------------------

    def successor(self) -> Environment:
        """This environment after a reset: not started, the same identity and log stream, its next
        invoke a suppressed init. (Lambda keeps the sandbox and restarts the runtime in it.)"""
        env = Environment(
            self.spec,
            self._argv,
            self._base_env,
            init_type=self.init_type,
            emit=self.emit,
            cpu_limiter=self._cpu_limiter,
            sandbox=self._sandbox,
        )
        env.id = self.id
        env.log_stream_name = self.log_stream_name
        env._env["AWS_LAMBDA_LOG_STREAM_NAME"] = self.log_stream_name
        env.invocations = self.invocations
        env.warnings = self.warnings
        env.suppressed_init = True
        return env

    def spawn(self) -> None:
        self._spawned = time.perf_counter()
        proc, self._storage = self._sandbox.spawn(
            self.spec, self._argv, self._env, cwd=str(self.spec.code_dir), on_oom=self._killed_by_the_kernel
        )
        self.proc = proc
        self._spawned = proc.started_at  # Init Duration: from the runtime's start, not the sandbox's set-up
        self.warnings = [*self.warnings, *proc.warnings]
        self._pipes = {"out": proc.stdout, "err": proc.stderr}
        if self._cpu_limiter is not None:
            own = proc.cgroup_v2()  # v2: one cgroup per process and hierarchy, the sandbox's
            if own is not None:
                self.cpu = self._cpu_limiter.cap(proc.pid, self.spec.memory_size, own)
            else:
                self.cpu = self._cpu_limiter.attach(proc.pid, self.spec.memory_size)
        self.memory = proc.memory
        for name, pipe in self._pipes.items():
            os.set_blocking(pipe.fileno(), False)
            self._sel.register(pipe, selectors.EVENT_READ, name)
        self._sel.register(proc.exit_fd(), selectors.EVENT_READ, "exit")
        self._sel.register(self._listener, selectors.EVENT_READ, "listen")

    def _killed_by_the_kernel(self) -> None:
        # The cgroup's OOM killer ended the runtime: Lambda reports that as Runtime.OutOfMemory.
        if self.killed_for is None:
            self.killed_for = "oom"

    def wait_ready(self, limit_s: float) -> Outcome:
        """Run the init phase: from the runtime's start until its first GET /next (Init Duration)."""
        deadline = time.monotonic() + limit_s
        self._sample_init_memory()
        while True:
            event = self._wait(deadline, tick=MEMORY_POLL_S)
            kind = event.kind
            if kind == "tick":
                # Sampled while init runs, so that a runtime that dies in init still has a peak to report.
                self._sample_init_memory()
                continue
            if kind == "next":
                self.init_duration_ms = (time.perf_counter() - self._spawned) * 1000.0
                return Outcome("ready", duration_ms=self.init_duration_ms)
            elapsed = (time.perf_counter() - self._spawned) * 1000.0
            if kind == "init_error":
                self._sample_init_memory()
                # The runtime exits after reporting; give it a moment so its last log lines are read.
                self._wait(time.monotonic() + 1.0, until_exit=True)
                self.kill("init_error")
                return Outcome("init_error", body=event.body, error_type=event.error_type, duration_ms=elapsed, peak_kb=self.init_peak_kb)
            if kind == "exit":
                self.close()
                return Outcome("exit", returncode=event.returncode, duration_ms=elapsed, peak_kb=self.init_peak_kb)
            if kind == "deadline":
                self._sample_init_memory()
                self.kill("timeout")
                return Outcome("timeout", duration_ms=min(elapsed, limit_s * 1000.0), peak_kb=self.init_peak_kb)

    def _sample_init_memory(self) -> None:
        # VmHWM: the process's peak since it started, one read; it is gone once the process is.
        if self.memory is not None:
            self.init_peak_kb = max(self.init_peak_kb, self.memory.peak_kb())

    def invoke(
        self,
        request_id: str,
        payload: bytes,
        deadline_epoch_ms: int,
        timeout_s: float,
        headers: dict[str, str],
    ) -> Outcome:
        """Hand one event to the runtime and wait for its answer, the deadline, or its death."""
        deadline = time.monotonic() + timeout_s
        while self._next_conn is None:
            event = self._wait(deadline)
            if event.kind == "next":
                break
            if event.kind == "exit":
                self.close()
                return Outcome("exit", returncode=event.returncode)
            if event.kind == "deadline":
                self.kill("timeout")
                return Outcome("timeout", duration_ms=timeout_s * 1000.0, peak_kb=self.init_peak_kb)
        conn, self._next_conn = self._next_conn, None
        self.invocations += 1
        self._current = _Invocation(request_id, deadline)
        memory = self.memory
        if conn is None or memory is None:
            # The runtime's GET /next connection closed after asking (a "next" event still queued),
            # or invoke before spawn.
            raise RuntimeError("the environment has no runtime waiting for an event")
        memory.reset_peak()
        # What the process holds as the invocation starts: a crash before the first poll still has a
        # peak to report (Lambda never says `Max Memory Used: 0 MB`).
        tree_peak = memory.rss_kb()
        limit_kb = self.spec.memory_size * 1024
        response_headers = {
            "Content-Type": "application/json",
            "Lambda-Runtime-Aws-Request-Id": request_id,
            "Lambda-Runtime-Deadline-Ms": str(deadline_epoch_ms),
            **headers,
        }
        # Duration runs from handing the event over to the runtime's POST of its answer. Both ends are
        # taken where a busy thread sharing our GIL cannot stretch them: the start just before the
        # send (the runtime cannot answer before it), the end from the kernel's stamp on the POST
        # (`_duration_ms`).
        # (Built first, so that as little as possible runs between taking the start and the send:
        # another thread may take the GIL at any point in between, and that time would count.)
        answer = response_bytes(200, "OK", payload, response_headers)
        started_ns = time.time_ns()
        started = time.perf_counter()
        conn.send(answer)
        try:
            while True:
                event = self._wait(deadline, tick=MEMORY_POLL_S)
                kind = event.kind
                if kind == "tick":
                    used = memory.tree_rss_kb()
                    tree_peak = max(tree_peak, used, memory.peak_kb())
                    if used > limit_kb:
                        self.kill("oom")
                        return self._ended("oom", started, tree_peak)
                    continue
                if kind in ("response", "error", "too_large"):
                    duration = _duration_ms(started, started_ns, event.received_ns)
                    if duration > timeout_s * 1000.0:
                        # Posted after the deadline (we woke late to see it): on Lambda the
                        # environment was stopped at the deadline and this answer never arrived.
                        peak = max(tree_peak, memory.peak_kb())
                        self.kill("timeout")
                        return Outcome("timeout", duration_ms=timeout_s * 1000.0, peak_kb=peak)
                    self.drain_output()
                    peak = max(tree_peak, memory.peak_kb())
                    if peak > limit_kb:
                        # The kernel would have killed it at the moment it crossed the limit.
                        self.kill("oom")
                        return Outcome("oom", duration_ms=duration, peak_kb=peak)
                    self.last_used = time.monotonic()
                    if kind == "too_large":
                        return Outcome("too_large", size=event.size, duration_ms=duration, peak_kb=peak)
                    return Outcome(kind, body=event.body, error_type=event.error_type, duration_ms=duration, peak_kb=peak)
                if kind == "exit":
                    if self.killed_for == "oom":
                        return self._ended("oom", started, tree_peak)
                    self.close()
                    return Outcome("exit", returncode=event.returncode, duration_ms=(time.perf_counter() - started) * 1000.0, peak_kb=tree_peak)
                if kind == "deadline":
                    peak = max(tree_peak, memory.peak_kb())
                    self.kill("timeout")
                    # The timeout itself, however long the kill and the last output took (AWS's
                    # emulator reports min(elapsed, timeout); recorded on AWS: `Duration: 180000.00 ms`).
                    return Outcome("timeout", duration_ms=timeout_s * 1000.0, peak_kb=peak)
        finally:
            self._current = None

    def _ended(self, kind: str, started: float, peak_kb: int) -> Outcome:
        return Outcome(kind, duration_ms=(time.perf_counter() - started) * 1000.0, peak_kb=max(peak_kb, self.spec.memory_size * 1024))

    def exited(self) -> bool:
        """Whether the process has ended (one waitpid(WNOHANG), cheap enough for every acquire)."""
        return self.proc is not None and self.proc.poll() is not None

    def kill(self, reason: str) -> None:
        """SIGKILL every process of the environment and release its resources."""
        if self.killed_for is None:
            self.killed_for = reason
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill_all()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        self.drain_output()
        self.close()

    # Why an environment ended that Lambda answers by resetting the same sandbox, /tmp and all.
    _RESETS = ("timeout", "oom", "init_error")

    def close(self) -> None:
        if self.dead:
            return
        self.dead = True
        exited_by_itself = False
        if self.proc is not None:
            exited_by_itself = self.killed_for is None and self.proc.poll() is not None
            # Everything the runtime started goes with it, as a sandbox's processes do.
            self.proc.kill_all()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        self.drain_output()
        self.flush_partial(final=True)
        for key in list(self._sel.get_map().values()):
            obj = key.fileobj
            try:
                self._sel.unregister(obj)
            except (KeyError, ValueError):
                pass
            if isinstance(key.data, tuple):
                key.data[1].close()
        self._sel.close()
        self._listener.close()
        if self.proc is not None:
            for pipe in self._pipes.values():
                try:
                    pipe.close()
                except OSError:
                    pass
            self.proc.release()
        if self.memory is not None:
            self.memory.close()
        if self.cpu is not None:
            if self._cpu_limiter is not None:  # always: the handle came from it
                self._cpu_limiter.release(self.cpu)  # after the kill above: the cgroup is empty by now
            self.cpu = None
        reset = exited_by_itself or self.killed_for in self._RESETS
        self._sandbox.finish(self.proc, self._storage, reset=reset)
        self._storage = None

    # -- the event loop ----------------------------------------------------------------------

    def _wait(self, deadline: float, tick: float | None = None, until_exit: bool = False) -> _Event:
        while True:
            if self._events and not until_exit:
                return self._events.popleft()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return _DEADLINE
            timeout = min(remaining, tick) if tick else remaining
            ready = self._sel.select(timeout)
            if not ready:
                if tick and deadline - time.monotonic() > 0:
                    return _TICK
                continue
            exited = None
            for key, _mask in ready:
                data = key.data
                if data == "listen":
                    self._accept()
                elif data == "out" or data == "err":
                    self._read_pipe(data)
                elif data == "exit":
                    if self.proc is not None:  # always: spawn registers the pidfd after starting it
                        exited = self._reap(self.proc)
                else:
                    self._read_conn(data[1])
            if exited is not None:
                self.drain_output()
                if until_exit:
                    return _Event("exit", returncode=exited)
                self._events.append(_Event("exit", returncode=exited))

    def _reap(self, proc: ProcessLike) -> int:
        """Wait for the ended runtime process, keeping its peak resident memory (ru_maxrss): /proc
        no longer has it, and a runtime that dies in init still used memory (REPORT never says 0 MB)."""
        code = proc.wait()
        if self.init_duration_ms is None:  # it ended in init: its lifetime peak is init's
            self.init_peak_kb = max(self.init_peak_kb, proc.exit_peak_kb)
        return code

    def _accept(self) -> None:
        while True:
            try:
                sock, _ = self._listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.setblocking(False)
            conn = Connection(sock, MAX_RESPONSE_BYTES, timestamps=enable_receive_timestamps(sock))
            self._sel.register(sock, selectors.EVENT_READ, ("conn", conn))

    def _read_conn(self, conn: Connection) -> None:
        alive = conn.receive()
        try:
            while True:
                request = conn.next_request()
                if request is None:
                    break
                self._dispatch(conn, request)
        except ProtocolError:
            conn.respond(400, "Bad Request", b'{"errorType":"InvalidRequest"}', _JSON)
            alive = False
        if not alive or conn.closed:
            self._drop(conn)

    def _drop(self, conn: Connection) -> None:
        try:
            self._sel.unregister(conn.sock)
        except (KeyError, ValueError):
            pass
        if self._next_conn is conn:
            self._next_conn = None
        conn.close()

    def _dispatch(self, conn: Connection, req: Request) -> None:
        path = req.path.split("?", 1)[0]
        if not path.startswith(API_PREFIX):
            conn.respond(404, "Not Found", b'{"errorMessage":"Not found","errorType":"NotFound"}', _JSON)
            return
        route = path[len(API_PREFIX):]
        if route == "/invocation/next" and req.method == "GET":
            self._next_conn = conn
            self._events.append(_NEXT)
            return
        if route == "/init/error" and req.method == "POST":
            if self.init_duration_ms is not None:
                conn.respond(403, "Forbidden", b'{"errorMessage":"Init already completed","errorType":"InvalidStateTransition"}', _JSON)
                return
            conn.respond(202, "Accepted", _ACCEPTED, _JSON)
            self._events.append(_Event("init_error", req.body, self._error_type(req)))
            return
        if route.startswith("/invocation/") and req.method == "POST":
            request_id, _, action = route[len("/invocation/"):].rpartition("/")
            if action not in ("response", "error"):
                conn.respond(404, "Not Found", b'{"errorMessage":"Not found","errorType":"NotFound"}', _JSON)
                return
            if self._current is None or request_id != self._current.request_id:
                conn.respond(400, "Bad Request", b'{"errorMessage":"Invalid request ID","errorType":"InvalidRequestID"}', _JSON)
                return
            if action == "response" and req.truncated:
                message = (
                    f"Response payload size ({req.body_size} bytes) exceeded maximum allowed payload size "
                    f"({MAX_RESPONSE_BYTES} bytes)."
                )
                conn.respond(413, "Request Entity Too Large", json.dumps({"errorMessage": message, "errorType": "RequestEntityTooLarge"}).encode(), _JSON)
                self._events.append(_Event("too_large", size=req.body_size, received_ns=req.received_ns))
                return
            conn.send(_ACCEPTED_RESPONSE)
            if action == "response":
                self._events.append(_Event("response", req.body, None, received_ns=req.received_ns))
            else:
                self._events.append(_Event("error", req.body, self._error_type(req), received_ns=req.received_ns))
            return
        conn.respond(404, "Not Found", b'{"errorMessage":"Not found","errorType":"NotFound"}', _JSON)

    @staticmethod
    def _error_type(req: Request) -> str:
        # The Runtime API keeps a declared type only if it has Lambda's shape, else Runtime.Unknown.
        declared = req.headers.get("lambda-runtime-function-error-type", "")
        return declared if _ERROR_TYPE.match(declared) else "Runtime.Unknown"

    # -- the function's output ---------------------------------------------------------------

    def _read_pipe(self, name: str) -> None:
        pipe = self._pipes[name]
        try:
            data = os.read(pipe.fileno(), 262144)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            try:
                self._sel.unregister(pipe)
            except (KeyError, ValueError):
                pass
            return
        self._lines(name, data)

    def drain_output(self) -> None:
        """Read everything already written to stdout/stderr.

        The runtime writes its output before it posts a response, so once the response is read the
        output is in the pipe: reading it now keeps the handler's lines before END in the log.
        """
        if self.proc is None:
            return
        for name, pipe in self._pipes.items():
            if pipe.closed:
                continue
            while True:
                try:
                    data = os.read(pipe.fileno(), 262144)
                except (BlockingIOError, InterruptedError, OSError, ValueError):
                    break
                if not data:
                    break
                self._lines(name, data)

    def _lines(self, name: str, data: bytes) -> None:
        self._readers[name].feed(data)

    def flush_partial(self, final: bool = False) -> None:
        """Log what is pending as events: a line not ended by a newline; with `final` (the process is
        gone) also a framed message cut short."""
        for reader in self._readers.values():
            reader.flush(final)

    def _log(self, message: str) -> None:
        self.emit(self.log_stream_name, message)
        if self.capture is not None:
            self.capture.append(message)

    def log(self, message: str) -> None:
        """A platform line (START, END, REPORT …) in this environment's log stream."""
        self._log(message)
