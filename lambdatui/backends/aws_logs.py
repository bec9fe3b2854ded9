"""A Lambda function's CloudWatch log group as an async stream of `LogEvent`s: history, then new lines.

The log group is the function's `LoggingConfig.LogGroup` (the backend keeps each function's
LoggingConfig from the configuration it fetched), `/aws/lambda/<name>` by default. History is
`FilterLogEvents` (every page). Following polls FilterLogEvents: CloudWatch Logs bills no request
of it (its quota is per account and Region). A CloudWatch Logs Live Tail session (`StartLiveTail`:
one streamed connection, events within a second or two) is billed per session-minute, so it is
started only when the user asks for it (`live_tail_session`), and is never started again without
them when it ends (AWS ends a session after three hours).

A log group that does not exist is reported as `LogGroupNotFoundError` when reading history (as
`aws logs tail` reports it); a follow waits quietly for it (Lambda creates it on a function's first
log line).

No line is yielded twice. Polls overlap in time (CloudWatch makes events visible seconds after
their timestamp, out of order across streams), so polled events are de-duplicated by CloudWatch's
`eventId`; live-tail events carry no eventId, so where a live session and a poll may both return an
event (around the session's start) they are matched by timestamp, stream and message.
Both memories are bounded.

Every REPORT line the stream yields (text, or a JSON `platform.report`) is noted in the backend's
`reports` (`ReportLog`), so the monitor can show cold starts and memory that CloudWatch's metrics
do not have from the lines already fetched, at no cost.

Every boto3 call runs off the event loop: unary calls in `asyncio.to_thread`, the live-tail
stream in a daemon thread of its own (so an interrupted `asyncio.run` never waits on it).
"""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections import Counter, deque
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Literal

import botocore.exceptions
from botocore.config import Config as BotoConfig

from .. import logformat
from ..logfilter import compile_filter
from .aws_errors import translate
from .base import BackendError, LogEvent

if TYPE_CHECKING:
    from botocore.eventstream import EventStream
    from mypy_boto3_logs import CloudWatchLogsClient
    from mypy_boto3_logs.type_defs import (
        DescribeLogGroupsRequestTypeDef,
        FilterLogEventsRequestTypeDef,
        StartLiveTailRequestTypeDef,
        StartLiveTailResponseStreamTypeDef,
    )

    from .aws import AwsBackend

    # What the live-tail thread hands the event loop: a stream item, or how the stream ended.
    _LiveMessage = (
        tuple[Literal["item"], StartLiveTailResponseStreamTypeDef]
        | tuple[Literal["missing", "end"], None]
        | tuple[Literal["error"], Exception]
    )

__all__ = ["tail_log_group", "live_tail_session", "log_group_name", "LogGroupNotFoundError", "LiveTailError", "ReportLog"]

# Without `since`, history starts this long ago.
DEFAULT_HISTORY_S = 3600
# Each poll starts this far before the newest timestamp seen: CloudWatch can make an event visible
# after a later-stamped one (ingestion delay, several streams), and a poll from exactly the last
# timestamp would miss it. The overlap is what makes de-duplication necessary.
POLL_OVERLAP_MS = 10_000
# Upper bounds on the de-duplication memories; ids are also forgotten once older than any later poll
# could return, so these only matter when a function logs this much inside one overlap window.
MAX_SEEN_IDS = 100_000
MAX_CROSS_KEYS = 20_000

_NOT_FOUND = ("ResourceNotFoundException", "ResourceNotFound")

# An event as both sources know it: (timestamp in ms, log stream, hash of the message).
_EventKey = tuple[int, str, int]


# REPORT figures kept per function for the monitor (a day of a busy function's reports would be more
# than any window needs; the oldest go first).
MAX_REPORTS_PER_FUNCTION = 5_000


def log_group_name(function: str) -> str:
    """Lambda's default log group: `/aws/lambda/<function>` (a `LoggingConfig.LogGroup` overrides it)."""
    return f"/aws/lambda/{function}"


