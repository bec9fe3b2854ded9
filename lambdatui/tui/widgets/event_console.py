"""The test-event console: a JSON event editor with templates and saved events, and the result of
each invocation — status, response, function error, duration, billed ms, init, cold start, memory
and cost — with the function's recent invocations listed below.

The console does not invoke: the app reads `event_payload()` and `invoke_options()` on ctrl+r, calls
the backend in a worker and hands the result back with `show_result()`. The options are Invoke's
InvocationType (RequestResponse, Event → 202 queued, DryRun → 204 checked) and Qualifier: $LATEST,
or a version or alias the backend lists for the function (read in a thread worker on selection,
where the backend has versions).
"""

from __future__ import annotations

import json
import time
from collections import defaultdict, deque
from functools import partial
from typing import Any

from rich.console import RenderableType
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Button, DataTable, Input, Select, Static, TextArea

from ...backends.base import BackendError, InvokeResult, decoded_payload
from ...eventstore import EventStore, EventStoreError
from ...eventtemplates import template_text, templates
from ..present import format_cost, memory_bar
from ..styles import load_tcss

RECENT_LIMIT = 20
RECENT_COLUMNS = (("Time", "time", 8), ("Status", "status", 6), ("Duration", "duration", 11), ("Start", "start", 5), ("Memory", "memory", 13), ("Request id", "request", 36))
DEFAULT_EVENT = "{}\n"
INVOCATION_TYPES = ("RequestResponse", "Event", "DryRun")
LATEST = "$LATEST"


