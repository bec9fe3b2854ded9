"""Asynchronous invocation (`InvocationType: Event`), as Lambda's event queue runs it.

`submit` commits the event to the durable store (`async_store`, `<state dir>/async.db`) before it
returns its request id, so the Lambda API answers 202 only for an event that survives a crash;
worker threads claim events from the store under a lease and run them. Events left when `serve`
stops, or held by a process that was killed, run at the next start (at least once).

What Lambda does, and this does (AWS, "How Lambda handles errors and retries with asynchronous
invocation" and "Capturing records of Lambda asynchronous invocations"):
- The 202's `x-amzn-RequestId` is the `aws_request_id` the function sees, on every attempt: the id
  `submit` returns is passed to `Backend.invoke(request_id=...)` each time.
- A function error (an exception, a timeout, a crash) is retried `maximum_retry_attempts` times
  (0–2, default 2), about one minute before the second attempt and two before the third
  (`retry_delays`, injectable for tests).
- A throttle (429) or a system error (the backend could not run it) puts the event back with
  exponential back-off from 1 s doubling to 5 minutes (`throttle_backoff`), not counted as a retry,
  for as long as the event is younger than `maximum_event_age_seconds` (60–21600, default 6 h).
- An event older than that is not run again. An event that failed for good goes to the function's
  `on_failure` destination (a local SQS queue) as Lambda's invocation record, with condition
  `RetriesExhausted` or `EventAgeExceeded`; without a destination it is logged and dropped, as
  Lambda discards it.
The config (`async:` of the function, `model.AsyncConfig`) is read at each decision, so a reload
applies to events already queued.
"""

from __future__ import annotations

import collections
import json
import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..backends.base import Backend, BackendError, FunctionNotFoundError, RequestError
from ..model import AsyncConfig
from .async_store import FILE_NAME, AsyncEventStore, StoreClosedError, StoredEvent, counts_in, new_owner
from .async_store import pending_counts as pending_counts

__all__ = ["AsyncInvoker", "QueueFullError", "failure_record", "pending_counts", "retry_delay", "throttle_delay", "FILE_NAME"]

log = logging.getLogger("lambdatui.serve")

MAX_FAILED_KEPT = 1000  # the newest events given up on, kept in `failed` for the console and tests
DEFAULT_RETRY_DELAYS = (60.0, 120.0)  # Lambda: ~1 minute before the 2nd attempt, ~2 before the 3rd
DEFAULT_THROTTLE_BACKOFF = (1.0, 300.0)  # Lambda: from 1 s, doubling, up to 5 minutes
# Events a worker claims at once while there is a backlog: fewer claim transactions, and few enough
# that another worker or process is never left idle for long behind a slow event.
CLAIM_BATCH = 4


class QueueFullError(Exception):
    """The event could not be stored (disk full, a store that cannot be written, a stopped invoker):
    it was not accepted."""


@dataclass(frozen=True)
class _Outcome:
    """What one attempt came to: `kind` is ok, function_error, throttle (throttle or system error),
    invalid (the request itself was refused) or gone (the function no longer exists)."""

    kind: str
    error_type: str | None = None
    response_context: dict[str, Any] | None = None
    response: bytes | None = None


def retry_delay(attempts: int, delays: tuple[float, ...]) -> float:
    """The wait before the next attempt after `attempts` failed ones: Lambda waits about one minute
    before the second attempt and two before the third (the last delay again if there are more)."""
    if not delays:
        return 0.0
    return delays[min(attempts, len(delays)) - 1]


def throttle_delay(throttles: int, backoff: tuple[float, float]) -> float:
    """The wait after the `throttles`-th throttle or system error: exponential from `backoff[0]`,
    at most `backoff[1]` (Lambda: from 1 second to 5 minutes)."""
    first, most = backoff
    if throttles >= 64:  # 2**63 s is past any maximum: no need for the float to overflow
        return most
    return min(first * 2.0 ** (throttles - 1), most)


def _iso_now() -> str:
    # The record's timestamp, as Lambda writes it: 2019-11-14T18:16:05.568Z
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _decoded(data: bytes | None) -> Any:
    if data is None:
        return None
    try:
        return json.loads(data)
    except ValueError:
        return data.decode("utf-8", "replace")


