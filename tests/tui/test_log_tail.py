"""The log tail pane on its own: rendering, styles, the line bound, pause/resume, filter, jumps,
a real local tail, and a failing backend."""

from __future__ import annotations

import asyncio
import gc
import sys
import textwrap
import warnings
from pathlib import Path

from textual import events
from textual.app import App, ComposeResult

from lambdatui.backends import BackendError, make_backend
from lambdatui.backends.base import Capabilities
from lambdatui.config import parse_config
from lambdatui.executor.logstore import LogEvent
from lambdatui.logformat import end_line, report_line, start_line
from lambdatui.tui.widgets.log_tail import LineKind, LogTail, LogTailFilter

from .conftest import wait_for

PY = f"python{sys.version_info[0]}.{sys.version_info[1]}"
T0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z

_ids = iter(range(1, 10**9))


def ev(message: str, t: float | None = None, function: str = "fn") -> LogEvent:
    n = next(_ids)
    return LogEvent(T0 + n / 1000 if t is None else t, function, "2026/01/01/[$LATEST]abc", message, n)


def invocation(request_id: str, *body: str) -> list[LogEvent]:
    return [
        ev(start_line(request_id)),
        *(ev(line) for line in body),
        ev(end_line(request_id)),
        ev(report_line(request_id, 1.5, 2, 128, 40)),
    ]


class TailApp(App):
    def __init__(self, max_lines: int = 10_000) -> None:
        super().__init__()
        self.max_lines = max_lines
        self.notifications: list[tuple[str, str]] = []

    def compose(self) -> ComposeResult:
        yield LogTail(max_lines=self.max_lines, id="tail")

    def notify(self, message: str, *, severity: str = "information", **kwargs) -> None:
        self.notifications.append((message, severity))
        super().notify(message, severity=severity, **kwargs)


def strip_text(strip) -> str:
    return "".join(segment.text for segment in strip)


def screen_lines(tail: LogTail) -> list[str]:
    view = tail.view
    return [strip_text(view.render_line(y)).rstrip() for y in range(view.scrollable_content_region.height)]


async def test_appended_lines_render():
    app = TailApp()
    async with app.run_test(size=(100, 20)) as pilot:
        tail = app.query_one(LogTail)
        tail.append([ev("hello from the handler\n", t=T0 + 3723.456), ev("second line")])
        await pilot.pause()
        assert [line.text for line in tail.lines] == ["hello from the handler", "second line"]
        assert tail.lines[0].plain == "01:02:03.456  hello from the handler"
        shown = screen_lines(tail)
        assert shown[0] == "01:02:03.456  hello from the handler"
        assert shown[1].endswith("  second line")
        assert tail.view.virtual_size.height == 2
        assert tail.plain_lines() == ["01:02:03.456  hello from the handler", tail.lines[1].plain]


async def test_report_and_error_lines_are_styled_differently():
    app = TailApp()
    async with app.run_test(size=(120, 20)) as pilot:
        tail = app.query_one(LogTail)
        tail.append([
            ev(start_line("r1")),
            ev("[ERROR]\t2026-01-01T00:00:00.000Z\tr1\tsomething broke"),
            ev("[WARNING]\t2026-01-01T00:00:00.000Z\tr1\tcareful"),
            ev(end_line("r1")),
            ev(report_line("r1", 1.5, 2, 128, 40)),
            ev(report_line("r2", 3000.0, 3000, 128, 40, status="timeout")),
            ev("plain output"),
        ])
        await pilot.pause()
        kinds = [line.kind for line in tail.lines]
        assert kinds == [LineKind.PLATFORM, LineKind.ERROR, LineKind.WARNING, LineKind.PLATFORM,
                         LineKind.REPORT, LineKind.REPORT_ERROR, LineKind.PLAIN]
        view = tail.view
        start, error, warning, _, report, report_error, plain = (view.style_for(line) for line in tail.lines)
        assert report != error
        assert report.bold and not error.bold
        assert report.color != error.color != plain.color
        assert warning.color not in (error.color, plain.color)
        assert start.color != plain.color  # dim
        assert report_error.bold and report_error.color == error.color
        # The colours come from the theme: the component classes, not constants.
        assert error.color == view.get_component_rich_style("logtail--error").color
        assert report.color == view.get_component_rich_style("logtail--report").color
        # And the rendered rows carry them.
        row_styles = {strip_text(view.render_line(y)).split("  ", 1)[1].split("\t")[0][:8]: segs
                      for y in range(7) for segs in [list(view.render_line(y))]}
        report_row = next(s for k, s in row_styles.items() if k.startswith(("REPORT", "⏱")))
        error_row = next(s for k, s in row_styles.items() if k.startswith("[ERROR]"))
        assert report_row[2].style.bold and report_row[2].style != error_row[2].style


