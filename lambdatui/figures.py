"""Every figure lambdatui computes, in one place: billed duration, what one invocation or a month
of them costs in USD, the monthly projection of a window's traffic, percentiles, and the CPU share
Lambda gives a memory size. The CLI, the dashboard's panes, the history and power tuning call these;
none computes a figure of its own.

Prices live in `data/pricing.json` with the date they were taken; nothing here hard-codes a rate.

What a month costs (`monthly_cost`), following AWS's published method:
- requests: $ per million, after the monthly free tier of requests;
- duration: GB-seconds (memory in GB x billed seconds, billed per invocation in whole ms), after the monthly free
  tier of GB-seconds, priced piecewise over the architecture's tiers (x86_64: first 6 billion GB-s, next 9 billion,
  beyond 15 billion; arm64: 7.5 / 11.25 / beyond 18.75 billion);
- ephemeral storage: the configured /tmp beyond the free 512 MB, in GB-seconds of execution;
- provisioned concurrency: the configured environments' capacity (concurrency x memory x hours kept warm), plus the
  execution that runs on them at the provisioned execution rate; execution beyond the capacity spills over to the
  on-demand tiers. The free tier does not apply to a function with provisioned concurrency enabled.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from importlib.resources import files
from typing import Any

from .model import MEMORY_MAX_MB

MB_PER_GB = 1024
# AWS's convention for "a month" in its pricing examples and calculator: 730 hours (8,760 h / 12).
# Every monthly figure (cost, projections, provisioned capacity) uses this one month.
HOURS_PER_MONTH = 730
MONTH_S = HOURS_PER_MONTH * 3600
ARCHITECTURES = ("x86_64", "arm64")
EPHEMERAL_STORAGE_MB = (512, 10240)
# AWS: "at 1,769 MB, a function has the equivalent of one vCPU"; the maximum is 6 vCPUs (10,240 MB),
# although 10,240 / 1,769 is 5.79.
MB_PER_VCPU = 1769
MAX_VCPUS = 6.0


@lru_cache(maxsize=1)
def prices() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(files("lambdatui").joinpath("data/pricing.json").read_text(encoding="utf-8"))
    return data


def vcpu_share(memory_mb: float) -> float:
    """The CPU Lambda gives a memory size: in proportion to memory, and 6 vCPUs at the 10,240 MB
    maximum (AWS documents the maximum as 6 vCPUs, although 10,240 / 1,769 is 5.79)."""
    if memory_mb >= MEMORY_MAX_MB:
        return MAX_VCPUS
    return min(MAX_VCPUS, memory_mb / MB_PER_VCPU)


def percentile(values: Sequence[float], p: float) -> float | None:
    """The p-th percentile (0-100) of `values`, interpolating linearly between ranks; None if empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100.0
    lo = math.floor(rank)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (rank - lo)


def billed_duration_ms(duration_ms: float, init_duration_ms: float | None = None, bill_init: bool = True) -> int:
    """Lambda bills duration in 1 ms steps, rounded up.

    Since 1 August 2025 the INIT phase of on-demand invocations of ZIP functions on managed runtimes is
    billed too, so a cold start bills ceil(duration + init duration). Provisioned environments pay for
    their init as provisioned concurrency instead, so callers pass bill_init=False for them.
    """
    total = duration_ms + ((init_duration_ms or 0.0) if bill_init else 0.0)
    # Guard against float noise turning an exact 3.00 ms into 4.
    return max(1, math.ceil(round(total, 6)))


def gb_seconds(memory_mb: int, billed_ms: float) -> float:
    return (memory_mb / MB_PER_GB) * (billed_ms / 1000.0)


def first_tier_rate(architecture: str = "x86_64") -> float:
    rate: float = prices()["duration_usd_per_gb_second"][architecture][0]["usd"]
    return rate


