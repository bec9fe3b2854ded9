"""`tail_log_group` and `live_tail_session`: a Lambda log group as LogEvents, against moto's server
over real HTTP.

Following polls FilterLogEvents; a Live Tail session (billed per minute) runs only through
`live_tail_session`, when the user asks. moto's StartLiveTail replays the events it holds and
closes the stream, so the tests of a live session that stays open use a stand-in stream (see
`test_live_tail_session_and_polls_never_repeat_a_line`).
"""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
from aws_support import CREDENTIALS

from lambdatui.backends import aws_logs
from lambdatui.backends.aws import AwsBackend
from lambdatui.backends.base import BackendError
from lambdatui.config import parse_config

GROUP = "/aws/lambda/fn"
REQUEST = "3f1c8a52-6d1e-4b8e-9a4f-1c2d3e4f5a6b"


@pytest.fixture
def moto(moto_server):
    return moto_server  # the session's server (tests/conftest.py)


@pytest.fixture
def aws(moto, monkeypatch, tmp_path):
    """A clean moto, and credentials that can only ever reach it."""
    for key, value in CREDENTIALS.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    moto.reset()
    return moto


@pytest.fixture
def backend(aws):
    b = AwsBackend(parse_config(f"backend: aws\naws: {{region: us-east-1, endpoint_url: '{aws.endpoint}'}}\n"))
    yield b
    b.close()


def now_ms() -> int:
    return int(time.time() * 1000)


def put(logs, stream: str, *events: tuple[int, str]) -> None:
    logs.put_log_events(
        logGroupName=GROUP, logStreamName=stream,
        logEvents=[{"timestamp": t, "message": m} for t, m in events],
    )


def make_group(logs, *streams: str) -> None:
    logs.create_log_group(logGroupName=GROUP)
    for s in streams:
        logs.create_log_stream(logGroupName=GROUP, logStreamName=s)


def lambda_lines(t0: int, marker: str) -> list[tuple[int, str]]:
    """One invocation's lines as Lambda writes them (each ends with a newline)."""
    return [
        (t0, f"START RequestId: {REQUEST} Version: $LATEST\n"),
        (t0 + 10, f"{marker}\n"),
        (t0 + 20, f"END RequestId: {REQUEST}\n"),
        (t0 + 30, f"REPORT RequestId: {REQUEST}\tDuration: 1.52 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\tMax Memory Used: 40 MB\n"),
    ]


async def history(backend, **kwargs) -> list:
    return [e async for e in aws_logs.tail_log_group(backend, "fn", follow=False, **kwargs)]


class Follower:
    """Consumes a following tail in a task; `wait_for(n)` waits until n events have arrived."""

    def __init__(self, backend, live: bool = False, **kwargs) -> None:
        self.events: list = []
        if live:
            self.gen = aws_logs.live_tail_session(backend, "fn", **kwargs)
        else:
            self.gen = aws_logs.tail_log_group(backend, "fn", follow=True, poll_interval=0.05, **kwargs)
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        async for e in self.gen:
            self.events.append(e)

    async def wait_for(self, n: int, timeout: float = 5.0) -> list:
        deadline = time.monotonic() + timeout
        while len(self.events) < n:
            if self.task.done():
                self.task.result()  # raises what the tail raised
                raise AssertionError(f"tail ended after {len(self.events)} events")
            assert time.monotonic() < deadline, f"only {len(self.events)} of {n} events: {self.messages()}"
            await asyncio.sleep(0.02)
        return self.events

    def messages(self) -> list[str]:
        return [e.message for e in self.events]

    async def stop(self) -> None:
        self.task.cancel()
        try:
            await self.task
        except asyncio.CancelledError:
            pass
        assert not self.task.done() or self.task.cancelled() or self.task.exception() is None


# -- history -------------------------------------------------------------------------------------