async def test_carriage_return_joined_traceback_is_several_lines():
    app = TailApp()
    async with app.run_test(size=(100, 20)) as pilot:
        tail = app.query_one(LogTail)
        message = (
            "[ERROR] ZeroDivisionError: division by zero\rTraceback (most recent call last):\r"
            '  File "/var/task/app.py", line 2, in handler\r    return 1 / 0\n'
        )
        tail.append([ev(message, t=T0), ev("after")])
        await pilot.pause()
        lines = list(tail.lines)
        assert [line.text for line in lines] == [
            "[ERROR] ZeroDivisionError: division by zero",
            "Traceback (most recent call last):",
            '  File "/var/task/app.py", line 2, in handler',
            "    return 1 / 0",
            "after",
        ]
        assert [line.first for line in lines] == [True, False, False, False, True]
        assert all(line.kind == LineKind.ERROR for line in lines[:4])
        shown = screen_lines(tail)
        assert shown[0].startswith("00:00:00.000  [ERROR]")
        # Continuations have no time and sit indented under the message.
        assert shown[1] == " " * 16 + "Traceback (most recent call last):"
        assert shown[3] == " " * 16 + "    return 1 / 0"


async def test_max_lines_bound_holds():
    app = TailApp(max_lines=100)
    async with app.run_test(size=(100, 20)) as pilot:
        tail = app.query_one(LogTail)
        for start in range(0, 300, 30):
            tail.append([ev(f"line {n}") for n in range(start, start + 30)])
        tail.append([ev("multi\rline\revent")])
        tail.append([ev(f"big {n}") for n in range(250)])  # one batch larger than the bound
        await pilot.pause()
        assert len(tail.lines) == 100
        assert tail.lines[-1].text == "big 249"
        assert tail.lines[0].text == "big 150"
        assert tail.view.virtual_size.height == 100
        assert tail.view.scroll_offset.y == tail.view.max_scroll_y  # still following the end


async def test_scrolling_up_pauses_and_counts_new_lines():
    app = TailApp()
    async with app.run_test(size=(100, 20)) as pilot:
        tail = app.query_one(LogTail)
        tail.append([ev(f"line {n}") for n in range(200)])
        tail.focus()
        await pilot.pause()
        view = tail.view
        assert tail.following and view.scroll_offset.y == view.max_scroll_y > 0
        assert tail.status_text.startswith("● following")

        await pilot.press("up", "up", "up")
        assert not tail.following
        y = view.scroll_offset.y
        assert y == view.max_scroll_y - 3
        assert tail.status_text == "⏸ paused — 0 new lines (End to resume)"

        tail.append([ev(f"new {n}") for n in range(5)])
        await pilot.pause()
        assert tail.pending_lines == 5
        assert "paused — 5 new lines (End to resume)" in tail.status_text
        tail.append([ev("a\rtraceback")])
        await pilot.pause()
        assert tail.pending_lines == 7
        assert "7 new lines" in tail.status_text
        assert view.scroll_offset.y == y  # the view did not move
        assert len(tail.lines) == 207  # but the lines were kept


