"""The local backend: the configuration's functions, run by the bundled executor.

Translates between the `Backend` interface and the executor, keeps the configuration in step with
edits (validated with the config loader's own rules, then saved to the config file, comments and
all, by `config_writer`), and persists log lines under the state dir so `lambdatui logs` in another
process can read them: written by the log store's writer thread, at most `LOG_WRITE_DELAY_S` after
they are logged (see `LogStore`), so the invoking threads do not make the system calls.

Every invocation that runs (`invoke` is the single entry: the dashboard's, the CLI's and `serve`'s
triggers') is recorded with its `source` in the invocation history, `<state dir>/history.db`
(`lambdatui.history`); `metrics`, `summary` and `durations` are computed from it. The history file
is opened on a thread of its own when the backend starts, so that a one-shot `lambdatui invoke`
opens it while its function's environment starts rather than before (an invocation that finishes
first waits for it); recording only queues the row (see `History`).
"""

from __future__ import annotations

import copy
import logging
import os
import sqlite3
import threading
import uuid
from collections import deque
from collections.abc import AsyncGenerator, Callable
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..config import (
    AwsServicesSettings,
    Config,
    FunctionConfig,
    load_config,
    validate_changes,
)
from ..executor import Executor, FunctionNotFound, InvokeRequestError, LogEvent, LogStore, UnsupportedRuntime
from ..executor.logstore import LogFollower
from ..executor.spec import InvokeResult
from ..history import DEFAULT_SOURCE, HISTORY_FILE_NAME, History, Row
from ..logfilter import compile_filter
from ..yaml_nodes import ConfigError
from .base import (
    Backend,
    BackendError,
    Capabilities,
    FunctionConfiguration,
    FunctionDetail,
    FunctionMetrics,
    FunctionNotFoundError,
    InvalidParameterError,
    ReadOnlyError,
    RequestError,
    TuningSession,
)
from .detail import TriggerInfo, split_qualifier

if TYPE_CHECKING:  # loaded only when the services are on
    from ..aws_services import EmbeddedServices

STATE_DIR_ENV_VAR = "LAMBDATUI_STATE_DIR"
# How long a log line may wait to be written to the state dir's files (`lambdatui logs --follow`
# polls them every 0.2 s). Closing the backend writes what waits.
LOG_WRITE_DELAY_S = 0.05
# How often the dashboard's log tail looks for lines other processes appended (their own write delay
# is LOG_WRITE_DELAY_S): well inside the 1 s within which they should show.
OTHERS_POLL_S = 0.25

log = logging.getLogger("lambdatui.backends.local")


def default_state_dir() -> Path:
    override = os.environ.get(STATE_DIR_ENV_VAR)
    if override:
        return Path(override)
    from platformdirs import user_state_dir

    return Path(user_state_dir("lambdatui"))


class ConfigSaveError(BackendError):
    """An edit was valid but could not be written to the config file; nothing was changed."""

    code = "ConfigSaveError"


