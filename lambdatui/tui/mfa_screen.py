"""The MFA code dialog: what the dashboard asks instead of a terminal prompt hidden behind it.

botocore asks for the code when an assume-role profile with `mfa_serial` first needs credentials,
from whichever worker thread made that call. `DialogAsker` is what the app installs as the process's MFA asker:
it opens this dialog on the app's thread and blocks the worker until it is answered.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Input, Label

from .styles import load_tcss

if TYPE_CHECKING:
    from textual.app import App

# After a cancel, the other calls that were waiting for the same credentials (the list, the monitor,
# the log tail) ask next: within this many seconds they are refused instead of asking again.
DECLINE_HOLD_S = 3.0


class MfaScreen(ModalScreen[str | None]):
    """Dismisses with the code typed, or None (cancelled)."""

    DEFAULT_CSS = load_tcss("mfa_screen.tcss")
    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel", id="mfa.cancel")]

    def __init__(self, prompt: str, profile: str) -> None:
        super().__init__()
        self.prompt = prompt.strip().rstrip(":")
        self.profile = profile

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(f"Profile {self.profile} needs an MFA code", id="mfa-title")
            yield Label(self.prompt, id="mfa-prompt")
            yield Input(password=True, placeholder="the code your device shows", id="mfa-code")
            with Horizontal():
                yield Button("Cancel", id="mfa-cancel")
                yield Button("OK", id="mfa-ok", variant="primary")
        yield Footer()  # this dialog's keys, over the dashboard's (which do nothing while it is open)

    def on_mount(self) -> None:
        self.query_one("#mfa-code", Input).focus()

    @on(Button.Pressed, "#mfa-cancel")
    def _cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#mfa-ok")
    @on(Input.Submitted, "#mfa-code")
    def _ok(self) -> None:
        code = self.query_one("#mfa-code", Input).value.strip()
        if not code:
            self.notify("Type the code your MFA device shows", severity="warning")
            return
        self.dismiss(code)


class DialogAsker:
    """The MFA code asker for the dashboard (`aws_session.set_mfa_asker`): `asker(prompt, profile)`,
    called off the app's thread. No answer (cancel, or the app closing) raises `not_given(profile)`,
    an exception botocore's callers turn into one line."""

    def __init__(self, app: App[Any], not_given: Callable[[str], Exception]) -> None:
        self._app = app
        self._not_given = not_given
        self._declined_at = float("-inf")
        self._lock = threading.Lock()  # one dialog at a time

    def __call__(self, prompt: str, profile: str) -> str:
        with self._lock:
            if time.monotonic() - self._declined_at < DECLINE_HOLD_S:
                raise self._not_given(profile)
            answer: list[str | None] = []
            done = threading.Event()

            def answered(code: str | None) -> None:
                answer.append(code)
                done.set()

            try:
                self._app.call_from_thread(self._app.push_screen, MfaScreen(prompt, profile), answered)
            except RuntimeError:  # asked on the app's own thread, or the app is gone: no one can answer
                raise self._not_given(profile) from None
            while not done.wait(0.2):
                if not self._app.is_running:
                    raise self._not_given(profile)
            code = answer[0]
            if code is None:
                self._declined_at = time.monotonic()
                raise self._not_given(profile)
            return code