async def test_mouse_wheel_up_pauses_and_view_stays_while_lines_drop():
    app = TailApp(max_lines=100)
    async with app.run_test(size=(100, 20)) as pilot:
        tail = app.query_one(LogTail)
        view = tail.view
        tail.append([ev(f"line {n}") for n in range(100)])
        await pilot.pause()
        view.post_message(events.MouseScrollUp(view, 5, 5, 0, -1, 0, False, False, False))
        await pilot.pause()
        assert not tail.following
        top = view.scroll_offset.y
        first_row = screen_lines(tail)[0]
        tail.append([ev(f"more {n}") for n in range(10)])  # evicts the 10 oldest
        await pilot.pause()
        assert len(tail.lines) == 100
        assert view.scroll_offset.y == top - 10
        assert screen_lines(tail)[0] == first_row  # the same line is still on top
        assert tail.pending_lines == 10


async def test_end_resumes_and_scrolls_to_the_end():
    app = TailApp()
    async with app.run_test(size=(100, 20)) as pilot:
        tail = app.query_one(LogTail)
        tail.function_name = "my-fn"
        tail.append([ev(f"line {n}") for n in range(200)])
        tail.focus()
        await pilot.pause()
        await pilot.press("pageup", "home")
        assert not tail.following and tail.view.scroll_offset.y == 0
        tail.append([ev(f"new {n}") for n in range(50)])
        await pilot.pause()
        assert tail.view.scroll_offset.y == 0
        await pilot.press("end")
        view = tail.view
        assert tail.following and tail.pending_lines == 0
        assert view.scroll_offset.y == view.max_scroll_y
        assert screen_lines(tail)[-1].endswith("new 49")
        assert tail.status_text == "● following my-fn"
        tail.append([ev("newest")])
        await pilot.pause()
        assert screen_lines(tail)[-1].endswith("newest")


async def test_filter_shows_matching_lines_and_escape_clears_it():
    app = TailApp()
    async with app.run_test(size=(100, 24)) as pilot:
        tail = app.query_one(LogTail)
        tail.append([ev("alpha one"), ev("Beta two"), ev("gamma three"), ev("[ERROR] beta\rtrace line")])
        tail.focus()
        await pilot.pause()
        box = app.query_one(LogTailFilter)
        assert not box.display
        await pilot.press("ctrl+f")
        assert box.display and box.has_focus
        assert box.placeholder == "filter logs…"
        await pilot.press(*"BETA")
        await pilot.pause()
        assert tail.filter_text == "BETA"
        # Case-insensitive over the event's message: both lines of the matching event show.
        assert [line.text for line in tail.shown_lines] == ["Beta two", "[ERROR] beta", "trace line"]
        assert 'filter “BETA”: 3 of 5 lines' in tail.status_text
        assert screen_lines(tail)[0].endswith("Beta two")
        tail.append([ev("no match"), ev("more beta")])
        await pilot.pause()
        assert [line.text for line in tail.shown_lines][-1] == "more beta"
        assert len(tail.shown_lines) == 4 and len(tail.lines) == 7
        await pilot.press("escape")
        await pilot.pause()
        assert not box.display and box.value == "" and tail.filter_text == ""
        assert len(tail.shown_lines) == 7
        assert tail.view.has_focus
        assert "filter" not in tail.status_text


