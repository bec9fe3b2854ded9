"""The Lambda pricing model: what one invocation, or a month of them, costs in USD.

Prices live in `data/pricing.json` with the date they were taken; nothing here hard-codes a rate.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

MB_PER_GB = 1024


@lru_cache(maxsize=1)
def prices() -> dict:
    return json.loads((Path(__file__).parent / "data" / "pricing.json").read_text(encoding="utf-8"))


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
    return prices()["duration_usd_per_gb_second"][architecture][0]["usd"]


def invocation_cost(memory_mb: int, billed_ms: int, architecture: str = "x86_64", ephemeral_mb: int = 512) -> float:
    """Cost of one invocation at the first pricing tier, before the free tier: request + GB-seconds."""
    p = prices()
    request = p["request_usd_per_million"] / 1_000_000
    gbs = gb_seconds(memory_mb, billed_ms)
    storage = max(0, ephemeral_mb - p["ephemeral_storage_free_mb"]) / MB_PER_GB * billed_ms / 1000.0
    return request + gbs * first_tier_rate(architecture) + storage * p["ephemeral_storage_usd_per_gb_second"]


@dataclass(frozen=True)
class MonthlyCost:
    requests_usd: float
    duration_usd: float
    total_usd: float
    gb_seconds: float
    billable_requests: float
    billable_gb_seconds: float


def tiered_duration_cost(total_gb_seconds: float, architecture: str = "x86_64") -> float:
    cost, lower = 0.0, 0.0
    for tier in prices()["duration_usd_per_gb_second"][architecture]:
        upper = tier["up_to_gb_seconds"]
        span = total_gb_seconds - lower if upper is None else min(total_gb_seconds, upper) - lower
        if span <= 0:
            break
        cost += span * tier["usd"]
        if upper is None:
            break
        lower = upper
    return cost


def monthly_cost(
    memory_mb: int,
    duration_ms: float,
    invocations: int,
    architecture: str = "x86_64",
    free_tier: bool = True,
) -> MonthlyCost:
    p = prices()
    billed = billed_duration_ms(duration_ms, bill_init=False)
    total_gbs = gb_seconds(memory_mb, billed) * invocations
    free = p["free_tier_monthly"] if free_tier else {"requests": 0, "gb_seconds": 0}
    billable_requests = max(0, invocations - free["requests"])
    billable_gbs = max(0.0, total_gbs - free["gb_seconds"])
    requests_usd = billable_requests * p["request_usd_per_million"] / 1_000_000
    duration_usd = tiered_duration_cost(billable_gbs, architecture)
    return MonthlyCost(
        requests_usd=requests_usd,
        duration_usd=duration_usd,
        total_usd=requests_usd + duration_usd,
        gb_seconds=total_gbs,
        billable_requests=billable_requests,
        billable_gb_seconds=billable_gbs,
    )