def invocation_cost(memory_mb: int, billed_ms: int, architecture: str = "x86_64", ephemeral_mb: int = 512) -> float:
    """Cost of one invocation at the first pricing tier, before the free tier: request + GB-seconds."""
    p = prices()
    request = p["request_usd_per_million"] / 1_000_000
    gbs = gb_seconds(memory_mb, billed_ms)
    storage = max(0, ephemeral_mb - p["ephemeral_storage_free_mb"]) / MB_PER_GB * billed_ms / 1000.0
    cost: float = request + gbs * first_tier_rate(architecture) + storage * p["ephemeral_storage_usd_per_gb_second"]
    return cost


@dataclass(frozen=True)
class TierCost:
    """The part of a month's on-demand GB-seconds that falls in one pricing tier."""

    tier: int  # 1-based
    from_gb_seconds: float
    up_to_gb_seconds: float | None  # None: no upper bound
    gb_seconds: float
    rate: float  # USD per GB-second
    usd: float


def duration_tiers(total_gb_seconds: float, architecture: str = "x86_64") -> list[TierCost]:
    """`total_gb_seconds` split over the architecture's tiers: one row per tier it reaches."""
    rows: list[TierCost] = []
    lower = 0.0
    for number, tier in enumerate(prices()["duration_usd_per_gb_second"][architecture], start=1):
        upper = tier["up_to_gb_seconds"]
        span = total_gb_seconds - lower if upper is None else min(total_gb_seconds, upper) - lower
        if span <= 0:
            break
        rows.append(TierCost(number, lower, upper, span, tier["usd"], span * tier["usd"]))
        if upper is None:
            break
        lower = upper
    return rows


def tiered_duration_cost(total_gb_seconds: float, architecture: str = "x86_64") -> float:
    return sum(row.usd for row in duration_tiers(total_gb_seconds, architecture))


@dataclass(frozen=True)
class MonthlyCost:
    requests_usd: float
    duration_usd: float  # on-demand duration (the tiers); provisioned execution is provisioned_execution_usd
    total_usd: float  # everything: requests + duration + ephemeral storage + provisioned concurrency
    gb_seconds: float  # all execution, on-demand and provisioned
    billable_requests: float
    billable_gb_seconds: float  # on-demand GB-s after the free tier: what the tiers price
    # The detail (added fields; the ones above keep their meaning).
    invocations: int = 0
    memory_mb: int = 0
    architecture: str = "x86_64"
    billed_duration_ms: int = 0
    free_tier_applied: bool = False
    free_requests: float = 0
    free_gb_seconds: float = 0.0
    request_usd_per_million: float = 0.0
    on_demand_gb_seconds: float = 0.0  # execution not covered by provisioned capacity, before the free tier
    tiers: tuple[TierCost, ...] = ()
    ephemeral_storage_mb: int = 512
    ephemeral_gb_seconds: float = 0.0  # storage beyond the free 512 MB, over all execution
    ephemeral_rate: float = 0.0
    ephemeral_usd: float = 0.0
    provisioned_concurrency: int = 0
    provisioned_hours: float = 0.0
    provisioned_capacity_gb_seconds: float = 0.0
    provisioned_capacity_rate: float = 0.0
    provisioned_capacity_usd: float = 0.0
    provisioned_execution_gb_seconds: float = 0.0
    provisioned_execution_rate: float = 0.0
    provisioned_execution_usd: float = 0.0
    region: str = ""
    prices_taken: str = ""
    notes: tuple[str, ...] = field(default=())

    @property
    def provisioned_usd(self) -> float:
        return self.provisioned_capacity_usd + self.provisioned_execution_usd

    def breakdown(self) -> dict[str, Any]:
        """The detail as plain JSON-able data."""
        return {
            "requests": {
                "count": self.invocations,
                "free": self.free_requests,
                "billable": self.billable_requests,
                "usd_per_million": self.request_usd_per_million,
                "usd": self.requests_usd,
            },
            "duration": {
                "architecture": self.architecture,
                "memory_mb": self.memory_mb,
                "billed_duration_ms": self.billed_duration_ms,
                "gb_seconds": self.gb_seconds,
                "on_demand_gb_seconds": self.on_demand_gb_seconds,
                "free_gb_seconds": self.free_gb_seconds,
                "billable_gb_seconds": self.billable_gb_seconds,
                "tiers": [asdict(row) for row in self.tiers],
                "usd": self.duration_usd,
            },
            "ephemeral_storage": {
                "mb": self.ephemeral_storage_mb,
                "gb_seconds": self.ephemeral_gb_seconds,
                "rate": self.ephemeral_rate,
                "usd": self.ephemeral_usd,
            },
            "provisioned_concurrency": {
                "concurrency": self.provisioned_concurrency,
                "hours": self.provisioned_hours,
                "capacity_gb_seconds": self.provisioned_capacity_gb_seconds,
                "capacity_rate": self.provisioned_capacity_rate,
                "capacity_usd": self.provisioned_capacity_usd,
                "execution_gb_seconds": self.provisioned_execution_gb_seconds,
                "execution_rate": self.provisioned_execution_rate,
                "execution_usd": self.provisioned_execution_usd,
                "usd": self.provisioned_usd,
            },
            "free_tier": {
                "applied": self.free_tier_applied,
                "requests": self.free_requests,
                "gb_seconds": self.free_gb_seconds,
            },
            "total_usd": self.total_usd,
            "region": self.region,
            "prices_taken": self.prices_taken,
            "notes": list(self.notes),
        }


