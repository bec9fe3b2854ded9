"""The `Backend` interface: everything the dashboard and the CLI may ask of a place functions run.

Two implementations: `local` (the bundled executor) and `aws` (boto3). Calls are blocking — the
dashboard runs them in thread workers, the CLI calls them directly — except `tail_logs`, an async
iterator. Failures raise `BackendError` subclasses carrying a one-line message fit for a user.
A conformance suite (tests/conformance) runs the same tests over every implementation.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass, field
from typing import Any, AsyncIterator

from ..config import EDITABLE_FUNCTION_FIELDS as EDITABLE_FIELDS  # the editor's fields
from ..executor.logstore import LogEvent
from ..executor.spec import InvokeResult
from ..triggers.base import Trigger

__all__ = [
    "Backend",
    "BackendError",
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


@dataclass
class FunctionConfiguration:
    name: str
    runtime: str
    handler: str
    memory_size: int
    timeout: int
    architecture: str = "x86_64"
    description: str = ""
    environment: dict[str, str] = field(default_factory=dict)
    layers: list[str] = field(default_factory=list)
    reserved_concurrency: int | None = None
    provisioned_concurrency: int = 0
    last_modified: str | None = None  # ISO 8601, as Lambda's LastModified
    arn: str = ""
    code: str = ""  # a local folder, or the code's location on AWS
    role: str | None = None
    state: str = "Active"
    last_update_status: str = "Successful"
    triggers: list[Trigger] = field(default_factory=list)  # local event sources (config `triggers:`)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["triggers"] = [t.to_dict() for t in self.triggers]  # as the config spells them, `type` included
        return out


@dataclass
class MetricSeries:
    """One metric over time: `timestamps` (epoch seconds, ascending) and their `values`."""

    timestamps: list[float] = field(default_factory=list)
    values: list[float] = field(default_factory=list)


@dataclass
class FunctionMetrics:
    """A function's figures over [start, end) in buckets of `period` seconds (the monitor pane's data).

    The duration percentiles of a window cannot be derived from per-bucket percentiles, so a backend
    that can compute them over the whole window sets `duration_p50_window` / `duration_p99_window`;
    otherwise `totals()` falls back to the largest bucket value (an upper bound).
    """

    function: str
    start: float
    end: float
    period: int
    invocations: MetricSeries  # Sum
    errors: MetricSeries  # Sum
    throttles: MetricSeries  # Sum
    duration_p50: MetricSeries  # ms
    duration_p99: MetricSeries  # ms
    concurrent_executions: MetricSeries  # Maximum
    duration_p50_window: float | None = None  # ms, over the whole window, when available
    duration_p99_window: float | None = None

    def totals(self) -> dict[str, float]:
        def largest(series: MetricSeries) -> float:
            return float(max(series.values, default=0.0))

        def window(value: float | None, series: MetricSeries) -> float:
            return float(value) if value is not None else largest(series)

        return {
            "invocations": float(sum(self.invocations.values)),
            "errors": float(sum(self.errors.values)),
            "throttles": float(sum(self.throttles.values)),
            "duration_p50": window(self.duration_p50_window, self.duration_p50),
            "duration_p99": window(self.duration_p99_window, self.duration_p99),
            "concurrent_executions": largest(self.concurrent_executions),
        }


def decoded_payload(payload: bytes) -> Any:
    """The response as JSON when it is JSON, else as text."""
    try:
        return json.loads(payload)
    except ValueError:
        return payload.decode("utf-8", "replace")


class Backend(ABC):
    name: str = "backend"
    read_only: bool = False

    def describe(self) -> str:
        """A short label for the header: the backend and where it points."""
        return self.name

    @abstractmethod
    def list_functions(self) -> list[FunctionConfiguration]: ...

    @abstractmethod
    def get_function(self, name: str) -> FunctionConfiguration: ...

    @abstractmethod
    def update_function(self, name: str, changes: dict[str, Any]) -> FunctionConfiguration:
        """Apply changes to the fields in EDITABLE_FIELDS; validated before anything is written."""

    @abstractmethod
    def invoke(
        self,
        name: str,
        payload: bytes = b"{}",
        *,
        invocation_type: str = "RequestResponse",
        source: str | None = None,
    ) -> InvokeResult:
        """Invoke; `RequestResponse` returns the response and its figures, `Event` 202, `DryRun` 204.

        `source` says what asked for the invocation (console, cli, http, schedule, s3, sqs, api,
        api-async, ...); a backend that keeps an invocation history records it, others ignore it."""

    @abstractmethod
    def tail_logs(
        self,
        name: str,
        *,
        since: float | None = None,
        follow: bool = True,
        filter_pattern: str | None = None,
    ) -> AsyncIterator[LogEvent]:
        """Log events of a function from `since` (epoch seconds), then live ones while `follow`."""

    def metrics(self, name: str, *, start: float, end: float, period: int = 60) -> FunctionMetrics:
        """Invocations, errors, throttles, duration p50/p99 and concurrency of `name` over
        [start, end) (epoch seconds) in buckets of `period` seconds."""
        raise BackendError(f"Metrics are not available from the {self.name} backend")

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()
