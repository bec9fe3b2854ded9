"""The "New function" dialog (command palette): a name, a runtime and a template, then
`lambdatui.starter.new_function` writes the folder, the saved event and the config entry."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Input, Label, Select

from ..config import FUNCTION_NAME_PATTERN
from ..starter import TEMPLATES
from .styles import load_tcss

RUNTIME_CHOICES = ("python3.12", "python3.13", "nodejs20.x", "nodejs22.x", "provided.al2023")


class NewFunctionScreen(ModalScreen[tuple[str, str, str] | None]):
    """Dismisses with (name, runtime, template), or None when cancelled."""

    DEFAULT_CSS = load_tcss("new_function_screen.tcss")
    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel", id="new.cancel")]

    def __init__(self, taken: set[str]) -> None:
        super().__init__()
        self._taken = taken

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("New function: a folder with a handler, a saved event and its entry in the config")
            yield Label("Name")
            yield Input(placeholder="orders-api", id="new-name")
            yield Label("Runtime")
            yield Select([(r, r) for r in RUNTIME_CHOICES], value=RUNTIME_CHOICES[0], allow_blank=False, id="new-runtime")
            yield Label("Template")
            yield Select([(t, t) for t in TEMPLATES], value="hello", allow_blank=False, id="new-template")
            with Horizontal():
                yield Button("Cancel", id="new-cancel")
                yield Button("Create", id="new-ok", variant="primary")
        yield Footer()  # this dialog's keys, over the dashboard's (which do nothing while it is open)

    @on(Button.Pressed, "#new-cancel")
    def _cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#new-ok")
    @on(Input.Submitted)
    def _ok(self) -> None:
        name = self.query_one("#new-name", Input).value.strip()
        if not FUNCTION_NAME_PATTERN.fullmatch(name):
            self.notify("A name is 1-64 letters, digits, hyphens or underscores", severity="warning")
            return
        if name in self._taken:
            self.notify(f"There is already a function named {name}", severity="warning")
            return
        runtime = str(self.query_one("#new-runtime", Select).value)
        template = str(self.query_one("#new-template", Select).value)
        self.dismiss((name, runtime, template))