class _GroupMissing(Exception):
    """The log group does not exist (yet): Lambda creates it on the first invocation's first line."""


class LogGroupNotFoundError(BackendError):
    """The function's log group does not exist: it has not logged yet, or its LoggingConfig names
    a group that was deleted. `aws logs tail` reports it the same way (ResourceNotFoundException)."""

    code = "ResourceNotFoundException"


class LiveTailError(BackendError):
    """A Live Tail session could not be started (no permission, an endpoint without StartLiveTail)."""

    code = "LiveTailUnavailable"


def _missing(group: str, function: str) -> LogGroupNotFoundError:
    return LogGroupNotFoundError(
        f"The specified log group does not exist: {group} ({function} has not logged there yet)"
    )


class ReportLog:
    """REPORT figures seen per function (from the log tail and from invokes): (epoch s, Report).

    Thread-safe: the tail notes from the event loop, invokes from worker threads."""

    def __init__(self, cap: int = MAX_REPORTS_PER_FUNCTION) -> None:
        self._reports: dict[str, deque[tuple[float, logformat.Report]]] = {}
        self._ids: dict[str, set[str]] = {}
        self._lock = threading.Lock()
        self._cap = cap
        self.earliest: dict[str, float] = {}  # the oldest time each function's lines were read from

    def note(self, function: str, timestamp: float, report: logformat.Report) -> None:
        with self._lock:
            ids = self._ids.setdefault(function, set())
            if report.request_id in ids:
                return  # the same invocation from the tail and from its invoke
            kept = self._reports.setdefault(function, deque())
            kept.append((timestamp, report))
            ids.add(report.request_id)
            while len(kept) > self._cap:
                ids.discard(kept.popleft()[1].request_id)

    def covered_from(self, function: str, since: float) -> None:
        """Lines of `function` were read from `since` on: reports before it are not known."""
        with self._lock:
            current = self.earliest.get(function)
            self.earliest[function] = since if current is None else min(current, since)

    def between(self, function: str, since: float, until: float) -> list[logformat.Report]:
        with self._lock:
            return [r for t, r in self._reports.get(function, ()) if since <= t < until]

    def forget(self) -> None:
        with self._lock:
            self._reports.clear()
            self._ids.clear()
            self.earliest.clear()


class _SeenIds:
    """eventIds yielded from FilterLogEvents, forgotten once no later poll can return them."""

    def __init__(self, cap: int = MAX_SEEN_IDS) -> None:
        self._ids: set[str] = set()
        self._order: deque[tuple[int, str]] = deque()
        self._cap = cap

    def __contains__(self, event_id: str) -> bool:
        return event_id in self._ids

    def add(self, event_id: str, timestamp_ms: int) -> None:
        self._ids.add(event_id)
        self._order.append((timestamp_ms, event_id))
        while len(self._order) > self._cap:
            self._ids.discard(self._order.popleft()[1])

    def forget_before(self, timestamp_ms: int) -> None:
        # Insertion order is only roughly timestamp order; an id stuck behind a newer one is kept a
        # little longer, which costs memory, never a duplicate.
        while self._order and self._order[0][0] < timestamp_ms:
            self._ids.discard(self._order.popleft()[1])


class _CrossSource:
    """Events yielded by one source (poll or live tail) that the other may return again.

    Live-tail events have no eventId, so an event is known by (timestamp, stream, message) — the
    message by its hash, to keep memory small. Counts, not a set: two identical lines in the same
    millisecond are two events. An event from one source that matches an uncounted-for event of the
    other is the same event: consumed, not yielded.
    """

    def __init__(self, cap: int = MAX_CROSS_KEYS) -> None:
        self._counts: dict[str, Counter[_EventKey]] = {"poll": Counter(), "live": Counter()}
        self._order: deque[tuple[str, _EventKey]] = deque()
        self._cap = cap

    def seen_by_other(self, source: str, key: _EventKey) -> bool:
        other = self._counts["live" if source == "poll" else "poll"]
        if other[key] > 0:
            other[key] -= 1
            return True
        return False

    def note(self, source: str, key: _EventKey) -> None:
        self._counts[source][key] += 1
        self._order.append((source, key))
        while len(self._order) > self._cap:
            old_source, old_key = self._order.popleft()
            counts = self._counts[old_source]
            if counts[old_key] > 0:
                counts[old_key] -= 1
            if counts[old_key] <= 0:
                del counts[old_key]


