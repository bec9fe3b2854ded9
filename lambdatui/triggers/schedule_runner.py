"""The schedule trigger's runner: fires a function at each fire time of an EventBridge schedule
expression, with the event EventBridge sends (the grammar is `lambdatui.schedule_expr`)."""

from __future__ import annotations

import json
import logging
import re
import threading
import uuid
from datetime import datetime
from typing import Any, Protocol

from ..schedule_expr import UTC, format_time, parse_expression
from .base import Invoker

__all__ = ["ScheduleRunner", "SystemClock", "scheduled_event"]

log = logging.getLogger("lambdatui.serve")  # the runners log as part of `serve`, whose logger users configure


# -- events and the runner ------------------------------------------------------------------------


def scheduled_event(rule_arn: str, region: str, account: str, time: datetime) -> dict[str, Any]:
    """The event EventBridge sends a target when a scheduled rule fires (keys in AWS's order)."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account,
        "time": format_time(time),
        "region": region,
        "resources": [rule_arn],
        "detail": {},
    }


class Clock(Protocol):
    """What the runner tells time with: `SystemClock`, or a fake one in tests."""

    def now(self) -> datetime: ...

    def sleep(self, seconds: float, stop_event: threading.Event) -> None: ...


class SystemClock:
    """The real clock. Sleeps at most a minute at a time so that a suspended laptop or a changed
    wall clock is noticed (Event.wait counts monotonic time, which may not advance in suspend)."""

    max_sleep = 60.0

    def now(self) -> datetime:
        return datetime.now(UTC)

    def sleep(self, seconds: float, stop_event: threading.Event) -> None:
        stop_event.wait(max(0.0, min(seconds, self.max_sleep)))


_RULE_NAME_CHARS = re.compile(r"[^.\-_A-Za-z0-9]")


class ScheduleRunner:
    """Invokes `function` at each fire time of `expression`, as an EventBridge scheduled rule would.

    The payload is the scheduled event (`scheduled_event`), or `input` serialized as JSON when given
    (EventBridge's "constant (JSON text)" target input replaces the event). The backend is called as
    `backend.invoke(function, payload_bytes)` from a daemon thread, one fire at a time; a failing
    invoke is logged on "lambdatui.serve" and the schedule goes on. Fire times missed while an
    invoke ran long (or the machine slept) are skipped with a warning, as EventBridge does not
    replay them; for a rate this restarts the count from the moment it noticed.

    `.fired` counts fires (invokes attempted), `.errors` those whose invoke raised.
    """

    def __init__(
        self,
        backend: Invoker,
        function: str,
        expression: str,
        *,
        input: Any = None,
        rule_name: str | None = None,
        region: str = "us-east-1",
        account: str = "123456789012",
        clock: Clock | None = None,
    ) -> None:
        self.backend = backend
        self.function = function
        self.expression = expression
        self.schedule = parse_expression(expression)
        # Serialized now so that a value JSON cannot hold fails at start-up, not at the first fire.
        self._input_json = None if input is None else json.dumps(input)
        self.input = input
        self.rule_name = rule_name or (_RULE_NAME_CHARS.sub("-", f"{function}-schedule")[:64])
        self.region = region
        self.account = account
        self.rule_arn = f"arn:aws:events:{region}:{account}:rule/{self.rule_name}"
        self.clock = clock or SystemClock()
        self.next_fire: datetime | None = None
        self.fired = 0
        self.errors = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def payload_for(self, time: datetime) -> bytes:
        if self._input_json is not None:
            return self._input_json.encode()
        return json.dumps(scheduled_event(self.rule_arn, self.region, self.account, time)).encode()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("this ScheduleRunner was already started")
        # Set before the thread starts so that whoever started it can show the next fire time at once.
        self.next_fire = self.schedule.next_after(self.clock.now())
        self._thread = threading.Thread(target=self._run, name=f"schedule {self.rule_name}", daemon=True)
        self._thread.start()

    def status(self) -> str:
        return f"next {format_time(self.next_fire) if self.next_fire else 'never'}"

    def stop(self, timeout: float | None = 5.0) -> None:
        """Stop at once when sleeping; waits up to `timeout` seconds for an invoke under way."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            fire = self.next_fire
            if fire is None:
                log.info("schedule %s (%s): no more fire times", self.rule_name, self.expression)
                return
            # Sleep until the fire time; the clock may wake early (or cap its sleeps), so re-check.
            while True:
                now = self.clock.now()
                if now >= fire:
                    break
                self.clock.sleep((fire - now).total_seconds(), self._stop)
                if self._stop.is_set():
                    return
            self._fire(fire)
            following = self.schedule.next_after(fire)
            now = self.clock.now()
            if following is not None and following <= now:
                later = self.schedule.next_after(now)
                log.warning(
                    "schedule %s (%s): skipped fire times from %s to %s (missed while busy or asleep)",
                    self.rule_name, self.expression, format_time(following), format_time(now),
                )
                following = later
            self.next_fire = following

    def _fire(self, time: datetime) -> None:
        try:
            payload = self.payload_for(time)
            result = self.backend.invoke(self.function, payload, source="schedule")
        except Exception as e:  # a schedule outlives any one failed invoke, as EventBridge's does
            self.errors += 1
            log.error("schedule %s → %s at %s: invoke failed: %s", self.rule_name, self.function, format_time(time), e)
        else:
            if result.function_error:
                log.warning(
                    "schedule %s → %s at %s: the function failed (%s)",
                    self.rule_name, self.function, format_time(time), result.error_type or result.function_error,
                )
        finally:
            self.fired += 1
