"""Widgets sized for their content at 80×24 and 120×40, and a focus ring in every theme."""

from __future__ import annotations

import pytest
from rich.cells import cell_len
from textual.color import Color
from textual.widgets import DataTable, Input, Select

from lambdatui.eventtemplates import templates
from lambdatui.tui.app import LambdaTUI
from lambdatui.tui.themes import load_themes
from lambdatui.tui.widgets.function_list import FunctionList
from lambdatui.tui.widgets.log_tail import LogTail

from .conftest import settled, wait_for

SIZES = [(80, 24), (120, 40)]


async def _ready(pilot) -> None:
    await wait_for(pilot, lambda: pilot.app._selected == "hello-world")
    await settled(pilot)


@pytest.mark.parametrize("size", SIZES)
async def test_picker_labels_are_whole_and_the_template_list_fits_its_names(local_backend, size):
    config, backend = local_backend()
    app = LambdaTUI(backend, config, select="hello-world")
    async with app.run_test(size=size) as pilot:
        await _ready(pilot)
        for picker_id, prompt in (("#ec-template", "Template…"), ("#ec-saved", "Saved events…")):
            label = app.query_one(picker_id, Select).query_one("SelectCurrent #label")
            assert str(label.render()) == prompt
            assert label.region.width >= cell_len(prompt)  # not `Templat ▼`
        # Every control of the bar inside the pane (nothing cut at the right edge).
        bar = app.query_one("#ec-bar")
        assert all(w.region.right <= bar.region.right for w in bar.children)
        picker = app.query_one("#ec-template", Select)
        picker.focus()
        await pilot.press("enter")
        overlay = picker.query_one("SelectOverlay")
        await wait_for(pilot, lambda: overlay.display and overlay.region.width > 0)
        longest = max(cell_len(t.title) for t in templates())
        # Border, padding and scrollbar aside, the longest name on one line.
        assert overlay.scrollable_content_region.width >= longest + 2
        assert overlay.region.right <= size[0]


async def test_recent_invocations_and_response_have_room_at_120x40(local_backend):
    config, backend = local_backend()
    app = LambdaTUI(backend, config, select="hello-world")
    async with app.run_test(size=(120, 40)) as pilot:
        await _ready(pilot)
        for n in range(1, 4):
            await pilot.press("ctrl+r")
            await wait_for(pilot, lambda n=n: app.query_one("#ec-recent", DataTable).row_count == n, timeout=20)
        await settled(pilot)
        recent = app.query_one("#ec-recent", DataTable)
        assert recent.scrollable_content_region.height >= 1 + 3  # the header and all three rows
        # The response (`{`, statusCode, body, `}`) and its summary lines, all in view.
        result = app.query_one("#ec-result")
        assert result.region.height >= 8
        assert result.max_scroll_y == 0


async def test_a_long_description_opens_at_its_first_letter(local_backend):
    config, backend = local_backend()
    app = LambdaTUI(backend, config, select="api-gateway")
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app._selected == "api-gateway")
        await pilot.press("f3")
        field = app.query_one("#cfg-description", Input)
        await wait_for(pilot, lambda: field.value.startswith("REST API") and field.region.width > 0)
        assert cell_len(field.value) > field.scrollable_content_region.width  # longer than the field
        await settled(pilot)
        assert field.scroll_offset.x == 0
        assert field.cursor_position == 0


def _contrast(a: Color, b: Color) -> float:
    return abs(a.brightness - b.brightness) + sum(abs(x - y) for x, y in zip(a.rgb, b.rgb)) / 765


@pytest.mark.parametrize("theme", [t.name for t in load_themes()[0]])
async def test_the_focus_ring_is_plain_in_every_theme(local_backend, theme):
    config, backend = local_backend()
    app = LambdaTUI(backend, config, select="hello-world")
    async with app.run_test(size=(120, 40)) as pilot:
        await _ready(pilot)
        app.theme = theme
        await pilot.pause()
        table = app.query_one(FunctionList).table
        table.focus()
        await pilot.pause()
        variables = app.theme_variables
        lit, unlit = Color.parse(variables["border"]), Color.parse(variables["border-blurred"])
        view = app.query_one(LogTail).view
        assert table.styles.border_left[1] == lit
        assert view.styles.border_left[1] == unlit  # the log view, not focused
        surface = Color.parse(variables["surface"])
        # Lit: far from both the unlit ring and the pane's background.
        assert _contrast(lit, unlit) > 0.3 and _contrast(lit, surface) > 0.3
        await pilot.press("f4")
        await wait_for(pilot, lambda: app.focused is view)
        await pilot.pause()
        assert view.styles.border_left[1] == lit and table.styles.border_left[1] == unlit


def test_every_last_column_figure_fits_its_fixed_width():
    """The Last column has a fixed width (an auto-sized one shows `✔ 1.` until the table is idle):
    every duration up to Lambda's 900 s timeout fits it whole."""
    from lambdatui.tui.widgets.function_list import LAST_WIDTH, FunctionList, LastRun

    functions = FunctionList()
    for status in ("ok", "error", "throttled"):
        for ms in (0.18, 9.994, 10.0, 999.6, 9999.4, 9999.6, 61_234.0, 900_000.0):
            functions._last["f"] = LastRun(status, ms, False)
            cell = functions._last_cell("f")
            assert len(cell) <= LAST_WIDTH, cell
    functions._last["f"] = LastRun("ok", 900_000.0, False)
    assert functions._last_cell("f") == "✔ 900.0s"