class _Tail:
    def __init__(
        self, backend: AwsBackend, name: str, group: str, since: float | None, filter_pattern: str | None, page_size: int | None
    ) -> None:
        self.backend = backend
        self.name = name
        self.group = group
        self.filter_pattern = filter_pattern or None
        self.page_size = page_size
        self.start_ms = int(since * 1000) if since is not None else int((time.time() - DEFAULT_HISTORY_S) * 1000)
        self.newest_ms: int | None = None
        self.seen = _SeenIds()
        self.cross = _CrossSource()
        self.ids = itertools.count(1)
        self.live_error: Exception | None = None  # why a live session could not start
        self.live_ended_by: Exception | None = None  # what ended a session that had started
        # FilterLogEvents applies the pattern server-side; live-tail events are checked here as well
        # (the pattern is sent with StartLiveTail too, but an emulator may ignore it). JSON and
        # space-delimited patterns are left to the server: compile_filter would read them as
        # literal text and drop every event the server matched.
        pattern = (filter_pattern or "").strip()
        self.live_match = compile_filter(None if pattern[:1] in ("{", "[") else pattern)

    # -- shared ----------------------------------------------------------------------------------

    def next_start_ms(self) -> int:
        if self.newest_ms is None:
            return self.start_ms
        # Never before `since`: anything older was outside the history the caller asked for.
        return max(self.start_ms, self.newest_ms - POLL_OVERLAP_MS)

    def _event(self, timestamp_ms: int, stream: str, message: str) -> LogEvent:
        if self.newest_ms is None or timestamp_ms > self.newest_ms:
            self.newest_ms = timestamp_ms
        # Lambda's lines end with "\n"; a LogEvent's message is the line without it.
        text = message.rstrip("\r\n")
        if text.startswith(("REPORT RequestId:", "{")):
            report = logformat.parse_report(text)
            if report is not None:
                self.backend.reports.note(self.name, timestamp_ms / 1000.0, report)
        return LogEvent(timestamp_ms / 1000.0, self.name, stream, text, next(self.ids))

    # -- FilterLogEvents ---------------------------------------------------------------------------

    async def poll(self, start_ms: int) -> AsyncIterator[LogEvent]:
        """Every page of FilterLogEvents from start_ms, skipping events already yielded."""
        client = self.backend.logs_client
        kwargs: FilterLogEventsRequestTypeDef = {
            "logGroupName": self.group,
            "startTime": start_ms,
            # Deprecated and ignored by AWS, which always interleaves streams by timestamp; moto
            # orders events across streams only when it is set.
            "interleaved": True,
        }
        if self.filter_pattern:
            kwargs["filterPattern"] = self.filter_pattern
        if self.page_size:
            kwargs["limit"] = self.page_size
        while True:
            try:
                page = await asyncio.to_thread(client.filter_log_events, **kwargs)
            except botocore.exceptions.ClientError as e:
                if e.response.get("Error", {}).get("Code") in _NOT_FOUND:
                    raise _GroupMissing() from None
                raise translate(e, self.backend) from None
            except botocore.exceptions.BotoCoreError as e:
                raise translate(e, self.backend) from None
            for raw in page.get("events", ()):
                event_id = raw.get("eventId")
                ts = int(raw.get("timestamp", 0))
                if event_id is not None:
                    if event_id in self.seen:
                        continue
                    self.seen.add(event_id, ts)
                stream = raw.get("logStreamName", "")
                message = raw.get("message", "")
                key = (ts, stream, hash(message))
                if self.cross.seen_by_other("poll", key):
                    continue  # already yielded from the live tail
                self.cross.note("poll", key)
                yield self._event(ts, stream, message)
            token = page.get("nextToken")
            # AWS may answer a page with no events and a token (it searched, found nothing yet):
            # keep going until there is no token. A token equal to the one sent would loop forever.
            if not token or token == kwargs.get("nextToken"):
                break
            kwargs["nextToken"] = token
        self.seen.forget_before(self.next_start_ms())

    # -- StartLiveTail -----------------------------------------------------------------------------

    def _group_arn(self) -> str | None:
        """The log group's ARN (StartLiveTail takes ARNs), or None when it does not exist."""
        kwargs: DescribeLogGroupsRequestTypeDef = {"logGroupNamePrefix": self.group}
        while True:
            page = self.backend.logs_client.describe_log_groups(**kwargs)
            for g in page.get("logGroups", ()):
                if g.get("logGroupName") == self.group:
                    arn = g.get("logGroupArn") or g.get("arn", "")
                    return arn[:-2] if arn.endswith(":*") else arn
            token = page.get("nextToken")
            if not token or token == kwargs.get("nextToken"):
                return None
            kwargs["nextToken"] = token

    def _live_client(self) -> CloudWatchLogsClient:
        backend = self.backend
        if not backend.endpoint_url:
            return backend.logs_client
        # StartLiveTail's endpoint has a host prefix ("stream-logs.<region>…"); prefixed onto a custom
        # endpoint such as 127.0.0.1 it names no host at all, so emulators need it switched off.
        config = backend.logs_client.meta.config.merge(BotoConfig(inject_host_prefix=False))
        return backend.session.client("logs", endpoint_url=backend.endpoint_url, config=config)

    async def live(self) -> AsyncIterator[LogEvent]:
        """One live-tail session. Sets `self.live_outcome`: "ended" (the stream ended or failed:
        `live_error` says why, if it failed) or "missing" (no log group)."""
        self.live_outcome = "ended"
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[_LiveMessage] = asyncio.Queue()
        stop = threading.Event()
        held: dict[str, EventStream[StartLiveTailResponseStreamTypeDef]] = {}

        def put(item: _LiveMessage) -> None:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, item)
            except RuntimeError:
                stop.set()  # the loop is gone: nobody is listening

        def read() -> None:
            # Blocking boto3 calls and a blocking stream: all of it on this thread.
            try:
                arn = self._group_arn()
                if arn is None:
                    put(("missing", None))
                    return
                kwargs: StartLiveTailRequestTypeDef = {"logGroupIdentifiers": [arn]}
                if self.filter_pattern:
                    kwargs["logEventFilterPattern"] = self.filter_pattern
                response = self._live_client().start_live_tail(**kwargs)
                stream = held["stream"] = response["responseStream"]
                if stop.is_set():
                    return
                for item in stream:
                    if stop.is_set():
                        return
                    put(("item", item))
                put(("end", None))
            except Exception as e:  # noqa: BLE001 - any failure ends the session: the caller says why
                put(("error", e))
            finally:
                _close(held.get("stream"))

        started = False
        threading.Thread(target=read, name=f"live tail {self.group}", daemon=True).start()
        try:
            while True:
                sent = await queue.get()
                if sent[0] == "missing":
                    self.live_outcome = "missing"
                    return
                if sent[0] == "error":
                    # Before the session started: it could not start. After: it ended (AWS's
                    # SessionTimeoutException after three hours, a dropped connection).
                    if started:
                        self.live_ended_by = sent[1]
                    else:
                        self.live_error = sent[1]
                    break
                if sent[0] != "item":
                    break
                value = sent[1]
                if "sessionStart" in value:
                    started = True
                    # Events that arrived between the previous poll and the session's start reach
                    # neither: one poll now covers them (de-duplicated against the session's events).
                    try:
                        async for event in self.poll(self.next_start_ms()):
                            yield event
                    except _GroupMissing:
                        pass  # deleted since: the session will end, and polling takes over
                update = value.get("sessionUpdate")
                if not update:
                    continue
                for raw in update.get("sessionResults", ()):
                    ts = int(raw.get("timestamp", 0))
                    message = raw.get("message", "")
                    if ts < self.start_ms or not self.live_match(message):
                        continue
                    stream = raw.get("logStreamName", "")
                    key = (ts, stream, hash(message))
                    if self.cross.seen_by_other("live", key):
                        continue  # already yielded by a poll
                    self.cross.note("live", key)
                    yield self._event(ts, stream, message)
        finally:
            stop.set()
            _close(held.get("stream"))