async def test_history_interleaves_streams_in_timestamp_order(aws, backend):
    logs = aws.client("logs")
    make_group(logs, "2026/11/27/[$LATEST]aaaa", "2026/11/27/[$LATEST]bbbb")
    t = now_ms() - 30_000
    first, second = lambda_lines(t, "hello from a"), lambda_lines(t + 5, "hello from b")
    put(logs, "2026/11/27/[$LATEST]aaaa", *first)
    put(logs, "2026/11/27/[$LATEST]bbbb", *second)

    events = await history(backend, since=(t - 1000) / 1000)

    expected = sorted(first + second)
    assert [e.message for e in events] == [m.rstrip("\n") for _, m in expected]
    assert [e.timestamp for e in events] == [ms / 1000 for ms, _ in expected]
    assert [e.event_id for e in events] == list(range(1, 9))
    assert {e.function for e in events} == {"fn"}
    assert events[0].log_stream == "2026/11/27/[$LATEST]aaaa"
    assert events[1].log_stream == "2026/11/27/[$LATEST]bbbb"
    # And through the backend's own interface.
    via_backend = [e async for e in backend.tail_logs("fn", since=(t - 1000) / 1000, follow=False)]
    assert [e.message for e in via_backend] == [e.message for e in events]


async def test_since_excludes_older_events_and_defaults_to_an_hour(aws, backend):
    logs = aws.client("logs")
    make_group(logs, "s")
    t = now_ms()
    put(logs, "s", (t - 2 * 3600_000, "two hours ago"), (t - 600_000, "ten minutes ago"), (t - 10_000, "ten seconds ago"))

    assert [e.message for e in await history(backend, since=(t - 60_000) / 1000)] == ["ten seconds ago"]
    assert [e.message for e in await history(backend)] == ["ten minutes ago", "ten seconds ago"]
    assert len(await history(backend, since=(t - 3 * 3600_000) / 1000)) == 3


async def test_filter_pattern_narrows(aws, backend):
    logs = aws.client("logs")
    make_group(logs, "s")
    t = now_ms() - 10_000
    put(logs, "s", *lambda_lines(t, "MARKER one"), *lambda_lines(t + 100, "something else"))

    events = await history(backend, since=(t - 1000) / 1000, filter_pattern="MARKER")
    assert [e.message for e in events] == ["MARKER one"]
    events = await history(backend, since=(t - 1000) / 1000, filter_pattern="REPORT")
    assert len(events) == 2 and all(e.message.startswith("REPORT") for e in events)


async def test_every_page_is_followed(aws, backend):
    # moto pages FilterLogEvents when a limit is given (its default page is 10,000 events), so pages
    # of 50 make 120 events take three requests, each after the previous one's nextToken.
    logs = aws.client("logs")
    make_group(logs, "a", "b")
    t = now_ms() - 60_000
    put(logs, "a", *[(t + 2 * i, f"line {2 * i}") for i in range(60)])
    put(logs, "b", *[(t + 2 * i + 1, f"line {2 * i + 1}") for i in range(60)])
    calls: list[dict] = []
    backend.logs_client.meta.events.register(
        "provide-client-params.logs.FilterLogEvents", lambda params, **_: calls.append(dict(params))
    )

    events = await history(backend, since=(t - 1000) / 1000, page_size=50)

    assert [e.message for e in events] == [f"line {i}" for i in range(120)]
    assert len(calls) == 3
    assert "nextToken" not in calls[0] and calls[1]["nextToken"] and calls[2]["nextToken"] != calls[1]["nextToken"]


async def test_missing_group_without_follow_is_reported_as_aws_logs_tail_does(aws, backend):
    with pytest.raises(aws_logs.LogGroupNotFoundError) as caught:
        await history(backend)
    assert str(caught.value) == "The specified log group does not exist: /aws/lambda/fn (fn has not logged there yet)"


async def test_unreachable_endpoint_names_it_quickly(aws):
    b = AwsBackend(parse_config("backend: aws\naws: {region: us-east-1, endpoint_url: 'http://127.0.0.1:9'}\n"))
    started = time.monotonic()
    with pytest.raises(BackendError) as caught:
        await history(b)
    assert time.monotonic() - started < 5
    assert "http://127.0.0.1:9" in str(caught.value)
    assert "\n" not in str(caught.value)
    with pytest.raises(BackendError):  # following fails the same way, not quietly
        async for _ in aws_logs.tail_log_group(b, "fn", follow=True, poll_interval=0.05):
            pass


# -- following -----------------------------------------------------------------------------------


