"""The `Backend` interface: everything the dashboard and the CLI may ask of a place functions run.

Two implementations: `local` (the bundled executor) and `aws` (boto3). Calls are blocking — the
dashboard runs them in thread workers, the CLI calls them directly — except `tail_logs`, an async
iterator. Failures raise `BackendError` subclasses carrying a one-line message fit for a user.
A conformance suite (tests/conformance) runs the same tests over every implementation.
"""

from __future__ import annotations

import json
import math
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import figures
from ..executor.logstore import LogEvent
from ..executor.spec import InvokeResult
from ..model import EDITABLE_FIELDS, Function, FunctionMetrics, MetricSeries
from .detail import AliasInfo, FunctionDetail, VersionInfo

__all__ = [
    "AliasInfo",
    "Backend",
    "FunctionDetail",
    "VersionInfo",
    "FunctionMetrics",
    "MetricSeries",
    "BackendError",
    "Capabilities",
    "Location",
    "NotSupportedError",
    "SUMMARY_KEYS",
    "TuningSession",
    "FunctionConfiguration",
    "FunctionNotFoundError",
    "InvalidParameterError",
    "InvokeResult",
    "LogEvent",
    "ReadOnlyError",
    "RequestError",
    "EDITABLE_FIELDS",
]

class BackendError(Exception):
    """A backend call failed; `str(e)` is one line for the user."""

    code = "BackendError"


class FunctionNotFoundError(BackendError):
    code = "ResourceNotFoundException"


class InvalidParameterError(BackendError):
    code = "InvalidParameterValueException"


class ReadOnlyError(BackendError):
    code = "ReadOnly"


class RequestError(BackendError):
    """The invoke request itself was refused (too large, not JSON)."""

    def __init__(self, message: str, code: str, status_code: int) -> None:
        super().__init__(message)
        self.code = code
        self.status_code = status_code


# What a backend returns for a function: the one model, with its deployment's state filled in.
FunctionConfiguration = Function


def summarize_metrics(metrics: FunctionMetrics, memory_size: int, architecture: str, window_s: float) -> dict[str, Any]:
    """A summary (SUMMARY_KEYS) from aggregate metrics. Cost and projections are an estimate
    (`cost_estimated`): every invocation taken as lasting the window's p50, billed as such."""
    totals = metrics.totals()
    invocations = int(totals["invocations"])
    p50 = totals["duration_p50"] if invocations else None
    summary: dict[str, Any] = {key: None for key in SUMMARY_KEYS}
    summary.update(
        invocations=invocations,
        errors=int(totals["errors"]),
        throttles=int(totals["throttles"]),
        duration_p50=p50,
        duration_p99=totals["duration_p99"] if invocations else None,
        concurrent_executions=int(totals["concurrent_executions"]),
        memory_size_mb=memory_size,
        window_seconds=window_s,
    )
    if p50 is not None and memory_size:
        billed = figures.billed_duration_ms(p50, bill_init=False)
        summary["cost_usd"] = invocations * figures.invocation_cost(memory_size, billed, architecture)
        summary["projected_monthly_usd"], summary["projected_monthly_usd_no_free_tier"] = figures.monthly_projection(
            invocations, window_s, billed, memory_size, architecture
        )
        summary["cost_estimated"] = True
    return summary


def decoded_payload(payload: bytes) -> Any:
    """The response as JSON when it is JSON, else as text."""
    try:
        return json.loads(payload)
    except (ValueError, RecursionError):  # RecursionError: JSON nested deeper than Python parses
        return payload.decode("utf-8", "replace")


