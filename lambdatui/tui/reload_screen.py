"""The question asked when the config file changed on disk while the editor holds unsaved edits:
keep the edits (the file's change is not loaded; saving writes the edits over it) or load the file
(the edits are dropped). Escape keeps the edits: nothing is lost by dismissing it."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Label

from .styles import load_tcss

KEEP = "keep"
LOAD = "load"


class ReloadScreen(ModalScreen[str]):
    """Dismissed with KEEP or LOAD."""

    DEFAULT_CSS = load_tcss("reload_screen.tcss")
    BINDINGS = [Binding("escape", f"dismiss('{KEEP}')", "Keep my edits", id="reload.keep")]

    def __init__(self, path: str, function: str) -> None:
        super().__init__()
        self.path = path
        self.function = function

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(
                f"{self.path} changed on disk, and your edits to {self.function} are not saved. Which to keep?",
                id="reload-question",
            )
            with Horizontal():
                yield Button("Keep my edits", id=KEEP)
                yield Button("Load the file", id=LOAD, variant="warning")
        yield Footer()  # this dialog's keys, over the dashboard's (which do nothing while it is open)

    def on_mount(self) -> None:
        self.query_one(f"#{KEEP}", Button).focus()

    @on(Button.Pressed)
    def _answer(self, event: Button.Pressed) -> None:
        self.dismiss(LOAD if event.button.id == LOAD else KEEP)
