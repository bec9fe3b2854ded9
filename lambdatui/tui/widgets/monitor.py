"""The monitor pane: how the selected function has been doing, and what it costs, over a window.

`MonitorPane` owns everything between the backend's figures and the screen:

- the fetch: one exclusive thread worker per refresh asks for `Backend.metrics` over the window
  (15 min and 1 h in 60 s buckets, 24 h in 15 min ones), `Backend.summary` (the figures
  `lambdatui stats` prints) and, from a backend with `capabilities.invocation_history` (the local
  one), the durations of each invocation.
  Whatever the backend cannot give stays empty: a backend without metrics (the default
  `Backend.metrics` raises `BackendError`) or any failure becomes a one-line message in the
  pane, never a crash and never a notification (the pane refreshes every 10 s: a toast per
  refresh would bury everything else);
- the window: the reactive `window` ("15m", "1h", "24h"), switched with 1/2/3 or the tabs;
- the refresh: every 10 s while the pane is on screen, paused while it is hidden (a hidden pane
  asking CloudWatch every 10 s would cost money and show nobody anything);
- the view, in a vertical scroll so it stays usable at 80×24:
  traffic (invocations, errors, throttles as sparklines with their totals, peak concurrency),
  duration (p50/p90/p99 as bars, cold-start rate, average init), memory used (max and average)
  against the configured size, a histogram of durations (history only), and cost (in the window,
  and a month at the window's rate with and without the free tier).

Every figure the data cannot support shows "–", never a 0 that would read as a measurement.
It talks only to the `Backend` interface and knows nothing about the rest of the dashboard.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, NamedTuple

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.reactive import reactive
from textual.widgets import Sparkline, Static, Tab, Tabs
from textual.worker import Worker, WorkerState

from ...backends.base import BackendError, FunctionMetrics, MetricSeries, summarize_metrics
from ..present import deterministic_enabled, format_cost
from ..styles import load_tcss

if TYPE_CHECKING:
    from textual.screen import Screen
    from textual.timer import Timer

    from ...backends.base import Backend

__all__ = ["MonitorPane", "MonitorData", "Window", "WINDOWS", "fetch_monitor_data", "histogram", "NO_DATA"]


class Window(NamedTuple):
    key: str
    label: str
    seconds: int
    period: int  # metric bucket, seconds: 15 buckets for 15 min, 60 for 1 h, 96 for 24 h


WINDOWS: dict[str, Window] = {
    "15m": Window("15m", "15 min", 15 * 60, 60),
    "1h": Window("1h", "1 h", 3600, 60),
    "24h": Window("24h", "24 h", 24 * 3600, 900),
}

REFRESH_SECONDS = 10
NO_DATA = "–"
HISTOGRAM_BUCKETS = 10
BAR_WIDTH = 20  # cells of the duration and histogram bars; narrow enough for 80 columns
MEMORY_BAR_WIDTH = 16
_EIGHTHS = " ▏▎▍▌▋▊▉"  # partial blocks: a bar's last cell, so small differences still show
_GROUP = "monitor"


@dataclass
class MonitorData:
    """What one fetch brought back. A `None` is something the backend could not give."""

    function: str
    window: str
    period: int
    start: float
    end: float
    memory_size: int | None = None  # as passed to `show`: the configured size, when known
    metrics: FunctionMetrics | None = None
    summary: dict[str, Any] | None = None  # `Backend.summary`
    durations: list[float] | None = None  # ms, one per invocation; None without a history
    # Where cold starts, init and memory came from when metrics lack them (AWS): the REPORT lines
    # already read (`Backend.report_figures`), e.g. "12 REPORT lines read since 10:05".
    report_source: str | None = None
    errors: list[str] = field(default_factory=list)  # one line each


def _one_line(error: BaseException) -> str:
    text = str(error) or type(error).__name__
    if not isinstance(error, BackendError):  # those carry a message meant for users
        text = f"{type(error).__name__}: {text}"
    return text.strip().splitlines()[0] if text.strip() else type(error).__name__


def fetch_monitor_data(
    backend: Backend,
    function: str,
    window: str,
    memory_size: int | None = None,
    now: float | None = None,
    architecture: str = "x86_64",
) -> MonitorData:
    """Everything the pane shows for `function` over the `window` ending `now`. Blocking; never raises."""
    spec = WINDOWS[window]
    end = time.time() if now is None else now
    start = end - spec.seconds
    data = MonitorData(function, window, spec.period, start, end, memory_size)
    try:
        data.metrics = backend.metrics(function, start=start, end=end, period=spec.period)
    except Exception as error:  # the pane reports it; the rest may still come from the history
        data.errors.append(_one_line(error))
    # The figures `lambdatui stats` prints: `Backend.summary` where every invocation is kept; from
    # aggregate metrics (AWS) the same `summarize_metrics` it uses, on the metrics fetched above
    # rather than on a second request.
    if backend.capabilities.invocation_history:
        try:
            data.summary = backend.summary(function, start, end)
        except Exception as error:
            data.errors.append(_one_line(error))
        try:
            data.durations = backend.durations(function, start, end)
        except Exception as error:
            data.errors.append(_one_line(error))
    elif data.metrics is not None:
        data.summary = summarize_metrics(data.metrics, memory_size or 0, architecture, end - start)
        # CloudWatch's metrics have no cold starts, init or memory used: the REPORT lines the log
        # tail and invokes already read do (free; a Logs Insights query per refresh would not be).
        try:
            reports = backend.report_figures(function, start, end)
        except Exception as error:
            data.errors.append(_one_line(error))
            reports = None
        if reports is not None:
            data.report_source = reports.get("source")
            data.summary["report_count"] = reports.get("reports")
            for key in ("cold_starts", "cold_start_rate", "avg_init_ms", "memory_max_mb", "memory_avg_mb"):
                if data.summary.get(key) is None and reports.get(key) is not None:
                    data.summary[key] = reports[key]
    return data


# -- figures ----------------------------------------------------------------------------------


def _dense(series: MetricSeries, start: float, end: float, period: int) -> list[float]:
    """`series` as one value per bucket over the window, 0 where it has none.

    CloudWatch (and so a backend imitating it) leaves out buckets without data; a sparkline of
    the sparse series would squeeze a quiet hour out of the time axis.
    """
    first = math.floor(start / period) * period
    count = max(1, math.ceil((end - first) / period))
    values = [0.0] * count
    for t, v in zip(series.timestamps, series.values):
        i = int((t - first) // period)
        if 0 <= i < count:
            values[i] += float(v)
    return values


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def histogram(durations: list[float], buckets: int = HISTOGRAM_BUCKETS) -> list[tuple[float, float, int]]:
    """`durations` (ms) counted in up to `buckets` log-spaced buckets from the least to the largest.

    Durations span orders of magnitude (a warm 2 ms run, a cold 900 ms one), so equal-width
    buckets would put nearly everything in the first. Returns (low, high, count) per bucket.
    """
    values = [d for d in durations if d is not None and d >= 0]
    if not values:
        return []
    low, high = max(min(values), 0.01), max(max(values), 0.01)
    if high <= low * 1.0001:
        return [(low, high, len(values))]
    ratio = math.log(high / low)
    edges = [low * math.exp(ratio * i / buckets) for i in range(buckets + 1)]
    counts = [0] * buckets
    for d in values:
        i = int(math.log(max(d, low) / low) / ratio * buckets)
        counts[min(max(i, 0), buckets - 1)] += 1
    return [(edges[i], edges[i + 1], counts[i]) for i in range(buckets)]


def _bar(value: float, maximum: float, width: int) -> str:
    """`value` of `maximum` as a bar `width` cells long, in eighths of a cell."""
    if maximum <= 0 or value <= 0:
        return " " * width
    eighths = max(1, round(width * 8 * min(value, maximum) / maximum))
    full, part = divmod(eighths, 8)
    bar = "█" * full + (_EIGHTHS[part] if part else "")
    return bar.ljust(width)


def _ms(value: float | None) -> str:
    if value is None:
        return NO_DATA
    if value < 10:
        return f"{value:.2f} ms"
    if value < 100:
        return f"{value:.1f} ms"
    if value < 10_000:
        return f"{value:,.0f} ms"
    return f"{value / 1000:,.1f} s"


def _count(value: float | None) -> str:
    return NO_DATA if value is None else f"{value:,.0f}"


def _short_ms(value: float) -> str:
    if value < 10:
        return f"{value:.1f}"
    if value < 10_000:
        return f"{value:.0f}"
    return f"{value / 1000:.0f}s"


@dataclass
class Figures:
    """The pane's numbers, derived from one `MonitorData`; `None` shows as "–"."""

    invocations: float | None = None
    errors: float | None = None
    throttles: float | None = None
    concurrency: float | None = None
    series: dict[str, list[float]] = field(default_factory=dict)
    p50: float | None = None
    p90: float | None = None
    p99: float | None = None
    upper_bound: bool = False  # p50/p99 are the largest bucket's: a window percentile was not available
    cold_starts: float | None = None
    ran: float | None = None  # invocations that ran (the history's count): what the cold-start rate is of
    avg_init_ms: float | None = None
    memory_max: float | None = None
    memory_avg: float | None = None
    memory_size: float | None = None
    cost: float | None = None
    monthly: float | None = None
    monthly_no_free_tier: float | None = None
    cost_estimated: bool = False  # from metrics (p50 × invocations), not from each invocation's bill
    report_source: str | None = None  # where cold starts and memory came from, when not the history


