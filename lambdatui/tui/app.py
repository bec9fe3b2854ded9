"""The dashboard app: the four panes, their layout at every size, keys, themes and the palette.

Backend calls are blocking, so each runs in a thread worker and reports back with a message; a
failed call becomes a notification and the dashboard carries on. Keys are bindings with ids
(`app.invoke`, `functions.sort`, …) that `tui.keys` in the config remaps.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import events, on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.css.query import NoMatches
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, ContentSwitcher, Footer, Header, Label, Tab, Tabs

from .. import startup_gc
from ..backends.base import Backend, BackendError, FunctionConfiguration, InvokeResult
from ..config import Config, ConfigError
from ..eventstore import EventStore
from .present import StableBackend, deterministic_enabled
from .reload_screen import LOAD, ReloadScreen
from .styles import load_tcss
from .themes import DEFAULT_THEME, load_themes
from .widgets.event_console import EventConsole
from .widgets.function_list import FunctionList
from .widgets.log_tail import LogTail

if TYPE_CHECKING:
    from textual.timer import Timer

    from ..backends.aws import AwsBackend
    from .widgets.config_editor import ConfigEditor
    from .widgets.monitor import MonitorPane

SELECT_SETTLE_S = 0.08
# When the configuration editor and the monitor are mounted: this long after the list is filled
# (it is painted by then), or after start at the latest.
PANES_AFTER_LIST_S = 0.05
PANES_LATEST_S = 1.5
PANES_SHUTDOWN_WAIT_S = 2.0
SWITCH_COMMAND = "Switch backend / profile / region"
BACK_TO_LOCAL_COMMAND = "Back to the local backend"
TEXTUAL_DUPLICATES = frozenset({"Keys", "Screenshot"})
# Seconds after start-up when the objects made so far (the widgets, styles, the stylesheet: over
# 100,000 of them) are moved out of the garbage collector's sight; see startup_gc.freeze_late.
# After PANES_LATEST_S, so the panes mounted late are among them.
GC_FREEZE_AFTER_S = 2.0
STATE_POLL_S = 0.5  # how often the dashboard looks for invocations other processes recorded
CONFIG_WATCH_TIMEOUT_MS = 500  # the config watcher wakes this often with no change (first: it is up)


def _stamp(path: Path | None) -> tuple[int, int] | None:
    """The config file's (mtime, size): what tells an outside edit from the one we just wrote."""
    if path is None:
        return None
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size)


NARROW_WIDTH = 110
SHORT_HEIGHT = 32


class FunctionsLoaded(Message):
    def __init__(self, functions: list[FunctionConfiguration]) -> None:
        super().__init__()
        self.functions = functions


class InvocationFinished(Message):
    def __init__(self, result: InvokeResult) -> None:
        super().__init__()
        self.result = result


class ConfigurationSaved(Message):
    def __init__(self, config: FunctionConfiguration) -> None:
        super().__init__()
        self.config = config


class BackendConnected(Message):
    """A new backend (the switch from local to AWS) that answered: the dashboard moves to it."""

    def __init__(self, backend: Backend) -> None:
        super().__init__()
        self.backend = backend


class StateChanged(Message):
    """Invocations another process (or this one) recorded in the state dir's history."""

    def __init__(self, results: list[InvokeResult]) -> None:
        super().__init__()
        self.results = results


class ConfigFileChanged(Message):
    """The config file changed on disk."""


class BackendFailed(Message):
    """A backend call failed: `what` says which, `error` is the one-line reason."""

    def __init__(self, what: str, error: str) -> None:
        super().__init__()
        self.what = what
        self.error = error