# Every summary has these keys (None where the backend cannot tell). `lambdatui stats` prints them,
# the monitor pane shows them; both take them from `Backend.summary`, so they always agree.
SUMMARY_KEYS = (
    "invocations",
    "errors",
    "throttles",
    "cold_starts",
    "cold_start_rate",
    "avg_init_ms",
    "duration_p50",
    "duration_p90",
    "duration_p99",
    "memory_max_mb",
    "memory_avg_mb",
    "memory_size_mb",
    "concurrent_executions",
    "cost_usd",
    "projected_monthly_usd",
    "projected_monthly_usd_no_free_tier",
    "window_seconds",
)
MAX_SUMMARY_POINTS = 1440  # buckets asked of `metrics` for a summary: the window's totals need no finer grain


@dataclass(frozen=True)
class Capabilities:
    """What a backend can do beyond the core calls. Callers ask these, never `hasattr`.

    - `invocation_history`: every invocation's figures are kept (`summary` counts each invocation,
      `durations` lists them); without it `summary` comes from aggregate metrics.
    - `switch_account`: `switch(profile=, region=)` points the backend elsewhere (AWS profiles/regions).
    - `cpu_follows_memory`: CPU scales with memory as on Lambda, always (AWS) — otherwise power tuning
      asks `power_tuning()` whether this machine can make it so.
    - `persists_edits`: `update_function` writes to a file the user owns (the config file).
    - `deploy_target`: functions can be deployed to it (`lambdatui deploy`).
    - `versions`: functions have published versions and aliases (`list_versions`, `list_aliases`,
      invoking a qualifier other than $LATEST).
    - `lists_reserved_concurrency`: `list_functions` gives each function's real reserved
      concurrency; without it (AWS: ListFunctions leaves it out) ask `reserved_concurrency(name)`.
    - `live_tail`: `live_tail` streams a function's lines as they are written, at a cost per minute
      (CloudWatch Logs Live Tail); `tail_logs` polls, at no cost.
    - `shared_state`: invocations other processes record on the same state dir can be followed
      (`latest_invocation_id`, `invocations_after`, `last_invocations`).
    - `instant_listing`: `list_functions` answers from memory, with no I/O worth a thread (the
      local config): a front end may list on its own thread before its first frame.
    """

    invocation_history: bool = False
    switch_account: bool = False
    cpu_follows_memory: bool = False
    persists_edits: bool = False
    deploy_target: bool = False
    versions: bool = False
    lists_reserved_concurrency: bool = True
    live_tail: bool = False
    shared_state: bool = False
    instant_listing: bool = False


@dataclass(frozen=True)
class Location:
    """Where a backend points, for the header and the switcher: profile and region (None: default)."""

    profile: str | None = None
    region: str | None = None


class TuningSession:
    """A backend's part in a power-tuning run (`Backend.power_tuning`), used as a context manager.

    This default is AWS's: nothing to set up, CPU already follows memory, figures are Lambda's own.
    The local backend's session caps CPU to memory where the machine allows it and keeps the sizes
    tried out of the config file, undoing both on exit."""

    local = False  # the figures come from this machine, not from Lambda

    def cpu_scaled(self) -> bool:
        """Whether CPU follows memory for the environments this run uses."""
        return True

    def vcpus(self, memory_mb: int) -> float | None:
        """The CPUs an environment of `memory_mb` gets in this run, where lambdatui sets them."""
        return None

    def cpu_limit_reason(self) -> str:
        """Why CPU cannot follow memory here ("" when it can or when it is not lambdatui's to set)."""
        return ""

    def close(self) -> None:
        pass

    def __enter__(self) -> TuningSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class NotSupportedError(BackendError):
    """A call this backend does not offer (its `capabilities` say so)."""

    code = "NotSupported"


