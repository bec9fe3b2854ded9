"""The power tuning dialog: run `powertune.power_tune` on one function and show what it found.

A modal screen: the plan and a Start button, then progress (a thread worker runs the tune and posts
messages back), then a table (memory | p50 ms | avg billed ms | $ per invocation), bar charts of
duration and cost against memory, the cheapest and fastest sizes, and the report's note — shown
prominently, since locally it says whether the figures mean anything. Cancel stops after the
invocation in progress; the original memory size is restored either way. Esc closes (while a run is
going it cancels first and closes once the memory size is back).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, DataTable, Footer, Label, ProgressBar, Static

from ..backends.base import Backend
from ..powertune import DEFAULT_MEMORY_SIZES, PowerTuneError, TuneProgress, TuneReport, TuneResult, power_tune
from .styles import load_tcss

BAR_WIDTH = 36
_EIGHTHS = " ▏▎▍▌▋▊▉"


def bar(value: float, largest: float, width: int = BAR_WIDTH) -> str:
    """A horizontal bar of `value` against `largest` in eighths of a cell: `width` cells for `largest`."""
    if largest <= 0 or value <= 0:
        return ""
    eighths = max(1, round(value / largest * width * 8))
    full, rest = divmod(eighths, 8)
    return "█" * full + (_EIGHTHS[rest] if rest else "")


def format_cost(usd: float | None) -> str:
    return "—" if usd is None else f"${usd:.10f}"


def format_ms(ms: float | None) -> str:
    return "—" if ms is None else f"{ms:,.1f}"


def _known(figure: float | None) -> float:
    """A figure of a result that has figures: a measured result has all of them."""
    assert figure is not None
    return figure


def charts(report: TuneReport) -> tuple[str, str]:
    """Text bar charts of p50 duration and cost per invocation against memory, one row a size."""
    rows = [r for r in report.results if r.has_figures]
    if not rows:
        return "No durations: the backend gave no figures.", ""
    label = max(len(f"{r.memory_mb:,} MB") for r in rows)
    top_ms = max(_known(r.duration_p50_ms) for r in rows)
    top_usd = max(_known(r.cost_per_invocation_usd) for r in rows)
    duration = ["Duration (p50) against memory"]
    cost = ["Cost per invocation against memory"]
    for r in rows:
        name = f"{r.memory_mb:,} MB".rjust(label)
        d = bar(_known(r.duration_p50_ms), top_ms)
        c = bar(_known(r.cost_per_invocation_usd), top_usd)
        duration.append(f"{name} │{d.ljust(BAR_WIDTH)} {format_ms(r.duration_p50_ms)} ms")
        cost.append(f"{name} │{c.ljust(BAR_WIDTH)} {format_cost(r.cost_per_invocation_usd)}")
    return "\n".join(duration), "\n".join(cost)


def verdict(report: TuneReport) -> str:
    if report.cheapest is None:
        return "No memory size produced figures to compare."
    assert report.fastest is not None  # chosen with the cheapest
    cheap, fast = report.result(report.cheapest), report.result(report.fastest)
    assert cheap is not None and fast is not None  # both are sizes of the results
    text = (
        f"Cheapest: {report.cheapest:,} MB ({format_cost(cheap.cost_per_invocation_usd)} per invocation, "
        f"p50 {format_ms(cheap.duration_p50_ms)} ms)    "
        f"Fastest: {report.fastest:,} MB (p50 {format_ms(fast.duration_p50_ms)} ms, "
        f"{format_cost(fast.cost_per_invocation_usd)} per invocation)"
    )
    if report.restored:
        text += f"\nMemory size restored to {report.original_memory_mb:,} MB."
    return text


class PowerTuneScreen(ModalScreen["TuneReport | None"]):
    """Power-tunes `function` on `backend` with `payload`; dismisses with the report (or None)."""

    DEFAULT_CSS = load_tcss("powertune_screen.tcss")
    BINDINGS = [
        Binding("escape", "close", "Close", id="powertune.close"),
        Binding("c", "cancel", "Cancel run", id="powertune.cancel"),
        Binding("r", "start", "Run", id="powertune.start"),
    ]

    class Progressed(Message):
        def __init__(self, progress: TuneProgress) -> None:
            super().__init__()
            self.progress = progress

    class Finished(Message):
        def __init__(self, report: TuneReport | None, error: str | None = None) -> None:
            super().__init__()
            self.report = report
            self.error = error

    def __init__(
        self,
        backend: Backend,
        function: str,
        payload: bytes | str = b"{}",
        *,
        memory_sizes: Iterable[int] = DEFAULT_MEMORY_SIZES,
        invocations: int = 5,
        autostart: bool = False,
    ) -> None:
        super().__init__()
        self.backend = backend
        self.function = function
        self.payload = payload.encode("utf-8") if isinstance(payload, str) else (payload or b"{}")
        self.memory_sizes = tuple(memory_sizes)
        self.invocations = invocations
        self.autostart = autostart
        self.report: TuneReport | None = None
        self.error: str | None = None
        self.running = False
        self._cancel = threading.Event()
        self._close_when_done = False

    # -- layout ------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(f"Power tuning · {self.function} · {self.backend.name}", id="pt-title")
            with VerticalScroll(id="pt-body"):
                yield Static(self._plan(), id="pt-plan")
                yield Static("Not started.", id="pt-status")
                yield ProgressBar(total=len(self.memory_sizes) * (self.invocations + 1), show_eta=False, id="pt-progress")
                yield Static("", id="pt-error")
                yield Static("", id="pt-note")
                table: DataTable[str] = DataTable(id="pt-table", cursor_type="row", zebra_stripes=True)
                yield table
                yield Static("", id="pt-verdict")
                yield Static("", id="pt-duration-chart", classes="pt-chart")
                yield Static("", id="pt-cost-chart", classes="pt-chart")
            with Horizontal(id="pt-buttons"):
                yield Button("Start", id="pt-start", variant="primary")
                yield Button("Cancel run", id="pt-cancel", variant="warning", disabled=True)
                yield Button("Close", id="pt-close")
        # Its own footer, over the dashboard's: the keys shown are this dialog's (Esc, c, r), not
        # the main screen's, which do nothing while it is open.
        yield Footer()

    def _plan(self) -> str:
        sizes = ", ".join(f"{m:,}" for m in self.memory_sizes)
        runs = len(self.memory_sizes) * (self.invocations + 1)
        local = not self.backend.capabilities.cpu_follows_memory
        where = (
            "Runs locally and leaves the config file alone."
            if local
            else "Runs on AWS: billed invocations, and a real configuration change while it runs."
        )
        return (
            f"Sets {self.function}'s memory to each of {sizes} MB, invokes it once to warm up and "
            f"{self.invocations} times to measure ({runs} invocations in all), then restores its memory size. {where}"
        )

    def on_mount(self) -> None:
        table = self.query_one("#pt-table", DataTable)
        table.add_columns("Memory", "p50 ms", "avg billed ms", "$ per invocation", "errors", "vCPU", "")
        if self.backend.read_only:
            self._show_error("This backend is read-only: power tuning changes the memory size, so it cannot run here.")
            self.query_one("#pt-start", Button).disabled = True
            return
        if self.autostart:
            self.action_start()
        else:
            self.query_one("#pt-start", Button).focus()

    # -- running -----------------------------------------------------------------------------

    def action_start(self) -> None:
        if self.running or self.backend.read_only:
            return
        self.running = True
        self.report, self.error = None, None
        self._cancel = threading.Event()
        self.query_one("#pt-start", Button).disabled = True
        self.query_one("#pt-cancel", Button).disabled = False
        self.query_one("#pt-progress", ProgressBar).update(progress=0)
        self.query_one("#pt-table", DataTable).clear()
        self.query_one("#pt-note", Static).remove_class("-shown")
        self.query_one("#pt-error", Static).remove_class("-shown")
        self.query_one("#pt-status", Static).update("Starting…")
        self._run(self._cancel)

    @work(thread=True, exclusive=True, group="powertune")
    def _run(self, cancel: threading.Event) -> None:
        try:
            report = power_tune(
                self.backend,
                self.function,
                self.payload,
                self.memory_sizes,
                self.invocations,
                progress=lambda p: self.post_message(self.Progressed(p)),
                cancel=cancel,
            )
        except PowerTuneError as e:
            self.post_message(self.Finished(e.report, str(e)))
        except Exception as e:  # before anything changed (function not found…), or a backend bug
            self.post_message(self.Finished(None, str(e) or type(e).__name__))
        else:
            self.post_message(self.Finished(report))

    def on_power_tune_screen_progressed(self, message: Progressed) -> None:
        p = message.progress
        self.query_one("#pt-status", Static).update(p.message)
        self.query_one("#pt-progress", ProgressBar).update(total=p.total, progress=p.done)
        if p.result is not None:
            self._add_row(p.result, [])

    def on_power_tune_screen_finished(self, message: Finished) -> None:
        self.running = False
        self.report, self.error = message.report, message.error
        self.query_one("#pt-cancel", Button).disabled = True
        self.query_one("#pt-start", Button).disabled = False
        self.query_one("#pt-start", Button).label = "Run again"
        if message.error:
            self._show_error(message.error)
        if message.report is not None:
            self._show_report(message.report)
        status = "Cancelled." if message.report and message.report.cancelled else ("Stopped." if message.error else "Done.")
        self.query_one("#pt-status", Static).update(status)
        if self._close_when_done:
            self.dismiss(self.report)

    def action_cancel(self) -> None:
        if self.running:
            self._cancel.set()
            self.query_one("#pt-cancel", Button).disabled = True
            self.query_one("#pt-status", Static).update(
                "Cancelling: after the invocation in progress, the memory size is restored…"
            )

    def action_close(self) -> None:
        if self.running:
            self._close_when_done = True
            self.action_cancel()
            return
        self.dismiss(self.report)

    @on(Button.Pressed, "#pt-start")
    def _start_pressed(self) -> None:
        self.action_start()

    @on(Button.Pressed, "#pt-cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()

    @on(Button.Pressed, "#pt-close")
    def _close_pressed(self) -> None:
        self.action_close()

    # -- results -----------------------------------------------------------------------------

    def _show_error(self, text: str) -> None:
        error = self.query_one("#pt-error", Static)
        error.update(text)
        error.add_class("-shown")

    def _show_report(self, report: TuneReport) -> None:
        note = self.query_one("#pt-note", Static)
        note.update(report.note)
        note.set_class(report.cpu_scaled, "-scaled")
        note.add_class("-shown")
        self.query_one("#pt-table", DataTable).clear()
        for r in report.results:
            marks = []
            if r.memory_mb == report.cheapest:
                marks.append("◆ cheapest")
            if r.memory_mb == report.fastest:
                marks.append("▲ fastest")
            self._add_row(r, marks)
        self.query_one("#pt-verdict", Static).update(verdict(report))
        duration, cost = charts(report)
        self.query_one("#pt-duration-chart", Static).update(duration)
        self.query_one("#pt-cost-chart", Static).update(cost)

    def _add_row(self, r: TuneResult, marks: list[str]) -> None:
        table = self.query_one("#pt-table", DataTable)
        if str(r.memory_mb) in table.rows:
            table.remove_row(str(r.memory_mb))
        table.add_row(
            f"{r.memory_mb:,} MB",
            format_ms(r.duration_p50_ms),
            format_ms(r.billed_avg_ms),
            format_cost(r.cost_per_invocation_usd),
            f"{r.errors}/{r.invocations}",
            "—" if r.vcpus is None else f"{r.vcpus:.2f}",
            "  ".join(marks),
            key=str(r.memory_mb),
        )

    def table_rows(self) -> list[list[str]]:
        """The result table as text (for tests and screenshots)."""
        table = self.query_one("#pt-table", DataTable)
        return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]
