"""Cold-start and memory figures on AWS (issue 15, "Missing": the monitor showed "–"): CloudWatch's
AWS/Lambda metrics have none, so they come from REPORT lines — the ones the log tail and invokes
already read (the monitor, free) or one Logs Insights query (`stats`, see test_aws_logs_json.py) —
and the UI says where they came from.

Against moto's server: metrics through GetMetricData, log lines through FilterLogEvents.
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone

import pytest
from aws_support import CREDENTIALS, MotoServer
from textual.app import App, ComposeResult

from lambdatui import logformat
from lambdatui.backends import aws_logs
from lambdatui.backends.aws import AwsBackend
from lambdatui.backends.aws_metrics import figures_from_reports
from lambdatui.config import parse_config
from lambdatui.tui.widgets.monitor import MonitorPane, fetch_monitor_data, figures


@pytest.fixture(scope="module")
def moto_server():
    server = MotoServer()
    yield server
    server.stop()


@pytest.fixture
def backend(moto_server, monkeypatch, tmp_path):
    for key, value in CREDENTIALS.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    moto_server.reset()
    b = AwsBackend(parse_config(f"backend: aws\naws: {{region: us-east-1, endpoint_url: '{moto_server.endpoint}'}}\n"))
    b.moto = moto_server
    yield b
    b.close()


def seed(backend, now: float) -> None:
    """Three invocations in the last minutes: metrics, and their lines (one text, one JSON cold)."""
    cw = backend.moto.client("cloudwatch")
    cw.put_metric_data(Namespace="AWS/Lambda", MetricData=[{
        "MetricName": "Invocations", "Dimensions": [{"Name": "FunctionName", "Value": "fn"}],
        "Timestamp": datetime.fromtimestamp(now - 120, timezone.utc), "Value": 3.0, "Unit": "Count",
    }])
    logs = backend.moto.client("logs")
    logs.create_log_group(logGroupName="/aws/lambda/fn")
    logs.create_log_stream(logGroupName="/aws/lambda/fn", logStreamName="s")
    t = int((now - 100) * 1000)
    cold_json = json.dumps({"time": "t", "type": "platform.report", "record": {
        "requestId": "r1", "metrics": {"durationMs": 30.0, "billedDurationMs": 31, "memorySizeMB": 256,
                                       "maxMemoryUsedMB": 90, "initDurationMs": 400.0}, "status": "success"}})
    logs.put_log_events(logGroupName="/aws/lambda/fn", logStreamName="s", logEvents=[
        {"timestamp": t, "message": cold_json + "\n"},
        {"timestamp": t + 10, "message": logformat.report_line("r2", 2.0, 2, 256, 70) + "\n"},
        {"timestamp": t + 20, "message": logformat.report_line("r3", 3.0, 3, 256, 80) + "\n"},
    ])


async def read_tail(backend, since: float) -> None:
    async for _ in aws_logs.tail_log_group(backend, "fn", since=since, follow=False):
        pass


def test_before_any_line_is_read_the_figures_stay_unknown(backend):
    now = time.time()
    seed(backend, now)
    data = fetch_monitor_data(backend, "fn", "15m", memory_size=256, now=now)
    f = figures(data)
    assert f.invocations == 3 and f.cold_starts is None and f.memory_max is None and data.report_source is None


async def test_monitor_figures_from_report_lines_the_tail_read_with_their_source(backend):
    now = time.time()
    seed(backend, now)
    await read_tail(backend, now - 3600)
    data = fetch_monitor_data(backend, "fn", "15m", memory_size=256, now=now)
    assert not data.errors
    f = figures(data)
    assert (f.cold_starts, f.ran, f.avg_init_ms, f.memory_max, f.memory_avg) == (1, 3, 400.0, 90.0, 80.0)
    assert data.report_source == "3 REPORT lines read"

    class MonitorApp(App):
        def compose(self) -> ComposeResult:
            yield MonitorPane(id="monitor")

    app = MonitorApp()
    async with app.run_test(size=(100, 40)) as pilot:
        pane = app.query_one(MonitorPane)
        pane.show(backend, "fn", memory_size=256)
        deadline = time.monotonic() + 15
        while "Cold starts  33.3% (1 of 3)" not in pane.plain_text():
            assert time.monotonic() < deadline, pane.plain_text()
            await pilot.pause(0.1)
        text = pane.plain_text()
        assert "Cold starts  33.3% (1 of 3)  ·  avg init 400 ms" in text
        assert "cold starts, memory: from 3 REPORT lines read" in text
        assert "90 MB of 256 MB" in text and "80 MB of 256 MB" in text


def test_lines_read_from_later_than_the_window_say_since_when():
    log = aws_logs.ReportLog()
    log.covered_from("fn", 1_000_000.0)
    log.note("fn", 1_000_100.0, logformat.Report("r", 1.0, 1, 128, 50))
    backend = AwsBackend.__new__(AwsBackend)  # only its report log is used by report_figures here
    backend.reports = log
    figures_ = AwsBackend.report_figures(backend, "fn", 1_000_000.0 - 3600, 1_000_200.0)
    assert figures_ is not None and figures_["source"].startswith("1 REPORT lines read since ")


def test_figures_from_reports_counts_cold_starts_and_memory():
    reports = [logformat.Report("a", 1.0, 1, 128, 40, 200.0), logformat.Report("b", 1.0, 1, 128, 60)]
    assert figures_from_reports(reports) == {
        "reports": 2, "cold_starts": 1, "cold_start_rate": 0.5, "avg_init_ms": 200.0, "memory_max_mb": 60.0, "memory_avg_mb": 50.0,
    }
    assert figures_from_reports([]) == {"reports": 0}
