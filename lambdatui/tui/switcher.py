"""The AWS profile and region switcher: a small dialog the command palette opens."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label

from .styles import load_tcss


class SwitchAwsScreen(ModalScreen[tuple[str, str] | None]):
    """Asks for a profile and a region; dismisses with (profile, region) or None."""

    DEFAULT_CSS = load_tcss("switcher.tcss")
    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel", id="switch.cancel")]

    def __init__(self, profile: str | None, region: str) -> None:
        super().__init__()
        self._profile = profile or ""
        self._region = region

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("AWS profile (empty: the default credential chain)")
            yield Input(self._profile, placeholder="default", id="switch-profile")
            yield Label("Region")
            yield Input(self._region, placeholder="us-east-1", id="switch-region")
            with Horizontal():
                yield Button("Cancel", id="switch-cancel")
                yield Button("Switch", id="switch-ok", variant="primary")

    @on(Button.Pressed, "#switch-cancel")
    def _cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#switch-ok")
    @on(Input.Submitted)
    def _ok(self) -> None:
        region = self.query_one("#switch-region", Input).value.strip()
        if not region:
            self.notify("A region is needed", severity="warning")
            return
        self.dismiss((self.query_one("#switch-profile", Input).value.strip(), region))
