"""The monitor pane on its own: a real local backend with its history, an AWS-like backend with
metrics only, windows and their periods, backends that fail, and an 80×24 terminal."""

from __future__ import annotations

import json
import threading

import pytest
from conformance.conftest import write_local_config  # the conformance suite's two functions
from textual.app import App, ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Sparkline, Static

from lambdatui.backends import make_backend
from lambdatui.backends.base import (
    Backend,
    FunctionConfiguration,
    FunctionMetrics,
    MetricSeries,
)
from lambdatui.config import parse_config
from lambdatui.tui.widgets.monitor import NO_DATA, MonitorPane, histogram

from .conftest import wait_for


class MonitorApp(App):
    def __init__(self) -> None:
        super().__init__()
        self.notifications: list[str] = []

    def compose(self) -> ComposeResult:
        yield MonitorPane(id="monitor")

    def notify(self, message: str, **kwargs) -> None:
        self.notifications.append(message)
        super().notify(message, **kwargs)


class MetricsOnly(Backend):
    """What the AWS backend gives the pane: CloudWatch metrics, no invocation history."""

    name = "aws"

    def __init__(self) -> None:
        self.calls: list[tuple[str, float, float, int]] = []

    def list_functions(self):
        return []

    def get_function(self, name):
        return FunctionConfiguration(name, "python3.12", "app.handler", 256, 3)

    def update_function(self, name, changes):
        raise NotImplementedError

    def invoke(self, name, payload=b"{}", *, invocation_type="RequestResponse", source=None):
        raise NotImplementedError

    async def tail_logs(self, name, **options):
        return
        yield

    def metrics(self, name, *, start, end, period=60):
        self.calls.append((name, start, end, period))
        first = (start // period) * period

        def series(*values):
            return MetricSeries([first + i * period for i in range(len(values))], [float(v) for v in values])

        return FunctionMetrics(
            function=name,
            start=start,
            end=end,
            period=period,
            invocations=series(4, 0, 10, 6),
            errors=series(1, 0, 0, 1),
            throttles=series(0, 0, 2, 0),
            duration_p50=series(12, 0, 15, 14),
            duration_p99=series(40, 0, 90, 60),
            concurrent_executions=series(1, 0, 3, 2),
            duration_p50_window=13.5,
            duration_p99_window=88.0,
        )


class NoMetrics(MetricsOnly):
    """A backend with the interface's default `metrics`: it raises BackendError."""

    name = "plain"
    metrics = Backend.metrics


class Broken(MetricsOnly):
    def metrics(self, name, *, start, end, period=60):
        raise RuntimeError("socket closed\nand a second line nobody should see")


class Slow(MetricsOnly):
    """Metrics that wait for the test to let them through."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = threading.Event()

    def metrics(self, name, *, start, end, period=60):
        self.gate.wait(10)
        return super().metrics(name, start=start, end=end, period=period)


def text_of(pane: MonitorPane, widget_id: str) -> str:
    content = pane.query_one(f"#{widget_id}", Static).content
    return getattr(content, "plain", str(content))


async def shown(pilot, pane: MonitorPane, fetches: int = 1) -> None:
    await wait_for(pilot, lambda: pane.fetches >= fetches and pane.data is not None and not _busy(pane))
    await pilot.pause()


def _busy(pane: MonitorPane) -> bool:
    return any(w.node is pane and not w.is_finished for w in pane.workers)


# -- a backend with metrics only (AWS) -----------------------------------------------------------


async def test_metrics_only_backend_renders_sparklines_without_history():
    backend = MetricsOnly()
    app = MonitorApp()
    async with app.run_test(size=(100, 50)) as pilot:
        pane = app.query_one(MonitorPane)
        pane.show(backend, "orders", memory_size=256)
        await shown(pilot, pane)
        assert backend.calls[0][0] == "orders"
        assert backend.calls[0][3] == 60
        assert backend.calls[0][2] - backend.calls[0][1] == 15 * 60

        assert text_of(pane, "mp-invocations").split() == ["Invocations", "20"]
        assert text_of(pane, "mp-errors").split() == ["Errors", "2", "(10%)"]
        assert text_of(pane, "mp-throttles").split() == ["Throttles", "2"]
        spark = pane.query_one("#mp-spark-invocations", Sparkline)
        assert len(spark.data) in (15, 16) and sum(spark.data) == 20  # a value per minute (aligned: 15 or 16)
        assert "Peak concurrency 3" in text_of(pane, "mp-concurrency")

        duration = text_of(pane, "mp-duration").splitlines()
        assert duration[0].startswith("p50") and duration[0].endswith("13.5 ms")
        assert duration[1].startswith("p90") and duration[1].endswith(NO_DATA)  # no history: no p90
        assert duration[2].endswith("88.0 ms")
        assert "Cold starts  –" in duration[3]

        memory = text_of(pane, "mp-memory")
        assert "max" in memory and NO_DATA in memory and "configured 256 MB" in memory

        # No history: no histogram at all.
        assert not pane.query_one("#mp-histogram").display
        assert "Duration histogram" not in pane.plain_text()

        # Cost can only be estimated (from p50), and says so.
        cost = text_of(pane, "mp-cost")
        assert "≈$" in cost and "estimated" in cost
        assert "without free tier" in cost
        assert pane.status_text.startswith("orders · last 15 min · 1 min buckets")
        assert app.notifications == []


async def test_windows_switch_with_keys_and_refetch_with_their_period():
    backend = MetricsOnly()
    app = MonitorApp()
    async with app.run_test(size=(100, 50)) as pilot:
        pane = app.query_one(MonitorPane)
        pane.show(backend, "orders", memory_size=256)
        await shown(pilot, pane)
        pane.query_one("#mp-windows").focus()

        await pilot.press("3")
        await shown(pilot, pane, 2)
        assert pane.window == "24h"
        assert backend.calls[-1][3] == 900
        assert backend.calls[-1][2] - backend.calls[-1][1] == 24 * 3600
        assert len(pane.query_one("#mp-spark-invocations", Sparkline).data) in (96, 97)
        assert pane.query_one("#mp-windows").active == "mw-24h"
        assert "last 24 h · 15 min buckets" in pane.status_text

        await pilot.press("2")
        await shown(pilot, pane, 3)
        assert pane.window == "1h"
        assert backend.calls[-1][3] == 60
        assert backend.calls[-1][2] - backend.calls[-1][1] == 3600

        await pilot.press("1")
        await shown(pilot, pane, 4)
        assert pane.window == "15m"
        assert backend.calls[-1][2] - backend.calls[-1][1] == 900

        # The tabs switch too (a click on "24 h").
        await pilot.click("#mw-24h")
        await shown(pilot, pane, 5)
        assert pane.window == "24h" and backend.calls[-1][3] == 900

        # And r fetches again.
        calls = len(backend.calls)
        await pilot.press("r")
        await shown(pilot, pane, 6)
        assert len(backend.calls) == calls + 1


async def test_backend_without_metrics_shows_a_message_and_keeps_running():
    app = MonitorApp()
    async with app.run_test(size=(100, 50)) as pilot:
        pane = app.query_one(MonitorPane)
        pane.show(NoMetrics(), "orders")
        await shown(pilot, pane)
        assert pane.status_text == "orders: Metrics are not available from the plain backend"
        assert pane.query_one("#mp-status").has_class("-error")
        assert text_of(pane, "mp-invocations").split() == ["Invocations", NO_DATA]
        assert NO_DATA in text_of(pane, "mp-cost")
        assert app.notifications == []

        # A failure of any kind: one line, no crash, no notification; the next refresh tries again.
        pane.show(Broken(), "orders")
        await shown(pilot, pane, 2)
        assert pane.status_text == "orders: RuntimeError: socket closed"
        await pilot.press("2")
        await shown(pilot, pane, 3)
        assert pane.status_text == "orders: RuntimeError: socket closed"
        assert app.is_running
        assert app.notifications == []


async def test_a_stale_result_never_overwrites_a_newer_selection():
    slow = Slow()
    app = MonitorApp()
    async with app.run_test(size=(100, 50)) as pilot:
        pane = app.query_one(MonitorPane)
        pane.show(slow, "first")
        await wait_for(pilot, lambda: len(slow.calls) == 0 and pane.fetches == 1)
        pane.show(MetricsOnly(), "second")
        await shown(pilot, pane, 2)
        assert pane.data.function == "second"
        slow.gate.set()  # the first fetch now completes: it must be dropped
        await pilot.pause(0.2)
        assert pane.data.function == "second"
        assert pane.status_text.startswith("second")


async def test_no_function_selected():
    app = MonitorApp()
    async with app.run_test(size=(100, 50)) as pilot:
        pane = app.query_one(MonitorPane)
        pane.show(MetricsOnly(), None)
        await pilot.pause()
        assert pane.status_text == "no function selected"
        assert pane.fetches == 0


async def test_hidden_pane_waits_until_shown():
    backend = MetricsOnly()
    app = MonitorApp()
    async with app.run_test(size=(100, 50)) as pilot:
        pane = app.query_one(MonitorPane)
        pane.display = False
        await pilot.pause()
        pane.show(backend, "orders")
        await pilot.pause(0.1)
        assert backend.calls == []  # nobody sees it: nothing asked of the backend
        pane.display = True
        await shown(pilot, pane)
        assert len(backend.calls) == 1


async def test_usable_at_80x24():
    app = MonitorApp()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = app.query_one(MonitorPane)
        pane.show(MetricsOnly(), "orders", memory_size=256)
        await shown(pilot, pane)
        body = pane.query_one("#mp-body", VerticalScroll)
        assert body.max_scroll_y > 0  # more than fits: it scrolls
        body.focus()
        await pilot.press("end")
        await wait_for(pilot, lambda: body.scroll_y == body.max_scroll_y)
        cost = pane.query_one("#mp-cost")
        assert cost.region.height > 0 and cost.region.bottom <= 24  # the last section is reachable
        for sparkline in pane.query(Sparkline):
            assert sparkline.size.width >= 10


def test_histogram_buckets_are_log_spaced():
    rows = histogram([1, 1, 2, 10, 100, 1000])
    assert len(rows) == 10
    assert sum(count for _, _, count in rows) == 6
    assert rows[0][0] == pytest.approx(1) and rows[-1][1] == pytest.approx(1000)
    assert rows[1][0] / rows[0][0] == pytest.approx(rows[-1][1] / rows[-1][0])
    assert histogram([]) == []
    assert histogram([5, 5, 5]) == [(5, 5, 3)]


# -- the local backend, with its invocation history ------------------------------------------------


@pytest.fixture
def local(tmp_path):
    path = write_local_config(tmp_path)
    backend = make_backend(parse_config(path.read_text(), path), state_dir=tmp_path / "state")
    yield backend
    backend.close()


def run(backend, name: str, event: dict) -> None:
    backend.invoke(name, json.dumps(event).encode())


async def test_local_backend_shows_counts_percentiles_cold_rate_and_cost(local):
    for i in range(3):
        run(local, "conf-echo", {"n": i})
    run(local, "conf-fails", {"action": "ok"})
    run(local, "conf-fails", {})  # KeyError: a function error
    run(local, "conf-fails", {})

    app = MonitorApp()
    async with app.run_test(size=(100, 60)) as pilot:
        pane = app.query_one(MonitorPane)
        pane.show(local, "conf-fails", memory_size=128)
        await shown(pilot, pane)
        summary = pane.data.summary
        assert summary is not None and pane.data.durations is not None
        assert pane.data.errors == []

        assert text_of(pane, "mp-invocations").split() == ["Invocations", "3"]
        assert text_of(pane, "mp-errors").split()[:2] == ["Errors", "2"]
        duration = text_of(pane, "mp-duration").splitlines()
        for line, name in zip(duration, ("p50", "p90", "p99")):
            assert line.startswith(name) and line.endswith(" ms") and NO_DATA not in line
        # One environment, started once: one cold start in three.
        assert "33.3% (1 of 3)" in duration[3]
        assert "avg init" in duration[3] and not duration[3].endswith(NO_DATA)
        memory = text_of(pane, "mp-memory")
        assert "of 128 MB" in memory

        histogram_text = text_of(pane, "mp-histogram")
        assert pane.query_one("#mp-histogram").display
        assert sum(int(line.split()[-1]) for line in histogram_text.splitlines()) == 3

        cost = text_of(pane, "mp-cost").splitlines()
        assert cost[0].startswith("In the last 15 min") and "$" in cost[0] and "≈" not in cost[0]
        assert cost[1].startswith("Monthly at this rate") and "$" in cost[1]
        assert "within the free tier" in cost[1]  # 3 invocations in 15 min: far below the free tier
        assert cost[2].strip().startswith("without free tier") and "$" in cost[2]

        # The window switch asks for the history again, over the new window and period.
        await pilot.press("3")
        await shown(pilot, pane, 2)
        assert pane.data.period == 900 and pane.data.metrics.period == 900
        assert text_of(pane, "mp-invocations").split() == ["Invocations", "3"]


async def test_local_backend_function_never_invoked_shows_dashes(local):
    app = MonitorApp()
    async with app.run_test(size=(100, 60)) as pilot:
        pane = app.query_one(MonitorPane)
        pane.show(local, "conf-echo", memory_size=128)
        await shown(pilot, pane)
        assert text_of(pane, "mp-invocations").split() == ["Invocations", "0"]
        duration = text_of(pane, "mp-duration").splitlines()
        assert all(line.endswith(NO_DATA) for line in duration[:3])
        assert "no invocations in this window" in text_of(pane, "mp-histogram")
        cost = text_of(pane, "mp-cost")
        assert "$" not in cost