async def test_follow_yields_new_events_once_though_polls_overlap(aws, backend, monkeypatch):
    logs = aws.client("logs")
    make_group(logs, "a", "b")
    t = now_ms() - 5_000
    put(logs, "a", (t, "old 1"), (t + 1, "old 2"))
    live_attempts = []
    original = aws_logs._Tail._live_client
    monkeypatch.setattr(aws_logs._Tail, "_live_client", lambda self: live_attempts.append(1) or original(self))
    monkeypatch.setattr(aws_logs._Tail, "live", lambda self: live_attempts.append(1) or original(self))

    tail = Follower(backend, since=(t - 1000) / 1000)
    try:
        await tail.wait_for(2)
        # Same timestamp as the last event seen, in both streams: every poll's window includes them.
        put(logs, "a", (t + 1, "same ms as old 2"))
        put(logs, "b", (t + 1, "same ms, other stream"), (t + 2, "new 3"))
        await tail.wait_for(5)
        await asyncio.sleep(0.5)  # ~10 more polls, all overlapping what was already seen
        put(logs, "b", (now_ms(), "newest"))
        await tail.wait_for(6)
        await asyncio.sleep(0.3)
    finally:
        await tail.stop()

    messages = tail.messages()
    assert messages[:2] == ["old 1", "old 2"]
    assert sorted(messages[2:5]) == sorted(["same ms as old 2", "same ms, other stream", "new 3"])
    assert messages[5:] == ["newest"]
    assert [e.event_id for e in tail.events] == list(range(1, 7))
    # Following polls: Live Tail (billed per session-minute) is never started without the user.
    assert live_attempts == []


async def test_follow_waits_quietly_for_a_missing_group(aws, backend):
    tail = Follower(backend)
    try:
        await asyncio.sleep(0.4)  # several polls answered ResourceNotFoundException
        assert not tail.task.done() and tail.events == []
        logs = aws.client("logs")
        make_group(logs, "s")
        put(logs, "s", (now_ms(), "START RequestId: first\n"), (now_ms() + 1, "first line"))
        await tail.wait_for(2)
        await asyncio.sleep(0.3)
    finally:
        await tail.stop()
    assert tail.messages() == ["START RequestId: first", "first line"]


async def test_follow_polling_only(aws, backend):
    logs = aws.client("logs")
    make_group(logs, "s")
    put(logs, "s", (now_ms() - 1000, "before"))
    tail = Follower(backend)
    try:
        await tail.wait_for(1)
        put(logs, "s", (now_ms(), "after"))
        await tail.wait_for(2)
        await asyncio.sleep(0.2)
    finally:
        await tail.stop()
    assert tail.messages() == ["before", "after"]


class StandInLiveTail:
    """StartLiveTail as AWS does it: only events ingested after the session started, and a stream
    that stays open. `on_start` runs when the session starts (the gap between history and session)."""

    def __init__(self, on_start, updates) -> None:
        self.on_start = on_start
        self.updates = updates
        self.closed = threading.Event()
        self.calls: list[dict] = []

    def start_live_tail(self, **kwargs):
        self.calls.append(kwargs)
        self.on_start()
        return {"responseStream": self}

    def __iter__(self):
        yield {"sessionStart": {"sessionId": "s-1"}}
        for update in self.updates:
            yield {"sessionUpdate": {"sessionMetadata": {"sampled": False}, "sessionResults": update}}
        self.closed.wait(10)

    def close(self) -> None:
        self.closed.set()