class EventConsole(Vertical):
    DEFAULT_CSS = load_tcss("widgets/event_console.tcss")

    BINDINGS = [
        Binding("ctrl+j", "jump_to_logs", "Jump to logs", id="console.jump_to_logs"),
    ]

    class JumpToLogs(Message):
        def __init__(self, request_id: str) -> None:
            super().__init__()
            self.request_id = request_id

    def __init__(self, store: EventStore | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.store = store or EventStore.beside(None)
        self.function: str | None = None
        self._drafts: dict[str, str] = {}
        self._name_drafts: dict[str, str] = {}  # the event name box's text, per function
        self._recent: dict[str, deque[InvokeResult]] = defaultdict(lambda: deque(maxlen=RECENT_LIMIT))
        self._shown: InvokeResult | None = None
        self.response_text = ""  # the response as shown, as plain text (for tests and copying)
        self.error_text = ""  # the JSON error of the event, when it is not JSON
        self.qualifiers: list[str] = []  # the selected function's aliases and versions, as the picker offers them

    def compose(self) -> ComposeResult:
        # Compact (one-row) controls: at 80×24 every row counts.
        with Horizontal(id="ec-bar"):
            yield Select([(t.title, t.id) for t in templates()], prompt="Template…", id="ec-template", allow_blank=True, compact=True)
            yield Select([], prompt="Saved events…", id="ec-saved", allow_blank=True, compact=True)
            yield Input(placeholder="event name", id="ec-name", compact=True)
            yield Button("Save", id="ec-save", variant="primary", compact=True)
            yield Button("Delete", id="ec-delete", compact=True)
        with Horizontal(id="ec-options"):
            yield Select([(t, t) for t in INVOCATION_TYPES], value="RequestResponse", id="ec-type", allow_blank=False, compact=True)
            yield Select([(LATEST, LATEST)], value=LATEST, id="ec-qualifier", allow_blank=False, compact=True)
        yield TextArea.code_editor(DEFAULT_EVENT, language="json", id="ec-editor", theme="css")
        yield Static("", id="ec-json-error")
        with VerticalScroll(id="ec-result"):
            yield Static(Text("Press ctrl+r to invoke the selected function with this event.", style="dim"), id="ec-summary")
            yield Static("", id="ec-error")
            yield Static("", id="ec-response")
        table: DataTable[str] = DataTable(id="ec-recent", cursor_type="row", zebra_stripes=True)
        # Fixed widths, for what each column can hold ("12345.67 ms", "3008/10240 MB", a request
        # id): columns sized by content are re-measured only when the table is idle, and show cut
        # figures until then.
        for label, key, width in RECENT_COLUMNS:
            table.add_column(label, key=key, width=width)
        yield table

    @property
    def editor(self) -> TextArea:
        return self.query_one("#ec-editor", TextArea)

    # -- the function --------------------------------------------------------------------------

    def set_function(self, name: str | None) -> None:
        name_box = self.query_one("#ec-name", Input)
        if self.function is not None:
            self._drafts[self.function] = self.editor.text
            self._name_drafts[self.function] = name_box.value
        self.function = name
        self._refresh_saved()
        # The event name belongs to the function: another function's name left in the box would
        # make Save write this function's event under it (issue 16).
        if name is None:
            self.editor.load_text(DEFAULT_EVENT)
            name_box.value = ""
        elif name in self._drafts:
            self.editor.load_text(self._drafts[name])
            name_box.value = self._name_drafts.get(name, "")
        else:
            saved = self._saved_names()
            self.editor.load_text(self.store.load(name, saved[0]) if saved else DEFAULT_EVENT)
            name_box.value = saved[0] if saved else ""
        self._load_qualifiers(name)
        self._refresh_recent()
        recent = self._recent.get(name) if name else None
        if recent:
            self._show(recent[-1])
        else:
            self._clear_result()

    # -- how to invoke -------------------------------------------------------------------------

    def invoke_options(self) -> dict[str, Any]:
        """Invoke's `invocation_type` and `qualifier` (None for $LATEST) as chosen in the console."""
        kind = self.query_one("#ec-type", Select).value
        qualifier = self.query_one("#ec-qualifier", Select).value
        return {
            "invocation_type": kind if isinstance(kind, str) else "RequestResponse",
            "qualifier": qualifier if isinstance(qualifier, str) and qualifier != LATEST else None,
        }

    def _load_qualifiers(self, name: str | None) -> None:
        """$LATEST now; the function's aliases and versions once the backend has listed them."""
        self._show_qualifiers(name, [])
        backend = getattr(self.app, "backend", None)
        if name is None or backend is None or not backend.capabilities.versions:
            return
        self.run_worker(
            partial(self._read_qualifiers, backend, name),
            name=f"qualifiers {name}", group="qualifiers", exclusive=True, thread=True, exit_on_error=False,
        )

    def _read_qualifiers(self, backend: Any, name: str) -> None:
        choices: list[tuple[str, str]] = []
        try:
            choices += [(f"alias {a.name} → {a.function_version}", a.name) for a in backend.list_aliases(name)]
            choices += [(f"version {v.version}", v.version) for v in reversed(backend.list_versions(name))]
        except BackendError as e:
            self.app.call_from_thread(self.app.notify, str(e), title="Versions and aliases not read", severity="warning")
        try:
            self.app.call_from_thread(self._show_qualifiers, name, choices)
        except RuntimeError:
            pass  # the app closed meanwhile

    def _show_qualifiers(self, name: str | None, choices: list[tuple[str, str]]) -> None:
        if name != self.function:
            return  # read for a function no longer shown
        self.qualifiers = [value for _, value in choices]
        select = self.query_one("#ec-qualifier", Select)
        select.set_options([(LATEST, LATEST), *choices])
        select.value = LATEST

    def _saved_names(self) -> list[str]:
        if self.function is None:
            return []
        try:
            return self.store.names(self.function)
        except (OSError, EventStoreError):
            return []

    def _refresh_saved(self) -> None:
        names = self._saved_names()
        self.query_one("#ec-saved", Select).set_options([(n, n) for n in names])

    # -- the event -----------------------------------------------------------------------------

    def event_payload(self) -> bytes | None:
        """The editor's event as bytes, or None (with the JSON error shown) when it is not JSON."""
        text = self.editor.text
        try:
            json.loads(text)
        except json.JSONDecodeError as e:
            self.error_text = f"Event is not valid JSON: line {e.lineno}, column {e.colno}: {e.msg}"
            self.query_one("#ec-json-error", Static).update(self.error_text)
            self.add_class("-json-invalid")
            return None
        except RecursionError:
            # Python's parser recurses per level; Lambda refuses such an event too (InvalidRequestContentException).
            self.error_text = "Event is not valid JSON: nesting too deep"
            self.query_one("#ec-json-error", Static).update(self.error_text)
            self.add_class("-json-invalid")
            return None
        self.error_text = ""
        self.remove_class("-json-invalid")
        return text.encode("utf-8")

    @on(TextArea.Changed, "#ec-editor")
    def _editor_changed(self) -> None:
        if self.has_class("-json-invalid"):
            self.event_payload()

    @on(Select.Changed, "#ec-template")
    def _template_chosen(self, event: Select.Changed) -> None:
        if not isinstance(event.value, str):
            return  # the blank choice (clearing the select after loading lands here too)
        self.editor.load_text(template_text(str(event.value)))
        self.query_one("#ec-name", Input).value = str(event.value)
        event.select.clear()

    @on(Select.Changed, "#ec-saved")
    def _saved_chosen(self, event: Select.Changed) -> None:
        if not isinstance(event.value, str) or self.function is None:
            return
        try:
            self.editor.load_text(self.store.load(self.function, str(event.value)))
        except (OSError, EventStoreError) as e:
            self.app.notify(str(e), severity="error")
            return
        self.query_one("#ec-name", Input).value = str(event.value)

    @on(Button.Pressed, "#ec-save")
    def action_save_event(self) -> None:
        if self.function is None:
            return
        name = self.query_one("#ec-name", Input).value.strip()
        if not name:
            self.app.notify("Name the event first", severity="warning")
            self.query_one("#ec-name", Input).focus()
            return
        try:
            path = self.store.save(self.function, name, self.editor.text)
        except (OSError, EventStoreError) as e:
            self.app.notify(str(e), title="Event not saved", severity="error")
            return
        self._refresh_saved()
        self.app.notify(f"Saved {path}", title="Event saved")

    @on(Button.Pressed, "#ec-delete")
    def action_delete_event(self) -> None:
        name = self.query_one("#ec-name", Input).value.strip()
        if self.function is None or name not in self._saved_names():
            self.app.notify("No saved event of that name", severity="warning")
            return
        try:
            self.store.delete(self.function, name)
        except (OSError, EventStoreError) as e:
            self.app.notify(str(e), severity="error")
            return
        self._refresh_saved()
        self.app.notify(f"Deleted event {name}")

    # -- results -------------------------------------------------------------------------------

    def show_pending(self) -> None:
        self.query_one("#ec-summary", Static).update(Text(f"Invoking {self.function}…", style="italic"))

    def show_failure(self, message: str) -> None:
        self.query_one("#ec-summary", Static).update(Text(f"✘ {message}", style="bold red"))

    def show_result(self, result: InvokeResult) -> None:
        self._remember(result)
        if result.function == self.function:
            self._refresh_recent()
            self._show(result)

    def add_recent(self, result: InvokeResult) -> None:
        """An invocation the history recorded (by any process): listed, not shown as the result."""
        if self._remember(result) and result.function == self.function:
            self._refresh_recent()

    def _remember(self, result: InvokeResult) -> bool:
        """Keep `result` among its function's recent ones; False if it is there already (the
        history's copy of our own invocation, or ours after the history's: ours has the payload)."""
        recent = self._recent[result.function]
        for i, known in enumerate(recent):
            if result.request_id and known.request_id == result.request_id:
                if result.payload or result.log_tail:
                    recent[i] = result
                    return True
                return False
        recent.append(result)
        return True

    def _clear_result(self) -> None:
        self._shown = None
        self.remove_class("-function-error")
        self.query_one("#ec-summary", Static).update(Text("Press ctrl+r to invoke the selected function with this event.", style="dim"))
        self.query_one("#ec-response", Static).update("")

    def _show(self, r: InvokeResult) -> None:
        self._shown = r
        self.query_one("#ec-summary", Static).update(summary_text(r))
        payload = decoded_payload(r.payload) if r.payload else None
        if r.function_error:
            self.add_class("-function-error")
            kind = payload.get("errorType") if isinstance(payload, dict) else r.error_type
            message = payload.get("errorMessage") if isinstance(payload, dict) else ""
            self.query_one("#ec-error", Static).update(Text(f"Function error ({r.function_error}): {kind}: {message}", style="bold"))
        else:
            self.remove_class("-function-error")
        body: RenderableType
        if payload is None:
            self.response_text = ""
            body = Text("(no response body)", style="dim")
        elif isinstance(payload, (dict, list, int, float, bool)) or payload is None:
            from rich.syntax import Syntax

            theme = "ansi_dark" if self.app.current_theme.dark else "ansi_light"
            self.response_text = json.dumps(payload, indent=2, ensure_ascii=False)
            body = Syntax(self.response_text, "json", theme=theme, background_color="default", word_wrap=True)
        else:
            self.response_text = str(payload)
            body = Text(self.response_text)
        self.query_one("#ec-response", Static).update(body)

    def _refresh_recent(self) -> None:
        table = self.query_one("#ec-recent", DataTable)
        table.clear()
        for r in reversed(self._recent.get(self.function, ()) if self.function else ()):
            status = "429" if r.status_code == 429 else ("error" if r.function_error else "ok")
            table.add_row(
                time.strftime("%H:%M:%S", time.gmtime(r.started_at or time.time())),
                status,
                f"{r.duration_ms:.2f} ms" if r.status_code == 200 and r.has_figures else "–",
                ("cold" if r.cold_start else "warm") if r.has_figures else "–",
                f"{r.max_memory_used_mb}/{r.memory_size_mb} MB" if r.has_figures else "–",
                r.request_id or "–",
                key=r.request_id or str(id(r)),
            )

    @on(DataTable.RowSelected, "#ec-recent")
    def _recent_selected(self, event: DataTable.RowSelected) -> None:
        for r in self._recent.get(self.function, ()) if self.function is not None else ():
            if (r.request_id or str(id(r))) == event.row_key.value:
                self._show(r)
                if r.request_id:
                    self.post_message(self.JumpToLogs(r.request_id))
                return

    def action_jump_to_logs(self) -> None:
        if self._shown is not None and self._shown.request_id:
            self.post_message(self.JumpToLogs(self._shown.request_id))


def summary_text(r: InvokeResult) -> Text:
    """One or two lines of figures with a status and a cold-start badge."""
    t = Text()
    if r.status_code in (202, 204):
        # Event: queued, Lambda runs it later (its lines reach the log tail); DryRun: nothing ran.
        t.append(" 202 QUEUED " if r.status_code == 202 else " 204 DRY RUN ", style="bold reverse blue")
        t.append("  Event accepted: it runs asynchronously" if r.status_code == 202 else "  The function and your permission check out; nothing ran")
        if r.request_id:
            t.append(f"  {r.request_id}", style="dim")
        return t
    if r.status_code == 429:
        t.append(" 429 THROTTLED ", style="bold reverse red")
        if r.error:
            t.append(f"  {r.error.get('type')}: {r.error.get('reason')}")
        return t
    if r.function_error:
        t.append(f" {r.status_code} ERROR ", style="bold reverse red")
    else:
        t.append(f" {r.status_code} OK ", style="bold reverse green")
    t.append("  ")
    if not r.has_figures:
        t.append("no REPORT line in the log tail: duration, memory and cost unknown", style="italic")
        if r.request_id:
            t.append(f"  {r.request_id}", style="dim")
        return t
    t.append(" COLD " if r.cold_start else " WARM ", style="bold reverse yellow" if r.cold_start else "bold reverse blue")
    t.append(f"  Duration {r.duration_ms:.2f} ms", style="bold")
    t.append(f"  Billed {r.billed_duration_ms} ms")
    if r.init_duration_ms is not None:
        t.append(f"  Init {r.init_duration_ms:.2f} ms")
    t.append("\n")
    t.append(f"Memory {memory_bar(r.max_memory_used_mb, r.memory_size_mb)} {r.max_memory_used_mb}/{r.memory_size_mb} MB")
    t.append(f"  Cost {format_cost(r.cost_usd)}")
    if r.request_id:
        t.append(f"  {r.request_id}", style="dim")
    return t
