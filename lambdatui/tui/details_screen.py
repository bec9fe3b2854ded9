"""The Details screen: everything about the selected function — `lambdatui show` in the dashboard.

The detail comes from `Backend.function_detail` in a thread worker (on AWS it is several calls);
its sections are the ones `show` prints (`backends.detail.sections`), and the raw JSON the API gave
is one key away (`details.raw`). Environment values that look like secrets stay masked until
`details.reveal`. Every key is a binding with an id, remappable through `tui.keys`.
"""

from __future__ import annotations

from rich.syntax import Syntax
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

from ..backends.base import Backend, BackendError
from ..backends.detail import FunctionDetail, sections
from .styles import load_tcss


class DetailsScreen(ModalScreen[None]):
    DEFAULT_CSS = load_tcss("details_screen.tcss")
    BINDINGS = [
        Binding("escape", "dismiss", "Close", id="details.close"),
        Binding("j", "toggle_raw", "Raw JSON", id="details.raw"),
        Binding("r", "toggle_reveal", "Reveal secrets", id="details.reveal"),
    ]

    def __init__(self, backend: Backend, name: str, qualifier: str | None = None) -> None:
        super().__init__()
        self.backend = backend
        self.function = name
        self.qualifier = qualifier
        self.detail: FunctionDetail | None = None
        self.error: str | None = None
        self.raw = False
        self.revealed = False
        self.shown_text = ""  # what the body shows, as plain text (tests, copying)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(f"Details · {self.function}", id="details-title")
            with VerticalScroll(id="details-body"):
                yield Static(Text(f"Reading {self.function}…", style="italic"), id="details-text")
            yield Static("j raw JSON · r reveal secrets · esc close", id="details-hint")
        yield Footer()  # this dialog's keys, over the dashboard's (which do nothing while it is open)

    def on_mount(self) -> None:
        self.run_worker(self._load, name=f"details {self.function}", thread=True, exit_on_error=False)

    def _load(self) -> None:
        detail: FunctionDetail | None = None
        error: str | None = None
        try:
            detail = self.backend.function_detail(self.function, self.qualifier)
        except BackendError as e:
            error = str(e)
        except Exception as e:  # a backend bug must not take the dashboard down
            error = f"{type(e).__name__}: {e}"
        try:
            self.app.call_from_thread(self._loaded, detail, error)
        except RuntimeError:
            pass  # the app closed meanwhile

    def _loaded(self, detail: FunctionDetail | None, error: str | None) -> None:
        self.detail, self.error = detail, error
        if detail is not None:
            where = detail.qualifier + (f" → {detail.version}" if detail.version != detail.qualifier else "")
            self.query_one("#details-title", Static).update(f"Details · {detail.name} ({where}) · {self.backend.name}")
        self._show_detail()

    def _show_detail(self) -> None:
        body = self.query_one("#details-text", Static)
        if self.detail is None:
            self.shown_text = f"✘ {self.error}" if self.error else ""
            body.update(Text(self.shown_text, style="bold red"))
            return
        if self.raw:
            self.shown_text = self.detail.raw_json(reveal=self.revealed)
            theme = "ansi_dark" if self.app.current_theme.dark else "ansi_light"
            body.update(Syntax(self.shown_text, "json", theme=theme, background_color="default", word_wrap=True))
            return
        text = Text()
        for title, rows in sections(self.detail, reveal=self.revealed):
            text.append(f"{title}\n", style="bold")
            width = max((len(k) for k, _ in rows), default=0)
            for key, value in rows:
                text.append("  ")
                if key:
                    text.append(key.ljust(width), style="dim")
                    text.append("  ")
                text.append(f"{value}\n")
            text.append("\n")
        text.rstrip()
        self.shown_text = text.plain
        body.update(text)

    def action_toggle_raw(self) -> None:
        self.raw = not self.raw
        self._show_detail()
        self.query_one("#details-body", VerticalScroll).scroll_home(animate=False)

    def action_toggle_reveal(self) -> None:
        self.revealed = not self.revealed
        self._show_detail()
