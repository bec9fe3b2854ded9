"""A Lambda function's CloudWatch metrics for the monitor pane, in one `GetMetricData` call.

Lambda publishes to the `AWS/Lambda` namespace; the series with the single dimension
`FunctionName=<name>` aggregate every version and alias of the function. One request asks for
Invocations, Errors and Throttles (Sum), Duration p50 and p99, and ConcurrentExecutions (Maximum) per
`period`, plus the two duration percentiles over the whole window (a percentile of a window cannot
be derived from the percentiles of its buckets). Pages (`NextToken`) are merged and each series is
sorted by time.

The window is aligned to the period as CloudWatch aligns it: start rounded down, end rounded up.
Lambda's metrics have one-minute resolution, and CloudWatch keeps one-minute data for 15 days,
five-minute data for 63 days and hourly data for 15 months: a finer period over older data yields
empty series, not an error.

Cold starts, init duration and memory used are not CloudWatch metrics: they come from REPORT lines
(see the section at the end), through Logs Insights or from the lines already read.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import botocore.exceptions

from .. import logformat
from .aws_errors import translate
from .base import BackendError, FunctionMetrics, InvalidParameterError, MetricSeries

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_cloudwatch.type_defs import DimensionTypeDef, GetMetricDataInputTypeDef, MetricDataQueryTypeDef
    from mypy_boto3_logs import CloudWatchLogsClient

NAMESPACE = "AWS/Lambda"
# CloudWatch accepts these periods, or any multiple of 60.
_SUB_MINUTE_PERIODS = (1, 5, 10, 30)

# Query id -> (metric, statistic); ids must start with a lowercase letter.
SERIES_QUERIES = {
    "invocations": ("Invocations", "Sum"),
    "errors": ("Errors", "Sum"),
    "throttles": ("Throttles", "Sum"),
    "p50": ("Duration", "p50"),
    "p99": ("Duration", "p99"),
    "concurrency": ("ConcurrentExecutions", "Maximum"),
}
# The same percentiles with one bucket spanning the whole window.
WINDOW_QUERIES = {
    "p50_window": ("Duration", "p50"),
    "p99_window": ("Duration", "p99"),
}


def aligned_window(start: float, end: float, period: int) -> tuple[int, int]:
    """`start` rounded down and `end` rounded up to a multiple of `period` (at least one period)."""
    if not isinstance(period, int) or isinstance(period, bool) or period < 1 or (
        period not in _SUB_MINUTE_PERIODS and period % 60
    ):
        raise InvalidParameterError(f"Metrics period must be 1, 5, 10, 30 or a multiple of 60 seconds, not {period!r}")
    if not end > start:
        raise InvalidParameterError("The end of the metrics window must be after its start")
    lo = math.floor(start / period) * period
    hi = math.ceil(end / period) * period
    return lo, max(hi, lo + period)


def _window_period(span: int) -> int:
    # A period of 60 or more must be a multiple of 60.
    return span if span in _SUB_MINUTE_PERIODS else math.ceil(span / 60) * 60


def metric_dimensions(name: str) -> list[DimensionTypeDef]:
    """The dimensions of `name`'s metrics: FunctionName, and for `NAME:QUALIFIER` (an alias or a
    version) Resource `NAME:QUALIFIER`, as Lambda publishes them per alias and version (AWS: "Types
    of metrics for Lambda functions", dimensions FunctionName, Resource, ExecutedVersion)."""
    base, _, qualifier = name.partition(":")
    if not qualifier or qualifier == "$LATEST":
        return [{"Name": "FunctionName", "Value": base}]
    return [{"Name": "FunctionName", "Value": base}, {"Name": "Resource", "Value": f"{base}:{qualifier}"}]


def _query(query_id: str, name: str, metric: str, stat: str, period: int) -> MetricDataQueryTypeDef:
    return {
        "Id": query_id,
        "MetricStat": {
            "Metric": {
                "Namespace": NAMESPACE,
                "MetricName": metric,
                "Dimensions": metric_dimensions(name),
            },
            "Period": period,
            "Stat": stat,
        },
        "ReturnData": True,
    }


def metric_data_queries(name: str, period: int, span: int) -> list[MetricDataQueryTypeDef]:
    queries = [_query(qid, name, metric, stat, period) for qid, (metric, stat) in SERIES_QUERIES.items()]
    window = _window_period(span)
    queries += [_query(qid, name, metric, stat, window) for qid, (metric, stat) in WINDOW_QUERIES.items()]
    return queries


def _epoch(ts: datetime | float) -> float:
    if isinstance(ts, datetime):
        if ts.tzinfo is None:
            ts = ts.replace(tzinfo=timezone.utc)
        return ts.timestamp()
    return float(ts)


def fetch_metrics(cloudwatch_client: CloudWatchClient, name: str, *, start: float, end: float, period: int = 60) -> FunctionMetrics:
    """`name`'s metrics over [start, end) (epoch seconds, aligned to `period`) from CloudWatch."""
    lo, hi = aligned_window(start, end, period)
    request: GetMetricDataInputTypeDef = {
        "MetricDataQueries": metric_data_queries(name, period, hi - lo),
        "StartTime": datetime.fromtimestamp(lo, timezone.utc),
        "EndTime": datetime.fromtimestamp(hi, timezone.utc),
        "ScanBy": "TimestampAscending",
    }
    points: dict[str, list[tuple[float, float]]] = {qid: [] for qid in (*SERIES_QUERIES, *WINDOW_QUERIES)}
    try:
        while True:
            page = cloudwatch_client.get_metric_data(**request)
            for result in page.get("MetricDataResults", []):
                status = result.get("StatusCode")
                if status in ("Forbidden", "InternalError"):
                    messages = "; ".join(m.get("Value", "") for m in result.get("Messages", []) if m.get("Value"))
                    raise BackendError(f"CloudWatch could not return {result.get('Label') or result.get('Id')} ({status}){': ' + messages if messages else ''}")
                found = points.setdefault(result["Id"], [])
                found.extend(zip(map(_epoch, result.get("Timestamps", [])), map(float, result.get("Values", []))))
            token = page.get("NextToken")
            if not token:
                break
            request["NextToken"] = token
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as e:
        raise translate(e, None) from None

    def series(qid: str) -> MetricSeries:
        ordered = sorted(points[qid], key=lambda p: p[0])
        return MetricSeries(timestamps=[t for t, _ in ordered], values=[v for _, v in ordered])

    def window_value(qid: str) -> float | None:
        values = [v for _, v in points[qid]]
        # One bucket covers the window; several would only appear if CloudWatch split it.
        return max(values) if values else None

    return FunctionMetrics(
        function=name,
        start=float(lo),
        end=float(hi),
        period=period,
        invocations=series("invocations"),
        errors=series("errors"),
        throttles=series("throttles"),
        duration_p50=series("p50"),
        duration_p99=series("p99"),
        concurrent_executions=series("concurrency"),
        duration_p50_window=window_value("p50_window"),
        duration_p99_window=window_value("p99_window"),
    )


# -- cold starts, init and memory from REPORT lines ---------------------------------------------------
#
# CloudWatch's AWS/Lambda metrics have no cold-start count, init duration or memory used: Lambda
# writes those only on each invocation's REPORT line (or, with LogFormat=JSON, its `platform.report`
# record). Two sources: the REPORT lines lambdatui already read (the log tail, invokes: free), and a
# CloudWatch Logs Insights query over the window (StartQuery/GetQueryResults: billed per GB the
# query scans, so only where the user asked for figures — `lambdatui stats`).

# Logs Insights discovers a text REPORT line's fields: @initDuration in ms, @maxMemoryUsed and
# @memorySize in bytes (1 MB = 1,000,000: AWS's sample queries divide by 1000 twice). `count(field)`
# counts only the events that have the field: the cold starts.
_INSIGHTS_TEXT = (
    'filter @type = "REPORT"'
    " | stats count(*) as reports, count(@initDuration) as cold_starts, avg(@initDuration) as avg_init_ms,"
    " max(@maxMemoryUsed) / 1000 / 1000 as memory_max_mb, avg(@maxMemoryUsed) / 1000 / 1000 as memory_avg_mb"
)
# JSON records are discovered field by field (AWS, "Configuring JSON and plain text log formats").
_INSIGHTS_JSON = (
    'filter type = "platform.report"'
    " | stats count(*) as reports, count(record.metrics.initDurationMs) as cold_starts,"
    " avg(record.metrics.initDurationMs) as avg_init_ms, max(record.metrics.maxMemoryUsedMB) as memory_max_mb,"
    " avg(record.metrics.maxMemoryUsedMB) as memory_avg_mb"
)
INSIGHTS_POLL_S = 0.5
INSIGHTS_TIMEOUT_S = 60.0
REPORT_KEYS = ("cold_starts", "cold_start_rate", "avg_init_ms", "memory_max_mb", "memory_avg_mb")


def insights_query(log_format: str, versions: Sequence[str] | None = None) -> str:
    """The Logs Insights query that sums up a window's reports, for a function's LogFormat; with
    `versions`, only the reports of those versions (a log stream is named `YYYY/MM/DD/[VERSION]…`,
    AWS: "Using CloudWatch Logs with Lambda")."""
    query = _INSIGHTS_JSON if log_format.upper() == "JSON" else _INSIGHTS_TEXT
    if versions is None:
        return query
    alternatives = "|".join(re.escape(v) for v in versions) or "(?!)"
    return f"filter @logStream like /\\[({alternatives})\\]/ | {query}"


def figures_from_reports(reports: Sequence[logformat.Report]) -> dict[str, Any]:
    """Cold starts, their rate and average init, and memory max/avg from parsed reports."""
    if not reports:
        return {"reports": 0}
    inits = [r.init_duration_ms for r in reports if r.init_duration_ms is not None]
    memory = [r.max_memory_used_mb for r in reports if r.max_memory_used_mb]
    return {
        "reports": len(reports),
        "cold_starts": len(inits),
        "cold_start_rate": len(inits) / len(reports),
        "avg_init_ms": sum(inits) / len(inits) if inits else None,
        "memory_max_mb": float(max(memory)) if memory else None,
        "memory_avg_mb": sum(memory) / len(memory) if memory else None,
    }


def insights_figures(
    logs_client: CloudWatchLogsClient,
    group: str,
    log_format: str,
    *,
    start: float,
    end: float,
    timeout: float = INSIGHTS_TIMEOUT_S,
    poll: float = INSIGHTS_POLL_S,
    versions: Sequence[str] | None = None,
) -> dict[str, Any]:
    """The window's report figures from one Logs Insights query over `group` (see REPORT_KEYS), with
    `reports` (how many REPORT lines) and `bytes_scanned` (what the query is billed for).

    Raises BackendError when the query cannot run, fails or takes longer than `timeout`; a
    missing log group is "no reports", not an error.
    """
    try:
        started = logs_client.start_query(
            logGroupName=group, startTime=int(start), endTime=max(int(math.ceil(end)), int(start) + 1),
            queryString=insights_query(log_format, versions),
        )
    except botocore.exceptions.ClientError as e:
        if e.response.get("Error", {}).get("Code") in ("ResourceNotFoundException", "ResourceNotFound"):
            return {"reports": 0, "bytes_scanned": 0.0}
        raise translate(e, None) from None
    except botocore.exceptions.BotoCoreError as e:
        raise translate(e, None) from None
    query_id = started["queryId"]
    deadline = time.monotonic() + timeout
    while True:
        try:
            answer = logs_client.get_query_results(queryId=query_id)
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as e:
            raise translate(e, None) from None
        status = answer.get("status")
        if status == "Complete":
            break
        if status in ("Failed", "Cancelled", "Timeout", "Unknown"):
            raise BackendError(f"The Logs Insights query over {group} ended {status}")
        if time.monotonic() > deadline:
            try:
                logs_client.stop_query(queryId=query_id)
            except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError):
                pass  # it ends on its own; the answer is no longer wanted
            raise BackendError(f"The Logs Insights query over {group} took longer than {timeout:.0f} s")
        time.sleep(poll)
    row: dict[str, str] = {}
    for result in answer.get("results", [])[:1]:
        row = {f["field"]: f["value"] for f in result if "field" in f and "value" in f}

    def number(key: str) -> float | None:
        try:
            return float(row[key])
        except (KeyError, ValueError):
            return None

    reports = int(number("reports") or 0)
    cold = int(number("cold_starts") or 0)
    figures: dict[str, Any] = {
        "reports": reports,
        "bytes_scanned": float(answer.get("statistics", {}).get("bytesScanned", 0.0)),
    }
    if reports:
        figures.update(
            cold_starts=cold,
            cold_start_rate=cold / reports,
            avg_init_ms=number("avg_init_ms") if cold else None,
            memory_max_mb=number("memory_max_mb"),
            memory_avg_mb=number("memory_avg_mb"),
        )
    return figures