class LocalBackend(Backend):
    name = "local"
    capabilities = Capabilities(invocation_history=True, persists_edits=True, shared_state=True, instant_listing=True)

    def __init__(
        self,
        config: Config,
        *,
        state_dir: Path | None = None,
        watch_code: bool = True,
        start: bool = True,
        provision: list[str] | None = None,
        persist_logs: bool = True,
        persist_config: bool = True,
        read_only: bool = False,
        record_history: bool = True,
        aws_services: bool = False,
    ) -> None:
        self.read_only = read_only
        # Whether invocations are written to the history; reading it (metrics, stats) works either way.
        self.record_history = record_history
        self._history: History | None = None
        self._history_failed = False
        self._history_lock = threading.Lock()
        self._closed = False
        self._events: set[threading.Thread] = set()  # Event invocations accepted and still running
        self._events_lock = threading.Lock()
        self.config = config
        # Edits are saved to config.path (when it is set) unless persist_config is False.
        self.persist_config = persist_config
        self._update_lock = threading.Lock()  # one edit at a time: read-modify-write of the file
        self.state_dir: Path = state_dir or default_state_dir()
        local = config.local
        # The embedded AWS services (`aws_services`: as local.aws_services says, its defaults if unset),
        # shared with other processes on this state dir; every function gets their endpoint.
        self.aws_services: EmbeddedServices | None = None
        if aws_services:
            from ..aws_services import EmbeddedServices, ServicesError

            settings = local.aws_services or AwsServicesSettings()
            try:
                self.aws_services = EmbeddedServices.ensure(self.state_dir, local.region, settings.seed, port=settings.port)
            except ServicesError as e:
                raise BackendError(str(e)) from None
        self._logs_dir = self.state_dir / "logs" if persist_logs else None
        self.logs = LogStore(self._logs_dir, write_delay_s=LOG_WRITE_DELAY_S)
        self.executor = Executor(
            local.functions.values(),
            region=local.region,
            account_id=local.account_id,
            keep_warm_seconds=local.keep_warm_seconds,
            logs=self.logs,
            cache_dir=self.state_dir / "cache",
            watch_code=watch_code,
            service_env=self.aws_services.endpoint.function_env() if self.aws_services else None,
        )
        if start:
            if record_history:
                # Opened now, beside what follows (the first cold start), not on an invocation's way back.
                threading.Thread(target=lambda: self.history, name="lambdatui-history-open", daemon=True).start()
            self.executor.start(provision=provision)

    def describe(self) -> str:
        where = f" · {self.config.path}" if self.config.path else ""
        services = f" · AWS services {self.aws_services.endpoint.url}" if self.aws_services else ""
        return f"local · {self.config.local.region}{services}{where}"

    # -- functions ---------------------------------------------------------------------------

    def _function(self, name: str) -> FunctionConfig:
        f = self.config.local.functions.get(name)
        if f is None:
            raise FunctionNotFoundError(f"Function not found: {self.executor.arn(name)}")
        return f

    def _configuration(self, f: FunctionConfig, modified: dict[str, str | None] | None = None) -> FunctionConfiguration:
        if modified is None:
            last = _last_modified(f.code_dir)
        elif f.code in modified:
            last = modified[f.code]
        else:
            last = modified[f.code] = _last_modified(f.code_dir)
        # What `dataclasses.replace` makes (a copy, its environment a dict of its own), without
        # running __init__ and __post_init__ again over settings the config already checked: the
        # dashboard lists 1,000 functions in its first frame, and that took half the listing.
        c = copy.copy(f)
        object.__setattr__(c, "environment", dict(f.environment))
        object.__setattr__(c, "arn", self.executor.arn(f.name))
        object.__setattr__(c, "last_modified", last)
        return c

    def list_functions(self) -> list[FunctionConfiguration]:
        # Functions of one project often share a code folder (a SAM CodeUri: src/): it is listed
        # once per call, not once per function (1,000 functions: 1,000 listdirs -> 1).
        modified: dict[str, str | None] = {}
        return [self._configuration(f, modified) for f in self.config.local.functions.values()]

    def get_function(self, name: str) -> FunctionConfiguration:
        return self._configuration(self._function(name))

    def function_detail(self, name: str, qualifier: str | None = None) -> FunctionDetail:
        """What the configuration knows: the settings, its triggers (state Enabled, or Disabled for
        a disabled schedule), logging as the executor writes it (Text, /aws/lambda/NAME), the async
        config's on-failure queue. No versions, aliases, URL, VPC or DLQ exist locally, and
        code_size/code_sha256 are null: on AWS they are the deployment zip's, which only `deploy`
        builds (its plan shows them)."""
        from ..triggers import TriggerWhere

        base, embedded = split_qualifier(name)
        qualifier = qualifier or embedded
        f = self._function(base)
        if qualifier not in (None, "", "$LATEST"):
            raise FunctionNotFoundError(f"Function not found: {self.executor.arn(base)}:{qualifier}")
        where = TriggerWhere(state_dir=self.state_dir).at_now()
        triggers = [
            TriggerInfo(t.type, t.describe(where), "Enabled" if t.to_dict().get("enabled", True) else "Disabled", "config")
            for t in f.triggers
        ]
        a = f.async_config
        destinations = {
            "on_success": None,
            "on_failure": a.on_failure,  # a local SQS queue's name
            "maximum_retry_attempts": a.maximum_retry_attempts,
            "maximum_event_age_seconds": a.maximum_event_age_seconds,
        }
        c = self._configuration(f)
        return FunctionDetail(
            c,
            triggers=triggers,
            logging={"format": "Text", "log_group": f"/aws/lambda/{f.name}"},
            destinations=destinations,
            raw=c.to_aws(),
        )

    def isolation(self, name: str) -> dict[str, Any] | None:
        """What the local sandbox guarantees on this machine (executor.sandbox: probed once)."""
        return self.executor.sandboxes.isolation(self._function(name)).to_dict()

    def update_function(
        self,
        name: str,
        changes: dict[str, Any],
        progress: Callable[[str], None] | None = None,
        *,
        persist: bool = True,
        save_to: dict[str, str] | None = None,
    ) -> FunctionConfiguration:
        """Validate, save to the config file, then apply; a refusal or a failed save changes nothing."""
        if self.read_only:
            raise ReadOnlyError(f"{name} was not changed: this backend is read-only")
        with self._update_lock:
            current = self._function(name)
            updated = self._validated(current, changes)
            if persist:
                self._save(name, current, updated, changes, save_to)
            self.config.local.functions[name] = updated
            self.executor.update_function(updated)
            return self._configuration(updated)

    def reload(self) -> None:
        """Re-read the config file: new functions are added, changed ones updated (their warm
        environments retired when what they run changed), removed ones closed. The `Config` object
        is updated in place, so whoever holds it (the dashboard) sees the new functions."""
        if self.config.path is None:
            return
        try:
            fresh = load_config(self.config.path)
        except ConfigError as e:
            raise InvalidParameterError(f"the config file was not reloaded: {e}") from None
        with self._update_lock:
            old, new = self.config.local.functions, fresh.local.functions
            for name, f in new.items():
                if name in old:
                    self.executor.update_function(f)
                else:
                    self.executor.add_function(f)
            for name in set(old) - set(new):
                self.executor.remove_function(name)
            self.config.local = fresh.local
            self.config.tui = fresh.tui

    def _validated(self, current: FunctionConfig, changes: dict[str, Any]) -> FunctionConfig:
        try:
            updated = replace(current, **validate_changes(changes))
        except ValueError as e:
            raise InvalidParameterError(str(e)) from None
        if updated.reserved_concurrency is not None and updated.provisioned_concurrency > updated.reserved_concurrency:
            raise InvalidParameterError(
                f"provisioned_concurrency: {updated.provisioned_concurrency} is more than "
                f"reserved_concurrency ({updated.reserved_concurrency})"
            )
        return updated

    def _save(
        self, name: str, current: FunctionConfig, updated: FunctionConfig, changes: dict[str, Any], save_to: dict[str, str] | None = None
    ) -> None:
        """Write the settings that differ (validated, normalised values) to the config file."""
        if not self.persist_config or self.config.path is None:
            return
        differing = {
            key: getattr(updated, key)
            for key in changes
            if getattr(updated, key) != getattr(current, key)
        }
        if not differing:
            return
        try:
            if current.template_file is not None:  # declared in a SAM/CloudFormation template: saved there
                from ..template_writer import update_function_in_template

                update_function_in_template(
                    current.template_file, name, differing, environment_before=dict(current.environment), save_to=save_to
                )
                return
            from ..config_writer import update_function_in_file  # here: importing ruamel.yaml costs ~25 ms

            update_function_in_file(self.config.path, name, differing)
        except ConfigError as e:
            raise ConfigSaveError(f"not saved, nothing changed: {e}") from None

    # -- invoke ------------------------------------------------------------------------------

    def invoke(
        self,
        name: str,
        payload: bytes = b"{}",
        *,
        invocation_type: str = "RequestResponse",
        source: str | None = None,
        request_id: str | None = None,
        qualifier: str | None = None,
        client_context: dict[str, Any] | None = None,
    ) -> InvokeResult:
        name, embedded = split_qualifier(name)  # NAME:QUALIFIER, as Lambda reads a FunctionName
        if qualifier and embedded and qualifier != embedded:
            raise InvalidParameterError("The derived qualifier from the function name does not match the specified qualifier.")
        qualifier = qualifier or embedded
        self._function(name)
        if qualifier not in (None, "", "$LATEST"):
            # The local backend has no published versions or aliases: AWS's answer for a missing one.
            raise FunctionNotFoundError(f"Function not found: {self.executor.arn(name)}:{qualifier}")
        options: dict[str, Any] = {"request_id": request_id, "qualifier": qualifier or None, "client_context": client_context}
        source = source or DEFAULT_SOURCE
        if invocation_type == "DryRun":
            # Lambda checks the parameters and the caller's permission, runs nothing: 204, no figures.
            return InvokeResult(function=name, request_id="", status_code=204, payload=b"", has_figures=False)
        if invocation_type == "Event":
            # Accepted now, run in the background, as Lambda's asynchronous invocation; `close`
            # waits for it, so a one-shot `lambdatui invoke --invocation-type Event` still runs it.
            options["request_id"] = request_id = request_id or str(uuid.uuid4())
            thread = threading.Thread(target=self._invoke_quietly, args=(name, payload, source, options), name=name, daemon=True)
            with self._events_lock:
                self._events.add(thread)
            thread.start()
            return InvokeResult(function=name, request_id=request_id, status_code=202, payload=b"", has_figures=False)
        if invocation_type != "RequestResponse":
            raise InvalidParameterError(f"invocation type {invocation_type!r} is not RequestResponse, Event or DryRun")
        try:
            result = self.executor.invoke(name, payload, **options)
            self._record(result, source)
            return result
        except FunctionNotFound as e:
            raise FunctionNotFoundError(str(e)) from None
        except InvokeRequestError as e:
            raise RequestError(e.message, e.error_type, e.status_code) from None
        except UnsupportedRuntime as e:
            raise BackendError(str(e)) from None

    def _invoke_quietly(self, name: str, payload: bytes, source: str, options: dict[str, Any]) -> None:
        try:
            self._record(self.executor.invoke(name, payload, **options), source)
        except Exception:
            pass
        finally:
            with self._events_lock:
                self._events.discard(threading.current_thread())

    # -- history -----------------------------------------------------------------------------

    @property
    def history(self) -> History | None:
        """The invocation history (opened on first use); None if it cannot be opened."""
        if self._history is None and not self._history_failed and not self._closed:
            with self._history_lock:
                if self._history is None and not self._history_failed and not self._closed:
                    path = self.state_dir / HISTORY_FILE_NAME
                    try:
                        self._history = History(path)
                    except (OSError, sqlite3.Error) as e:
                        self._history_failed = True  # invocations go on unrecorded
                        log.warning("invocation history %s unavailable: %s", path, e)
        return self._history

    def _record(self, result: InvokeResult, source: str) -> None:
        if not self.record_history:
            return
        f = self.config.local.functions.get(result.function)
        history = self.history
        if history is not None:
            history.record(result, source, f.architecture if f is not None else "x86_64")

    def latest_invocation_id(self) -> int:
        """Where the history ends now (0: empty or unavailable); see `invocations_after`."""
        history = self.history
        try:
            return history.latest_id() if history is not None else 0
        except sqlite3.Error:
            return 0

    def invocations_after(self, row_id: int) -> tuple[int, list[InvokeResult]]:
        """Invocations any lambdatui process on this state dir recorded after `row_id` (the CLI,
        `serve`'s triggers, another dashboard, this process), as results without payloads; and
        the id to ask after next. What the dashboard polls to show them."""
        history = self.history
        if history is None:
            return row_id, []
        try:
            last, rows = history.rows_after(row_id)
        except sqlite3.Error:
            return row_id, []
        return last, [_result_of(r) for r in rows]

    def last_invocations(self) -> list[InvokeResult]:
        """Each function's most recent recorded invocation, by any process, in any earlier run."""
        history = self.history
        if history is None:
            return []
        try:
            return [_result_of(r) for r in history.latest_per_function()]
        except sqlite3.Error:
            return []

    def _require_history(self) -> History:
        history = self.history
        if history is None:
            raise BackendError(f"The invocation history ({self.state_dir / HISTORY_FILE_NAME}) is not available")
        return history

    def metrics(self, name: str, *, start: float, end: float, period: int = 60) -> FunctionMetrics:
        """From the invocation history; see `History.series`."""
        self._function(name)
        try:
            return self._require_history().series(name, start, end, period)
        except ValueError as e:
            raise InvalidParameterError(str(e)) from None
        except sqlite3.Error as e:
            raise BackendError(f"Reading the invocation history failed: {e}") from None

    def summary(self, name: str, since: float, until: float | None = None) -> dict[str, Any]:
        """`History.summary` of `name` over [since, until), priced at the function's configured memory."""
        f = self._function(name)
        try:
            return self._require_history().summary(
                name, since, until, memory_size=f.memory_size, architecture=f.architecture
            )
        except sqlite3.Error as e:
            raise BackendError(f"Reading the invocation history failed: {e}") from None

    def durations(self, name: str, since: float, until: float) -> list[float] | None:
        self._function(name)
        try:
            rows = self._require_history().query(name, since, until)
        except sqlite3.Error as e:
            raise BackendError(f"Reading the invocation history failed: {e}") from None
        return [float(r.duration_ms) for r in rows if r.duration_ms is not None]

    def power_tuning(self, name: str) -> TuningSession:
        self._function(name)
        return _LocalTuning(self, name)

    # -- logs --------------------------------------------------------------------------------

    async def tail_logs(
        self,
        name: str,
        *,
        since: float | None = None,
        follow: bool = True,
        filter_pattern: str | None = None,
    ) -> AsyncGenerator[LogEvent, None]:
        import asyncio  # here, not at the top: asyncio costs the one-shot CLI ~10 ms to import

        self._function(name)
        match = compile_filter(filter_pattern)
        loop = asyncio.get_running_loop()
        # Lines written since the backlog was read wait here for this generator, as plain tuples
        # (timestamp, stream, message, event id, from another process): the garbage collector stops
        # tracking those, where a queue of `LogEvent`s, read a moment later, had thousands of them
        # outlive two collections and go on to make the full ones frequent and slow (the log store's
        # docstring). Bounded like the store's own ring: a reader that falls that far behind loses
        # the oldest, as it would reading the store. A writer wakes the reader once per batch, not
        # once per line (a thread-safe call per line was 5,000 wake-ups a second on a busy function).
        pending: deque[tuple[float, str, str, int, bool]] = deque(maxlen=self.logs.max_events_per_function)
        ready = asyncio.Event()
        waking = [False]  # a wake-up is on its way; the reader clears it before it drains

        def wake() -> None:
            if not waking[0]:
                waking[0] = True
                loop.call_soon_threadsafe(ready.set)

        unsubscribe = None
        others: asyncio.Task[None] | None = None
        own: set[str] = set()  # this process's log streams: their lines come from the store, not the file
        if follow:
            def deliver(event: LogEvent) -> None:  # on the thread that wrote the line
                if event.function == name:
                    own.add(event.log_stream)  # before the writer thread puts the line in the file
                    pending.append((event.timestamp, event.log_stream, event.message, event.event_id, False))
                    wake()

            unsubscribe = self.logs.subscribe(deliver)
            if self._logs_dir is not None:
                others = asyncio.create_task(self._follow_other_processes(name, self._logs_dir, own, pending, wake))
        try:
            last_id = 0
            for event in self.logs.events(name, since=since):
                own.add(event.log_stream)
                last_id = event.event_id
                if match(event.message):
                    yield event
            if not follow:
                return
            while True:
                await ready.wait()
                ready.clear()
                waking[0] = False  # before draining: a line appended from now on wakes us again
                while pending:
                    timestamp, stream, message, event_id, external = pending.popleft()
                    if not external and event_id <= last_id:
                        continue  # already yielded from the backlog
                    if match(message):
                        yield LogEvent(timestamp, name, stream, message, event_id)
        finally:
            if unsubscribe:
                unsubscribe()
            if others is not None:
                others.cancel()

    async def _follow_other_processes(
        self, name: str, directory: Path, own: set[str], pending: deque[tuple[float, str, str, int, bool]],
        wake: Callable[[], None],
    ) -> None:
        """Lines other lambdatui processes on this state dir (`serve`, CLI runs, another dashboard)
        append to the function's log file, every `OTHERS_POLL_S`: this process's own lines come from
        the store directly, so lines of its own log streams are skipped. Only lines written after
        the tail started: older ones are the other processes' past."""
        import asyncio

        follower = LogFollower(directory, name, skip_streams=own)  # own lines unparsed (LogFollower)
        try:
            await asyncio.to_thread(follower.skip_to_end)  # what is there now is the past
            while True:
                await asyncio.sleep(OTHERS_POLL_S)
                events = await asyncio.to_thread(follower.poll)
                for event in events:
                    if event.log_stream not in own:  # (a stream the follower could not read unparsed)
                        pending.append((event.timestamp, event.log_stream, event.message, event.event_id, True))
                if events:
                    wake()
                # Not kept through the sleep: a list of LogEvents outliving two collections is what
                # makes the full ones frequent (the log store's docstring).
                del events
        finally:
            follower.close()

    def close(self) -> None:
        with self._events_lock:
            running = list(self._events)
        for thread in running:  # an accepted event is run, not dropped, even by a one-shot CLI
            f = self.config.local.functions.get(thread.name)
            thread.join(timeout=(f.timeout if f is not None else 900) + 10)
        self.executor.close()
        if self.aws_services is not None:
            self.aws_services.close()  # after the functions: none is still calling them
        with self._history_lock:
            self._closed = True
            history, self._history = self._history, None
        if history is not None:
            history.close()  # writes what is queued
        self.logs.close()