def failure_record(
    event: StoredEvent,
    condition: str,
    *,
    region: str,
    account_id: str,
    attempts: int,
    response_context: dict[str, Any] | None,
    response: bytes | None,
) -> dict[str, Any]:
    """Lambda's invocation record for an event that failed for good (the on-failure destination's
    message). `responseContext`/`responsePayload` are those of the last attempt that reached the
    function; an event that never did (throttled until it aged out) has neither."""
    record: dict[str, Any] = {
        "version": "1.0",
        "timestamp": _iso_now(),
        "requestContext": {
            "requestId": event.request_id,
            "functionArn": f"arn:aws:lambda:{region}:{account_id}:function:{event.function}:{event.qualifier or '$LATEST'}",
            "condition": condition,
            "approximateInvokeCount": attempts,
        },
        "requestPayload": _decoded(event.payload),
    }
    if response_context is not None:
        record["responseContext"] = response_context
        record["responsePayload"] = _decoded(response)
    return record


class AsyncInvoker:
    """Runs asynchronous events from the durable store at `store_path` on `backend`; see the module docstring.

    `on_failure(queue, record)` delivers an invocation record to a named queue; by default into the
    local SQS store beside `store_path` (`sqs.db`, the queues `type: sqs` triggers consume). It may
    raise ValueError for a record the queue refuses (logged and dropped, as Lambda's
    DestinationDeliveryFailures) or OSError/sqlite3.Error for a queue that cannot be written now
    (tried again with back-off).
    `lease_seconds`: how long a claimed event stays with this invoker without a heartbeat; a killed
    process's events come back after it (at once when its pid is gone from this host).
    """

    def __init__(
        self,
        backend: Backend,
        store_path: Path,
        *,
        workers: int = 2,
        retry_delays: tuple[float, ...] = DEFAULT_RETRY_DELAYS,
        region: str = "us-east-1",
        account_id: str = "123456789012",
        on_failure: Callable[[str, dict[str, Any]], None] | None = None,
        throttle_backoff: tuple[float, float] = DEFAULT_THROTTLE_BACKOFF,
        lease_seconds: float = 30.0,
        poll_interval: float = 0.5,
    ) -> None:
        self.backend = backend
        self.store_path = Path(store_path)
        self.retry_delays = tuple(float(d) for d in retry_delays)
        self.region = region
        self.account_id = str(account_id)
        self.throttle_backoff = (float(throttle_backoff[0]), float(throttle_backoff[1]))
        self.lease_seconds = float(lease_seconds)
        self.poll_interval = float(poll_interval)
        self._on_failure = on_failure
        self._queue_store: Any = None  # the default destination's QueueStore, opened on first delivery
        self._queue_lock = threading.Lock()
        self.store = AsyncEventStore(self.store_path)
        self.owner = new_owner()
        # For the console and tests: events given up on, as (request id, function, error type or
        # condition), oldest first; and how many succeeded.
        self.failed: list[tuple[str, str, str]] = []
        self.succeeded = 0
        self._workers_wanted = max(1, int(workers))
        self._threads: list[threading.Thread] = []
        self._heartbeat: threading.Thread | None = None
        self._cond = threading.Condition()
        self._stopping = threading.Event()
        self._heartbeat_stop = threading.Event()
        self._started = False
        self._closed = False
        self._busy = False  # the last claim found events: claim again at once, without reading first

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> AsyncInvoker:
        """Start the workers; events already in the store (an earlier run's) run now."""
        if self._started:
            return self
        self._started = True
        reclaimed = self.store.reclaim_dead()
        pending = self.store.count()
        if pending:
            log.info(
                "async: %d event(s) pending in %s (%d held by a process that is gone); running them",
                pending, self.store_path, reclaimed,
            )
        self._heartbeat = threading.Thread(target=self._beat, name="lambdatui-async-lease", daemon=True)
        self._heartbeat.start()
        for i in range(self._workers_wanted):
            thread = threading.Thread(target=self._work, name=f"lambdatui-async-{i}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the workers. Nothing is dropped: queued events stay in the store for the next start;
        a running attempt finishes within `timeout` or its event goes back to the queue."""
        if self._closed:
            return
        self._stopping.set()
        with self._cond:
            self._cond.notify_all()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        unfinished = sum(1 for t in self._threads if t.is_alive())
        self._heartbeat_stop.set()
        if self._heartbeat is not None:
            self._heartbeat.join(5)
        try:
            # What the workers claimed and did not finish (an attempt still running, a claimed batch's
            # rest) is due again at once, for the next start or another process.
            self.store.release(self.owner)
            pending = self.store.count()
        except sqlite3.Error as e:
            log.warning("async: reading %s at shutdown failed: %s", self.store_path, e)
            pending = 0
        if unfinished:
            log.warning("async: %d attempt(s) still running after %g s; their events go back to the queue", unfinished, timeout)
        if pending:
            # A warning, so that it shows on serve's console (which configures no logging).
            log.warning("async: %d event(s) pending in %s; they run at the next start", pending, self.store_path)
        self._closed = True
        self.store.close()
        with self._queue_lock:
            if self._queue_store is not None:
                self._queue_store.close()
                self._queue_store = None

    # -- the queue ---------------------------------------------------------------------------

    def submit(
        self,
        name: str,
        payload: bytes,
        *,
        qualifier: str | None = None,
        client_context: dict[str, Any] | None = None,
    ) -> str:
        """Accept an event for `name`: stored (committed) before this returns its request id, which
        is the `aws_request_id` of every attempt. QueueFullError when it cannot be stored."""
        if self._stopping.is_set() or self._closed:
            raise QueueFullError("the asynchronous queue is stopped")
        try:
            request_id = self.store.add(name, bytes(payload), qualifier=qualifier, client_context=client_context)
        except (sqlite3.Error, OSError, StoreClosedError) as e:
            raise QueueFullError(f"the event could not be stored in {self.store_path}: {e}") from None
        with self._cond:
            self._cond.notify()
        return request_id

    def pending(self, name: str | None = None) -> int:
        """Events of `name` (or of every function) not finished: waiting, due later or running,
        whichever process holds them."""
        if self._closed:
            counts = counts_in(self.store_path)
            return counts.get(name, 0) if name is not None else sum(counts.values())
        return self.store.count(name)

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until the store holds no event; False if `timeout` seconds passed first."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.pending():
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return False
            with self._cond:
                self._cond.wait(0.05 if remaining is None else min(0.05, remaining))
        return True

    # -- workers -----------------------------------------------------------------------------

    def _beat(self) -> None:
        """Keep this invoker's leases alive; give back the events of dead processes."""
        interval = max(0.05, self.lease_seconds / 3)
        last_reclaim = time.monotonic()
        while not self._heartbeat_stop.wait(interval):
            try:
                self.store.renew(self.owner, self.lease_seconds)
                if time.monotonic() - last_reclaim >= self.lease_seconds:
                    last_reclaim = time.monotonic()
                    if self.store.reclaim_dead():
                        with self._cond:
                            self._cond.notify_all()
            except StoreClosedError:
                return
            except sqlite3.Error as e:  # a busy store: the next beat tries again, well within the lease
                log.warning("async: renewing leases in %s failed: %s", self.store_path, e)

    def _work(self) -> None:
        claimed: collections.deque[StoredEvent] = collections.deque()
        while not self._stopping.is_set():
            if not claimed:
                try:
                    claimed.extend(self._claim())
                except StoreClosedError:
                    return
                except sqlite3.Error as e:
                    log.warning("async: reading %s failed: %s", self.store_path, e)
                    self._stopping.wait(self.poll_interval)
                    continue
                if not claimed:
                    continue
            event = claimed.popleft()
            try:
                self._handle(event)
            except StoreClosedError:
                return
            except Exception:  # never let a worker die; the event comes back later
                log.exception("async: %s %s failed unexpectedly", event.function, event.request_id)
                try:
                    self.store.retry(
                        event, self.owner, at=time.time() + self.throttle_backoff[1],
                        attempts=event.attempts, throttles=event.throttles, error_type=None,
                    )
                except (sqlite3.Error, StoreClosedError):
                    pass  # the lease runs out and the event comes back anyway
        # Stopping: what this worker claimed and did not start goes back with `stop`'s release.

    def _claim(self) -> list[StoredEvent]:
        """The next due events (a few at a time: one claim transaction for several events while
        there is a backlog), or none after waiting for one (woken early by `submit` or `stop`)."""
        if self._busy:
            events = self.store.claim(self.owner, self.lease_seconds, CLAIM_BATCH)
            if events:
                return events
            self._busy = False
        due = self.store.next_due()  # a read first: no write transaction while nothing is due
        now = time.time()
        if due is not None and due <= now:
            events = self.store.claim(self.owner, self.lease_seconds, 1)
            if events:
                self._busy = True
                return events
        wait = self.poll_interval if due is None else min(self.poll_interval, max(0.0, due - now))
        with self._cond:
            if not self._stopping.is_set():
                self._cond.wait(wait)
        return []

    def _config(self, name: str) -> AsyncConfig | None:
        """The function's async config now; None when the function no longer exists."""
        try:
            return self.backend.get_function(name).async_config
        except FunctionNotFoundError:
            return None
        except BackendError as e:
            log.warning("async: reading %s's configuration failed (%s); using Lambda's defaults", name, e)
            return AsyncConfig()

    def _handle(self, event: StoredEvent) -> None:
        config = self._config(event.function)
        if config is None:
            self._drop_gone(event)
            return
        if event.condition:  # failed for good in an earlier attempt; its delivery is still to be done
            self._give_up(event, config, event.condition, attempts=event.attempts, error_type=event.last_error_type,
                          response_context=event.last_response_context, response=event.last_response, decided=True)
            return
        now = time.time()
        expires = event.received_at + config.maximum_event_age_seconds
        if now >= expires:
            # Lambda: an event older than MaximumEventAgeInSeconds is not sent to the function.
            self._give_up(event, config, "EventAgeExceeded", attempts=event.attempts, error_type=event.last_error_type,
                          response_context=event.last_response_context, response=event.last_response)
            return
        outcome = self._attempt(event)
        if outcome.kind == "ok":
            if not self.store.finish(event, self.owner):
                self._lost_lease(event)
            self.succeeded += 1
            return
        if outcome.kind == "gone":
            self._drop_gone(event)
            return
        if outcome.kind == "throttle":
            # Lambda: throttles and system errors go back to the queue with exponential back-off
            # (1 s doubling to 5 min), not counted against MaximumRetryAttempts.
            throttles = event.throttles + 1
            at = min(time.time() + throttle_delay(throttles, self.throttle_backoff), expires)
            log.info("async: %s %s throttled (%s); back in the queue for %.3g s",
                     event.function, event.request_id, outcome.error_type, at - time.time())
            self._put_back(event, at=at, attempts=event.attempts, throttles=throttles, outcome=outcome)
            return
        attempts = event.attempts + 1
        if outcome.kind == "invalid" or attempts > config.maximum_retry_attempts:
            self._give_up(event, config, "RetriesExhausted", attempts=attempts, error_type=outcome.error_type,
                          response_context=outcome.response_context, response=outcome.response)
            return
        # Lambda: a function error is retried after about one minute, then two.
        at = min(time.time() + retry_delay(attempts, self.retry_delays), expires)
        log.info("async: %s %s failed (%s), attempt %d; retrying in %.3g s",
                 event.function, event.request_id, outcome.error_type, attempts, at - time.time())
        self._put_back(event, at=at, attempts=attempts, throttles=event.throttles, outcome=outcome)

    def _put_back(self, event: StoredEvent, *, at: float, attempts: int, throttles: int, outcome: _Outcome) -> None:
        if not self.store.retry(event, self.owner, at=at, attempts=attempts, throttles=throttles,
                                error_type=outcome.error_type, response_context=outcome.response_context,
                                response=outcome.response):
            self._lost_lease(event)
        with self._cond:
            self._cond.notify()

    def _lost_lease(self, event: StoredEvent) -> None:
        log.warning("async: %s %s: this process's lease ran out during the attempt; the event may run again",
                    event.function, event.request_id)

    def _attempt(self, event: StoredEvent) -> _Outcome:
        """Run one attempt under the event's own request id."""
        try:
            result = self.backend.invoke(
                event.function, event.payload, source="api-async", request_id=event.request_id,
                qualifier=event.qualifier, client_context=event.client_context,
            )
        except FunctionNotFoundError:
            return _Outcome("gone", "ResourceNotFoundException")
        except RequestError as e:  # the request itself was refused: no retry can succeed
            body = json.dumps({"errorType": e.code, "errorMessage": str(e)}).encode()
            context = {"statusCode": e.status_code, "executedVersion": "$LATEST", "functionError": "Unhandled"}
            return _Outcome("invalid", e.code, context, body)
        except Exception as e:  # the backend could not run it: a system error
            log.warning("async: %s %s: %s", event.function, event.request_id, e)
            return _Outcome("throttle", e.code if isinstance(e, BackendError) else type(e).__name__)
        if result.error:  # refused before reaching the function: a throttle
            return _Outcome("throttle", result.error.get("type") or "TooManyRequestsException")
        if result.function_error:
            context = {
                "statusCode": result.status_code or 200,
                "executedVersion": result.executed_version or "$LATEST",
                "functionError": result.function_error,
            }
            return _Outcome("function_error", result.error_type or result.function_error, context, result.payload)
        return _Outcome("ok")

    # -- giving up ---------------------------------------------------------------------------

    def _remember_failure(self, event: StoredEvent, what: str) -> None:
        self.failed.append((event.request_id, event.function, what))
        del self.failed[:-MAX_FAILED_KEPT]

    def _drop_gone(self, event: StoredEvent) -> None:
        log.warning("async: %s %s dropped: the function no longer exists", event.function, event.request_id)
        self._remember_failure(event, "ResourceNotFoundException")
        self.store.finish(event, self.owner)

    def _give_up(
        self,
        event: StoredEvent,
        config: AsyncConfig,
        condition: str,
        *,
        attempts: int,
        error_type: str | None,
        response_context: dict[str, Any] | None,
        response: bytes | None,
        decided: bool = False,
    ) -> None:
        """The event failed for good: its record goes to the on-failure destination, or it is dropped."""
        if not decided:
            if not self.store.decide(event, self.owner, condition, attempts=attempts, error_type=error_type,
                                     response_context=response_context, response=response):
                self._lost_lease(event)
                return
            self._remember_failure(event, error_type or condition)
        why = f"{condition} after {attempts} attempt{'s' if attempts != 1 else ''}"
        if error_type:
            why += f", last error {error_type}"
        destination = config.on_failure
        if destination is None:
            # Lambda discards it when no destination (or dead-letter queue) is configured.
            log.warning("async: %s %s dropped (%s): no on_failure destination", event.function, event.request_id, why)
            self.store.finish(event, self.owner)
            return
        record = failure_record(event, condition, region=self.region, account_id=self.account_id,
                                attempts=attempts, response_context=response_context, response=response)
        try:
            self._deliver(destination, record)
        except ValueError as e:  # the queue refuses it (too large): Lambda's DestinationDeliveryFailures
            log.warning("async: %s %s (%s): the record could not be sent to %s and is dropped: %s",
                        event.function, event.request_id, why, destination, e)
        except (OSError, sqlite3.Error) as e:
            first, most = self.throttle_backoff
            log.warning("async: %s %s (%s): sending the record to %s failed (%s); trying again in %g s",
                        event.function, event.request_id, why, destination, e, most)
            self.store.retry(event, self.owner, at=time.time() + most, attempts=attempts,
                             throttles=event.throttles, error_type=None)
            return
        else:
            log.warning("async: %s %s (%s): record sent to %s", event.function, event.request_id, why, destination)
        self.store.finish(event, self.owner)

    def _deliver(self, queue: str, record: dict[str, Any]) -> None:
        if self._on_failure is not None:
            self._on_failure(queue, record)
            return
        with self._queue_lock:
            if self._queue_store is None:
                from ..triggers.sqs_queue import QueueStore

                self._queue_store = QueueStore(self.store_path.parent / "sqs.db")
            store = self._queue_store
        store.send(queue, json.dumps(record))
