"""Asynchronous invocation (`InvocationType: Event`), as Lambda's event queue does it.

`submit` accepts an event at once and returns its request id; worker threads run it later. When the
function fails (an unhandled error, a timeout) or is throttled, the event is tried again after each
of `retry_delays` — Lambda retries twice, waiting about one and then two minutes — and after the
last failure it is dropped and recorded in `failed`. The queue is bounded: `submit` refuses events
beyond `max_pending` with `QueueFullError`.

Lambda keeps one request id for an event across its attempts: the id `submit` returns is the one
every attempt runs with.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

from ..backends.base import Backend, BackendError, FunctionNotFoundError, RequestError

log = logging.getLogger("lambdatui.serve")

MAX_PENDING = 1000  # events queued or running
MAX_FAILED_KEPT = 1000  # the newest dropped events kept in `failed`


class QueueFullError(Exception):
    """More events are waiting than the queue holds."""


@dataclass
class _Event:
    request_id: str
    name: str
    payload: bytes
    attempt: int = 0  # attempts made so far
    qualifier: str | None = None
    client_context: dict[str, Any] | None = None


class AsyncInvoker:
    def __init__(
        self,
        backend: Backend,
        retry_delays: tuple[float, ...] = (60.0, 120.0),
        workers: int = 2,
        *,
        max_pending: int = MAX_PENDING,
    ) -> None:
        self.backend = backend
        self.retry_delays = tuple(retry_delays)
        self.max_pending = max_pending
        self.failed: list[tuple[str, str, str]] = []  # (request_id, function, error type), oldest first
        self.succeeded = 0
        self._due: list[tuple[float, int, _Event]] = []  # heap of (when, sequence, event)
        self._sequence = itertools.count()
        self._running = 0
        self._stopped = False
        self._cond = threading.Condition()
        self._workers = [
            threading.Thread(target=self._work, name=f"lambdatui-async-{i}", daemon=True) for i in range(max(1, workers))
        ]
        for worker in self._workers:
            worker.start()

    # -- the queue ---------------------------------------------------------------------------

    def submit(
        self, name: str, payload: bytes, *, qualifier: str | None = None, client_context: dict[str, Any] | None = None
    ) -> str:
        """Queue an event for `name`; returns its request id (every attempt runs with it)."""
        event = _Event(str(uuid.uuid4()), name, bytes(payload), qualifier=qualifier, client_context=client_context)
        with self._cond:
            if self._stopped:
                raise QueueFullError("the asynchronous queue is stopped")
            if len(self._due) + self._running >= self.max_pending:
                raise QueueFullError(f"the asynchronous queue is full ({self.max_pending} events)")
            self._push(event, 0.0)
        return event.request_id

    def pending(self) -> int:
        """Events waiting (retries included) or running."""
        with self._cond:
            return len(self._due) + self._running

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until nothing is pending; False if `timeout` seconds passed first."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while self._due or self._running:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._cond.wait(remaining)
            return True

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the workers; events still queued are dropped, running ones finish in the background."""
        with self._cond:
            self._stopped = True
            dropped = len(self._due)
            self._due.clear()
            self._cond.notify_all()
        if dropped:
            log.warning("async: %d queued event(s) dropped at shutdown", dropped)
        deadline = time.monotonic() + timeout
        for worker in self._workers:
            worker.join(max(0.0, deadline - time.monotonic()))

    def _push(self, event: _Event, delay: float) -> None:
        # with self._cond held
        heapq.heappush(self._due, (time.monotonic() + delay, next(self._sequence), event))
        self._cond.notify()

    def _next(self) -> _Event | None:
        """The next due event (None when stopped); counted as running."""
        with self._cond:
            while not self._stopped:
                if self._due:
                    wait = self._due[0][0] - time.monotonic()
                    if wait <= 0:
                        self._running += 1
                        return heapq.heappop(self._due)[2]
                    self._cond.wait(wait)
                else:
                    self._cond.wait()
            return None

    # -- running events ----------------------------------------------------------------------

    def _work(self) -> None:
        while True:
            event = self._next()
            if event is None:
                return
            try:
                error_type, retryable = self._attempt(event)
            except Exception as e:  # never let a worker die
                log.exception("async: %s %s failed unexpectedly", event.name, event.request_id)
                error_type, retryable = type(e).__name__, False
            with self._cond:
                self._running -= 1
                if error_type is None:
                    self.succeeded += 1
                elif retryable and event.attempt <= len(self.retry_delays) and not self._stopped:
                    delay = self.retry_delays[event.attempt - 1]
                    log.info("async: %s %s failed (%s), attempt %d; retrying in %g s",
                             event.name, event.request_id, error_type, event.attempt, delay)
                    self._push(event, delay)
                else:
                    log.warning("async: %s %s dropped after %d attempt(s): %s",
                                event.name, event.request_id, event.attempt, error_type)
                    self.failed.append((event.request_id, event.name, error_type))
                    del self.failed[:-MAX_FAILED_KEPT]
                self._cond.notify_all()

    def _attempt(self, event: _Event) -> tuple[str | None, bool]:
        """Run one attempt: (error type or None, whether a failure may be retried)."""
        event.attempt += 1
        try:
            result = self.backend.invoke(
                event.name, event.payload, source="api-async", request_id=event.request_id,
                qualifier=event.qualifier, client_context=event.client_context,
            )
        except FunctionNotFoundError:
            return "ResourceNotFoundException", False
        except RequestError as e:
            return e.code, False
        except Exception as e:  # the backend could not run it (a system error): retry
            return (e.code if isinstance(e, BackendError) else type(e).__name__), True
        if result.error:  # throttled, or refused before reaching the function
            return result.error.get("type") or "TooManyRequestsException", True
        if result.function_error:
            return result.error_type or result.function_error, True
        return None, False