def figures(data: MonitorData) -> Figures:
    f = Figures()
    f.report_source = data.report_source
    summary = data.summary or {}
    m = data.metrics
    if m is not None:
        totals = m.totals()
        f.invocations, f.errors, f.throttles = totals["invocations"], totals["errors"], totals["throttles"]
        f.concurrency = totals["concurrent_executions"] if m.concurrent_executions.values else None
        for key in ("invocations", "errors", "throttles"):
            f.series[key] = _dense(getattr(m, key), m.start, m.end, m.period)
    else:
        for key in ("invocations", "errors", "throttles"):
            setattr(f, key, _number(summary.get(key)))
    ran = bool(f.invocations) or bool(_number(summary.get("invocations")))
    f.memory_size = _number(summary.get("memory_size_mb")) or (float(data.memory_size) if data.memory_size else None)
    if not ran:
        return f  # no invocation: no duration, no memory, no cost — "–", not 0
    f.p50 = _number(summary.get("duration_p50"))
    f.p90 = _number(summary.get("duration_p90"))
    f.p99 = _number(summary.get("duration_p99"))
    if m is not None and (f.p50 is None or f.p99 is None):
        def window(value: float | None, series: MetricSeries) -> float | None:
            if value is not None:
                return float(value)
            if series.values:
                f.upper_bound = True
                return float(max(series.values))
            return None

        f.p50 = f.p50 if f.p50 is not None else window(m.duration_p50_window, m.duration_p50)
        f.p99 = f.p99 if f.p99 is not None else window(m.duration_p99_window, m.duration_p99)
    f.cold_starts = _number(summary.get("cold_starts"))
    # The history's own count: metrics may count differently (throttles, the window's alignment).
    # From REPORT lines (AWS), the rate is of the reports read.
    f.ran = _number(summary.get("report_count")) or _number(summary.get("invocations"))
    f.avg_init_ms = _number(summary.get("avg_init_ms")) if f.cold_starts else None
    f.memory_max = _number(summary.get("memory_max_mb")) or None
    f.memory_avg = _number(summary.get("memory_avg_mb")) or None
    # The same figures `lambdatui stats` prints: both come from `Backend.summary`.
    f.cost = _number(summary.get("cost_usd"))
    f.monthly = _number(summary.get("projected_monthly_usd"))
    f.monthly_no_free_tier = _number(summary.get("projected_monthly_usd_no_free_tier"))
    f.cost_estimated = bool(summary.get("cost_estimated"))
    return f