def monthly_cost(
    memory_mb: int,
    duration_ms: float,
    invocations: int,
    architecture: str = "x86_64",
    free_tier: bool = True,
    ephemeral_storage_mb: int = 512,
    provisioned_concurrency: int = 0,
    provisioned_hours: float = HOURS_PER_MONTH,
) -> MonthlyCost:
    """What `invocations` of `duration_ms` each at `memory_mb` cost in a month.

    `provisioned_concurrency` environments are kept warm for `provisioned_hours` (default: all month, 730 h).
    The free tier (shared by x86_64 and arm64) covers requests and on-demand duration, and does not apply to a
    function with provisioned concurrency.
    """
    p = prices()
    if architecture not in p["duration_usd_per_gb_second"]:
        raise ValueError(f"architecture must be one of {', '.join(ARCHITECTURES)}, not {architecture!r}")
    if invocations < 0:
        raise ValueError(f"invocations must be 0 or more, not {invocations}")
    lo, hi = EPHEMERAL_STORAGE_MB
    if not lo <= ephemeral_storage_mb <= hi:
        raise ValueError(f"ephemeral storage must be {lo}-{hi} MB, not {ephemeral_storage_mb}")
    if provisioned_concurrency < 0 or provisioned_hours < 0:
        raise ValueError("provisioned concurrency and hours must be 0 or more")

    billed = billed_duration_ms(duration_ms, bill_init=False)
    total_gbs = gb_seconds(memory_mb, billed) * invocations
    notes: list[str] = []

    # Provisioned concurrency: capacity for the hours kept warm, and the execution it serves.
    provisioned = provisioned_concurrency > 0 and provisioned_hours > 0
    capacity_gbs = provisioned_concurrency * (memory_mb / MB_PER_GB) * provisioned_hours * 3600 if provisioned else 0.0
    capacity_rate = p["provisioned_concurrency_usd_per_gb_second"][architecture]
    execution_rate = p["provisioned_duration_usd_per_gb_second"][architecture]
    provisioned_exec_gbs = min(total_gbs, capacity_gbs)
    on_demand_gbs = total_gbs - provisioned_exec_gbs
    if provisioned and on_demand_gbs > 0:
        notes.append("execution beyond the provisioned capacity is billed at the on-demand rates")

    applied = free_tier and not provisioned
    if free_tier and provisioned:
        notes.append("the free tier does not apply to functions with provisioned concurrency")
    free = p["free_tier_monthly"] if applied else {"requests": 0, "gb_seconds": 0}
    billable_requests = max(0, invocations - free["requests"])
    billable_gbs = max(0.0, on_demand_gbs - free["gb_seconds"])
    requests_usd = billable_requests * p["request_usd_per_million"] / 1_000_000
    tiers = tuple(duration_tiers(billable_gbs, architecture))
    duration_usd = sum(row.usd for row in tiers)

    storage_rate = p["ephemeral_storage_usd_per_gb_second"]
    extra_mb = max(0, ephemeral_storage_mb - p["ephemeral_storage_free_mb"])
    storage_gbs = gb_seconds(extra_mb, billed) * invocations
    storage_usd = storage_gbs * storage_rate

    capacity_usd = capacity_gbs * capacity_rate
    execution_usd = provisioned_exec_gbs * execution_rate

    return MonthlyCost(
        requests_usd=requests_usd,
        duration_usd=duration_usd,
        total_usd=requests_usd + duration_usd + storage_usd + capacity_usd + execution_usd,
        gb_seconds=total_gbs,
        billable_requests=billable_requests,
        billable_gb_seconds=billable_gbs,
        invocations=invocations,
        memory_mb=memory_mb,
        architecture=architecture,
        billed_duration_ms=billed,
        free_tier_applied=applied,
        free_requests=free["requests"],
        free_gb_seconds=free["gb_seconds"],
        request_usd_per_million=p["request_usd_per_million"],
        on_demand_gb_seconds=on_demand_gbs,
        tiers=tiers,
        ephemeral_storage_mb=ephemeral_storage_mb,
        ephemeral_gb_seconds=storage_gbs,
        ephemeral_rate=storage_rate,
        ephemeral_usd=storage_usd,
        provisioned_concurrency=provisioned_concurrency,
        provisioned_hours=provisioned_hours if provisioned else 0.0,
        provisioned_capacity_gb_seconds=capacity_gbs,
        provisioned_capacity_rate=capacity_rate,
        provisioned_capacity_usd=capacity_usd,
        provisioned_execution_gb_seconds=provisioned_exec_gbs,
        provisioned_execution_rate=execution_rate,
        provisioned_execution_usd=execution_usd,
        region=p.get("region", ""),
        prices_taken=p.get("prices_taken", ""),
        notes=tuple(notes),
    )