async def test_jump_to_request_finds_the_start_line():
    app = TailApp()
    async with app.run_test(size=(100, 20)) as pilot:
        tail = app.query_one(LogTail)
        batch = []
        for n, rid in enumerate(["aaaa-1111", "bbbb-2222", "cccc-3333"]):
            batch += [ev(f"filler {n}.{k}") for k in range(30)]
            batch += invocation(rid, f"working on {rid}")
        batch += [ev(f"tail filler {k}") for k in range(30)]
        tail.append(batch)
        await pilot.pause()
        assert tail.jump_to_request("bbbb-2222") is True
        await pilot.pause()
        view = tail.view
        index = next(i for i, line in enumerate(tail.shown_lines) if line.text.startswith("START RequestId: bbbb-2222"))
        assert not tail.following
        assert view.highlight_seq == tail.shown_lines[index].seq
        assert view.scroll_offset.y == index
        assert screen_lines(tail)[0].endswith("START RequestId: bbbb-2222 Version: $LATEST")
        highlighted = list(view.render_line(0))
        plain_row = list(view.render_line(1))
        assert highlighted[-1].style.bgcolor != plain_row[-1].style.bgcolor
        assert tail.jump_to_request("no-such-request") is False
        await pilot.press("end")
        assert tail.following and view.highlight_seq is None


async def test_jump_to_request_past_an_active_filter():
    app = TailApp()
    async with app.run_test(size=(100, 20)) as pilot:
        tail = app.query_one(LogTail)
        tail.append(invocation("dddd-4444", "hello") + [ev("unrelated")])
        tail.set_filter("unrelated")
        await pilot.pause()
        assert len(tail.shown_lines) == 1
        assert tail.jump_to_request("dddd-4444")
        assert tail.filter_text == "" and len(tail.shown_lines) == 5
        assert tail.view.highlight_seq == tail.lines[0].seq


def _local_backend(tmp_path: Path):
    code = tmp_path / "marker"
    code.mkdir()
    (code / "app.py").write_text(textwrap.dedent("""
        def handler(event, context):
            print("MARKER-7f3a from the handler")
            return {"ok": True}
        """))
    config = tmp_path / "lambdatui.yaml"
    config.write_text(textwrap.dedent(f"""
        backend: local
        local:
          functions:
            tail-marker:
              runtime: {PY}
              handler: app.handler
              code: marker
              memory_size: 128
              timeout: 3
        """))
    return make_backend(parse_config(config.read_text(), config), state_dir=tmp_path / "state")


async def test_follow_a_local_backend_shows_an_invocation(tmp_path):
    backend = _local_backend(tmp_path)
    try:
        app = TailApp()
        async with app.run_test(size=(120, 30)) as pilot:
            tail = app.query_one(LogTail)
            tail.follow(backend, "tail-marker")
            await pilot.pause()
            assert tail.status_text == "● following tail-marker"
            result = await asyncio.to_thread(backend.invoke, "tail-marker", b"{}")
            assert result.ok if hasattr(result, "ok") else True
            await wait_for(pilot, lambda: any(line.text.startswith("REPORT") for line in tail.lines))
            texts = [line.text for line in tail.lines]
            starts = [t for t in texts if t.startswith("START RequestId:")]
            assert starts, texts
            request_id = starts[0].split()[2]
            i = texts.index(starts[0])
            assert texts[i + 1:i + 4] == [
                "MARKER-7f3a from the handler", f"END RequestId: {request_id}", texts[i + 3],
            ]
            assert texts[i + 3].startswith(f"REPORT RequestId: {request_id}")
            assert any("MARKER-7f3a" in row for row in screen_lines(tail))
            assert tail.jump_to_request(request_id)
            # Following another function (here: none) stops the tail and clears the pane.
            tail.follow(backend, None)
            await pilot.pause()
            assert len(tail.lines) == 0 and tail.status_text == "no function selected"
            assert not tail.workers
    finally:
        backend.close()


class TwoFunctions:
    """A quiet tail per function: its one line, then nothing (as a live tail waits)."""

    capabilities = Capabilities()

    def __init__(self) -> None:
        self.open: set[str] = set()

    async def tail_logs(self, name, *, since=None, follow=True, filter_pattern=None):
        self.open.add(name)
        try:
            yield ev(f"a line of {name}", function=name)
            await asyncio.Event().wait()
        finally:
            self.open.discard(name)


