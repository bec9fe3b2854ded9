"""REPORT lines whose figures are visible at 80 columns (compact, raw a key away), horizontal scroll
that moves by more than a column and comes back to the left edge, and the runtime-exit error colour."""

from __future__ import annotations

import re

from lambdatui.logformat import report_line
from lambdatui.tui.app import LambdaTUI
from lambdatui.tui.widgets.log_tail import HSCROLL_MIN_STEP, LineKind, LogTail, classify, compact_report

from .conftest import wait_for
from .test_log_tail import TailApp, ev, screen_lines

RID = "804f5f2e-3c1d-4a4b-9d7e-2f1a6b0c9e11"


def test_compact_report_keeps_every_figure_of_a_cold_report():
    # AWS's REPORT (lambda-facts.md): tab-separated, each field followed by a tab.
    raw = report_line(RID, 11.26, 78, 128, 41, init_duration_ms=66.65).expandtabs(4)
    assert compact_report(raw) == "⏱ 11.26 ms · billed 78 ms · 41/128 MB · cold, init 66.65 ms"


def test_compact_report_names_a_failed_status_and_its_error_type():
    raw = f"REPORT RequestId: {RID}\tDuration: 2000.00 ms\tBilled Duration: 2000 ms\tMemory Size: 128 MB\tMax Memory Used: 128 MB\tStatus: error\tError Type: Runtime.OutOfMemory\t"
    assert compact_report(raw.expandtabs(4)) == "⏱ 2000.00 ms · billed 2000 ms · 128/128 MB · error (Runtime.OutOfMemory)"
    assert compact_report("REPORT something else") is None
    assert compact_report("START RequestId: x") is None


def test_runtime_exited_without_a_reason_is_an_error_like_other_runtime_exits():
    # sys.exit(0) in a handler: `Runtime exited without providing a reason` (recorded on AWS).
    line = f"RequestId: {RID} Error: Runtime exited without providing a reason"
    assert classify(line) == LineKind.ERROR == classify(f"RequestId: {RID} Error: Runtime exited with error: exit status 3")


async def test_the_real_dashboard_shows_the_report_figures_at_80x24_and_r_shows_the_raw_line(local_backend):
    config, backend = local_backend()
    app = LambdaTUI(backend, config, select="hello-world")
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app._selected == "hello-world")
        await pilot.press("ctrl+r")
        tail = app.query_one(LogTail)
        await wait_for(pilot, lambda: any("REPORT" in line for line in tail.plain_lines()), timeout=20)
        await pilot.press("f4")
        await wait_for(pilot, lambda: app.focused is tail.view)
        await pilot.pause(0.1)
        row = next(line for line in screen_lines(tail) if "⏱" in line)
        # Everything a REPORT says that a reader compares, inside the 80-column screen.
        assert re.search(r"⏱ \d+\.\d\d ms · billed \d+ ms · \d+/128 MB", row), row
        assert tail.view.scroll_offset.x == 0
        await pilot.press("r")
        await wait_for(pilot, lambda: any("REPORT RequestId:" in line for line in screen_lines(tail)))
        assert not any("⏱" in line for line in screen_lines(tail))
        await pilot.press("r")
        await wait_for(pilot, lambda: any("⏱" in line for line in screen_lines(tail)))


async def test_right_moves_a_quarter_view_and_new_lines_or_end_bring_back_the_left_edge():
    app = TailApp()
    async with app.run_test(size=(80, 12)) as pilot:
        tail = app.query_one(LogTail)
        tail.append([ev("x" * 400)])
        await pilot.pause()
        tail.focus()
        await pilot.press("right")
        step = tail.view.scroll_offset.x
        assert step >= max(HSCROLL_MIN_STEP, tail.view.scrollable_content_region.width // 4)
        await pilot.press("right", "right")
        assert tail.view.scroll_offset.x == 3 * step
        await pilot.press("left")
        assert tail.view.scroll_offset.x == 2 * step
        # A new line while following: the times and line starts are back in view.
        tail.append([ev("a new line")])
        await pilot.pause()
        assert tail.view.scroll_offset.x == 0
        assert [line for line in screen_lines(tail) if line][-1].endswith("  a new line")
        # And a key does it too: End (follow) and Home (top) both return to the left edge.
        await pilot.press("right", "right", "end")
        assert tail.view.scroll_offset.x == 0
        await pilot.press("right", "home")
        assert tail.view.scroll_offset.x == 0
