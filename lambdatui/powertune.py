"""Power tuning: which memory size runs a function cheapest, and which fastest.

The question AWS Lambda Power Tuning (the community Step Functions state machine) answers, asked
of any `Backend` directly: for each memory size, set the function's memory, invoke it once to warm
an environment up (cold starts are not what is measured, so that invoke is left out), invoke it N
times, and collect the durations, the billed durations and what an invocation costs at that size
(`figures.invocation_cost`, for the function's architecture). The original memory size is put back
whatever happens: on success, on an error and on cancel (`TuneReport.restored` says it was).

Lambda gives a function CPU in proportion to its memory (1,769 MB = one vCPU), which is why more
memory can cost less: the function finishes sooner. On AWS the figures are Lambda's own. Locally
that only holds when the executor caps each environment's CPU (`executor.cpu`, with cgroups): the
backend's `power_tuning` session (part of the `Backend` contract) switches that on for the run, and
the report's `note` says plainly whether CPU did scale on this machine. Locally the session also
keeps the memory sizes tried out of the config file, so the file is never left at a size being
tried, even if the process dies mid-run.

Blocking, for a worker thread; imports neither Textual nor boto3.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from .backends.base import Backend, BackendError, InvokeResult, TuningSession
from .figures import MB_PER_VCPU, invocation_cost
from .model import MEMORY_MAX_MB

__all__ = [
    "DEFAULT_MEMORY_SIZES",
    "PowerTuneError",
    "TuneProgress",
    "TuneReport",
    "TuneResult",
    "power_tune",
]

DEFAULT_MEMORY_SIZES = (128, 256, 512, 1024, 1536, 2048, 3008)
RESTORE_ATTEMPTS = 3
SOURCE = "powertune"  # what the invocation history records these invocations as
COST_TIE = 1e-9  # costs this close (relative) are a tie: the faster size wins


@dataclass
class TuneResult:
    """One memory size's figures over its measured (warm) invocations. Durations and costs are
    None when the backend gave no figures (an endpoint that runs no code, e.g. moto)."""

    memory_mb: int
    invocations: int
    errors: int
    duration_p50_ms: float | None
    duration_avg_ms: float | None
    billed_avg_ms: float | None
    cost_per_invocation_usd: float | None
    vcpus: float | None = None  # local runs with CPU scaling: the CPUs each environment had

    @property
    def has_figures(self) -> bool:
        return self.cost_per_invocation_usd is not None


@dataclass
class TuneReport:
    function: str
    results: list[TuneResult]
    cheapest: int | None  # memory size (MB); None when no size produced figures
    fastest: int | None
    restored: bool  # the original memory size is back (or was never changed)
    cpu_scaled: bool  # CPU followed memory as on Lambda (always on AWS; locally only with cgroups)
    note: str  # what the figures are worth: show it with them
    original_memory_mb: int = 0
    cancelled: bool = False
    backend: str = ""

    def result(self, memory_mb: int) -> TuneResult | None:
        return next((r for r in self.results if r.memory_mb == memory_mb), None)


@dataclass
class TuneProgress:
    done: int  # invocations made (warm-ups included) of `total`
    total: int
    memory_mb: int | None
    message: str
    result: TuneResult | None = None  # set once, when a memory size's measurements are complete


class PowerTuneError(BackendError):
    """The run stopped on an error; `report` holds what was measured and whether memory was restored."""

    code = "PowerTuneError"

    def __init__(self, message: str, report: TuneReport) -> None:
        super().__init__(message)
        self.report = report


def power_tune(
    backend: Backend,
    function: str,
    payload: bytes | str = b"{}",
    memory_sizes: Iterable[float] = DEFAULT_MEMORY_SIZES,
    invocations: int = 5,
    *,
    progress: Callable[[TuneProgress], Any] | None = None,
    cancel: threading.Event | None = None,
) -> TuneReport:
    """Measure `function` at each of `memory_sizes` (`invocations` warm invokes each), then put its
    memory size back. Returns the report (also when cancelled: `report.cancelled`); an error from the
    backend raises `PowerTuneError` carrying the partial report, after the restore."""
    sizes = _sizes(memory_sizes)
    if invocations < 1:
        raise ValueError("invocations must be 1 or more")
    if isinstance(payload, str):
        payload = payload.encode("utf-8")
    payload = payload or b"{}"
    original = backend.get_function(function)  # not found: raises before anything changes
    architecture = original.architecture or "x86_64"
    total = len(sizes) * (invocations + 1)
    done = 0
    was_cancelled = False

    def step(memory: int | None, message: str, count: bool = False, result: TuneResult | None = None) -> None:
        nonlocal done
        if count:
            done += 1
        if progress is not None:
            progress(TuneProgress(done, total, memory, message, result))

    def cancelled() -> bool:
        nonlocal was_cancelled
        if cancel is not None and cancel.is_set():
            was_cancelled = True
            return True
        return False

    results: list[TuneResult] = []
    failure: BaseException | None = None
    failed_at: int | None = None
    changed = False
    restored, restore_error = True, None
    session = backend.power_tuning(function)
    local = session.local
    cpu_scaled = session.cpu_scaled()
    try:
        try:
            for memory in sizes:
                if cancelled():
                    break
                failed_at = memory
                step(memory, f"Setting {function} to {memory} MB")
                changed = True
                backend.update_function(function, {"memory_size": memory})
                if cancelled():
                    break
                step(memory, f"{memory} MB: warming up")
                _invoke(backend, function, payload)  # cold start: not measured
                step(memory, f"{memory} MB: warmed up", count=True)
                runs = []
                for i in range(invocations):
                    if cancelled():
                        break
                    runs.append(_invoke(backend, function, payload))
                    step(memory, f"{memory} MB: invocation {i + 1} of {invocations}", count=True)
                if runs:
                    vcpus = session.vcpus(memory) if cpu_scaled else None
                    results.append(_measure(memory, runs, architecture, vcpus))
                    step(memory, f"{memory} MB: measured", result=results[-1])
                if cancelled():
                    break
            failed_at = None
            # An environment that could not be capped turns scaling off: report what really happened.
            cpu_scaled = cpu_scaled and session.cpu_scaled()
        except BaseException as e:  # KeyboardInterrupt too: the restore below must still run
            failure = e
        finally:
            if changed:
                try:
                    step(original.memory_size, f"Restoring {function} to {original.memory_size} MB")
                except Exception:
                    pass  # a failing progress callback must not keep the memory size from coming back
                # Inside the session: locally the restore, like the sizes tried, is not written to the file.
                restored, restore_error = _restore(backend, function, original.memory_size)
        note = _note(backend, session, cpu_scaled, any(r.has_figures for r in results), results, architecture)
    finally:
        session.close()
    cheapest, fastest = _choose(results)
    is_cancelled = was_cancelled and failure is None
    if is_cancelled:
        note = f"Cancelled after {len(results)} of {len(sizes)} memory sizes. " + note
    if not restored:
        note = (
            f"Could not put {function}'s memory size back to {original.memory_size} MB ({restore_error}): "
            "set it back by hand. " + note
        )
    report = TuneReport(
        function=function,
        results=results,
        cheapest=cheapest,
        fastest=fastest,
        restored=restored,
        cpu_scaled=cpu_scaled if local else True,
        note=note,
        original_memory_mb=original.memory_size,
        cancelled=is_cancelled,
        backend=backend.name,
    )
    step(None, "Cancelled" if is_cancelled else ("Stopped" if failure else "Done"))
    if failure is not None:
        if not isinstance(failure, Exception):
            raise failure  # KeyboardInterrupt, SystemExit: after the restore
        where = f" at {failed_at} MB" if failed_at is not None else ""
        back = (
            f"memory size restored to {original.memory_size} MB"
            if restored
            else f"memory size NOT restored to {original.memory_size} MB ({restore_error})"
        )
        raise PowerTuneError(f"Power tuning {function} stopped{where}: {_one_line(failure)}; {back}", report) from failure
    return report


# -- the steps -----------------------------------------------------------------------------------


def _sizes(memory_sizes: Iterable[float]) -> list[int]:
    sizes: list[int] = []
    for m in memory_sizes:
        if isinstance(m, bool) or int(m) != m:
            raise ValueError(f"memory sizes are whole MB, not {m!r}")
        if int(m) not in sizes:
            sizes.append(int(m))
    if not sizes:
        raise ValueError("no memory sizes to try")
    return sizes


def _invoke(backend: Backend, function: str, payload: bytes) -> InvokeResult:
    """Invoke, marked as power tuning's (`source`) in a backend's invocation history."""
    return backend.invoke(function, payload, source=SOURCE)


def _measure(memory: int, runs: list[InvokeResult], architecture: str, vcpus: float | None) -> TuneResult:
    errors = sum(1 for r in runs if r.function_error or not 200 <= r.status_code < 300)
    figured = [r for r in runs if r.has_figures and r.status_code == 200]
    if not figured:
        return TuneResult(memory, len(runs), errors, None, None, None, None, vcpus)
    durations = [r.duration_ms for r in figured]
    billed = [r.billed_duration_ms for r in figured]
    costs = [invocation_cost(memory, b, architecture) for b in billed]
    return TuneResult(
        memory_mb=memory,
        invocations=len(runs),
        errors=errors,
        duration_p50_ms=statistics.median(durations),
        duration_avg_ms=statistics.fmean(durations),
        billed_avg_ms=statistics.fmean(billed),
        cost_per_invocation_usd=statistics.fmean(costs),
        vcpus=vcpus,
    )


def _choose(results: list[TuneResult]) -> tuple[int | None, int | None]:
    """Cheapest: least average cost per invocation, a tie going to the faster; fastest: least p50.
    Sizes where every invocation succeeded are preferred; only if none did are failing ones ranked."""
    figured = [r for r in results if r.has_figures]
    ranked = [r for r in figured if r.errors == 0] or figured
    if not ranked:
        return None, None
    priced = [(r, c) for r in ranked if (c := r.cost_per_invocation_usd) is not None]  # all of ranked: it has figures
    least = min(c for _, c in priced)
    tied = [r for r, c in priced if c <= least * (1 + COST_TIE)]
    cheapest = min(tied, key=lambda r: (r.duration_p50_ms, r.memory_mb))
    fastest = min(ranked, key=lambda r: (r.duration_p50_ms, r.cost_per_invocation_usd, r.memory_mb))
    return cheapest.memory_mb, fastest.memory_mb


def _restore(backend: Backend, function: str, memory: int) -> tuple[bool, str | None]:
    try:
        if backend.get_function(function).memory_size == memory:
            return True, None
    except Exception:
        pass  # try the update anyway
    error: str | None = None
    for attempt in range(RESTORE_ATTEMPTS):
        try:
            backend.update_function(function, {"memory_size": memory})
            return True, None
        except Exception as e:  # e.g. an update still in progress on AWS: wait and try again
            error = _one_line(e)
            if attempt + 1 < RESTORE_ATTEMPTS:
                time.sleep(0.5 * (attempt + 1))
    return False, error


def _note(
    backend: Backend, session: TuningSession, cpu_scaled: bool, has_figures: bool, results: list[TuneResult], architecture: str
) -> str:
    if not session.local:
        if results and not has_figures:
            return (
                f"The {backend.name} endpoint returned no REPORT lines (an emulator that "
                "runs no code, such as moto, answers this way), so durations and costs are unknown."
            )
        return (
            "Results from AWS Lambda itself: durations and billed durations from each invocation's REPORT "
            f"line, where CPU scales with memory. Cost per invocation at the first pricing tier ({architecture}), "
            "request included."
        )
    if cpu_scaled:
        most = session.vcpus(MEMORY_MAX_MB)
        cap = ""
        if most is not None and most < MEMORY_MAX_MB / MB_PER_VCPU - 1e-9:
            cap = f"; this machine gives at most {_fmt_vcpus(most)}, so sizes above {most * MB_PER_VCPU:,.0f} MB run no faster here"
        return (
            f"Local run: CPU scaled to memory ({MB_PER_VCPU:,} MB = 1 vCPU) with cgroups{cap}. "
            "Durations follow Lambda's shape on this machine's CPUs, not its exact figures."
        )
    why = session.cpu_limit_reason()
    reason = f" ({why})" if why else ""
    return (
        f"Local run: this machine does not let lambdatui cap CPU per environment{reason}, so CPU does not "
        "scale with memory here; durations will not fall with memory as they do on Lambda, and the "
        "smallest size will look cheapest."
    )


def _fmt_vcpus(v: float) -> str:
    return f"{v:g} vCPU" + ("" if v == 1 else "s")


def _one_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return text[0] if text else type(e).__name__
