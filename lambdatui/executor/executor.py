"""The local executor: functions, their pools of execution environments, and `invoke`.

Lambda's lifecycle, as AWS documents it: an invoke takes an idle environment of the function if
one exists (warm), else starts a new one (cold: INIT, then the invoke), up to the function's
reserved concurrency, past which it is throttled. Each environment serves one request at a time.
Idle environments are reaped after `keep_warm_seconds`; provisioned ones are initialised ahead and
never reaped. A configuration or code change retires the old environments. A crash, timeout or
out-of-memory kill during an invoke resets the environment: its process is gone, and the next
invoke it serves starts the runtime again as a *suppressed init* (AWS: "Understanding the Lambda
execution environment lifecycle", failures during the invoke phase) — no INIT_START, no Init
Duration, the init's time inside that invoke's Duration, the same log stream.

`invoke` is blocking and thread-safe: callers that want concurrency call it from several threads
(the CLI's `--concurrency`, the dashboard's workers, `serve`'s handlers).
"""

from __future__ import annotations

import json
import math
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from .. import logformat
from ..figures import billed_duration_ms, invocation_cost
from . import dependencies
from .cpu import CpuLimiter, default_limiter
from .environment import Environment, Outcome, exit_message
from .logstore import LogStore
from .output import LOG_TAIL_BYTES, TailBuffer
from .runtimes import RUNTIME_DIR, Launch, clear_bytecode, launch_for, spawn_error_message
from .sandbox import Sandboxes
from .spec import (
    DEFAULT_ACCOUNT_CONCURRENCY,
    INIT_LIMIT_S,
    MAX_RESPONSE_BYTES,
    MAX_SYNC_PAYLOAD_BYTES,
    FunctionSpec,
    InvokeResult,
)

# Lambda's own values for these (see AWS's "Defined runtime environment variables").
LAMBDA_PATH = "/usr/local/bin:/usr/bin/:/bin:/opt/bin"
LAMBDA_LANG = "en_US.UTF-8"
LAMBDA_TZ = ":UTC"
# What Function.ResponseSizeTooLarge says, recorded on AWS: the limit, not the response's size.
RESPONSE_TOO_LARGE_MESSAGE = f"Response payload size exceeded maximum allowed payload size ({MAX_RESPONSE_BYTES} bytes)."


class FunctionNotFound(KeyError):
    """Lambda's ResourceNotFoundException (404)."""

    def __init__(self, name: str, arn: str) -> None:
        super().__init__(name)
        self.name = name
        self.message = f"Function not found: {arn}"

    def __str__(self) -> str:
        return self.message