async def test_live_tail_session_and_polls_never_repeat_a_line(aws, backend, monkeypatch):
    logs = aws.client("logs")
    make_group(logs, "s")
    t = now_ms() - 3000
    put(logs, "s", (t, "A history\n"))
    arn = logs.describe_log_groups(logGroupNamePrefix=GROUP)["logGroups"][0]["logGroupArn"]

    def live(ts: int, message: str) -> dict:
        return {"logStreamName": "s", "logGroupIdentifier": arn, "message": message, "timestamp": ts, "ingestionTime": ts + 5}

    # B lands after the history read, before the session: only the session's first poll finds it,
    # but the session delivers it too (ingested as it started). C comes only through the session.
    stand_in = StandInLiveTail(
        on_start=lambda: put(logs, "s", (t + 1, "B gap\n")),
        updates=[[live(t, "A history\n"), live(t + 1, "B gap\n")], [], [live(t + 2, "C live\n")], [live(t - 7_200_000, "too old")]],
    )
    monkeypatch.setattr(aws_logs._Tail, "_live_client", lambda self: stand_in)
    tail = Follower(backend, live=True, since=(t - 1000) / 1000, filter_pattern="-nothing")
    try:
        await tail.wait_for(3)
        await asyncio.sleep(0.3)
        assert not tail.task.done()
    finally:
        await tail.stop()
    assert tail.messages() == ["A history", "B gap", "C live"]
    assert stand_in.calls == [{"logGroupIdentifiers": [arn], "logEventFilterPattern": "-nothing"}]
    assert stand_in.closed.wait(2)  # the session is closed when the tail stops


async def test_live_tail_events_are_filtered_client_side(aws, backend, monkeypatch):
    logs = aws.client("logs")
    make_group(logs, "s")
    t = now_ms()
    stand_in = StandInLiveTail(on_start=lambda: None, updates=[[
        {"logStreamName": "s", "message": "ERROR bad", "timestamp": t},
        {"logStreamName": "s", "message": "INFO fine", "timestamp": t + 1},
        {"logStreamName": "s", "message": "ERROR again", "timestamp": t + 2},
    ]])
    monkeypatch.setattr(aws_logs._Tail, "_live_client", lambda self: stand_in)
    tail = Follower(backend, live=True, filter_pattern="ERROR")
    try:
        await tail.wait_for(2)
        await asyncio.sleep(0.2)
    finally:
        await tail.stop()
    assert tail.messages() == ["ERROR bad", "ERROR again"]


class EndingLiveTail(StandInLiveTail):
    """A session that ends by itself, as AWS ends every session after three hours."""

    def __iter__(self):
        yield {"sessionStart": {"sessionId": "s-1"}}
        for update in self.updates:
            yield {"sessionUpdate": {"sessionMetadata": {"sampled": False}, "sessionResults": update}}


async def test_live_tail_session_that_ends_is_not_started_again(aws, backend, monkeypatch):
    logs = aws.client("logs")
    make_group(logs, "s")
    t = now_ms()
    stand_in = EndingLiveTail(on_start=lambda: None, updates=[[{"logStreamName": "s", "message": "live line\n", "timestamp": t}]])
    monkeypatch.setattr(aws_logs._Tail, "_live_client", lambda self: stand_in)
    events = [e async for e in aws_logs.live_tail_session(backend, "fn")]
    assert [e.message for e in events] == ["live line"]
    assert len(stand_in.calls) == 1  # ended: the caller decides, the user starts another


async def test_live_tail_session_that_cannot_start_says_why(aws, backend, monkeypatch):
    logs = aws.client("logs")
    make_group(logs, "s")

    class Refusing:
        def start_live_tail(self, **kwargs):
            raise RuntimeError("no StartLiveTail here")

    monkeypatch.setattr(aws_logs._Tail, "_live_client", lambda self: Refusing())
    with pytest.raises(aws_logs.LiveTailError) as caught:
        async for _ in aws_logs.live_tail_session(backend, "fn"):
            pass
    assert str(caught.value) == f"Live Tail could not start on {GROUP}: no StartLiveTail here"


async def test_live_tail_session_needs_a_log_group(aws, backend):
    with pytest.raises(aws_logs.LogGroupNotFoundError):
        async for _ in aws_logs.live_tail_session(backend, "fn"):
            pass


async def test_backend_tail_logs_polls_and_live_tail_is_its_own_call(aws, backend, monkeypatch):
    assert backend.capabilities.live_tail
    logs = aws.client("logs")
    make_group(logs, "s")
    put(logs, "s", (now_ms() - 1000, "START RequestId: a Version: $LATEST\n"))
    started = []
    monkeypatch.setattr(aws_logs._Tail, "live", lambda self: started.append(1) or (_ for _ in ()))
    stream = backend.tail_logs("fn", follow=True)
    first = await stream.__anext__()
    await asyncio.sleep(1.5)  # a poll or two
    await stream.aclose()
    assert first.message == "START RequestId: a Version: $LATEST" and started == []