def _close(stream: EventStream[StartLiveTailResponseStreamTypeDef] | None) -> None:
    if stream is not None:
        try:
            stream.close()
        except Exception:  # noqa: BLE001 - closing a broken stream may fail; it is closed anyway
            pass


async def tail_log_group(
    backend: AwsBackend,
    name: str,
    *,
    since: float | None = None,
    follow: bool = True,
    filter_pattern: str | None = None,
    poll_interval: float = 1.0,
    page_size: int | None = None,
    group: str | None = None,
) -> AsyncIterator[LogEvent]:
    """Log events of `name`'s log group from `since` (epoch seconds; default an hour ago), oldest
    first, then — while `follow` — new ones as polls of FilterLogEvents find them, until the caller
    stops iterating.

    `backend` is an `AwsBackend` (its `logs_client`, `log_group`, `reports`). `group` overrides the
    function's log group. Without `follow`, a missing log group raises `LogGroupNotFoundError`;
    following, it is polled for until it appears. Other failures raise a `BackendError`.
    `page_size` caps FilterLogEvents pages (AWS's default: 1 MB or 10,000 events).
    """
    group = group or await asyncio.to_thread(backend.log_group, name)
    assert group is not None  # mypy: narrowed by the line above
    tail = _Tail(backend, name, group, since, filter_pattern, page_size)
    backend.reports.covered_from(name, tail.start_ms / 1000.0)
    try:
        async for event in tail.poll(tail.start_ms):
            yield event
    except _GroupMissing:
        if not follow:
            raise _missing(group, name) from None
    if not follow:
        return
    while True:
        await asyncio.sleep(poll_interval)
        try:
            async for event in tail.poll(tail.next_start_ms()):
                yield event
        except _GroupMissing:
            continue  # no logs yet: the function has not run, or not since its group was deleted