def _result_of(row: Row) -> InvokeResult:
    """A recorded invocation as the dashboard shows one (the history keeps no payloads)."""
    return InvokeResult(
        function=row.function,
        request_id=row.request_id,
        status_code=row.status_code,
        payload=b"",
        function_error=row.function_error,
        error_type=row.error_type,
        duration_ms=row.duration_ms or 0.0,
        billed_duration_ms=row.billed_duration_ms or 0,
        init_duration_ms=row.init_duration_ms,
        cold_start=row.cold,
        memory_size_mb=row.memory_size_mb or 0,
        max_memory_used_mb=row.max_memory_used_mb or 0,
        cost_usd=row.cost_usd,
        started_at=row.time,
        has_figures=row.duration_ms is not None,
    )


def _last_modified(code: Path) -> str | None:
    try:
        newest = max((p.stat().st_mtime for p in code.iterdir() if p.is_file()), default=code.stat().st_mtime)
    except OSError:
        return None
    # Lambda's LastModified format: 2026-11-27T10:00:00.000+0000
    return datetime.fromtimestamp(newest, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000"



class _LocalTuning(TuningSession):
    """Power tuning on this machine: environments get CPU in proportion to memory (cgroups, where
    writable) and the memory sizes tried are not written to the config file. Both are undone on close."""

    local = True

    def __init__(self, backend: LocalBackend, name: str) -> None:
        self._backend = backend
        self._executor = backend.executor
        self._name = name
        self._saved_scale = self._executor.scale_cpu
        self._saved_persist = backend.persist_config
        backend.persist_config = False  # sizes tried are never left in the config file
        if not self._saved_scale:
            self._executor.scale_cpu = True
            self._retire()  # warm environments started uncapped

    def _retire(self) -> None:
        try:
            self._executor.retire(self._name)
        except Exception as e:  # a retirement that fails leaves old environments to the reaper
            log.warning("power tuning: retiring %s: %s", self._name, e)

    def cpu_scaled(self) -> bool:
        return self._executor.cpu_scaling_active

    def vcpus(self, memory_mb: int) -> float | None:
        if not self._executor.cpu_scaling_active:
            return None
        try:
            return self._executor.cpu_limiter.vcpus(memory_mb)
        except Exception:
            return None

    def cpu_limit_reason(self) -> str:
        return self._executor.cpu_limiter.reason or ""

    def close(self) -> None:
        self._backend.persist_config = self._saved_persist
        if not self._saved_scale:
            self._executor.scale_cpu = self._saved_scale
            self._retire()  # environments started capped for the tune