async def test_following_another_function_replaces_the_tail():
    backend = TwoFunctions()
    app = TailApp()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        async with app.run_test(size=(100, 20)) as pilot:
            tail = app.query_one(LogTail)
            tail.follow(backend, "first")
            tail.follow(backend, "second")  # before the first worker even started
            await wait_for(pilot, lambda: tail.lines and backend.open == {"second"})
            await pilot.pause(0.2)  # a late line of "first" would show by now
            assert [line.text for line in tail.lines] == ["a line of second"]
            assert backend.open == {"second"}
            assert tail.status_text == "● following second"
            tail.follow(backend, "third")
            await wait_for(pilot, lambda: [line.text for line in tail.lines] == ["a line of third"] and backend.open == {"third"})
            assert backend.open == {"third"}  # the previous tail's iterator was closed
        gc.collect()
    assert not [w for w in caught if "never awaited" in str(w.message)]


class FailingBackend:
    capabilities = Capabilities()

    """Delivers one event, then fails as a backend would."""

    name = "failing"

    def __init__(self) -> None:
        self.closed = False

    async def tail_logs(self, name, *, since=None, follow=True, filter_pattern=None):
        try:
            yield ev("one line before the failure", function=name)
            await asyncio.sleep(0.05)
            raise BackendError("ThrottlingException: [Rate exceeded]")
        finally:
            self.closed = True


async def test_backend_errors_notify_and_the_app_keeps_running():
    app = TailApp()
    backend = FailingBackend()
    async with app.run_test(size=(100, 20)) as pilot:
        tail = app.query_one(LogTail)
        tail.follow(backend, "fn")
        await wait_for(pilot, lambda: app.notifications, step=0.02)
        assert app.notifications == [("Log tail for fn stopped: ThrottlingException: [Rate exceeded]", "error")]
        assert backend.closed
        assert [line.text for line in tail.lines] == ["one line before the failure"]
        assert tail.status_text.startswith("✖ tail stopped: ThrottlingException")
        assert app.is_running and app.return_code is None
        # Still responsive: the pane's bindings work.
        tail.focus()
        await pilot.press("ctrl+l")
        assert len(tail.lines) == 0


async def test_a_backend_that_raises_at_once_and_one_that_is_not_a_generator():
    class Broken:
        capabilities = Capabilities()

        def tail_logs(self, name, **kwargs):
            raise RuntimeError("no logs for you")

    app = TailApp()
    async with app.run_test(size=(100, 20)) as pilot:
        tail = app.query_one(LogTail)
        tail.follow(Broken(), "fn")
        await wait_for(pilot, lambda: app.notifications, step=0.02)
        assert app.notifications == [("Log tail for fn stopped: RuntimeError: no logs for you", "error")]
        assert app.is_running


async def test_the_worker_coalesces_events_into_few_redraws(monkeypatch):
    class Burst:
        capabilities = Capabilities()

        async def tail_logs(self, name, *, since=None, follow=True, filter_pattern=None):
            for n in range(3000):
                yield ev(f"burst {n}", function=name)
            await asyncio.Event().wait()  # then quiet, as a live tail is

    app = TailApp(max_lines=1000)
    async with app.run_test(size=(100, 20)) as pilot:
        tail = app.query_one(LogTail)
        calls: list[int] = []
        real = tail.view.add_events

        def counting(batch, unseen=0):
            batch = list(batch)
            calls.append(len(batch))
            real(batch, unseen)

        monkeypatch.setattr(tail.view, "add_events", counting)
        tail.follow(Burst(), "fn")
        await wait_for(pilot, lambda: tail.lines and tail.lines[-1].text == "burst 2999", step=0.02)
        assert len(tail.lines) == 1000
        assert 1 <= len(calls) <= 10, calls  # batches, not one redraw per event
        tail.stop()
        await pilot.pause()
        assert tail.status_text.startswith("■ tail stopped")
