"""`lambdatui cost --memory MB --duration-ms MS --invocations N [...]`: what a month of a function's invocations
costs on AWS Lambda, from the prices in `lambdatui/data/pricing.json` (with the date they were taken).

Duration is billed per invocation in whole milliseconds, rounded up. The free tier (1 million requests and
400,000 GB-s a month, shared by x86_64 and arm64) is applied unless --no-free-tier; it does not apply to a function
with provisioned concurrency. Provisioned environments are counted as kept warm all month (730 h).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..figures import MonthlyCost

MEMORY_MB = (128, 10240)


def _usd(value: float) -> str:
    if value == 0 or abs(value) >= 0.01:
        return f"${value:,.2f}"
    return f"${value:.6f}"  # under a cent: show that it is not nothing


def _num(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def _rate(value: float) -> str:
    return f"${value:.10f}".rstrip("0").rstrip(".")


def _validate(args: argparse.Namespace) -> str | None:
    from ..figures import EPHEMERAL_STORAGE_MB

    lo, hi = MEMORY_MB
    if not lo <= args.memory <= hi:
        return f"--memory: {args.memory} MB is outside Lambda's {lo}-{hi} MB"
    if not args.duration_ms > 0:  # also rejects NaN
        return f"--duration-ms: {args.duration_ms:g} must be more than 0"
    if args.duration_ms == float("inf"):
        return "--duration-ms: must be a finite number of milliseconds"
    if args.invocations < 0:
        return f"--invocations: {args.invocations} is negative"
    lo, hi = EPHEMERAL_STORAGE_MB
    if not lo <= args.ephemeral_storage <= hi:
        return f"--ephemeral-storage: {args.ephemeral_storage} MB is outside Lambda's {lo}-{hi} MB"
    if args.provisioned_concurrency < 0:
        return f"--provisioned-concurrency: {args.provisioned_concurrency} is negative"
    return None


def run_cost(args: argparse.Namespace) -> int:
    from ..figures import monthly_cost

    problem = _validate(args)
    if problem:
        print(f"lambdatui: {problem}", file=sys.stderr)
        return 2
    cost = monthly_cost(
        args.memory,
        args.duration_ms,
        args.invocations,
        architecture=args.architecture,
        free_tier=not args.no_free_tier,
        ephemeral_storage_mb=args.ephemeral_storage,
        provisioned_concurrency=args.provisioned_concurrency,
    )
    if args.json:
        print(json.dumps({
            "requests_usd": cost.requests_usd,
            "duration_usd": cost.duration_usd,
            "total_usd": cost.total_usd,
            "gb_seconds": cost.gb_seconds,
            "breakdown": cost.breakdown(),
            "prices_taken": cost.prices_taken,
        }, indent=2))
        return 0
    for line in format_cost(cost):
        print(line)
    return 0


def format_cost(cost: MonthlyCost) -> list[str]:
    """The text table: one row per charge, the duration tiers under the duration row."""
    free = "free tier on" if cost.free_tier_applied else "free tier off"
    head = (
        f"{_num(cost.invocations)} invocations a month x {_num(cost.billed_duration_ms)} ms billed"
        f" at {_num(cost.memory_mb)} MB, {cost.architecture}, {free}"
    )
    rows: list[tuple[str, str, str]] = []
    rows.append((
        "Requests",
        f"{_num(cost.invocations)} requests, {_num(cost.billable_requests)} billable"
        f" x {_usd(cost.request_usd_per_million)} per million",
        _usd(cost.requests_usd),
    ))
    on_demand = "" if not cost.provisioned_concurrency else f", {_num(cost.on_demand_gb_seconds)} on demand"
    rows.append((
        "Duration",
        f"{_num(cost.gb_seconds)} GB-s{on_demand}, {_num(cost.billable_gb_seconds)} billable",
        _usd(cost.duration_usd),
    ))
    for tier in cost.tiers:
        rows.append(("", f"  tier {tier.tier}: {_num(tier.gb_seconds)} GB-s x {_rate(tier.rate)}", _usd(tier.usd)))
    if cost.ephemeral_storage_mb > 512:
        rows.append((
            "Storage",
            f"{_num(cost.ephemeral_storage_mb)} MB /tmp: {_num(cost.ephemeral_gb_seconds)} GB-s beyond 512 MB"
            f" x {_rate(cost.ephemeral_rate)}",
            _usd(cost.ephemeral_usd),
        ))
    if cost.provisioned_concurrency:
        rows.append((
            "Provisioned",
            f"{_num(cost.provisioned_concurrency)} x {_num(cost.provisioned_hours)} h:"
            f" {_num(cost.provisioned_capacity_gb_seconds)} GB-s x {_rate(cost.provisioned_capacity_rate)}",
            _usd(cost.provisioned_capacity_usd),
        ))
        rows.append((
            "",
            f"  execution: {_num(cost.provisioned_execution_gb_seconds)} GB-s x {_rate(cost.provisioned_execution_rate)}",
            _usd(cost.provisioned_execution_usd),
        ))
    rows.append(("Total", "", _usd(cost.total_usd)))
    w0 = max(len(r[0]) for r in rows)
    w1 = max(len(r[1]) for r in rows)
    w2 = max(len(r[2]) for r in rows)
    lines = [head]
    lines += [f"  {a.ljust(w0)}  {b.ljust(w1)}  {c.rjust(w2)}".rstrip() for a, b, c in rows]
    lines += [f"  note: {note}" for note in cost.notes]
    lines.append(f"Prices: {cost.region or 'us-east-1'}, taken {cost.prices_taken}")
    return lines
