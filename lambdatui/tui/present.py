"""How invocation figures are shown, and the deterministic mode that makes screenshots repeatable.

With `LAMBDATUI_DETERMINISTIC=1` (set by the snapshot tests and for README screenshots) request ids,
timestamps and measured figures are replaced by fixed ones before they reach a widget, so two runs
render the same pixels. Nothing else about the app changes in that mode.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import AsyncGenerator, Callable
from dataclasses import replace
from typing import Any

from ..backends.base import (
    AliasInfo,
    Backend,
    FunctionConfiguration,
    FunctionDetail,
    FunctionMetrics,
    InvokeResult,
    Location,
    LogEvent,
    TuningSession,
    VersionInfo,
)

DETERMINISTIC_ENV_VAR = "LAMBDATUI_DETERMINISTIC"
FIXED_EPOCH = 1795774800.0  # 2026-11-27T10:20:00Z

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_STREAM = re.compile(r"\d{4}/\d\d/\d\d/\[\$LATEST\][0-9a-f]{32}")
_FIGURE = re.compile(r"(Duration|Billed Duration|Max Memory Used|Init Duration): [\d.]+")
_ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
_ARN_SHA = re.compile(r"runtime:[0-9a-f]{64}")


def deterministic_enabled() -> bool:
    return os.environ.get(DETERMINISTIC_ENV_VAR, "") not in ("", "0", "false")


class Stabilizer:
    """Maps each real request id to a fixed one, in order of appearance, and fixes the figures."""

    def __init__(self) -> None:
        self._ids: dict[str, str] = {}

    def request_id(self, real: str) -> str:
        if not real:
            return real
        if real not in self._ids:
            self._ids[real] = str(uuid.UUID(int=len(self._ids) + 1, version=4))
        return self._ids[real]

    def text(self, text: str) -> str:
        text = _UUID.sub(lambda m: self.request_id(m.group()), text)
        text = _STREAM.sub("2026/11/27/[$LATEST]" + "0" * 32, text)
        text = _ISO.sub("2026-11-27T10:20:00.000Z", text)
        text = _ARN_SHA.sub("runtime:" + "0" * 64, text)
        return _FIGURE.sub(lambda m: f"{m.group(1)}: {'40' if m.group(1) == 'Max Memory Used' else '1.00'}", text)

    def result(self, r: InvokeResult) -> InvokeResult:
        from ..figures import invocation_cost

        billed = (101 if r.cold_start else 1) if r.status_code == 200 else 0
        return replace(
            r,
            request_id=self.request_id(r.request_id),
            duration_ms=1.0 if r.status_code == 200 else 0.0,
            billed_duration_ms=billed,
            cost_usd=invocation_cost(r.memory_size_mb, billed) if billed else 0.0,
            init_duration_ms=100.0 if r.init_duration_ms is not None else None,
            max_memory_used_mb=40 if r.max_memory_used_mb else 0,
            payload=self.text(r.payload.decode("utf-8", "replace")).encode(),
            log_tail=self.text(r.log_tail),
            started_at=FIXED_EPOCH,
            log_stream_name=None,
        )

    def event(self, e: LogEvent) -> LogEvent:
        return replace(e, timestamp=FIXED_EPOCH, message=self.text(e.message), log_stream="stream")


def format_cost(usd: float) -> str:
    if usd == 0:
        return "$0"
    if usd < 0.01:
        return f"${usd:.10f}".rstrip("0")
    return f"${usd:,.4f}"


def memory_bar(used: int, size: int, width: int = 12) -> str:
    filled = 0 if size <= 0 else min(width, round(width * used / size))
    return "█" * filled + "░" * (width - filled)


class StableBackend(Backend):
    """A backend seen through a Stabilizer: what the deterministic mode shows. Every other call of
    the `Backend` contract goes to the wrapped backend unchanged."""

    def __init__(self, backend: Backend) -> None:
        self._backend = backend
        self._stable = Stabilizer()
        self.name = backend.name
        self.read_only = backend.read_only
        # Other processes' invocations would make the deterministic picture differ between runs.
        self.capabilities = replace(backend.capabilities, shared_state=False)
        self.state_dir = backend.state_dir

    def describe(self) -> str:
        # The config's folder differs between runs; its file name does not.
        return re.sub(r"(/[^ ]+)/([^/ ]+)$", r"\2", self._backend.describe())

    def location(self) -> Location:
        return self._backend.location()

    def list_functions(self) -> list[FunctionConfiguration]:
        return self._backend.list_functions()

    def get_function(self, name: str) -> FunctionConfiguration:
        return self._backend.get_function(name)

    def update_function(
        self,
        name: str,
        changes: dict[str, Any],
        progress: Callable[[str], None] | None = None,
        *,
        persist: bool = True,
        save_to: dict[str, str] | None = None,
    ) -> FunctionConfiguration:
        return self._backend.update_function(name, changes, progress, persist=persist, save_to=save_to)

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
        result = self._backend.invoke(
            name, payload, invocation_type=invocation_type, source=source,
            request_id=request_id, qualifier=qualifier, client_context=client_context,
        )
        return self._stable.result(result)

    async def tail_logs(
        self, name: str, *, since: float | None = None, follow: bool = True, filter_pattern: str | None = None
    ) -> AsyncGenerator[LogEvent, None]:
        async for event in self._backend.tail_logs(name, since=since, follow=follow, filter_pattern=filter_pattern):
            yield self._stable.event(event)

    def function_detail(self, name: str, qualifier: str | None = None) -> FunctionDetail:
        detail = self._backend.function_detail(name, qualifier)
        # The code folder's modification time differs between runs: shown as the fixed clock.
        fixed = "2026-11-27T10:20:00.000+0000"
        detail.configuration = replace(detail.configuration, last_modified=fixed)
        if "LastModified" in detail.raw:
            detail.raw = {**detail.raw, "LastModified": fixed}
        return detail

    def list_versions(self, name: str) -> list[VersionInfo]:
        return self._backend.list_versions(name)

    def list_aliases(self, name: str) -> list[AliasInfo]:
        return self._backend.list_aliases(name)

    def reserved_concurrency(self, name: str) -> int | None:
        return self._backend.reserved_concurrency(name)

    async def live_tail(
        self, name: str, *, since: float | None = None, filter_pattern: str | None = None
    ) -> AsyncGenerator[LogEvent, None]:
        async for event in self._backend.live_tail(name, since=since, filter_pattern=filter_pattern):
            yield self._stable.event(event)

    def report_figures(self, name: str, since: float, until: float, *, insights: bool = False) -> dict[str, Any] | None:
        return self._backend.report_figures(name, since, until, insights=insights)

    def metrics(self, name: str, *, start: float, end: float, period: int = 60) -> FunctionMetrics:
        return self._backend.metrics(name, start=start, end=end, period=period)

    def summary(self, name: str, since: float, until: float | None = None) -> dict[str, Any]:
        return self._backend.summary(name, since, until)

    def durations(self, name: str, since: float, until: float) -> list[float] | None:
        return self._backend.durations(name, since, until)

    def switch(self, *, profile: str | None = None, region: str | None = None) -> None:
        self._backend.switch(profile=profile, region=region)

    def power_tuning(self, name: str) -> TuningSession:
        return self._backend.power_tuning(name)

    def reload(self) -> None:
        self._backend.reload()

    def wait_until_updated(self, name: str, progress: Callable[[str], None] | None = None) -> None:
        self._backend.wait_until_updated(name, progress)

    def close(self) -> None:
        self._backend.close()