class InvokeRequestError(ValueError):
    """An invoke refused before it reaches a function: RequestTooLargeException, InvalidRequestContentException."""

    def __init__(self, status_code: int, error_type: str, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.error_type = error_type
        self.message = message


class _Pool:
    """The environments of one function. Guarded by the executor's lock."""

    def __init__(self, spec: FunctionSpec) -> None:
        self.spec = spec
        self.generation = 0
        self.idle: list[tuple[Environment, int]] = []  # (environment, generation), most recent last
        self.idle_provisioned: list[tuple[Environment, int]] = []
        self.busy = 0
        self.provisioned_ids: set[str] = set()
        self.fingerprint: tuple[int, int] | None = None  # _code_fingerprint's, when watching code
        self.provisioning = False
        self.last_invocation: InvokeResult | None = None


class Executor:
    def __init__(
        self,
        functions: Iterable[FunctionSpec] = (),
        *,
        region: str = "us-east-1",
        account_id: str = "123456789012",
        keep_warm_seconds: float = 600,
        logs: LogStore | None = None,
        cache_dir: Path | None = None,
        account_concurrency: int = DEFAULT_ACCOUNT_CONCURRENCY,
        watch_code: bool = False,
        host_environ: dict[str, str] | None = None,
        launcher: Callable[[FunctionSpec, Path], Launch] = launch_for,
        init_limit_s: float = INIT_LIMIT_S,
        scale_cpu: bool = False,
        cpu_limiter: CpuLimiter | None = None,
        service_env: dict[str, str] | None = None,
    ) -> None:
        self.region = region
        # The embedded AWS services' endpoint, credentials and region (lambdatui.aws_services), when on.
        self.service_env = dict(service_env or {})
        self.account_id = account_id
        self.keep_warm_seconds = keep_warm_seconds
        self.logs = logs or LogStore()
        self.cache_dir = cache_dir or _default_cache_dir()
        self.account_concurrency = account_concurrency
        self.watch_code = watch_code
        self._host_environ = dict(os.environ if host_environ is None else host_environ)
        self._launcher = launcher  # how a runtime's process starts; any Runtime API client will do
        self.init_limit_s = init_limit_s  # Lambda's 10 s for on-demand init
        # CPU in proportion to memory (1,769 MB = 1 vCPU) where cgroups allow: read for each new
        # environment, so it can be switched on and off (power tuning does); see executor.cpu.
        self.scale_cpu = scale_cpu
        self._cpu_limiter = cpu_limiter
        self._lock = threading.Lock()
        self._pools: dict[str, _Pool] = {}
        self._stop = threading.Event()
        self._reaper: threading.Thread | None = None
        self._closed = False
        self._empty_credentials = self.cache_dir / "no-aws-credentials"
        # Starts, contains and measures environments' processes; keeps a reset environment's /tmp.
        self.sandboxes = Sandboxes(self.cache_dir, keep_reset_s=keep_warm_seconds)
        for spec in functions:
            self.add_function(spec)

    # -- functions ---------------------------------------------------------------------------

    def add_function(self, spec: FunctionSpec) -> None:
        with self._lock:
            if spec.name in self._pools:
                raise ValueError(f"function {spec.name} already exists")
            self._pools[spec.name] = _Pool(spec)

    def function(self, name: str) -> FunctionSpec:
        return self._pool(name).spec

    def functions(self) -> list[FunctionSpec]:
        with self._lock:
            return [p.spec for p in self._pools.values()]

    def update_function(self, spec: FunctionSpec) -> None:
        """Replace a function's configuration; a change that environments can see retires them."""
        pool = self._pool(spec.name)
        with self._lock:
            changed = pool.spec.runtime_identity() != spec.runtime_identity()
            provisioned_changed = pool.spec.provisioned_concurrency != spec.provisioned_concurrency
            pool.spec = spec
        if changed:
            self.retire(spec.name)
        elif provisioned_changed and self._reaper is not None:
            self._provision(spec.name)

    def remove_function(self, name: str) -> None:
        self.retire(name)
        with self._lock:
            self._pools.pop(name, None)

    def retire(self, name: str) -> None:
        """Retire every environment of a function: idle ones now, busy ones when they finish."""
        pool = self._pool(name)
        with self._lock:
            pool.generation += 1
            doomed = [env for env, _ in pool.idle + pool.idle_provisioned]
            pool.idle.clear()
            pool.idle_provisioned.clear()
            pool.provisioned_ids.clear()
        for env in doomed:
            env.kill("retired")
        if self._reaper is not None:
            self._provision(name)

    def arn(self, name: str) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account_id}:function:{name}"

    def _pool(self, name: str) -> _Pool:
        pool = self._pools.get(name)
        if pool is None:
            raise FunctionNotFound(name, self.arn(name))
        return pool

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self, provision: Iterable[str] | None = None) -> None:
        """Initialise provisioned environments (of all functions, or those named) and start reaping."""
        names = list(self._pools) if provision is None else list(provision)
        # A thread only where there is something to provision: with 1,000 functions and none
        # provisioned, starting (and joining) 1,000 threads was most of the backend's start-up.
        names = [n for n in names if (pool := self._pools.get(n)) is not None and pool.spec.provisioned_concurrency > 0]
        threads = [threading.Thread(target=self._provision, args=(n,), daemon=True) for n in names]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if self._reaper is None:
            self._reaper = threading.Thread(target=self._reap_loop, name="lambdatui-reaper", daemon=True)
            self._reaper.start()

    def close(self) -> None:
        self._closed = True
        self._stop.set()
        with self._lock:
            envs = [env for p in self._pools.values() for env, _ in p.idle + p.idle_provisioned]
            for p in self._pools.values():
                p.idle.clear()
                p.idle_provisioned.clear()
        for env in envs:
            env.close()
        self.sandboxes.close()
        if self._cpu_limiter is not None:
            self._cpu_limiter.close()
        self.logs.flush()

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _provision(self, name: str) -> None:
        pool = self._pools.get(name)
        if pool is None:
            return
        with self._lock:
            if pool.provisioning:
                return
            pool.provisioning = True
        try:
            self._provision_loop(pool)
        finally:
            pool.provisioning = False

    def _provision_loop(self, pool: _Pool) -> None:
        while not self._closed:
            with self._lock:
                spec, generation = pool.spec, pool.generation
                if len(pool.provisioned_ids) >= spec.provisioned_concurrency:
                    return
                limit = self._limit(spec)
                if pool.busy + len(pool.idle) + len(pool.idle_provisioned) >= limit:
                    return
                pool.busy += 1  # count the environment starting against concurrency
            env = self._new_environment(spec, "provisioned-concurrency")
            try:
                env.spawn()
                outcome = env.wait_ready(self.init_limit_s)
            except OSError as e:
                env.close()
                outcome = Outcome("exit", returncode=-1)
                env.log(f"lambdatui: could not start the runtime: {e}")
            with self._lock:
                pool.busy -= 1
                if outcome.kind == "ready" and generation == pool.generation and not self._closed:
                    pool.provisioned_ids.add(env.id)
                    pool.idle_provisioned.append((env, generation))
                    continue
            env.close()
            if outcome.kind != "ready":
                env.log(logformat.init_report_line(outcome.duration_ms, "error", _init_error_type(outcome)))
                return

    def _reap_loop(self) -> None:
        interval = max(0.05, min(1.0, self.keep_warm_seconds / 10))
        while not self._stop.wait(interval):
            now = time.monotonic()
            doomed = []
            with self._lock:
                pools = list(self._pools.items())
                for pool in self._pools.values():
                    keep = [(e, g) for e, g in pool.idle if now - e.last_used < self.keep_warm_seconds]
                    doomed += [e for e, _ in pool.idle if now - e.last_used >= self.keep_warm_seconds]
                    pool.idle = keep
            for env in doomed:
                env.close()
            if self.watch_code:
                seen: dict[tuple[Path, ...], tuple[int, int]] = {}  # functions sharing folders walk them once
                for name, pool in pools:
                    roots = (pool.spec.code_dir, *pool.spec.layer_dirs)
                    if roots not in seen:
                        seen[roots] = _code_fingerprint(pool.spec)
                    fp = seen[roots]
                    if pool.fingerprint is not None and fp != pool.fingerprint:
                        clear_bytecode(pool.spec, self.cache_dir)
                        self.retire(name)
                    pool.fingerprint = fp
            self.logs.flush()

    @property
    def cpu_limiter(self) -> CpuLimiter:
        """What caps environments' CPU when scale_cpu is on (the process's shared one unless given)."""
        if self._cpu_limiter is None:
            self._cpu_limiter = default_limiter()
        return self._cpu_limiter

    @property
    def cpu_scaling_active(self) -> bool:
        """Whether new environments get CPU in proportion to their memory (scale_cpu, and cgroups allow it)."""
        return bool(self.scale_cpu) and self.cpu_limiter.available()

    def environment_counts(self, name: str) -> dict[str, int]:
        pool = self._pool(name)
        with self._lock:
            return {
                "idle": len(pool.idle),
                "provisioned": len(pool.idle_provisioned),
                "busy": pool.busy,
            }

    def last_invocation(self, name: str) -> InvokeResult | None:
        return self._pool(name).last_invocation

    # -- invoke ------------------------------------------------------------------------------

    def _limit(self, spec: FunctionSpec) -> int:
        if spec.reserved_concurrency is not None:
            return spec.reserved_concurrency
        return self.account_concurrency

    def _acquire(self, pool: _Pool) -> tuple[Environment | None, int, bool]:
        """An environment to run on: (env, generation, cold). env None and cold False = throttled.

        An idle environment may be a reset one (`env.proc` None): it initialises inside the invoke."""
        with self._lock:
            generation = pool.generation
            for stack in (pool.idle_provisioned, pool.idle):
                while stack:
                    env, gen = stack.pop()
                    # A runtime may exit after answering (Node's does after an uncaught exception):
                    # Lambda then starts the next invoke in a fresh environment, and so do we.
                    if env.dead or gen != generation or env.exited():
                        env.close()
                        continue
                    pool.busy += 1
                    return env, generation, False
            in_use = pool.busy + len(pool.idle_provisioned) + len(pool.idle)
            if in_use >= self._limit(pool.spec):
                return None, generation, False
            pool.busy += 1
            spec = pool.spec
        try:
            return self._new_environment(spec, "on-demand"), generation, True
        except BaseException:
            with self._lock:
                pool.busy -= 1  # the environment never existed (e.g. the runtime's toolchain is missing)
            raise

    def _release(self, pool: _Pool, env: Environment, generation: int, reset: bool = False) -> None:
        """Give an environment back after an invoke. `reset`: the invoke timed out or crashed it."""
        replace_provisioned = False
        with self._lock:
            pool.busy -= 1
            provisioned = env.id in pool.provisioned_ids
            if env.dead or generation != pool.generation or self._closed:
                if provisioned:
                    pool.provisioned_ids.discard(env.id)
                    # Retiring re-provisions by itself; a crashed provisioned environment is replaced here.
                    replace_provisioned = generation == pool.generation
                elif reset and generation == pool.generation and not self._closed:
                    # Lambda resets the environment rather than discarding it: the same environment
                    # (log stream, identity) serves a later invoke, after a suppressed init.
                    pool.idle.append((env.successor(), generation))
                env_to_close = env
            else:
                (pool.idle_provisioned if provisioned else pool.idle).append((env, generation))
                env_to_close = None
        if env_to_close is not None:
            env_to_close.close()
        if replace_provisioned and not self._closed:
            # Lambda replaces a provisioned environment that failed, in the background.
            threading.Thread(target=self._provision, args=(pool.spec.name,), daemon=True).start()

    def _new_environment(self, spec: FunctionSpec, init_type: str) -> Environment:
        # A first start after a requirements.txt/package.json change installs them: said in the function's log.
        with dependencies.progress_to(lambda message: self.logs.append(spec.name, dependencies.DEPENDENCY_LOG_STREAM, message)):
            launch = self._launcher(spec, self.cache_dir)
        env_vars = self._environment_variables(spec, init_type, launch.env)
        name = spec.name
        store = self.logs

        def emit(stream: str, message: str) -> None:
            store.append(name, stream, message)

        limiter = self.cpu_limiter if self.scale_cpu else None
        env = Environment(spec, launch.argv, env_vars, init_type=init_type, emit=emit, cpu_limiter=limiter, sandbox=self.sandboxes)
        env.warnings = launch.warnings
        return env

    def _environment_variables(self, spec: FunctionSpec, init_type: str, runtime_env: dict[str, str]) -> dict[str, str]:
        """The configured variables plus Lambda's reserved ones, and nothing else of the host's."""
        env: dict[str, str] = {}
        for key in spec.inherit_environment:
            if key in self._host_environ:
                env[key] = self._host_environ[key]
        if "AWS_SHARED_CREDENTIALS_FILE" not in env and "AWS_PROFILE" not in env:
            # Without these an SDK in the function would fall back to the host user's ~/.aws files:
            # point it at an empty file so host credentials reach a function only when inherited.
            self._empty_credentials.parent.mkdir(parents=True, exist_ok=True)
            self._empty_credentials.touch(exist_ok=True)
            env["AWS_SHARED_CREDENTIALS_FILE"] = str(self._empty_credentials)
            env["AWS_CONFIG_FILE"] = str(self._empty_credentials)
        # The AWS services' endpoint and credentials, given on purpose, as Lambda gives a function
        # its role's credentials: over inherited host keys (which those services would refuse), and
        # under the function's own variables, which cannot name the reserved credentials anyway
        # while AWS_ENDPOINT_URL is not reserved on Lambda: a function's own endpoint wins.
        env.update(self.service_env)
        env.update(spec.environment)
        env.update(runtime_env)
        env.update(
            {
                "_HANDLER": spec.handler,
                "AWS_REGION": self.region,
                "AWS_DEFAULT_REGION": self.region,
                "AWS_LAMBDA_FUNCTION_NAME": spec.name,
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_size),
                "AWS_LAMBDA_FUNCTION_VERSION": logformat.VERSION,
                "AWS_LAMBDA_INITIALIZATION_TYPE": init_type,
                "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.name}",
                "LAMBDA_TASK_ROOT": str(spec.code_dir),
                "LAMBDA_RUNTIME_DIR": str(RUNTIME_DIR),
                "LANG": LAMBDA_LANG,
                "PATH": LAMBDA_PATH,
                "TZ": LAMBDA_TZ,
            }
        )
        return env

    def invoke(
        self,
        name: str,
        payload: bytes | str = b"{}",
        *,
        client_context: dict[str, Any] | None = None,
        identity: dict[str, Any] | None = None,
        request_id: str | None = None,
        qualifier: str | None = None,
    ) -> InvokeResult:
        """Invoke a function synchronously (RequestResponse), as Lambda's Invoke API does.

        `request_id` is the caller's when it has one: Lambda keeps one id for an asynchronous event
        across its attempts. `qualifier` ends up in `context.invoked_function_arn`, as the caller
        named the function (Lambda: "the ARN used to invoke this function")."""
        pool = self._pool(name)
        if isinstance(payload, str):
            payload = payload.encode("utf-8")
        if not payload:
            payload = b"{}"
        if len(payload) > MAX_SYNC_PAYLOAD_BYTES:
            raise InvokeRequestError(
                413,
                "RequestTooLargeException",
                f"Request must be smaller than {MAX_SYNC_PAYLOAD_BYTES} bytes for the InvokeFunction operation",
            )
        try:
            json.loads(payload)
        except ValueError as e:
            raise InvokeRequestError(400, "InvalidRequestContentException", f"Could not parse request body into json: {e}") from None
        except RecursionError:
            # Python's parser recurses per nesting level; Lambda refuses such a body as content, not as a fault.
            raise InvokeRequestError(
                400, "InvalidRequestContentException", "Could not parse request body into json: nesting too deep"
            ) from None

        request_id = request_id or str(uuid.uuid4())
        started_at = time.time()
        env, generation, cold = self._acquire(pool)
        spec = pool.spec
        if env is None:
            return InvokeResult(
                function=name,
                request_id=request_id,
                status_code=429,
                payload=json.dumps(
                    {"Reason": "ReservedFunctionConcurrentInvocationLimitExceeded", "Type": "User", "message": "Rate Exceeded."}
                ).encode(),
                error={"type": "TooManyRequestsException", "reason": "ReservedFunctionConcurrentInvocationLimitExceeded"},
                memory_size_mb=spec.memory_size,
                started_at=started_at,
            )
        tail = TailBuffer(LOG_TAIL_BYTES)
        reset = False
        try:
            init: Outcome | None = None
            suppressed = env.suppressed_init
            if env.proc is None:
                init = self._start(spec, env, suppressed)
                if init.kind != "ready":
                    result = self._init_failed(spec, env, request_id, init, tail, suppressed)
                    result.started_at = started_at
                    return self._finish(pool, result, tail)
            # A suppressed init runs inside the invoke: its time counts against the function's timeout.
            init_ms = init.duration_ms if init is not None and suppressed else 0.0
            timeout_s = max(spec.timeout - init_ms / 1000.0, 0.0)
            env.capture = tail  # the tail starts at START: INIT_START and init's output are the stream's only
            outcome = self._run(spec, env, request_id, payload, client_context, identity, qualifier, timeout_s)
            reset = outcome.kind in ("timeout", "exit", "oom")
            result = self._result(spec, env, request_id, outcome, cold and not suppressed, init_ms)
            result.started_at = started_at
            return self._finish(pool, result, tail)
        finally:
            env.capture = None
            self._release(pool, env, generation, reset)

    def _start(self, spec: FunctionSpec, env: Environment, suppressed: bool) -> Outcome:
        """Start the environment's runtime and wait for it to ask for work (the init phase).

        A suppressed init logs no INIT_START and is limited by the function's timeout, not Lambda's
        10 s for an on-demand init (AWS: an init retried inside an invoke runs "with the configured
        function timeout")."""
        if not suppressed:
            env.log(logformat.init_start_line(spec.runtime, self.region))
        try:
            env.spawn()
            return env.wait_ready(spec.timeout if suppressed else self.init_limit_s)
        except OSError as e:
            # Lambda's answer when the entry point cannot be executed (a custom runtime's
            # bootstrap missing or not executable).
            env.close()
            return Outcome("spawn_error", body=spawn_error_message(spec, e).encode())

    def _run(
        self,
        spec: FunctionSpec,
        env: Environment,
        request_id: str,
        payload: bytes,
        client_context: dict[str, Any] | None,
        identity: dict[str, Any] | None,
        qualifier: str | None,
        timeout_s: float,
    ) -> Outcome:
        env.log(logformat.start_line(request_id))
        deadline_ms = int(time.time() * 1000 + timeout_s * 1000)
        arn = self.arn(spec.name) + (f":{qualifier}" if qualifier else "")
        headers = {
            "Lambda-Runtime-Invoked-Function-Arn": arn,
            "Lambda-Runtime-Trace-Id": _trace_id(),
        }
        if client_context is not None:
            headers["Lambda-Runtime-Client-Context"] = json.dumps(client_context)
        if identity is not None:
            headers["Lambda-Runtime-Cognito-Identity"] = json.dumps(identity)
        return env.invoke(request_id, payload, deadline_ms, timeout_s, headers)

    def _result(
        self, spec: FunctionSpec, env: Environment, request_id: str, o: Outcome, cold: bool, suppressed_init_ms: float = 0.0
    ) -> InvokeResult:
        """The invocation's result and its END and REPORT lines (and, on older runtimes, the error line)."""
        init_ms = env.init_duration_ms if cold else None
        function_error = None
        error_type = None
        status = None
        payload = o.body
        # How the platform reports a failure depends on the runtime's generation (logformat.reports_status).
        with_status = logformat.reports_status(spec.runtime)
        if o.kind == "error":
            function_error, error_type = "Unhandled", _error_type_of(o)
        elif o.kind == "too_large":
            function_error, error_type = "Unhandled", "Function.ResponseSizeTooLarge"
            # AWS's key order for this one: errorMessage first.
            payload = json.dumps({"errorMessage": RESPONSE_TOO_LARGE_MESSAGE, "errorType": error_type}).encode()
        elif o.kind == "timeout":
            function_error, error_type = "Unhandled", "Sandbox.Timedout"
            if with_status:
                status = "timeout"
            else:
                env.log(logformat.timeout_line(request_id, spec.timeout))
            payload = _error_payload(error_type, f"RequestId: {request_id} Error: Task timed out after {spec.timeout:.2f} seconds")
        elif o.kind in ("exit", "oom"):
            function_error = "Unhandled"
            if o.kind == "oom":
                # The kernel's kill: `signal: killed`, which older runtimes' platform calls Runtime.ExitError.
                message = "Runtime exited with error: signal: killed"
                error_type = "Runtime.OutOfMemory" if with_status else "Runtime.ExitError"
            else:
                message = exit_message(o.returncode or 0)
                error_type = "Runtime.ExitError"
            if with_status:
                status = "error"
            else:
                env.log(logformat.fault_line(request_id, message, error_type))
            payload = _error_payload(error_type, f"RequestId: {request_id} Error: {message}")
        env.flush_partial()
        duration = round(o.duration_ms + suppressed_init_ms, 2)
        if o.kind == "timeout":
            # A timeout's Duration is the timeout, exactly: however the suppressed init's share and
            # the invoke's share were measured and rounded (recorded on AWS: `Duration: 180000.00 ms`
            # next to `Task timed out after 180.00 seconds`).
            duration = spec.timeout * 1000.0
        provisioned = env.init_type == "provisioned-concurrency"
        billed = billed_duration_ms(duration, init_ms, bill_init=not provisioned)
        max_mb = math.ceil(o.peak_kb / 1024) if o.peak_kb else 0
        if o.kind == "oom":
            max_mb = spec.memory_size
        env.log(logformat.end_line(request_id))
        env.log(
            logformat.report_line(
                request_id, duration, billed, spec.memory_size, max_mb, init_ms,
                status=status, error_type=error_type if status == "error" else None,
            )
        )
        return InvokeResult(
            function=spec.name,
            request_id=request_id,
            status_code=200,
            payload=payload,
            function_error=function_error,
            error_type=error_type,
            duration_ms=duration,
            billed_duration_ms=billed,
            init_duration_ms=round(init_ms, 2) if init_ms is not None else None,
            cold_start=cold,
            memory_size_mb=spec.memory_size,
            max_memory_used_mb=max_mb,
            cost_usd=invocation_cost(spec.memory_size, billed, spec.architecture, spec.ephemeral_storage),
            log_stream_name=env.log_stream_name,
            warnings=list(env.warnings),
        )

    def _init_failed(
        self, spec: FunctionSpec, env: Environment, request_id: str, init: Outcome, tail: TailBuffer, suppressed: bool
    ) -> InvokeResult:
        """The init phase failed: Lambda answers the invoke with the init error and resets the environment.

        As recorded on AWS, the init's output and its INIT_REPORT come before the request's START, so
        the tail holds START, END and REPORT (with the error's Status), and REPORT shows the memory the
        runtime used. A suppressed init that fails reports `Phase: invoke`, and its time is the invoke's."""
        error_type = _init_error_type(init)
        status = "timeout" if init.kind == "timeout" else "error"
        limit_s = spec.timeout if suppressed else self.init_limit_s
        if init.kind == "init_error":
            payload = init.body
        elif init.kind == "spawn_error":
            message = f"RequestId: {request_id} Error: {init.body.decode()}"
            env.log(message)
            payload = _error_payload(error_type, message)
        elif init.kind == "timeout":
            payload = _error_payload("Sandbox.Timedout", f"RequestId: {request_id} Error: Task timed out after {limit_s:.2f} seconds")
        else:
            message = exit_message(init.returncode or 0)
            if not logformat.reports_status(spec.runtime):
                env.log(logformat.fault_line(request_id, message, error_type))
            payload = _error_payload(error_type, f"RequestId: {request_id} Error: {message}")
        duration = limit_s * 1000.0 if init.kind == "timeout" else round(init.duration_ms, 2)
        billed = billed_duration_ms(duration)
        max_mb = math.ceil(init.peak_kb / 1024) if init.peak_kb else 0
        env.flush_partial()
        env.log(logformat.init_report_line(duration, status, error_type, phase="invoke" if suppressed else "init"))
        env.capture = tail
        env.log(logformat.start_line(request_id))
        env.log(logformat.end_line(request_id))
        reported = status if logformat.reports_status(spec.runtime) else None
        env.log(
            logformat.report_line(
                request_id, duration, billed, spec.memory_size, max_mb, None,
                status=reported, error_type=error_type if reported == "error" else None,
            )
        )
        return InvokeResult(
            function=spec.name,
            request_id=request_id,
            status_code=200,
            payload=payload,
            function_error="Unhandled",
            error_type=error_type,
            duration_ms=duration,
            billed_duration_ms=billed,
            init_duration_ms=None,
            cold_start=not suppressed,
            memory_size_mb=spec.memory_size,
            max_memory_used_mb=max_mb,
            cost_usd=invocation_cost(spec.memory_size, billed, spec.architecture, spec.ephemeral_storage),
            log_stream_name=env.log_stream_name,
            warnings=list(env.warnings),
        )

    def _finish(self, pool: _Pool, result: InvokeResult, tail: TailBuffer) -> InvokeResult:
        result.log_tail = tail.text()
        pool.last_invocation = result
        return result