class ConfirmScreen(ModalScreen[bool]):
    DEFAULT_CSS = load_tcss("confirm_screen.tcss")
    BINDINGS = [Binding("escape", "dismiss(False)", "Cancel", id="confirm.cancel")]

    def __init__(self, question: str, yes: str = "Discard", no: str = "Keep editing") -> None:
        super().__init__()
        self.question = question
        self.yes = yes
        self.no = no

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.question)
            with Horizontal():
                yield Button(self.no, id="no")
                yield Button(self.yes, id="yes", variant="warning")
        yield Footer()  # this dialog's keys, over the dashboard's (which do nothing while it is open)

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    @on(Button.Pressed)
    def _answer(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")


class LambdaTUI(App[None]):
    TITLE = "lambdatui"
    CSS = load_tcss("app.tcss")

    BINDINGS = [
        Binding("ctrl+r", "invoke", "Invoke", priority=True, id="app.invoke"),
        Binding("ctrl+s", "save", "Save config", priority=True, id="app.save"),
        Binding("/", "filter_functions", "Filter", id="app.filter"),
        Binding("f1", "help", "Help", priority=True, id="app.help"),
        Binding("f2", "show_pane('invoke')", "Invoke pane", show=False, priority=True, id="app.pane_invoke"),
        Binding("f3", "show_pane('config')", "Config pane", show=False, priority=True, id="app.pane_config"),
        Binding("f4", "show_pane('logs')", "Logs", show=False, priority=True, id="app.pane_logs"),
        Binding("f5", "refresh_functions", "Refresh", show=False, priority=True, id="app.refresh"),
        Binding("f6", "show_pane('monitor')", "Monitor", show=False, priority=True, id="app.pane_monitor"),
        Binding("f7", "details", "Details", show=False, priority=True, id="app.details"),
        Binding("f8", "next_theme", "Theme", show=False, priority=True, id="app.next_theme"),
        Binding("f9", "save_svg", "Screenshot", show=False, priority=True, id="app.screenshot"),
        Binding("ctrl+q", "quit", "Quit", priority=True, id="app.quit"),
    ]

    def __init__(self, backend: Backend, config: Config | None = None, *, select: str | None = None, screenshot_dir: Path | None = None) -> None:
        super().__init__()
        self.backend = StableBackend(backend) if deterministic_enabled() else backend
        self.config = config
        self.read_only = backend.read_only
        self.initial_selection = select
        self.screenshot_dir = screenshot_dir or Path.cwd()
        self.store = EventStore.beside(config.path if config else None)
        self._themes, self._theme_problems = load_themes()
        self._pane = "invoke"
        # The configuration editor and the monitor (two thirds of the widgets) are mounted once
        # the function list has been painted: the first frame styles only what it shows.
        self._panes_mounted = False
        self._panes_mounting = False
        self._panes_done: asyncio.Event | None = None  # set once the mount has ended
        self._selected: str | None = None
        self._functions: dict[str, FunctionConfiguration] = {}
        self._pending_select: Timer | None = None
        self._previous_backends: list[Backend] = []
        self._confirm_invoke = False
        self._aws_hooks(backend)
        # Stops the state dir's watchers (config file, invocation history) when the app ends.
        self._watching = threading.Event()
        # The config file as last loaded or saved: an outside edit is a file that differs from it.
        self._config_stamp: tuple[int, int] | None = _stamp(config.path) if config else None
        self._config_watched = False
        # The theme is set before the first styling: set in on_mount it restyles every widget again.
        for theme in self._themes:
            self.register_theme(theme)
        wanted = (config.tui.theme if config else None) or DEFAULT_THEME
        self.theme = wanted if wanted in self.available_themes else DEFAULT_THEME

    # -- layout --------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        # λ, not Textual's ⭘: that one has no glyph in common fonts (an empty box in the SVG export
        # and in the browser).
        yield Header(show_clock=not deterministic_enabled(), icon="λ")
        with Horizontal(id="body"):
            yield FunctionList(id="functions")
            with Vertical(id="main"):
                yield Tabs(
                    Tab("Invoke", id="invoke"),
                    Tab("Configuration", id="config"),
                    Tab("Monitor", id="monitor"),
                    Tab("Logs", id="logs-tab"),
                    id="pane-tabs",
                )
                with ContentSwitcher(initial="console", id="panes"):
                    yield EventConsole(self.store, id="console")
                    # ConfigEditor and MonitorPane: mounted by _mount_panes, after the first frame.
                yield LogTail(id="logs")
        yield Footer()

    def on_mount(self) -> None:
        for problem in self._theme_problems:
            self.notify(f"{problem.path}: {problem.message}", title="Theme not loaded", severity="warning")
        if self.config and self.config.tui.keys:
            self.set_keymap(dict(self.config.tui.keys))
        self.sub_title = self.backend.describe()
        self._apply_size(self.size.width, self.size.height)
        self.query_one(FunctionList).table.focus()
        if self.backend.capabilities.instant_listing:
            # The list in the first frame, not one frame and a thread's round trip later.
            try:
                functions = self.backend.list_functions()
            except BackendError as e:
                self.post_message(BackendFailed("Listing functions", str(e)))
            except Exception as e:  # a backend bug must not take the dashboard down
                self.post_message(BackendFailed("Listing functions", f"{type(e).__name__}: {e}"))
            else:
                self.on_functions_loaded(FunctionsLoaded(functions))
        else:
            self.load_functions()
        # The history watcher opens the state dir's database in a thread: started during the first
        # frame, it competed with it for the GIL (its first query took ~100 ms of wall time there,
        # 2 ms once the frame was drawn).
        self.call_after_refresh(self._watch_state)
        # The garbage collector, paused while `lambdatui` started, collects again once the first
        # frame is drawn (see lambdatui/startup_gc.py); nothing if this process did not pause it.
        self.call_after_refresh(startup_gc.resume)
        # Whatever the list does (a slow AWS account, an error), the panes are there soon.
        self.set_timer(PANES_LATEST_S, self._mount_panes)
        if not self.is_headless:  # (tests run many apps in one process: nothing is frozen there)
            self.set_timer(GC_FREEZE_AFTER_S, startup_gc.freeze_late)

    def on_resize(self, event: events.Resize) -> None:
        self._apply_size(event.size.width, event.size.height)

    def _apply_size(self, width: int, height: int) -> None:
        narrow = width < NARROW_WIDTH or height < SHORT_HEIGHT
        self.screen.set_class(narrow, "-narrow")
        self.query_one(FunctionList).compact = width < NARROW_WIDTH
        tabs = self.query_one("#pane-tabs", Tabs)
        if narrow:
            tabs.show("logs-tab")
        else:
            tabs.hide("logs-tab")
            if self._pane == "logs":
                self.action_show_pane("invoke")

    @on(Tabs.TabActivated, "#pane-tabs")
    def _tab_activated(self, event: Tabs.TabActivated) -> None:
        assert event.tab.id is not None  # every pane tab has one
        pane = {"invoke": "invoke", "config": "config", "monitor": "monitor", "logs-tab": "logs"}[event.tab.id]
        self._show(pane)

    def action_show_pane(self, pane: str) -> None:
        tab = {"invoke": "invoke", "config": "config", "monitor": "monitor", "logs": "logs-tab"}[pane]
        if pane != "logs" or self.screen.has_class("-narrow"):
            self.query_one("#pane-tabs", Tabs).active = tab
            self._show(pane)
        # A pane key lands in the pane it shows, so the pane's own keys (ctrl+f in the logs, 1/2/3
        # in the monitor) work at once; after a refresh, once the pane is displayed and focusable.
        self.call_after_refresh(self._focus_pane, pane)

    def _focus_pane(self, pane: str) -> None:
        target = {"invoke": "#ec-editor", "config": "#editor", "monitor": "#monitor-pane", "logs": "#logs"}[pane]
        try:
            widget = self.query_one(target)
        except NoMatches:
            return  # shutting down
        if pane == "logs":
            self.query_one(LogTail).focus()  # its line view
            return
        if pane == "invoke":
            widget.focus()  # the event editor, not the template picker before it
            return
        # The pane's first control (the editor's first field, the monitor's window tabs), rather
        # than the scrolling container around them.
        # (DOM order, not the focus chain: that leaves out a pane displayed only since this refresh.)
        first = next((w for w in widget.query("*") if w.focusable), None)
        if first is not None:
            first.focus()

    def _show(self, pane: str) -> None:
        self._pane = pane
        self.screen.set_class(pane == "logs", "-show-logs")
        if pane in ("config", "monitor") and not self._panes_mounted:
            self.call_later(self._mount_panes)  # shows and focuses the pane once it is there
            return
        if pane in ("invoke", "config", "monitor"):
            self.query_one("#panes", ContentSwitcher).current = {"invoke": "console", "config": "editor", "monitor": "monitor-pane"}[pane]

    async def _mount_panes(self) -> None:
        if self._panes_mounted or self._panes_mounting or not self.is_running:
            return
        try:
            switcher = self.query_one("#panes", ContentSwitcher)
        except NoMatches:
            return  # the app is exiting
        self._panes_mounting = True
        self._panes_done = asyncio.Event()
        # Imported here, not at the top: they are not on the first frame, and importing them took
        # ~15 ms of the start-up (python -X importtime).
        from .widgets.config_editor import ConfigEditor
        from .widgets.monitor import MonitorPane

        panes = [ConfigEditor(id="editor"), MonitorPane(id="monitor-pane")]
        for pane in panes:
            pane.display = False  # the switcher shows only its current pane
        try:
            await switcher.mount_all(panes)
        finally:
            self._panes_done.set()
        if not self.is_running:
            return
        self._panes_mounted = True
        self._fill_panes()
        if self._pane in ("config", "monitor"):
            self._show(self._pane)
            self.call_after_refresh(self._focus_pane, self._pane)

    async def _shutdown(self) -> None:
        # Quitting while the panes are being mounted would close their children half-composed
        # (Textual then reports errors from inside them): let the mount finish first.
        if self._panes_done is not None and not self._panes_done.is_set():
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._panes_done.wait(), PANES_SHUTDOWN_WAIT_S)
        await super()._shutdown()

    def _editor(self) -> ConfigEditor | None:
        """The configuration editor, or None before it is mounted (or once the app is exiting)."""
        if not self._panes_mounted:
            return None
        from .widgets.config_editor import ConfigEditor  # (imported by now: see _mount_panes)

        try:
            return self.query_one("#editor", ConfigEditor)
        except NoMatches:
            return None

    def _monitor(self) -> MonitorPane | None:
        if not self._panes_mounted:
            return None
        from .widgets.monitor import MonitorPane

        try:
            return self.query_one("#monitor-pane", MonitorPane)
        except NoMatches:
            return None

    # -- functions -----------------------------------------------------------------------------

    def _call(self, what: str, fn: Callable[..., Any], *args: Any, done: Callable[[Any], Message] | None = None) -> None:
        """Run a blocking backend call (in a worker thread) and report back with a message."""
        try:
            value = fn(*args)
        except BackendError as e:
            self.post_message(BackendFailed(what, str(e)))
        except Exception as e:  # a backend bug must not take the dashboard down
            self.post_message(BackendFailed(what, f"{type(e).__name__}: {e}"))
        else:
            if done is not None:
                self.post_message(done(value))

    @work(thread=True, exclusive=True, group="list")
    def load_functions(self) -> None:
        self._call("Listing functions", self.backend.list_functions, done=FunctionsLoaded)

    def on_functions_loaded(self, message: FunctionsLoaded) -> None:
        self._functions = {f.name: f for f in message.functions}
        select = self._selected or self.initial_selection
        self.query_one(FunctionList).set_functions(message.functions, select=select)
        if not self._panes_mounted:
            # Once the list is painted: the refresh that paints it, then a moment for the terminal.
            self.call_after_refresh(self.set_timer, PANES_AFTER_LIST_S, self._mount_panes)
        editor = self._editor()
        if editor is not None and self._selected in self._functions and not editor.dirty:
            # A re-read config file (F5, or the watcher): the editor shows what the file now says.
            editor.load(self._functions[self._selected], read_only=self.read_only)
        if not message.functions:
            self.notify("The backend has no functions.", severity="warning")

    def action_refresh_functions(self) -> None:
        """F5: read the config file again (local), then list the functions again; with unsaved
        edits in the editor, ask first which to keep."""
        self._config_changed(forced=True)

    @work(thread=True, exclusive=True, group="list")
    def _reload_functions(self) -> None:
        def reload_and_list() -> list[FunctionConfiguration]:
            self.backend.reload()
            self._config_stamp = _stamp(self.config.path if self.config else None)
            return self.backend.list_functions()

        self._call("Refreshing functions", reload_and_list, done=FunctionsLoaded)

    # -- the state dir, live ---------------------------------------------------------------------

    @work(thread=True, group="watch-history")
    def _watch_state(self) -> None:
        """Invocations recorded by any lambdatui process on this state dir (the CLI, `serve`,
        another dashboard): the newest per function first (the Last column after a restart), then
        each new row, found by polling the history's newest id (one index lookup) every
        STATE_POLL_S. Also starts the config file's watcher."""
        backend = self.backend
        if self.config is not None and self.config.path is not None and backend.name == "local":
            if not self._config_watched:
                self._config_watched = True  # one watcher for the app's life
                self._watch_config(self.config.path)
        if not backend.capabilities.shared_state:
            return
        last_id = backend.latest_invocation_id()
        self.post_message(StateChanged(backend.last_invocations()))
        while not self._watching.wait(STATE_POLL_S) and self.backend is backend:
            if backend.latest_invocation_id() == last_id:
                continue
            last_id, results = backend.invocations_after(last_id)
            if results:
                self.post_message(StateChanged(results))

    def on_state_changed(self, message: StateChanged) -> None:
        try:
            functions = self.query_one(FunctionList)
            console = self.query_one(EventConsole)
        except NoMatches:
            return  # the app is shutting down and its screen is gone
        try:
            for result in message.results:
                functions.record_invocation(result)  # kept by name: the list may not be filled yet
                console.add_recent(result)
            monitor = self._monitor()
            if monitor is not None and any(r.function == self._selected for r in message.results):
                monitor.refresh_data()
        except NoMatches:
            pass  # a pane's children are already gone: the app is exiting

    @work(thread=True, group="watch-config")
    def _watch_config(self, path: Path) -> None:
        """The config file, watched (its folder: editors replace files by renaming over them)."""
        import watchfiles

        target = path.resolve()
        looked = False
        try:
            for changes in watchfiles.watch(
                target.parent,
                watch_filter=lambda _change, changed: Path(changed) == target,
                stop_event=self._watching,
                recursive=False,
                debounce=200,
                yield_on_timeout=True,
                rust_timeout=CONFIG_WATCH_TIMEOUT_MS,
            ):
                if changes:
                    self.post_message(ConfigFileChanged())
                elif not looked:
                    # The watcher is up: an edit made between the load and now sent no event.
                    # (_config_changed ignores the file as it was loaded or saved.)
                    looked = True
                    self.post_message(ConfigFileChanged())
        except (OSError, RuntimeError) as e:  # the folder went away, or no watch is possible
            self.post_message(BackendFailed("Watching the config file", str(e)))

    def on_config_file_changed(self, message: ConfigFileChanged) -> None:
        try:
            self._config_changed(forced=False)
        except NoMatches:
            pass  # the app is shutting down and its screen is gone

    def _config_changed(self, forced: bool) -> None:
        path = self.config.path if self.config else None
        if not forced and (self.backend.name != "local" or _stamp(path) == self._config_stamp):
            return  # our own save, already applied (or the dashboard has moved to AWS)
        editor = self._editor()
        if path is None or editor is None or not editor.dirty or self._selected is None:
            self._reload_functions()
            return
        if isinstance(self.screen, ReloadScreen):
            return  # already asking

        def decided(answer: str | None) -> None:
            if answer == LOAD:
                editor.load(self._functions.get(self._selected) if self._selected else None, read_only=self.read_only)
                self._reload_functions()

        self.push_screen(ReloadScreen(str(path), self._selected), decided)

    def action_filter_functions(self) -> None:
        self.query_one(FunctionList).start_filter()

    @on(FunctionList.Selected)
    def _function_selected(self, message: FunctionList.Selected) -> None:
        # Holding an arrow key through a long list should move the cursor at once and fill the
        # panes once it rests: the pane update waits for a short pause in selections.
        if self._pending_select is not None:
            self._pending_select.stop()
        if self._selected is None:
            self._apply_selection(message)
        else:
            self._pending_select = self.set_timer(SELECT_SETTLE_S, lambda: self._apply_selection(message))

    def _apply_selection(self, message: FunctionList.Selected) -> None:
        self._pending_select = None
        if message.name == self._selected:
            return
        editor = self._editor()
        if editor is not None and editor.dirty and self._selected is not None:
            previous = self._selected

            def decided(discard: bool | None) -> None:
                if discard:
                    self._select(message.name)
                else:
                    self.query_one(FunctionList).select(previous)

            self.push_screen(ConfirmScreen(f"Discard unsaved changes to {previous}?"), decided)
            return
        self._select(message.name)

    def _select(self, name: str | None) -> None:
        try:
            console = self.query_one(EventConsole)
        except NoMatches:
            return  # the app is shutting down and its screen is gone
        self._selected = name
        console.set_function(name)
        self._fill_panes()
        self.query_one(LogTail).follow(self.backend, name)

    def _fill_panes(self) -> None:
        """The editor and the monitor show the selected function (once they are mounted)."""
        editor, monitor = self._editor(), self._monitor()
        if editor is None or monitor is None:
            return
        name = self._selected
        config = self._functions.get(name) if name else None
        editor.load(config, read_only=self.read_only)
        editor.set_triggers(self._trigger_lines(config))
        monitor.show(self.backend, name, config.memory_size if config else None, config.architecture if config else "x86_64")

    def _trigger_lines(self, config: FunctionConfiguration | None) -> list[str]:
        if config is None or not config.triggers:
            return []
        from datetime import datetime, timezone

        from ..triggers import TriggerWhere, describe_all
        from .present import FIXED_EPOCH

        now = datetime.fromtimestamp(FIXED_EPOCH, timezone.utc) if deterministic_enabled() else None
        return describe_all(config.triggers, TriggerWhere(state_dir=self.backend.state_dir, now=now))

    # -- invoke --------------------------------------------------------------------------------

    def action_invoke(self) -> None:
        name = self._selected
        if name is None:
            self.notify("Select a function first", severity="warning")
            return
        console = self.query_one(EventConsole)
        payload = console.event_payload()
        if payload is None:
            self.notify("The event is not valid JSON", severity="error")
            self.action_show_pane("invoke")
            return
        options = console.invoke_options()  # as they are now, not when the dialog is answered
        if self._confirm_invoke:
            # aws.confirm_invoke (by default with read_only): running a function is a change too.
            def decided(go: bool | None) -> None:
                if go:
                    console.show_pending()
                    self._invoke(name, payload, options)

            question = f"Invoke {name} on {self.backend.describe()}?"
            self.push_screen(ConfirmScreen(question, yes="Invoke", no="Cancel"), decided)
            return
        console.show_pending()
        self._invoke(name, payload, options)

    @work(thread=True, group="invoke")
    def _invoke(self, name: str, payload: bytes, options: dict[str, Any]) -> None:
        self._call(f"Invoking {name}", lambda: self.backend.invoke(name, payload, **options), done=InvocationFinished)

    def action_details(self) -> None:
        """F7: everything about the selected function (at the console's qualifier), as `lambdatui show`."""
        from .details_screen import DetailsScreen

        if self._selected is None:
            self.notify("Select a function first", severity="warning")
            return
        self.push_screen(DetailsScreen(self.backend, self._selected, self.query_one(EventConsole).invoke_options()["qualifier"]))

    def on_invocation_finished(self, message: InvocationFinished) -> None:
        result = message.result
        self.query_one(EventConsole).show_result(result)
        self.query_one(FunctionList).record_invocation(result)
        if result.warnings:
            self.notify(result.warnings[0], title="Runtime", severity="warning")

    @on(EventConsole.JumpToLogs)
    def _jump_to_logs(self, message: EventConsole.JumpToLogs) -> None:
        tail = self.query_one(LogTail)
        if self.screen.has_class("-narrow"):
            self.action_show_pane("logs")
        if not tail.jump_to_request(message.request_id):
            self.notify("That invocation's lines are no longer in the tail", severity="warning")

    # -- configuration -------------------------------------------------------------------------

    def action_save(self) -> None:
        if isinstance(self.screen, ModalScreen):
            return  # a dialog is open (e.g. editing a variable): finish it first
        editor = self._editor()
        if self._pane != "config":
            self.action_show_pane("config")
        if editor is not None:
            editor.request_save()  # (an editor not yet mounted has no changes to save)

    def on_config_editor_save_requested(self, message: ConfigEditor.SaveRequested) -> None:
        self.notify(f"Saving {message.name}…", timeout=2)
        self._save(message.name, message.changes, message.save_to)

    @work(thread=True, group="save")
    def _save(self, name: str, changes: dict[str, Any], save_to: dict[str, str] | None = None) -> None:
        save = partial(self.backend.update_function, save_to=save_to) if save_to else self.backend.update_function
        self._call(f"Saving {name}", save, name, changes, done=ConfigurationSaved)

    def on_configuration_saved(self, message: ConfigurationSaved) -> None:
        config = message.config
        self._config_stamp = _stamp(self.config.path if self.config else None)  # not an outside edit
        self._functions[config.name] = config
        self.query_one(FunctionList).update_function(config)
        editor = self._editor()
        if editor is not None and config.name == self._selected:
            editor.saved(config)
        self.notify(f"Saved {config.name}", title="Configuration")

    def on_backend_failed(self, message: BackendFailed) -> None:
        self.notify(message.error, title=f"{message.what} failed", severity="error", timeout=8)
        if message.what.startswith("Invoking"):
            self.query_one(EventConsole).show_failure(message.error)

    # -- everywhere ----------------------------------------------------------------------------

    def action_deploy(self) -> None:
        from .deploy_screen import DeployScreen

        if self._selected is None or self.config is None or self._selected not in self.config.local.functions:
            self.notify("Select a local function to deploy", severity="warning")
            return
        name = self._selected
        self._ask_mfa_in_dialogs()  # the deploy dialog's AWS session asks here, not on the terminal

        def opened(aws: AwsBackend | None) -> None:
            if aws is not None:
                self.switch_backend(aws, select=name)

        self.push_screen(DeployScreen(self.config, name), opened)

    def switch_backend(self, backend: Backend, select: str | None = None) -> None:
        """Show another backend in the same panes (the previous one stays open until exit)."""
        self._previous_backends.append(self.backend)
        self.backend = backend
        self.read_only = backend.read_only
        self._aws_hooks(backend)
        self.sub_title = backend.describe()
        self._selected = None
        self.initial_selection = select
        self.query_one(FunctionList).forget_selection()
        self.load_functions()
        # The state dir's watcher follows only the backend it was started for: back on the local
        # backend, it starts again (and the config file's watcher, if it is not running yet).
        if backend.capabilities.shared_state:
            self._watch_state()

    def action_power_tune(self) -> None:
        from .powertune_screen import PowerTuneScreen

        if self._selected is None:
            self.notify("Select a function first", severity="warning")
            return
        payload = self.query_one(EventConsole).event_payload()
        if payload is None:
            self.notify("The event is not valid JSON", severity="error")
            return
        self.push_screen(PowerTuneScreen(self.backend, self._selected, payload))

    def action_help(self) -> None:
        from .help import HelpScreen

        self.push_screen(HelpScreen(self, self.config.tui.keys if self.config else None))

    def action_next_theme(self) -> None:
        names = [t.name for t in self._themes] or [DEFAULT_THEME]
        current = names.index(self.theme) if self.theme in names else -1
        self.theme = names[(current + 1) % len(names)]
        self.notify(f"Theme: {self.theme}", timeout=2)

    def action_save_svg(self) -> None:
        filename = f"lambdatui-{time.strftime('%Y%m%d-%H%M%S')}.svg"
        try:
            path = self.save_screenshot(filename=filename, path=str(self.screenshot_dir))
        except OSError as e:
            self.notify(str(e), title="Screenshot failed", severity="error")
            return
        self.notify(f"Saved {path}", title="Screenshot")

    async def action_quit(self) -> None:
        editor = self._editor()
        if editor is not None and editor.dirty:
            def decided(discard: bool | None) -> None:
                if discard:
                    self.exit()

            self.push_screen(ConfirmScreen("Quit and discard unsaved configuration changes?", yes="Quit"), decided)
            return
        self.exit()

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        # Textual's own "Keys" and "Screenshot" do what "Help: keys" (F1) and "Save SVG screenshot"
        # (F9) below do: listed once, under the names the keys and the help screen use.
        yield from (c for c in super().get_system_commands(screen) if c.title not in TEXTUAL_DUPLICATES)
        yield SystemCommand("Invoke the selected function", "Run it with the event in the console (ctrl+r)", self.action_invoke)
        yield SystemCommand("Save configuration", "Write the editor's changes through the backend (ctrl+s)", self.action_save)
        yield SystemCommand("Filter functions", "Type to narrow the function list (/)", self.action_filter_functions)
        yield SystemCommand("Refresh function list", "Ask the backend again (F5)", self.action_refresh_functions)
        yield SystemCommand("Show the invoke pane", "Test events and results (F2)", lambda: self.action_show_pane("invoke"))
        yield SystemCommand("Show the configuration editor", "Memory, timeout, environment… (F3)", lambda: self.action_show_pane("config"))
        yield SystemCommand("Show the log tail", "Live logs of the selected function (F4)", lambda: self.action_show_pane("logs"))
        yield SystemCommand("Show the monitor", "Invocations, errors, durations, memory and cost (F6)", lambda: self.action_show_pane("monitor"))
        yield SystemCommand("Show the function's details", "Versions, aliases, URL, triggers, logging, VPC, tags, raw JSON (F7)", self.action_details)
        yield SystemCommand("Jump to the last invocation's logs", "Scroll the tail to its START line", self.query_one(EventConsole).action_jump_to_logs)
        yield SystemCommand("Save event", "Save the console's event beside the config", self.query_one(EventConsole).action_save_event)
        if self.backend.capabilities.persists_edits and self.config is not None and self.config.path is not None:
            yield SystemCommand("New function", "Add a function: a folder with a handler, a saved event, its config entry", self.action_new_function)
        if not self.backend.capabilities.deploy_target and self.config is not None:
            yield SystemCommand("Deploy to AWS", "Package the selected function and create or update it on AWS Lambda", self.action_deploy)
        yield SystemCommand("Power-tune memory", "Run the selected function at several memory sizes: cost and speed", self.action_power_tune)
        yield SystemCommand("Next theme", "Cycle dark, light and projector themes (F8)", self.action_next_theme)
        yield SystemCommand("Save SVG screenshot", "Write the screen as an SVG file (F9)", self.action_save_svg)
        yield SystemCommand("Help: keys", "Every key and its binding id (F1)", self.action_help)
        where = "Reconnect the AWS backend elsewhere" if self.backend.capabilities.switch_account else "Connect to AWS Lambda: pick a profile and a region"
        yield SystemCommand(SWITCH_COMMAND, where, self.action_switch_aws)
        if self._local_backend_behind() is not None:
            yield SystemCommand(BACK_TO_LOCAL_COMMAND, "The functions of this machine again, where you left them", self.action_back_to_local)

    def _local_backend_behind(self) -> Backend | None:
        """The local backend this dashboard switched away from (to AWS), if any."""
        if self.backend.name == "local":
            return None
        return next((b for b in reversed(self._previous_backends) if b.name == "local"), None)

    def action_back_to_local(self) -> None:
        local = self._local_backend_behind()
        if local is None:
            return
        self._previous_backends.remove(local)
        self.switch_backend(local)

    def action_new_function(self) -> None:
        from .new_function_screen import NewFunctionScreen

        if self.config is None or self.config.path is None:
            self.notify("New functions are added to a config file: open one with --config", severity="warning")
            return

        def chosen(answer: tuple[str, str, str] | None) -> None:
            if answer:
                self._create_function(*answer)

        self.push_screen(NewFunctionScreen(set(self._functions)), chosen)

    @work(thread=True, exclusive=True, group="list")
    def _create_function(self, name: str, runtime: str, template: str) -> None:
        from ..starter import StarterError, new_function

        config = self.config
        assert config is not None and config.path is not None
        path = config.path

        def create() -> list[FunctionConfiguration]:
            try:
                new_function(path, name, runtime, template)
            except (StarterError, ConfigError, OSError) as e:
                raise BackendError(str(e)) from None
            self.backend.reload()
            return self.backend.list_functions()

        self.initial_selection = name
        self._selected = None
        self._call(f"Creating {name}", create, done=FunctionsLoaded)

    def _aws_hooks(self, backend: Backend) -> None:
        """For an AWS backend: MFA codes asked in a dialog (not on a terminal hidden behind the
        dashboard), and whether an invoke is confirmed first (aws.confirm_invoke)."""
        self._confirm_invoke = False
        if backend.name != "aws":
            return
        from ..backends.aws import AwsBackend  # boto3 is loaded: the backend is AWS's

        self._ask_mfa_in_dialogs()
        if isinstance(backend, AwsBackend):
            self._confirm_invoke = backend.confirm_invoke

    def _ask_mfa_in_dialogs(self) -> None:
        from ..backends.aws_session import MfaCodeNotGiven, set_mfa_asker
        from .mfa_screen import DialogAsker

        set_mfa_asker(DialogAsker(self, lambda profile: MfaCodeNotGiven(profile=profile)))

    def on_unmount(self) -> None:
        self._watching.set()
        aws_session = sys.modules.get("lambdatui.backends.aws_session")
        if aws_session is not None:
            aws_session.set_mfa_asker(None)  # the terminal again, once the dashboard is gone

    def action_switch_aws(self) -> None:
        from ..backends.aws_session import available_profiles, available_regions, region_for
        from .switcher import SwitchAwsScreen

        from_local = not self.backend.capabilities.switch_account
        if from_local:
            # From the local backend: to AWS, starting at the config's `aws:` profile and region.
            settings = self.config.aws if self.config is not None else None
            profile = settings.profile if settings else None
            region = (settings.region if settings else None) or region_for(profile) or "us-east-1"
        else:
            where = self.backend.location()
            profile, region = where.profile, where.region or "us-east-1"

        def chosen(answer: tuple[str, str] | None) -> None:
            if answer and from_local:
                self._ask_mfa_in_dialogs()  # the new session asks for a code in a dialog
                self._connect_aws(*answer)
            elif answer:
                self._switch_aws(*answer)

        env_profile = os.environ.get("AWS_PROFILE")
        label = f"AWS_PROFILE: {env_profile}" if env_profile else "default credential chain"
        screen = SwitchAwsScreen(
            profile, region, profiles=available_profiles(), regions=available_regions(),
            default_label=label, region_for=lambda p: region_for(p) or region,
        )
        self.push_screen(screen, chosen)

    @work(thread=True, exclusive=True, group="list")
    def _switch_aws(self, profile: str, region: str) -> None:
        def switch() -> list[FunctionConfiguration]:
            # An atomic switch: when it fails (unknown profile, credentials that cannot be had) the
            # backend stays where it was, and so does the header naming it.
            self.backend.switch(profile=profile, region=region)
            self.call_from_thread(setattr, self, "sub_title", self.backend.describe())
            return self.backend.list_functions()

        self._call("Switching profile or region", switch, done=FunctionsLoaded)

    @work(thread=True, exclusive=True, group="list")
    def _connect_aws(self, profile: str, region: str) -> None:
        """From the local backend to AWS: the new backend takes over only once it has listed its
        functions; until then, and when it fails (a notification says why), the local one stays."""
        from dataclasses import replace

        from ..backends import make_backend
        from ..config import parse_config

        base = self.config if self.config is not None else parse_config("backend: aws\n")
        config = replace(base, backend="aws", aws=replace(base.aws, profile=profile or None, region=region))

        def connect() -> Backend:
            backend = make_backend(config, backend="aws")
            try:
                backend.list_functions()
            except Exception:
                backend.close()
                raise
            return backend

        self._call("Connecting to AWS", connect, done=BackendConnected)

    def on_backend_connected(self, message: BackendConnected) -> None:
        self.switch_backend(message.backend)

