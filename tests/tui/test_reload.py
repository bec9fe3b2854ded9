"""The dashboard follows its config file (issue 16): an edit made outside it is loaded by itself
(watched), F5 forces a re-read, and an outside edit while the editor holds unsaved changes asks which
to keep — with both answers working."""

from __future__ import annotations

import json
import re

from lambdatui.tui.app import LambdaTUI
from lambdatui.tui.reload_screen import ReloadScreen
from lambdatui.tui.widgets.event_console import EventConsole
from lambdatui.tui.widgets.function_list import FunctionList

from .conftest import wait_for, wait_for_screen


def _set_failing_timeout(path, seconds: int) -> None:
    text = path.read_text()
    # The sample's `failing` entry is the only one with `timeout: 2`.
    assert text.count("timeout: 2\n") == 1
    path.write_text(text.replace("timeout: 2\n", f"timeout: {seconds}\n"))


def _timeout_cell(app, name: str) -> str:
    return str(app.query_one(FunctionList).table.get_cell(name, "timeout"))


async def test_an_outside_edit_is_loaded_by_itself_and_the_next_invoke_uses_it(local_backend, sample_config):
    config, backend = local_backend()
    app = LambdaTUI(backend, config, select="failing")
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: app._selected == "failing")
        assert _timeout_cell(app, "failing") == "2s"
        await pilot.pause(0.3)  # the watcher is up
        _set_failing_timeout(sample_config, 5)
        await wait_for(pilot, lambda: _timeout_cell(app, "failing") == "5s", timeout=5)
        await pilot.press("f3")
        await wait_for(pilot, lambda: app.query("#cfg-timeout") and app.query_one("#cfg-timeout").value == "5")
        # The next invoke runs with the file's new timeout: it times out after 5 s, not 2.
        console = app.query_one(EventConsole)
        await pilot.press("f2")
        console.editor.load_text(json.dumps({"action": "timeout"}))
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: console._shown is not None, timeout=20)
        shown = console._shown
        assert shown.error_type == "Sandbox.Timedout"
        assert "Task timed out after 5.00 seconds" in shown.payload.decode()
        assert shown.duration_ms == 5000.0  # a timeout's Duration is the timeout


async def test_an_edit_made_before_the_watcher_is_up_is_loaded_too(local_backend, sample_config):
    # The file changes between the load and the watcher's start (which waits for the first frame):
    # no event ever comes for it, so the watcher compares the file with the one loaded once it runs.
    config, backend = local_backend()
    app = LambdaTUI(backend, config, select="failing")
    _set_failing_timeout(sample_config, 6)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: _timeout_cell(app, "failing") == "6s", timeout=5)
        assert backend.config.local.functions["failing"].timeout == 6


async def test_f5_rereads_the_file(local_backend, sample_config):
    config, backend = local_backend()
    app = LambdaTUI(backend, config, select="hello-world")
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: app._selected == "hello-world")
        app._watching.set()  # the watcher stopped: only F5 can find the change
        await pilot.pause(0.5)
        _set_failing_timeout(sample_config, 7)
        await pilot.pause(0.6)
        assert _timeout_cell(app, "failing") == "2s"
        await pilot.press("f5")
        await wait_for(pilot, lambda: _timeout_cell(app, "failing") == "7s", timeout=5)
        assert backend.config.local.functions["failing"].timeout == 7


async def test_an_outside_edit_with_unsaved_changes_asks_and_keep_keeps_them(local_backend, sample_config):
    config, backend = local_backend()
    app = LambdaTUI(backend, config, select="failing")
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: app._selected == "failing")
        await pilot.press("f3")
        await wait_for(pilot, lambda: app.query("#cfg-memory_size"))
        app.query_one("#cfg-memory_size").value = "256"
        await wait_for(pilot, lambda: app.query_one("ConfigEditor").dirty)
        await pilot.pause(0.3)
        _set_failing_timeout(sample_config, 5)
        screen = await wait_for_screen(pilot, ReloadScreen, "#keep", "#load", timeout=5)
        assert "not saved" in str(screen.query_one("#reload-question").render())
        await pilot.click("#keep")
        await wait_for(pilot, lambda: not isinstance(app.screen, ReloadScreen))
        editor = app.query_one("ConfigEditor")
        assert editor.dirty and app.query_one("#cfg-memory_size").value == "256"
        assert app.query_one("#cfg-timeout").value == "2"  # the file's change was not loaded
        assert _timeout_cell(app, "failing") == "2s"


async def test_an_outside_edit_with_unsaved_changes_asks_and_load_takes_the_file(local_backend, sample_config):
    config, backend = local_backend()
    app = LambdaTUI(backend, config, select="failing")
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: app._selected == "failing")
        await pilot.press("f3")
        await wait_for(pilot, lambda: app.query("#cfg-memory_size"))
        app.query_one("#cfg-memory_size").value = "256"
        await wait_for(pilot, lambda: app.query_one("ConfigEditor").dirty)
        await pilot.pause(0.3)
        _set_failing_timeout(sample_config, 5)
        await wait_for_screen(pilot, ReloadScreen, "#load", timeout=5)
        await pilot.click("#load")
        await wait_for(pilot, lambda: _timeout_cell(app, "failing") == "5s", timeout=5)
        await wait_for(pilot, lambda: app.query_one("#cfg-timeout").value == "5")
        assert app.query_one("#cfg-memory_size").value == "128"
        assert not app.query_one("ConfigEditor").dirty
        assert backend.config.local.functions["failing"].timeout == 5


async def test_saving_from_the_dashboard_does_not_ask_about_its_own_write(local_backend, sample_config):
    config, backend = local_backend()
    app = LambdaTUI(backend, config, select="failing")
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: app._selected == "failing")
        await pilot.press("f3")
        await wait_for(pilot, lambda: app.query("#cfg-memory_size"))
        app.query_one("#cfg-memory_size").value = "256"
        await wait_for(pilot, lambda: app.query_one("ConfigEditor").dirty)
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: re.search(r"memory_size: 256", sample_config.read_text()) is not None)
        await wait_for(pilot, lambda: not app.query_one("ConfigEditor").dirty)
        await pilot.pause(1.0)
        assert not isinstance(app.screen, ReloadScreen)
        assert app.query_one("#cfg-memory_size").value == "256"