class Backend(ABC):
    """Everything the dashboard, the CLI, `serve`, deploy and power tuning may ask of a backend."""

    name: str = "backend"
    read_only: bool = False
    capabilities: Capabilities = Capabilities()
    # Where this backend keeps local state (logs, history, queues); None for a remote backend.
    state_dir: Path | None = None

    def describe(self) -> str:
        """A short label for the header: the backend and where it points."""
        return self.name

    def location(self) -> Location:
        """Profile and region, where the backend has them."""
        return Location()

    @abstractmethod
    def list_functions(self) -> list[FunctionConfiguration]: ...

    @abstractmethod
    def get_function(self, name: str) -> FunctionConfiguration: ...

    @abstractmethod
    def update_function(
        self,
        name: str,
        changes: dict[str, Any],
        progress: Callable[[str], None] | None = None,
        *,
        persist: bool = True,
        save_to: dict[str, str] | None = None,
    ) -> FunctionConfiguration:
        """Apply changes to the fields in EDITABLE_FIELDS; validated before anything is written.
        `progress` hears about a wait (AWS's LastUpdateStatus) in one line at a time. With
        `persist=False` a backend that `persists_edits` changes only what is running, not the file
        (serve's Lambda API without --persist-changes); an AWS edit is the account's own record,
        so AWS ignores it. `save_to` names, for a function declared in a template, where a changed
        setting is written: "function" (its own Properties, the default), "globals" or "parameter"
        (where it comes from: see `template_writer.sources`); other functions ignore it."""

    @abstractmethod
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
        """Invoke; `RequestResponse` returns the response and its figures, `Event` 202, `DryRun` 204.

        `source` says what asked for the invocation (console, cli, http, schedule, s3, sqs, api,
        api-async, ...); a backend that keeps an invocation history records it, others ignore it.
        `request_id` is the id the function sees when the caller already gave the invocation one
        (an asynchronous event keeps its id across attempts); a backend that cannot choose ids
        (AWS) ignores it. `qualifier` ($LATEST, a version or an alias) selects what runs and shows
        in `context.invoked_function_arn`. `client_context` (Invoke's `ClientContext`, decoded)
        reaches `context.client_context`."""

    @abstractmethod
    def tail_logs(
        self,
        name: str,
        *,
        since: float | None = None,
        follow: bool = True,
        filter_pattern: str | None = None,
    ) -> AsyncGenerator[LogEvent, None]:
        """Log events of a function from `since` (epoch seconds), then live ones while `follow`."""

    def function_detail(self, name: str, qualifier: str | None = None) -> FunctionDetail:
        """Everything `lambdatui show` and the Details screen present about `name` at `qualifier`
        (None: $LATEST; `NAME:QUALIFIER` works too). This default knows only the settings."""
        from .detail import split_qualifier

        base, embedded = split_qualifier(name)
        if (qualifier or embedded) not in (None, "$LATEST"):
            raise NotSupportedError(f"The {self.name} backend has no versions or aliases")
        c = self.get_function(base)
        return FunctionDetail(c, logging={"format": "Text", "log_group": f"/aws/lambda/{c.name}"}, raw=c.to_aws())

    def list_versions(self, name: str) -> list[VersionInfo]:
        """`name`'s published versions, oldest first ($LATEST left out) (`capabilities.versions`)."""
        raise NotSupportedError(f"The {self.name} backend has no published versions")

    def list_aliases(self, name: str) -> list[AliasInfo]:
        """`name`'s aliases (`capabilities.versions`)."""
        raise NotSupportedError(f"The {self.name} backend has no aliases")

    def reserved_concurrency(self, name: str) -> int | None:
        """`name`'s reserved concurrency: None when unreserved, 0 when every invoke is throttled.
        Asked per function where `list_functions` leaves it out (`capabilities.lists_reserved_concurrency`)."""
        return self.get_function(name).reserved_concurrency

    def reserved_concurrencies(self, names: list[str]) -> dict[str, int | None]:
        """`reserved_concurrency` of each of `names` (AWS: on a bounded thread pool)."""
        return {name: self.reserved_concurrency(name) for name in names}

    def live_tail(
        self, name: str, *, since: float | None = None, filter_pattern: str | None = None
    ) -> AsyncGenerator[LogEvent, None]:
        """One live session of `name`'s log lines from `since`, started because the user asked
        (`capabilities.live_tail`); it ends when the session does, and is not started again."""
        raise NotSupportedError(f"Live Tail is not offered by the {self.name} backend")

    def report_figures(self, name: str, since: float, until: float, *, insights: bool = False) -> dict[str, Any] | None:
        """Cold starts, init and memory figures over [since, until) read from REPORT lines, where
        `summary` cannot have them (aggregate metrics), with a `source` line; None where unknown."""
        return None

    def metrics(self, name: str, *, start: float, end: float, period: int = 60) -> FunctionMetrics:
        """Invocations, errors, throttles, duration p50/p99 and concurrency of `name` over
        [start, end) (epoch seconds) in buckets of `period` seconds."""
        raise NotSupportedError(f"Metrics are not available from the {self.name} backend")

    def summary(self, name: str, since: float, until: float | None = None) -> dict[str, Any]:
        """`name`'s figures over [since, until) (until: now): every key of SUMMARY_KEYS (None where
        unknown), projections from `lambdatui.figures`. `lambdatui stats` shows this, and the monitor
        the same (through `summarize_metrics` where the figures come from metrics).

        This default derives them from `metrics` (CloudWatch's totals on AWS)."""
        until = time.time() if until is None else until
        # An unknown function fails here, not with empty metrics. `NAME:QUALIFIER` (an alias's or a
        # version's own figures) is priced at the function's configured memory.
        configuration = self.get_function(name.partition(":")[0])
        span = max(until - since, 60.0)
        period = max(60, math.ceil(span / MAX_SUMMARY_POINTS / 60) * 60)
        metrics = self.metrics(name, start=since, end=until, period=period)
        return summarize_metrics(metrics, configuration.memory_size, configuration.architecture, until - since)

    def durations(self, name: str, since: float, until: float) -> list[float] | None:
        """Each invocation's duration (ms) over [since, until), oldest first; None where only
        aggregates exist (`capabilities.invocation_history` is False)."""
        return None

    def switch(self, *, profile: str | None = None, region: str | None = None) -> None:
        """Point the backend at another profile or region (`capabilities.switch_account`)."""
        raise NotSupportedError(f"The {self.name} backend has no profiles or regions to switch to")

    def isolation(self, name: str) -> dict[str, Any] | None:
        """Which of Lambda's sandbox guarantees hold for `name`'s environments where this backend
        runs them, as {guarantee: {"holds": bool, "how": text}}; None where Lambda runs them (AWS)."""
        return None

    def power_tuning(self, name: str) -> TuningSession:
        """Set up a power-tuning run of `name` (see TuningSession); use it with `with`."""
        return TuningSession()

    def latest_invocation_id(self) -> int:
        """Where the shared invocation history ends now (capability `shared_state`)."""
        raise NotSupportedError(f"The {self.name} backend keeps no shared invocation history")

    def invocations_after(self, row_id: int) -> tuple[int, list[InvokeResult]]:
        """Invocations recorded after `row_id` by any process, and the id to ask after next
        (capability `shared_state`)."""
        raise NotSupportedError(f"The {self.name} backend keeps no shared invocation history")

    def last_invocations(self) -> list[InvokeResult]:
        """Each function's most recent recorded invocation (capability `shared_state`)."""
        raise NotSupportedError(f"The {self.name} backend keeps no shared invocation history")

    def reload(self) -> None:
        """Read again where the functions are declared (the config file, locally): functions added,
        changed or removed there take effect. A backend whose functions live elsewhere does nothing."""
        return None

    def wait_until_updated(self, name: str, progress: Callable[[str], None] | None = None) -> None:
        """Return once `name` can take its next update or invoke (AWS: LastUpdateStatus Successful)."""
        return None  # updates take effect at once unless a backend says otherwise

    def close(self) -> None:
        return None  # a backend holding processes, files or sessions releases them here

    def __enter__(self) -> Backend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
