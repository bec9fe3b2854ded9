"""Snapshot tests of the dashboard (pytest-textual-snapshot), in deterministic mode.

LAMBDATUI_DETERMINISTIC=1 fixes request ids, clocks and measured figures, so an invocation renders
the same every run. Update after an intended change with `pytest tests/tui --snapshot-update`.
"""

from __future__ import annotations

import pytest

from lambdatui.backends import make_backend
from lambdatui.config import load_config
from lambdatui.tui.app import LambdaTUI

from .conftest import settled, wait_for


@pytest.fixture
def dashboard(sample_config, tmp_path, monkeypatch):
    monkeypatch.setenv("LAMBDATUI_DETERMINISTIC", "1")
    backends = []

    def make(**options):
        config = load_config(sample_config)
        backend = make_backend(config, state_dir=tmp_path / "state", watch_code=False)
        backends.append(backend)
        return LambdaTUI(backend, config, select="hello-world", **options)

    yield make
    for b in backends:
        b.close()


async def _invoked(pilot):
    app = pilot.app
    await wait_for(pilot, lambda: app._selected == "hello-world")
    await pilot.press("ctrl+r")
    await wait_for(pilot, lambda: "OK" in str(app.query_one("#ec-summary").render()))
    await wait_for(pilot, lambda: any("REPORT" in line for line in app.query_one("LogTail").plain_lines()))
    app.clear_notifications()
    # Tables re-measure their columns a few refreshes after new rows, later on a loaded machine.
    await settled(pilot, quiet=0.3)
    # The tail's scrollbars are drawn from its virtual size as of their last refresh, which is not
    # always the last change (the thumb was seen one part-cell apart between runs): draw them again.
    view = app.query_one("LogTail").view
    view.horizontal_scrollbar.refresh()
    view.vertical_scrollbar.refresh()
    view.refresh(layout=True)
    await settled(pilot, quiet=0.3)


def test_snapshot_after_invoking_hello_world_at_120x36(dashboard, snap_compare):
    assert snap_compare(dashboard(), terminal_size=(120, 36), run_before=_invoked)


def test_snapshot_at_80x24(dashboard, snap_compare):
    assert snap_compare(dashboard(), terminal_size=(80, 24), run_before=_invoked)


def test_snapshot_after_invoking_hello_world_at_120x40(dashboard, snap_compare):
    assert snap_compare(dashboard(), terminal_size=(120, 40), run_before=_invoked)


def test_snapshot_logs_focused_at_80x24(dashboard, snap_compare):
    """F4 at 80×24: the log tab, focused (its ring lit), the REPORT compact with its figures in view."""

    async def logs(pilot):
        await _invoked(pilot)
        await pilot.press("f4")
        await wait_for(pilot, lambda: pilot.app.focused is pilot.app.query_one("LogTail").view)
        await settled(pilot)

    assert snap_compare(dashboard(), terminal_size=(80, 24), run_before=logs)


def test_snapshot_configuration_editor(dashboard, snap_compare):
    async def editor(pilot):
        await wait_for(pilot, lambda: pilot.app._selected == "hello-world")
        await pilot.press("f3")
        await wait_for(pilot, lambda: pilot.app.query("#cfg-memory_size") and pilot.app.query_one("#cfg-memory_size").region)
        await wait_for(pilot, lambda: pilot.app.focused is pilot.app.query_one("#cfg-memory_size"))  # F3 lands in the form
        pilot.app.focused.cursor_blink = False  # a blinking cursor would differ between runs
        await settled(pilot)

    assert snap_compare(dashboard(), terminal_size=(120, 36), run_before=editor)


def test_snapshot_projector_theme(dashboard, snap_compare):
    async def projector(pilot):
        await _invoked(pilot)
        pilot.app.theme = "projector"
        await settled(pilot)

    assert snap_compare(dashboard(), terminal_size=(120, 36), run_before=projector)
