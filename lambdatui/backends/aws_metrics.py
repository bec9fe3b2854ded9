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
"""

from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import TYPE_CHECKING

import botocore.exceptions

from .aws_errors import translate
from .base import BackendError, FunctionMetrics, InvalidParameterError, MetricSeries

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_cloudwatch.type_defs import GetMetricDataInputTypeDef, MetricDataQueryTypeDef

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


def _query(query_id: str, name: str, metric: str, stat: str, period: int) -> MetricDataQueryTypeDef:
    return {
        "Id": query_id,
        "MetricStat": {
            "Metric": {
                "Namespace": NAMESPACE,
                "MetricName": metric,
                "Dimensions": [{"Name": "FunctionName", "Value": name}],
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
