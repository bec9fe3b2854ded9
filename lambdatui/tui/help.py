"""The help screen (F1): every key of every pane with its binding id, after the user's remaps."""

from __future__ import annotations

from typing import Any

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.dom import DOMNode
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Static

from .styles import load_tcss


def binding_scopes(app: App[Any]) -> list[tuple[str, list[Binding]]]:
    from .powertune_screen import PowerTuneScreen
    from .widgets.config_editor import ENV_TABLE_BINDINGS, ConfigEditor
    from .widgets.event_console import EventConsole
    from .widgets.function_list import FunctionList
    from .widgets.log_tail import LogTail
    from .widgets.monitor import MonitorPane

    def bindings(cls: type[DOMNode]) -> list[Binding]:
        return [b for b in cls.BINDINGS if isinstance(b, Binding) and b.id]

    return [
        ("Everywhere", bindings(type(app))),
        ("Function list", bindings(FunctionList)),
        ("Test-event console", bindings(EventConsole)),
        ("Configuration editor", bindings(ConfigEditor)),
        ("Environment variables", [b for b in ENV_TABLE_BINDINGS if isinstance(b, Binding) and b.id]),
        ("Log tail", bindings(LogTail)),
        ("Monitor", bindings(MonitorPane)),
        ("Power tuning", bindings(PowerTuneScreen)),
    ]


def effective_keys(binding: Binding, keymap: dict[str, str]) -> str:
    return keymap.get(binding.id, binding.key) if binding.id is not None else binding.key


class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = load_tcss("help.tcss")
    BINDINGS = [
        Binding("escape", "dismiss", "Close", id="help.close"),
        Binding("f1", "dismiss", "Close", id="help.close_f1"),
    ]

    def __init__(self, app: App[Any], keymap: dict[str, str] | None = None) -> None:
        super().__init__()
        self._source = app
        self._keymap = dict(keymap or {})

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Keys (ctrl+p opens the command palette with every action)", id="help-title")
            table: DataTable[str] = DataTable(cursor_type="row", zebra_stripes=True)
            table.add_columns("Where", "Keys", "Action", "Binding id")
            keymap = self._keymap
            for scope, bindings in binding_scopes(self._source):
                for b in bindings:
                    table.add_row(scope, effective_keys(b, keymap), b.description or b.action, b.id or "")  # every binding listed has an id
            yield table
            yield Static("Remap any key in the config: tui: {keys: {app.invoke: \"ctrl+r,f12\"}}. Esc closes.", id="help-hint")
        yield Footer()  # this screen's keys, not the dashboard's