async def live_tail_session(
    backend: AwsBackend,
    name: str,
    *,
    since: float | None = None,
    filter_pattern: str | None = None,
    group: str | None = None,
) -> AsyncIterator[LogEvent]:
    """One CloudWatch Logs Live Tail session on `name`'s log group, started because the user asked:
    the events from `since` (one FilterLogEvents read, so nothing between the last poll and the
    session is lost), then the session's events as they arrive. Ends when the session does (AWS
    closes it after three hours, or the caller stops iterating); never starts another.

    Raises `LogGroupNotFoundError` without a log group (Live Tail needs one) and `LiveTailError`
    when the session cannot be started.
    """
    group = group or await asyncio.to_thread(backend.log_group, name)
    assert group is not None  # mypy: narrowed by the line above
    tail = _Tail(backend, name, group, since, filter_pattern, None)
    try:
        async for event in tail.poll(tail.start_ms):
            yield event
    except _GroupMissing:
        raise _missing(group, name) from None
    async for event in tail.live():
        yield event
    if tail.live_outcome == "missing":
        raise _missing(group, name)
    if tail.live_error is not None:
        error = tail.live_error
        reason = str(translate(error, backend)) if isinstance(error, (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError)) else (str(error) or type(error).__name__)
        raise LiveTailError(f"Live Tail could not start on {group}: {reason.splitlines()[0] if reason else type(error).__name__}")