def _duration_label(seconds: int) -> str:
    if seconds % 3600 == 0:
        return f"{seconds // 3600} h"
    if seconds % 60 == 0:
        return f"{seconds // 60} min"
    return f"{seconds} s"


def _cost(value: float | None) -> str:
    return NO_DATA if value is None else format_cost(value)


# -- the widget -------------------------------------------------------------------------------


class MonitorPane(Vertical):
    """Monitoring and cost of one function over a window. See the module docstring."""

    BINDINGS = [
        Binding("1", "set_window('15m')", "15 min", show=False, id="monitor.window_15m"),
        Binding("2", "set_window('1h')", "1 h", show=False, id="monitor.window_1h"),
        Binding("3", "set_window('24h')", "24 h", show=False, id="monitor.window_24h"),
        Binding("r", "refresh_data", "Refresh", show=False, id="monitor.refresh"),
    ]

    DEFAULT_CSS = load_tcss("widgets/monitor.tcss")

    window: reactive[str] = reactive("15m", init=False)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.backend: Backend | None = None
        self.function_name: str | None = None
        self.memory_size: int | None = None
        self.architecture = "x86_64"
        self.data: MonitorData | None = None  # the last fetch shown
        self.fetches = 0  # fetches started; tests and the curious read it
        self._generation = 0  # bumped on every fetch and every `show`: a stale result is dropped
        self._pending = False  # a fetch is wanted once the pane is on screen
        self._timer: Timer | None = None
        self._last_fetch: float | None = None  # time.monotonic() of the last fetch started
        self._status_text = ""

    def compose(self) -> ComposeResult:
        yield Tabs(*(Tab(w.label, id=f"mw-{w.key}") for w in WINDOWS.values()), active=f"mw-{self.window}", id="mp-windows")
        yield Static("no function selected", id="mp-status", markup=False)
        with VerticalScroll(id="mp-body"):
            yield Static("Traffic", classes="mp-title")
            for key, label in (("invocations", "Invocations"), ("errors", "Errors"), ("throttles", "Throttles")):
                with Horizontal(classes="mp-row"):
                    yield Static(f"{label:<13}{NO_DATA}", id=f"mp-{key}", classes="mp-label", markup=False)
                    yield Sparkline([], id=f"mp-spark-{key}")
            yield Static("", id="mp-concurrency", classes="mp-text")
            yield Static("Duration", classes="mp-title")
            yield Static("", id="mp-duration", classes="mp-text")
            yield Static("Memory", classes="mp-title")
            yield Static("", id="mp-memory", classes="mp-text")
            yield Static("Duration histogram", classes="mp-title mp-history")
            yield Static("", id="mp-histogram", classes="mp-text mp-history")
            yield Static("Cost", classes="mp-title")
            yield Static("", id="mp-cost", classes="mp-text")

    def on_mount(self) -> None:
        # Runs only while the pane is on screen: see on_show / on_hide.
        self._timer = self.set_interval(REFRESH_SECONDS, self._tick, pause=True, name="monitor-refresh")
        self.set_class(True, "-no-history")
        self._render_data(None)
        # Show and Hide events alone are not enough: Textual skips the Show of a widget whose
        # children were updated while it was hidden (as `show` does). Every layout refresh
        # (a tab switch is one) tells us too.
        self.screen.screen_layout_refresh_signal.subscribe(self, self._layout_refreshed)

    def on_show(self) -> None:
        self._visibility_changed(True)

    def on_hide(self) -> None:
        self._visibility_changed(False)

    def _layout_refreshed(self, _screen: Screen[Any]) -> None:
        self._visibility_changed(self._on_screen())

    def _visibility_changed(self, visible: bool) -> None:
        if self._timer is None:
            return
        if not visible:
            self._timer.pause()
            return
        self._timer.resume()
        if self._pending or (self.function_name is not None and self._stale() and not self._busy()):
            self.refresh_data()

    # -- public API ------------------------------------------------------------------------

    def show(
        self, backend: Backend, function: str | None, memory_size: int | None = None, architecture: str = "x86_64"
    ) -> None:
        """Monitor `function` of `backend` (None: nothing); `memory_size` is its configured MB, when known,
        and `architecture` what it is priced at.

        Fetches at once when the pane is on screen, else as soon as it is shown.
        """
        changed = function != self.function_name or backend is not self.backend
        self.backend, self.function_name, self.memory_size = backend, function, memory_size
        self.architecture = architecture
        if changed:
            self._generation += 1  # whatever is in flight is for the previous function
            self.data = None
            self._render_data(None)
        self.refresh_data()

    def refresh_data(self) -> None:
        """Fetch the figures again now (a no-op without a function; deferred while hidden)."""
        if self.backend is None or self.function_name is None:
            self._pending = False
            self.workers.cancel_group(self, _GROUP)
            self._set_status("no function selected")
            return
        if not self._on_screen():
            self._pending = True
            return
        self._pending = False
        self._generation += 1
        self.fetches += 1
        self._last_fetch = time.monotonic()
        if self.data is None:
            self._set_status(f"{self.function_name} · loading {WINDOWS[self.window].label}…")
        self.run_worker(
            partial(
                fetch_monitor_data, self.backend, self.function_name, self.window, self.memory_size,
                architecture=self.architecture,
            ),
            name=f"monitor {self.function_name} {self.window} #{self._generation}",
            group=_GROUP,
            exclusive=True,
            thread=True,
            exit_on_error=False,  # fetch_monitor_data catches what it can; anything else must not end the app
        )

    def focus(self, scroll_visible: bool = True) -> MonitorPane:
        """Focus the figures (so 1/2/3 and the scroll keys work): the pane itself takes no focus."""
        self.query_one("#mp-body", VerticalScroll).focus(scroll_visible)
        return self

    @property
    def status_text(self) -> str:
        return self._status_text

    def plain_text(self) -> str:
        """Everything the pane shows as text (sparklines aside), one line per row: for tests and logs."""
        parts = [self._status_text]
        for static in self.query_one("#mp-body").query(Static):
            if static.display:  # the histogram is hidden without a history
                content = static.content
                parts.append(content.plain if isinstance(content, Content) else str(content))
        return "\n".join(parts)

    # -- the window ------------------------------------------------------------------------

    def action_set_window(self, window: str) -> None:
        if window in WINDOWS:
            self.window = window

    def action_refresh_data(self) -> None:
        self.refresh_data()

    def watch_window(self, window: str) -> None:
        if not self.is_mounted:
            return
        tabs = self.query_one("#mp-windows", Tabs)
        if tabs.active != f"mw-{window}":
            tabs.active = f"mw-{window}"
        # The old window's figures would be mislabelled while the new ones load.
        self._generation += 1
        self.data = None
        self._render_data(None)
        self.refresh_data()

    @on(Tabs.TabActivated, "#mp-windows")
    def _tab_activated(self, event: Tabs.TabActivated) -> None:
        event.stop()  # the app has tabs of its own
        key = (event.tab.id or "").removeprefix("mw-")
        if key in WINDOWS:
            self.window = key

    # -- fetching --------------------------------------------------------------------------

    def _on_screen(self) -> bool:
        return self.is_mounted and self.is_on_screen

    def _stale(self) -> bool:
        # From when the last fetch started, not from its data: a fetch that keeps failing must
        # not be retried on every layout refresh.
        return self._last_fetch is None or time.monotonic() - self._last_fetch >= REFRESH_SECONDS

    def _tick(self) -> None:
        if not self._on_screen():
            if self._timer is not None:
                self._timer.pause()
            return
        if self._busy():
            return  # a slow backend: let the fetch in flight finish rather than restart it forever
        self.refresh_data()

    def _busy(self) -> bool:
        return any(w.node is self and w.group == _GROUP and not w.is_finished for w in self.workers)

    @on(Worker.StateChanged)
    def _worker_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if worker.group != _GROUP or worker.node is not self:
            return
        event.stop()
        generation = int(worker.name.rsplit("#", 1)[1])
        if generation != self._generation:
            return
        if event.state == WorkerState.SUCCESS and isinstance(worker.result, MonitorData):
            data = worker.result
            if data.function == self.function_name and data.window == self.window:
                self.data = data
                self._render_data(data)
        elif event.state == WorkerState.ERROR:
            error = worker.error
            self._set_status(f"{self.function_name}: {_one_line(error) if error else 'failed'}", error=True)

    # -- rendering -------------------------------------------------------------------------

    def _set_status(self, text: str, error: bool = False) -> None:
        self._status_text = text
        status = self.query_one("#mp-status", Static)
        status.update(text)
        status.set_class(error, "-error")

    def _render_data(self, data: MonitorData | None) -> None:
        if not self.is_mounted:
            return
        f = figures(data) if data is not None else Figures()
        spec = WINDOWS[self.window]
        if data is None:
            if self.function_name is None:
                self._set_status("no function selected")
        elif data.errors:
            self._set_status(f"{data.function}: {data.errors[0]}", error=True)
        else:
            stamp = "" if deterministic_enabled() else time.strftime(" · updated %H:%M:%S", time.localtime(data.end))
            self._set_status(f"{data.function} · last {spec.label} · {_duration_label(data.period)} buckets{stamp}")
        self.set_class(data is None or data.durations is None, "-no-history")
        self._render_traffic(f)
        self.query_one("#mp-duration", Static).update(self._duration_content(f))
        self.query_one("#mp-memory", Static).update(self._memory_content(f))
        self.query_one("#mp-histogram", Static).update(self._histogram_content(data))
        self.query_one("#mp-cost", Static).update(self._cost_content(f, spec))

    def _render_traffic(self, f: Figures) -> None:
        for key, label in (("invocations", "Invocations"), ("errors", "Errors"), ("throttles", "Throttles")):
            total = getattr(f, key)
            text = f"{label:<13}{_count(total)}"
            if key == "errors" and total and f.invocations:
                text += f" ({100 * total / f.invocations:.0f}%)"
            self.query_one(f"#mp-{key}", Static).update(text)
            self.query_one(f"#mp-spark-{key}", Sparkline).data = f.series.get(key, [])
        self.query_one("#mp-concurrency", Static).update(
            Content.assemble(("Peak concurrency ", "$text-muted"), _count(f.concurrency))
        )

    def _duration_content(self, f: Figures) -> Content:
        rows = [("p50", f.p50), ("p90", f.p90), ("p99", f.p99)]
        top = max((v for _, v in rows if v is not None), default=0.0)
        parts: list[str | tuple[str, str] | Content] = []
        for name, value in rows:
            bound = "≤" if f.upper_bound and value is not None and name != "p90" else ""
            parts += [(f"{name}  ", "$text-muted"), (_bar(value or 0.0, top, BAR_WIDTH), "$accent"), f" {bound}{_ms(value)}\n"]
        if f.cold_starts is not None and f.ran:
            rate = f"{100 * f.cold_starts / f.ran:.1f}% ({f.cold_starts:,.0f} of {f.ran:,.0f})"
        else:
            rate = NO_DATA
        parts += [("Cold starts  ", "$text-muted"), rate, ("  ·  avg init ", "$text-muted"), _ms(f.avg_init_ms)]
        if f.report_source and f.cold_starts is not None:
            parts.append((f"\ncold starts, memory: from {f.report_source}", "$text-muted"))
        if f.upper_bound:
            parts.append(("\n≤: the largest bucket's percentile (no window figure)", "$text-muted"))
        return Content.assemble(*parts)

    def _memory_content(self, f: Figures) -> Content:
        size = f.memory_size
        parts: list[str | tuple[str, str]] = []
        for name, value in (("max", f.memory_max), ("avg", f.memory_avg)):
            figure = NO_DATA if value is None else f"{value:,.0f} MB"
            of = f" of {size:,.0f} MB" if size else ""
            bar = _bar(value or 0.0, size or 0.0, MEMORY_BAR_WIDTH)
            used = bar.rstrip()
            # The unused part of the configured size as a dim track: how much headroom is left.
            track = ("░" * (MEMORY_BAR_WIDTH - len(used))) if size else " " * (MEMORY_BAR_WIDTH - len(used))
            parts += [(f"{name}  ", "$text-muted"), (used, "$accent"), (track, "$text-muted")]
            parts += [" ", f"{figure}{of if value is not None else ''}"]
            if value is not None and size:
                parts.append((f"  {100 * value / size:.0f}%", "$text-muted"))
            parts.append("\n")
        parts.append((f"configured {size:,.0f} MB" if size else f"configured {NO_DATA}", "$text-muted"))
        return Content.assemble(*parts)

    def _histogram_content(self, data: MonitorData | None) -> Content:
        if data is None or data.durations is None:
            return Content("")
        rows = histogram(data.durations)
        if not rows:
            return Content.assemble((f"{NO_DATA} no invocations in this window", "$text-muted"))
        top = max(count for _, _, count in rows)
        labels = [f"{_short_ms(lo)}–{_short_ms(hi)} ms" for lo, hi, _ in rows]
        width = max(len(label) for label in labels)
        parts: list[str | tuple[str, str]] = []
        for label, (_, _, count) in zip(labels, rows):
            parts += [(label.rjust(width) + " ", "$text-muted"), (_bar(count, top, BAR_WIDTH), "$accent"), f" {count:,}\n"]
        return Content.assemble(*parts).rstrip()

    def _cost_content(self, f: Figures, spec: Window) -> Content:
        approx = "≈" if f.cost_estimated and f.cost is not None else ""
        parts: list[str | tuple[str, str]] = [
            (f"{'In the last ' + spec.label:<22}", "$text-muted"),
            f"{approx}{_cost(f.cost)}\n",
            (f"{'Monthly at this rate':<22}", "$text-muted"),
        ]
        if f.monthly is None:
            parts.append(NO_DATA)
        elif f.monthly == 0 and f.monthly_no_free_tier:
            parts += [f"{approx}$0", ("  within the free tier", "$text-success")]
        else:
            parts += [f"{approx}{format_cost(f.monthly)}", ("  after the free tier", "$text-muted")]
        parts += ["\n", (f"{'  without free tier':<22}", "$text-muted"), f"{approx if f.monthly_no_free_tier is not None else ''}{_cost(f.monthly_no_free_tier)}"]
        if f.cost_estimated:
            parts.append(("\n≈ estimated: each invocation taken as p50, x86_64 rates", "$text-muted"))
        return Content.assemble(*parts)