def monthly_invocations(invocations: float, window_s: float) -> int:
    """A window's invocations at the same rate for a month (`MONTH_S`)."""
    return round(invocations * MONTH_S / window_s) if window_s > 0 else 0


def monthly_projection(
    invocations: float,
    window_s: float,
    billed_ms: float,
    memory_mb: int,
    architecture: str = "x86_64",
) -> tuple[float, float]:
    """(with the free tier, without it): a month at the window's rate of invocations, each billed
    `billed_ms` (the window's average) at `memory_mb`. Both are 0.0 when nothing ran."""
    per_month = monthly_invocations(invocations, window_s)
    if not per_month or not memory_mb:
        return 0.0, 0.0
    return (
        monthly_cost(memory_mb, billed_ms, per_month, architecture, free_tier=True).total_usd,
        monthly_cost(memory_mb, billed_ms, per_month, architecture, free_tier=False).total_usd,
    )


# -- CloudWatch Logs: what following a function's logs costs ------------------------------------------
#
# Polling FilterLogEvents is not billed per request (CloudWatch Logs bills ingestion, storage, Logs
# Insights data scanned and Live Tail minutes); a Live Tail session is billed per minute it is open
# (after a monthly free allowance shared by the account); a Logs Insights query per GB it scans.


def live_tail_usd_per_minute() -> float:
    """What one minute of a CloudWatch Logs Live Tail session costs (after the free minutes)."""
    return float(prices()["cloudwatch_logs"]["live_tail_usd_per_minute"])


def live_tail_cost(seconds: float) -> float:
    """What a Live Tail session open for `seconds` costs at the per-minute rate (before the account's
    monthly free minutes, which lambdatui cannot see)."""
    return max(seconds, 0.0) / 60 * live_tail_usd_per_minute()


def logs_insights_cost(bytes_scanned: float) -> float:
    """What a CloudWatch Logs Insights query that scanned `bytes_scanned` costs (GB = 10^9 bytes)."""
    return max(bytes_scanned, 0.0) / 1e9 * float(prices()["cloudwatch_logs"]["insights_usd_per_gb_scanned"])
