"""The function list: every function of the backend, filterable and sortable, with each one's last
invocation. Moving the cursor selects a function, which drives the other panes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.css.query import NoMatches
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import DataTable, Input, Static

from ...backends.base import FunctionConfiguration, InvokeResult
from ..styles import load_tcss

LAST_WIDTH = 8  # "✔ 1.23ms", "✔ 9999ms", "✔ 899.9s": every figure fits
SORTS = ("config", "name", "runtime", "memory", "timeout", "last")  # "config": the file's order


@dataclass
class LastRun:
    status: str  # "ok", "error", "throttled"
    duration_ms: float | None
    cold: bool


class FunctionList(Vertical):
    DEFAULT_CSS = load_tcss("widgets/function_list.tcss")

    BINDINGS = [
        Binding("s", "cycle_sort", "Sort", id="functions.sort"),
        Binding("escape", "clear_filter", "Clear filter", show=False, id="functions.clear_filter"),
    ]

    sort_key: reactive[str] = reactive("config")
    compact: reactive[bool] = reactive(False)  # narrow terminals: name and last run only

    class Selected(Message):
        def __init__(self, name: str | None) -> None:
            super().__init__()
            self.name = name

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._functions: dict[str, FunctionConfiguration] = {}
        self._last: dict[str, LastRun] = {}
        self._order: list[str] = []  # names in configuration order, the default sort
        self._filter = ""
        self._selected: str | None = None

    def compose(self) -> ComposeResult:
        yield Input(placeholder="filter functions…", id="fl-filter")
        table: DataTable[str] = DataTable(id="fl-table", cursor_type="row", zebra_stripes=True)
        self._add_columns(table)
        yield table
        yield Static("", id="fl-status")

    def _add_columns(self, table: DataTable[str]) -> None:
        table.add_column("Name", key="name")
        if not self.compact:
            table.add_column("Runtime", key="runtime")
            table.add_column("Mem", key="memory")
            table.add_column("Tmo", key="timeout")
        # Fixed widths: a column sized by its content re-measures on the table's idle, so the
        # figures would show cut (`✔ 1.`) until then.
        table.add_column("Last", key="last", width=LAST_WIDTH)

    def watch_compact(self) -> None:
        if self.is_mounted:
            self.table.clear(columns=True)
            self._add_columns(self.table)
            self._rebuild(self._selected)

    @property
    def table(self) -> DataTable[str]:
        return self.query_one("#fl-table", DataTable)

    @property
    def selected(self) -> str | None:
        return self._selected

    # -- data ------------------------------------------------------------------------------

    def set_functions(self, functions: list[FunctionConfiguration], select: str | None = None) -> None:
        self._functions = {f.name: f for f in functions}
        self._order = [f.name for f in functions]
        keep = select or self._selected
        self._rebuild(keep if keep in self._functions else None)

    def update_function(self, config: FunctionConfiguration) -> None:
        if config.name not in self._functions:
            return
        self._functions[config.name] = config
        self._rebuild(self._selected)

    def record_invocation(self, result: InvokeResult) -> None:
        if result.status_code == 429:
            status = "throttled"
        elif result.function_error:
            status = "error"
        else:
            status = "ok"
        known = result.status_code == 200 and result.has_figures
        self._last[result.function] = LastRun(status, result.duration_ms if known else None, result.cold_start)
        if result.function not in self._visible_names():
            return
        try:
            table = self.table
        except NoMatches:
            return  # composing, or torn down at exit: `_last` keeps the figure for the next rebuild
        try:
            table.update_cell(result.function, "last", self._last_cell(result.function))
        except Exception:  # the row is not there yet (a rebuild is pending): rebuild it now
            self._rebuild(self._selected)

    # -- filtering and sorting -------------------------------------------------------------

    def start_filter(self) -> None:
        self.add_class("-filtering")
        self.query_one("#fl-filter", Input).focus()

    def action_clear_filter(self) -> None:
        box = self.query_one("#fl-filter", Input)
        box.value = ""
        self.remove_class("-filtering")
        self.table.focus()

    @on(Input.Changed, "#fl-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self._filter = event.value.strip().lower()
        self._rebuild(self._selected)

    @on(Input.Submitted, "#fl-filter")
    def _filter_submitted(self) -> None:
        self.table.focus()

    def on_key(self, event: events.Key) -> None:
        if event.key == "escape" and self.has_class("-filtering"):
            event.stop()
            self.action_clear_filter()

    def action_cycle_sort(self) -> None:
        self.sort_key = SORTS[(SORTS.index(self.sort_key) + 1) % len(SORTS)]

    def watch_sort_key(self) -> None:
        if self.is_mounted:
            self._rebuild(self._selected)

    @on(DataTable.HeaderSelected)
    def _header_selected(self, event: DataTable.HeaderSelected) -> None:
        key = str(event.column_key.value)
        if key in SORTS:
            self.sort_key = key

    def _visible_names(self) -> list[str]:
        names = self._order
        if self._filter:
            names = [
                n for n in names
                if self._filter in n.lower()
                or self._filter in self._functions[n].runtime.lower()
                or self._filter in (self._functions[n].description or "").lower()
            ]
        key = self.sort_key
        if key == "runtime":
            names = sorted(names, key=lambda n: (self._functions[n].runtime, n))
        elif key == "memory":
            names = sorted(names, key=lambda n: (-self._functions[n].memory_size, n))
        elif key == "timeout":
            names = sorted(names, key=lambda n: (-self._functions[n].timeout, n))
        elif key == "last":
            names = sorted(names, key=lambda n: (-(self._last[n].duration_ms or 0) if n in self._last else 1, n))
        elif key == "name":
            names = sorted(names)
        # "config" keeps the configuration's order
        return names

    def _last_cell(self, name: str) -> str:
        last = self._last.get(name)
        if last is None:
            return "–"
        mark = {"ok": "✔", "error": "✘", "throttled": "⧗"}[last.status]
        figure = ""
        if last.duration_ms is not None:
            d = last.duration_ms
            figure = f" {d:.2f}ms" if d < 10 else f" {d:.0f}ms" if d < 9999.5 else f" {d / 1000:.1f}s"
        return f"{mark}{figure}"

    def _rebuild(self, select: str | None) -> None:
        table = self.table
        names = self._visible_names()
        table.clear()
        for n in names:
            f = self._functions[n]
            if self.compact:
                table.add_row(n, self._last_cell(n), key=n)
            else:
                table.add_row(n, f.runtime, str(f.memory_size), f"{f.timeout}s", self._last_cell(n), key=n)
        shown = len(names)
        total = len(self._functions)
        status = f"{shown}/{total} shown" if self._filter else f"{total} functions"
        self.query_one("#fl-status", Static).update(f"{status} · by {self.sort_key}")
        if not names:
            self._set_selected(None)
            return
        target = select if select in names else names[0]
        table.move_cursor(row=names.index(target), animate=False)
        self._set_selected(target)

    @on(DataTable.RowHighlighted, "#fl-table")
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        # Highlight messages are queued: one from before a rebuild or a programmatic move can
        # arrive after it, naming a row the cursor has left. Only the cursor's row counts.
        if event.cursor_row != self.table.cursor_row:
            return
        if event.row_key is not None and event.row_key.value is not None:
            self._set_selected(str(event.row_key.value))

    def forget_selection(self) -> None:
        """The next list (another backend's) announces its selection even if the name is the same."""
        self._selected = None

    def select(self, name: str) -> None:
        """Put the cursor back on `name` without announcing a new selection."""
        names = self._visible_names()
        if name in names:
            self._selected = name
            self.table.move_cursor(row=names.index(name), animate=False)

    def _set_selected(self, name: str | None) -> None:
        if name != self._selected:
            self._selected = name
            self.post_message(self.Selected(name))
