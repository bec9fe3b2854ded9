"""The log tail's Live Tail key (issue 15, item 14): CloudWatch Logs Live Tail is billed per
session-minute, so the tail polls until the user presses `t`, shows the rate and the cost so far
while a session runs, and goes back to polling — never starting another session by itself — when
`t` is pressed again, another function is followed, or the session ends (AWS ends them after 3 h).

The backend here is a stand-in for the widget's side of the `Backend` contract (`tail_logs`,
`live_tail`, `capabilities`); the AWS side of both calls is tested against moto and the AWS-shaped
endpoint in tests/test_aws_logs*.py.
"""

from __future__ import annotations

import asyncio

from textual.app import App, ComposeResult

from lambdatui.backends.base import BackendError, Capabilities
from lambdatui.executor.logstore import LogEvent
from lambdatui.figures import live_tail_usd_per_minute
from lambdatui.tui.widgets.log_tail import SWITCH_OVERLAP_SECONDS, LogTail

from .conftest import wait_for

T0 = 1_795_774_800.0


def ev(message: str, t: float, n: int, function: str = "fn") -> LogEvent:
    return LogEvent(t, function, "2026/11/27/[$LATEST]abc", message, n)


class CloudWatchLike:
    """Polling yields two lines then waits; a live session yields the second again (the overlap a
    switch re-reads) and a new one, then waits — or ends, or fails, as told."""

    capabilities = Capabilities(live_tail=True)
    name = "aws"

    def __init__(self, live_ends: bool = False, live_error: str | None = None) -> None:
        self.polls: list[dict] = []
        self.sessions: list[dict] = []
        self.open: set[str] = set()
        self.live_ends = live_ends
        self.live_error = live_error

    async def tail_logs(self, name, *, since=None, follow=True, filter_pattern=None):
        self.polls.append({"name": name, "since": since})
        self.open.add(f"poll {name}")
        try:
            if len(self.polls) == 1:
                yield ev("START RequestId: r1 Version: $LATEST", T0, 1, name)
                yield ev("polled line", T0 + 1, 2, name)
            await asyncio.Event().wait()
        finally:
            self.open.discard(f"poll {name}")

    async def live_tail(self, name, *, since=None, filter_pattern=None):
        self.sessions.append({"name": name, "since": since})
        if self.live_error:
            raise BackendError(self.live_error)
        self.open.add(f"live {name}")
        try:
            yield ev("polled line", T0 + 1, 2, name)  # the session's catch-up read finds it again
            yield ev("live line", T0 + 2, 3, name)
            if not self.live_ends:
                await asyncio.Event().wait()
        finally:
            self.open.discard(f"live {name}")


class Local:
    capabilities = Capabilities()
    name = "local"

    async def tail_logs(self, name, *, since=None, follow=True, filter_pattern=None):
        yield ev("local line", T0, 1, name)
        await asyncio.Event().wait()


class TailApp(App):
    def __init__(self) -> None:
        super().__init__()
        self.notifications: list[tuple[str, str]] = []

    def compose(self) -> ComposeResult:
        yield LogTail(id="tail")

    def notify(self, message: str, *, severity: str = "information", **kwargs) -> None:
        self.notifications.append((message, severity))
        super().notify(message, severity=severity, **kwargs)


def texts(tail: LogTail) -> list[str]:
    return [line.text for line in tail.lines]


async def test_tail_polls_and_never_starts_live_tail_unasked():
    backend = CloudWatchLike()
    app = TailApp()
    async with app.run_test(size=(120, 20)) as pilot:
        tail = app.query_one(LogTail)
        tail.follow(backend, "fn")
        await wait_for(pilot, lambda: len(tail.lines) == 2)
        await pilot.pause(0.3)
        assert backend.sessions == [] and not tail.live
        assert tail.status_text == "● following fn (polling) · t: Live Tail, $0.01/min"


async def test_t_starts_a_session_with_its_cost_and_t_again_stops_it():
    backend = CloudWatchLike()
    app = TailApp()
    async with app.run_test(size=(120, 20)) as pilot:
        tail = app.query_one(LogTail)
        tail.follow(backend, "fn")
        tail.focus()
        await wait_for(pilot, lambda: len(tail.lines) == 2)
        await pilot.press("t")
        await wait_for(pilot, lambda: "live line" in texts(tail))
        assert tail.live and backend.open == {"live fn"}  # the poll was stopped
        # It starts just before the newest line shown; the line both streams return shows once.
        assert backend.sessions == [{"name": "fn", "since": T0 + 1 - SWITCH_OVERLAP_SECONDS}]
        assert texts(tail) == ["START RequestId: r1 Version: $LATEST", "polled line", "live line"]
        assert tail.status_text.startswith("◉ Live Tail fn · $0.01/min · 0:0")
        assert tail.status_text.endswith(" so far · t stops")
        assert live_tail_usd_per_minute() == 0.01
        await pilot.press("t")
        await wait_for(pilot, lambda: backend.open == {"poll fn"})
        assert not tail.live and len(backend.sessions) == 1 and len(backend.polls) == 2
        assert tail.status_text == "● following fn (polling) · t: Live Tail, $0.01/min"
        assert texts(tail) == ["START RequestId: r1 Version: $LATEST", "polled line", "live line"]


