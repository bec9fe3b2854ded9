"""Keys that land where they point: every pane key moves focus into the pane it shows, so that
pane's own keys work at once (issue 16), at 80×24 (logs as a tab) and 120×40 (logs below)."""

from __future__ import annotations

import pytest

from lambdatui.tui.app import LambdaTUI
from lambdatui.tui.widgets.config_editor import ConfigEditor
from lambdatui.tui.widgets.event_console import EventConsole
from lambdatui.tui.widgets.function_list import FunctionList
from lambdatui.tui.widgets.log_tail import LogTail
from lambdatui.tui.widgets.monitor import MonitorPane

from .conftest import wait_for

PANES = {"f2": EventConsole, "f3": ConfigEditor, "f4": LogTail, "f6": MonitorPane}


def focus_in(app: LambdaTUI, pane: type) -> bool:
    focused = app.focused
    return focused is not None and any(isinstance(a, pane) for a in focused.ancestors_with_self)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
@pytest.mark.parametrize("key", list(PANES))
async def test_a_pane_key_moves_focus_into_its_pane(local_backend, size, key):
    config, backend = local_backend()
    app = LambdaTUI(backend, config, select="hello-world")
    async with app.run_test(size=size) as pilot:
        await wait_for(pilot, lambda: app._selected == "hello-world")
        assert isinstance(app.focused.parent, FunctionList)  # where the dashboard starts
        await pilot.press(key)
        await wait_for(pilot, lambda: focus_in(app, PANES[key]))
        assert app.focused.region.area > 0  # on screen, not a widget of a hidden pane


async def test_f4_then_ctrl_f_opens_the_log_filter_at_once_at_80x24(local_backend):
    config, backend = local_backend()
    app = LambdaTUI(backend, config, select="hello-world")
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app._selected == "hello-world")
        await pilot.press("f4", "ctrl+f")
        await wait_for(pilot, lambda: app.focused is not None and app.focused.id is None and type(app.focused).__name__ == "LogTailFilter")
        await pilot.press(*"REPORT")
        await wait_for(pilot, lambda: app.query_one(LogTail).filter_text == "REPORT")


async def test_f6_then_a_window_key_changes_the_monitor_window(local_backend):
    config, backend = local_backend()
    app = LambdaTUI(backend, config, select="hello-world")
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app._selected == "hello-world")
        await pilot.press("f6", "3")
        await wait_for(pilot, lambda: app.query_one(MonitorPane).window == "24h")


async def test_going_back_to_the_list_and_to_a_pane_again(local_backend):
    config, backend = local_backend()
    app = LambdaTUI(backend, config, select="hello-world")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app._selected == "hello-world")
        await pilot.press("f3")
        await wait_for(pilot, lambda: focus_in(app, ConfigEditor))
        await pilot.press("f2")
        await wait_for(pilot, lambda: app.focused is app.query_one("#ec-editor"))
