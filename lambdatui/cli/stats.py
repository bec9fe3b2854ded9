"""`lambdatui stats NAME [--since 1h] [--json]`: a function's figures over a recent window.

The figures are `Backend.summary`, the same the monitor pane shows. Local: the invocation history
the local backend records (`lambdatui.history`, in the state dir, so invocations made by other
processes — `invoke`, `serve`, the dashboard — count): invocations, errors, throttles, cold starts,
init, duration percentiles, memory, cost so far and a monthly projection. AWS: the totals of the
function's CloudWatch metrics, cost estimated from p50; cold starts, average init and memory used,
which CloudWatch's metrics do not have, from the window's REPORT lines through one CloudWatch Logs
Insights query (text REPORT lines or JSON `platform.report` records, in the log group the
function's LoggingConfig names; billed per GB scanned, shown with the figures). What neither gives
is null in `--json` and "-" in the table. Never imports Textual.
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import datetime, timezone
from typing import Any

from ..backends.base import SUMMARY_KEYS
from ..figures import logs_insights_cost
from .logs import parse_since
from .main import UsageError, open_backend

DEFAULT_SINCE = "1h"
# The figures only REPORT lines have (as `backends.aws_metrics.REPORT_KEYS`, without importing boto3).
REPORT_KEYS = ("cold_starts", "cold_start_rate", "avg_init_ms", "memory_max_mb", "memory_avg_mb")


def run_stats(args: argparse.Namespace) -> int:
    from ..config import load_config

    since_text = args.since if args.since is not None else DEFAULT_SINCE
    since = parse_since(since_text)
    now = time.time()
    config = load_config(getattr(args, "config", None))
    kind = getattr(args, "backend", None) or config.backend
    options: dict[str, Any] = {"start": False, "watch_code": False, "persist_logs": False} if kind == "local" else {}
    name = _qualified(args.name, getattr(args, "qualifier", None))
    backend = open_backend(args, config=config, **options)
    try:
        summary = backend.summary(name, since, now)
        if summary.get("cold_starts") is None:
            # Aggregate metrics (AWS) have no cold starts or memory: the REPORT lines do.
            reports = backend.report_figures(name, since, now, insights=True)
            if reports is not None:
                summary["report_figures_source"] = reports["source"]
                if reports.get("bytes_scanned") is not None:
                    summary["logs_insights_bytes_scanned"] = reports["bytes_scanned"]
                    summary["logs_insights_cost_usd"] = logs_insights_cost(reports["bytes_scanned"])
                for key in REPORT_KEYS:
                    if summary.get(key) is None and reports.get(key) is not None:
                        summary[key] = reports[key]
    finally:
        backend.close()
    out: dict[str, Any] = {"function": name, "backend": kind, "since": _iso(since)}
    out.update({key: summary.get(key) for key in SUMMARY_KEYS})
    for key, value in summary.items():
        out.setdefault(key, value)
    if args.json:
        print(json.dumps({k: _rounded(k, v) for k, v in out.items()}, indent=2))
    else:
        print(format_table(out, since_text))
    return 0


def _qualified(name: str, qualifier: str | None) -> str:
    """`NAME:QUALIFIER` for an alias's or version's own figures; `$LATEST` is the function itself
    (its metrics are the function's, as CloudWatch keeps them without a Resource dimension)."""
    base, _, in_name = name.partition(":")
    if qualifier and in_name and qualifier != in_name:
        raise UsageError(f"{name} names qualifier {in_name}, --qualifier says {qualifier}")
    q = qualifier or in_name
    return base if not q or q == "$LATEST" else f"{base}:{q}"


# -- the table --------------------------------------------------------------------------------------


def format_table(s: dict[str, Any], since_text: str) -> str:
    invocations = s.get("invocations") or 0

    def share(count: Any) -> str:
        if count is None:
            return "-"
        if not invocations:
            return str(count)
        return f"{count} ({count / invocations:.1%})"

    def ms(value: Any) -> str:
        return "-" if value is None else f"{value:,.2f} ms"

    def mb(value: Any) -> str:
        return "-" if value is None else f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"

    memory = "-"
    if s.get("memory_max_mb") is not None or s.get("memory_size_mb") is not None:
        memory = f"{mb(s.get('memory_max_mb'))} / {mb(s.get('memory_avg_mb'))} of {mb(s.get('memory_size_mb'))} MB"
    cold = s.get("cold_starts")
    rows = [
        ("Invocations", str(invocations)),
        ("Errors", share(s.get("errors"))),
        ("Throttles", "-" if s.get("throttles") is None else str(s["throttles"])),
        ("Cold starts", "-" if cold is None else f"{cold} ({s['cold_start_rate']:.1%})" if s.get("cold_start_rate") is not None else str(cold)),
        ("Init (avg)", ms(s.get("avg_init_ms"))),
        ("Duration p50", ms(s.get("duration_p50"))),
        ("Duration p90", ms(s.get("duration_p90"))),
        ("Duration p99", ms(s.get("duration_p99"))),
        ("Memory max / avg", memory),
        ("Concurrency (max)", "-" if s.get("concurrent_executions") is None else str(s["concurrent_executions"])),
        ("Cost so far", usd(s.get("cost_usd"))),
        ("Projected monthly", usd(s.get("projected_monthly_usd")) + (" (free tier applied)" if s.get("projected_monthly_usd") is not None else "")),
        ("  without free tier", usd(s.get("projected_monthly_usd_no_free_tier"))),
    ]
    source = s.get("report_figures_source")
    if source:
        scanned = s.get("logs_insights_bytes_scanned")
        cost = f", {scanned / 1e6:,.1f} MB scanned ≈ {usd(s.get('logs_insights_cost_usd'))}" if scanned is not None else ""
        rows.append(("Cold starts, memory", f"from {source}{cost}"))
    sources = s.get("by_source")
    if sources:
        rows.append(("Sources", ", ".join(f"{k} {v}" for k, v in sources.items())))
    width = max(len(label) for label, _ in rows)
    title = f"{s['function']} · {s.get('backend', '')} · since {s['since']} ({since_text})"
    return "\n".join([title, ""] + [f"{label.ljust(width)}  {value}" for label, value in rows])


def usd(value: Any) -> str:
    if value is None:
        return "-"
    if value == 0:
        return "$0"
    if abs(value) < 0.01:
        return f"${value:.10f}".rstrip("0")
    return f"${value:,.2f}"


def _rounded(key: str, value: Any) -> Any:
    """Milliseconds, megabytes and rates to 3 decimals (percentiles interpolate: float noise); money as is."""
    if isinstance(value, float) and "_usd" not in key:
        return round(value, 3 if key != "cold_start_rate" else 6)
    return value


def _iso(epoch: float) -> str:
    stamp = datetime.fromtimestamp(epoch, timezone.utc)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S") + "Z"


__all__ = ["run_stats", "format_table", "SUMMARY_KEYS"]