async def test_following_another_function_ends_the_session():
    backend = CloudWatchLike()
    app = TailApp()
    async with app.run_test(size=(120, 20)) as pilot:
        tail = app.query_one(LogTail)
        tail.follow(backend, "fn")
        await wait_for(pilot, lambda: len(tail.lines) == 2)
        assert tail.start_live_tail()
        await wait_for(pilot, lambda: backend.open == {"live fn"})
        tail.follow(backend, "other")
        await wait_for(pilot, lambda: backend.open == {"poll other"})
        assert not tail.live and [s["name"] for s in backend.sessions] == ["fn"]


async def test_a_session_that_ends_is_not_restarted_without_the_user():
    backend = CloudWatchLike(live_ends=True)
    app = TailApp()
    async with app.run_test(size=(120, 20)) as pilot:
        tail = app.query_one(LogTail)
        tail.follow(backend, "fn")
        await wait_for(pilot, lambda: len(tail.lines) == 2)
        tail.start_live_tail()
        await wait_for(pilot, lambda: app.notifications)
        (message, severity), = app.notifications
        assert message.startswith("Live Tail session for fn ended after 0:0") and message.endswith(
            "(AWS ends them after three hours). Polling again; press t for another session."
        )
        assert severity == "information"
        await wait_for(pilot, lambda: backend.open == {"poll fn"})
        await pilot.pause(0.3)
        assert len(backend.sessions) == 1 and not tail.live


async def test_a_session_that_cannot_start_warns_and_polling_goes_on():
    backend = CloudWatchLike(live_error="Live Tail could not start on /aws/lambda/fn: Access denied")
    app = TailApp()
    async with app.run_test(size=(120, 20)) as pilot:
        tail = app.query_one(LogTail)
        tail.follow(backend, "fn")
        await wait_for(pilot, lambda: len(tail.lines) == 2)
        tail.start_live_tail()
        await wait_for(pilot, lambda: app.notifications)
        assert app.notifications == [("Live Tail for fn stopped: Live Tail could not start on /aws/lambda/fn: Access denied. Polling again.", "warning")]
        await wait_for(pilot, lambda: backend.open == {"poll fn"})
        assert not tail.live and tail.status_text.startswith("● following fn")


async def test_a_backend_without_live_tail_says_its_tail_is_live_already():
    app = TailApp()
    async with app.run_test(size=(120, 20)) as pilot:
        tail = app.query_one(LogTail)
        tail.follow(Local(), "fn")
        tail.focus()
        await wait_for(pilot, lambda: len(tail.lines) == 1)
        await pilot.press("t")
        await wait_for(pilot, lambda: app.notifications)
        assert app.notifications == [("The local backend's tail already shows lines as they are written.", "information")]
        assert not tail.live and tail.status_text == "● following fn"


def test_json_format_lines_are_styled_as_their_text_counterparts():
    from lambdatui.tui.widgets.log_tail import LineKind, classify

    assert classify('{"time":"t","type":"platform.start","record":{"requestId":"r"}}') == LineKind.PLATFORM
    assert classify('{"time": "t", "type": "platform.report", "record": {"requestId": "r", "status": "success"}}') == LineKind.REPORT
    assert classify('{"time":"t","type":"platform.report","record":{"requestId":"r","status":"timeout"}}') == LineKind.REPORT_ERROR
    assert classify('{"time":"t","type":"platform.initReport","record":{"status":"error"}}') == LineKind.ERROR
    assert classify('{"timestamp":"t","level":"ERROR","message":"boom"}') == LineKind.ERROR
    assert classify('{"timestamp":"t","level":"WARN","message":"hm"}') == LineKind.WARNING
    assert classify('{"timestamp":"t","level":"INFO","message":"ok"}') == LineKind.PLAIN


async def test_jump_to_a_request_finds_its_json_platform_start():
    app = TailApp()
    async with app.run_test(size=(120, 20)) as pilot:
        tail = app.query_one(LogTail)
        tail.append([
            ev('{"timestamp":"t","level":"INFO","requestId":"r9","message":"before"}', T0, 1),
            ev('{"time":"t","type":"platform.start","record":{"requestId":"r9","version":"$LATEST"}}', T0 + 1, 2),
        ])
        await pilot.pause()
        assert tail.jump_to_request("r9")
        assert tail.view.highlight_seq == 1  # the platform.start line, not the earlier app line