def _error_payload(error_type: str, message: str) -> bytes:
    return json.dumps({"errorType": error_type, "errorMessage": message}).encode()


def _error_type_of(o: Outcome) -> str:
    if o.error_type and o.error_type != "Runtime.Unknown":
        return o.error_type
    try:
        declared = json.loads(o.body).get("errorType")
    except (ValueError, AttributeError):
        declared = None
    return declared or o.error_type or "Runtime.Unknown"


def _init_error_type(o: Outcome) -> str:
    if o.kind == "init_error":
        return _error_type_of(o)
    if o.kind == "spawn_error":
        return "Runtime.InvalidEntrypoint"
    if o.kind == "timeout":
        return "Sandbox.Timedout"
    return "Runtime.ExitError"


def _trace_id() -> str:
    """An X-Ray trace header in Lambda's shape: Root=1-<epoch hex>-<96-bit id>;Parent=<64-bit id>;Sampled=0."""
    r = os.urandom(24).hex()
    return f"Root=1-{int(time.time()):08x}-{r[:24]};Parent={r[24:40]};Sampled=0;Lineage=1:{r[40:48]}:0"


def _code_fingerprint(spec: FunctionSpec, max_files: int = 5000) -> tuple[int, int]:
    """(newest mtime in ns, files seen) over the function's code and layers."""
    newest, count = 0, 0
    for root in (spec.code_dir, *spec.layer_dirs):
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = [d for d in dirnames if d not in ("__pycache__", ".git", ".venv")]
            for f in filenames:
                count += 1
                if count > max_files:
                    return (newest, count)
                try:
                    newest = max(newest, os.stat(os.path.join(dirpath, f)).st_mtime_ns)
                except OSError:
                    pass
    return (newest, count)


def _default_cache_dir() -> Path:
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("lambdatui"))
