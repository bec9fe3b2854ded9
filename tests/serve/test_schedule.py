"""EventBridge schedule expressions: AWS's documented examples with fire times worked out by hand
from the calendar, the grammar's edges and refusals, the scheduled event, the runner and the CLI.

Calendar facts used below (first of the month): 2026-05-01 Fri, 2026-08-01 Sat, 2026-09-01 Tue,
2026-10-01 Thu, 2026-11-01 Sun, 2026-12-01 Tue, 2027-01-01 Fri, 2027-02-01 Mon, 2027-03-01 Mon.
"""

from __future__ import annotations

import argparse
import json
import logging
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from polling import wait_for

from lambdatui.cli.schedule import run_schedule
from lambdatui.executor.spec import InvokeResult
from lambdatui.schedule_expr import CronSchedule, RateSchedule, ScheduleError, parse_expression
from lambdatui.triggers.schedule_runner import ScheduleRunner, scheduled_event

UTC = timezone.utc


def T(text: str) -> datetime:
    """`2026-12-07 12:00` → an aware UTC datetime."""
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=UTC)


def fires(expr: str, after: str, count: int) -> list[datetime]:
    return parse_expression(expr).fire_times(T(after), count)


# -- AWS's documented cron examples -----------------------------------------------------------------


def test_10am_every_day():
    assert fires("cron(0 10 * * ? *)", "2026-12-07 09:30", 3) == [
        T("2026-12-07 10:00"), T("2026-12-08 10:00"), T("2026-12-09 10:00")
    ]


def test_12_15_every_day():
    assert fires("cron(15 12 * * ? *)", "2026-12-07 12:16", 2) == [T("2026-12-08 12:15"), T("2026-12-09 12:15")]


def test_6pm_monday_to_friday():
    # 2026-12-11 is a Friday: after its 18:00 comes Monday the 14th.
    assert fires("cron(0 18 ? * MON-FRI *)", "2026-12-11 17:00", 3) == [
        T("2026-12-11 18:00"), T("2026-12-14 18:00"), T("2026-12-15 18:00")
    ]


def test_8am_first_of_month():
    assert fires("cron(0 8 1 * ? *)", "2026-12-01 08:00", 2) == [T("2027-01-01 08:00"), T("2027-02-01 08:00")]


def test_every_15_minutes_crosses_the_year():
    assert fires("cron(0/15 * * * ? *)", "2026-12-31 23:50", 3) == [
        T("2027-01-01 00:00"), T("2027-01-01 00:15"), T("2027-01-01 00:30")
    ]


def test_every_10_minutes_weekdays():
    # Friday 2026-12-11 23:50, then nothing until Monday the 14th.
    assert fires("cron(0/10 * ? * MON-FRI *)", "2026-12-11 23:45", 3) == [
        T("2026-12-11 23:50"), T("2026-12-14 00:00"), T("2026-12-14 00:10")
    ]


def test_every_5_minutes_business_hours_weekdays():
    assert fires("cron(0/5 8-17 ? * MON-FRI *)", "2026-12-07 07:00", 2) == [T("2026-12-07 08:00"), T("2026-12-07 08:05")]
    assert fires("cron(0/5 8-17 ? * MON-FRI *)", "2026-12-07 17:50", 3) == [
        T("2026-12-07 17:55"), T("2026-12-08 08:00"), T("2026-12-08 08:05")
    ]
    # Friday 17:55 is followed by Monday 08:00.
    assert fires("cron(0/5 8-17 ? * MON-FRI *)", "2026-12-11 17:55", 1) == [T("2026-12-14 08:00")]


def test_first_monday_of_the_month_is_a_monday():
    """AWS: 2#1 = 9:00 on the first Monday. croniter (0 = Sunday) would pick Tuesday 2026-12-01."""
    got = fires("cron(0 9 ? * 2#1 *)", "2026-12-01 00:00", 3)
    assert got == [T("2026-12-07 09:00"), T("2027-01-04 09:00"), T("2027-02-01 09:00")]
    assert all(t.weekday() == 0 for t in got)  # Python: 0 = Monday
    assert all(t.strftime("%A") == "Monday" for t in got)


def test_second_tuesday_and_missing_fifth_monday():
    assert fires("cron(0 9 ? * 3#2 *)", "2026-12-01 00:00", 1) == [T("2026-12-08 09:00")]
    assert fires("cron(0 9 ? * TUE#2 *)", "2026-12-01 00:00", 1) == [T("2026-12-08 09:00")]
    # Dec 2026, Jan and Feb 2027 have four Mondays; March 2027 has five (1, 8, 15, 22, 29).
    assert fires("cron(0 9 ? * 2#5 *)", "2026-12-01 00:00", 1) == [T("2027-03-29 09:00")]


def test_last_day_of_month_with_leap_february():
    assert fires("cron(0 12 L * ? *)", "2027-12-15 00:00", 4) == [
        T("2027-12-31 12:00"), T("2028-01-31 12:00"), T("2028-02-29 12:00"), T("2028-03-31 12:00")
    ]


def test_last_friday():
    got = fires("cron(0 12 ? * 6L *)", "2026-12-01 00:00", 3)
    assert got == [T("2026-12-25 12:00"), T("2027-01-29 12:00"), T("2027-02-26 12:00")]
    assert all(t.strftime("%A") == "Friday" for t in got)
    assert fires("cron(0 12 ? * FRIL *)", "2026-12-01 00:00", 1) == [T("2026-12-25 12:00")]


def test_l_alone_in_day_of_week_is_every_saturday():
    got = fires("cron(0 12 ? * L *)", "2026-12-07 00:00", 2)
    assert got == [T("2026-12-12 12:00"), T("2026-12-19 12:00")]
    assert all(t.strftime("%A") == "Saturday" for t in got)


def test_nearest_weekday():
    # Aug 15 2026 is a Saturday → Friday 14th; Sep 15 Tue; Oct 15 Thu; Nov 15 is a Sunday → Monday 16th.
    got = fires("cron(0 12 15W * ? *)", "2026-08-01 00:00", 4)
    assert got == [T("2026-08-14 12:00"), T("2026-09-15 12:00"), T("2026-10-15 12:00"), T("2026-11-16 12:00")]
    assert [t.strftime("%a") for t in got] == ["Fri", "Tue", "Thu", "Mon"]


def test_nearest_weekday_does_not_leave_the_month():
    # Aug 1 2026 is a Saturday: not Friday July 31 but Monday the 3rd.
    assert fires("cron(0 12 1W * ? *)", "2026-07-31 00:00", 1) == [T("2026-08-03 12:00")]
    # May 31 2026 is a Sunday: not Monday June 1 but Friday the 29th.
    assert fires("cron(0 12 31W * ? *)", "2026-05-01 00:00", 1) == [T("2026-05-29 12:00")]
    # June has no 31st: no fire in June; July 31 2026 is a Friday.
    assert fires("cron(0 12 31W * ? *)", "2026-06-01 00:00", 1) == [T("2026-07-31 12:00")]


def test_last_weekday():
    # Oct 31 2026 is a Saturday → Friday 30th; Nov 30 2026 is a Monday.
    assert fires("cron(0 12 LW * ? *)", "2026-10-01 00:00", 2) == [T("2026-10-30 12:00"), T("2026-11-30 12:00")]


def test_once_only_then_none():
    s = parse_expression("cron(0 0 1 1 ? 2027)")
    assert s.fire_times(T("2026-06-01 00:00"), 3) == [T("2027-01-01 00:00")]
    assert s.next_after(T("2027-01-01 00:00")) is None


def test_year_lists_ranges_and_increments():
    assert fires("cron(0 0 1 1 ? 2027,2029-2030)", "2026-06-01 00:00", 5) == [
        T("2027-01-01 00:00"), T("2029-01-01 00:00"), T("2030-01-01 00:00")
    ]
    assert fires("cron(0 0 1 1 ? 2026/2)", "2026-06-01 00:00", 2) == [T("2028-01-01 00:00"), T("2030-01-01 00:00")]
    assert parse_expression("cron(0 0 1 1 ? 2020)").next_after(T("2026-06-01 00:00")) is None


def test_no_fire_times_past_2199():
    assert fires("cron(0 0 31 12 ? 2199)", "2199-12-30 00:00", 2) == [T("2199-12-31 00:00")]
    assert parse_expression("cron(* * * * ? *)").next_after(T("2199-12-31 23:59")) is None
    assert parse_expression("cron(* * * * ? *)").next_after(T("2500-01-01 00:00")) is None


def test_never_matching_day_parses_and_never_fires():
    assert parse_expression("cron(0 0 30 2 ? *)").next_after(T("2026-01-01 00:00")) is None


def test_wrapping_ranges():
    assert fires("cron(0 22-1 * * ? *)", "2026-12-07 21:00", 5) == [
        T("2026-12-07 22:00"), T("2026-12-07 23:00"), T("2026-12-08 00:00"), T("2026-12-08 01:00"), T("2026-12-08 22:00")
    ]
    assert [t.strftime("%a %d") for t in fires("cron(0 12 ? * FRI-MON *)", "2026-12-07 13:00", 4)] == [
        "Fri 11", "Sat 12", "Sun 13", "Mon 14"
    ]


def test_lists_steps_names_and_case():
    assert fires("cron(5,35 9 ? JAN,jul MON *)", "2026-12-07 00:00", 2) == [T("2027-01-04 09:05"), T("2027-01-04 09:35")]
    assert fires("cron(10-40/15 3 * * ? *)", "2026-12-07 00:00", 3) == [
        T("2026-12-07 03:10"), T("2026-12-07 03:25"), T("2026-12-07 03:40")
    ]
    assert fires("cron(0 18 ? * mon-fri *)", "2026-12-11 19:00", 1) == [T("2026-12-14 18:00")]
    # day-of-week numbers: 1 = SUN ... 7 = SAT (2026-12-13 is a Sunday, the 12th a Saturday)
    assert [t.strftime("%a") for t in fires("cron(0 0 ? * 1,7 *)", "2026-12-07 00:00", 2)] == ["Sat", "Sun"]


def test_next_after_is_strictly_after():
    s = parse_expression("cron(0 10 * * ? *)")
    assert s.next_after(T("2026-12-07 10:00")) == T("2026-12-08 10:00")
    assert s.next_after(T("2026-12-07 10:00") - timedelta(microseconds=1)) == T("2026-12-07 10:00")
    assert s.next_after(T("2026-12-07 10:00") + timedelta(seconds=30)) == T("2026-12-08 10:00")
    every = parse_expression("cron(* * * * ? *)")
    assert every.next_after(T("2026-12-07 10:00")) == T("2026-12-07 10:01")


def test_other_time_zones_are_converted_and_naive_times_refused():
    s = parse_expression("cron(0 10 * * ? *)")
    paris = timezone(timedelta(hours=1))
    got = s.next_after(datetime(2026, 12, 7, 10, 30, tzinfo=paris))  # 09:30 UTC
    assert got == T("2026-12-07 10:00") and got.tzinfo == UTC
    with pytest.raises(ValueError, match="no time zone"):
        s.next_after(datetime(2026, 12, 7, 10, 0))


def test_next_after_is_quick_over_years():
    s = parse_expression("cron(0 0 29 2 ? *)")  # leap days only
    started = time.perf_counter()
    assert s.fire_times(T("2026-01-01 00:00"), 3) == [T("2028-02-29 00:00"), T("2032-02-29 00:00"), T("2036-02-29 00:00")]
    assert parse_expression("cron(59 23 31 12 ? 2199)").next_after(T("1970-01-01 00:00")) == T("2199-12-31 23:59")
    assert time.perf_counter() - started < 1.0


# -- rate -------------------------------------------------------------------------------------------


def test_rate_first_fire_is_one_interval_after():
    assert fires("rate(5 minutes)", "2026-12-07 12:00", 3) == [T("2026-12-07 12:05"), T("2026-12-07 12:10"), T("2026-12-07 12:15")]
    assert fires("rate(1 minute)", "2026-12-07 12:00", 1) == [T("2026-12-07 12:01")]
    assert fires("rate(1 hour)", "2026-12-07 12:00", 2) == [T("2026-12-07 13:00"), T("2026-12-07 14:00")]
    assert fires("rate(12 hours)", "2026-12-07 12:00", 1) == [T("2026-12-08 00:00")]
    assert fires("rate(1 day)", "2026-12-07 12:00", 2) == [T("2026-12-08 12:00"), T("2026-12-09 12:00")]
    assert fires("rate(7 days)", "2026-12-07 12:00", 1) == [T("2026-12-14 12:00")]
    s = parse_expression("rate(5 minutes)")
    assert isinstance(s, RateSchedule) and s.interval == timedelta(minutes=5)


def test_parse_returns_cron_schedule_and_keeps_the_text():
    s = parse_expression("  cron(0 10 * * ? *)  ")
    assert isinstance(s, CronSchedule) and s.expression == "cron(0 10 * * ? *)"


# -- refusals ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "expr, reason",
    [
        ("cron(0 12 * * ?)", "6 fields"),
        ("cron(0 12 * * ? * *)", "6 fields"),
        ("cron(0 12 * * * *)", "one of day-of-month and day-of-week must be ?"),
        ("cron(0 12 1 * MON *)", "one of day-of-month and day-of-week must be ?"),
        ("cron(0 12 ? * ? *)", "cannot both be ?"),
        ("cron(60 * * * ? *)", "minutes: 60 is out of range (0-59)"),
        ("cron(0 24 * * ? *)", "hours: 24 is out of range (0-23)"),
        ("cron(0 0 32 * ? *)", "day-of-month: 32 is out of range (1-31)"),
        ("cron(0 0 0 * ? *)", "day-of-month: 0 is out of range"),
        ("cron(0 0 1 13 ? *)", "month: 13 is out of range (1-12 or JAN-DEC)"),
        ("cron(0 0 ? * 0 *)", "day-of-week: 0 is out of range (1-7 or SUN-SAT)"),
        ("cron(0 0 ? * 8 *)", "day-of-week: 8 is out of range"),
        ("cron(0 0 1 1 ? 1969)", "year: 1969 is out of range (1970-2199)"),
        ("cron(0 0 1 1 ? 2200)", "year: 2200 is out of range"),
        ("cron(0 0 1 1 ? 2030-2026)", "year: the range 2030-2026 runs backwards"),
        ("cron(0 18 ? * MONDAY *)", "day-of-week: 'MONDAY' is not a number or a name"),
        ("cron(0 18 ? * FOO-FRI *)", "day-of-week: 'FOO' is not a number or a name"),
        ("cron(0 0 1 JANUARY ? *)", "month: 'JANUARY' is not a number or a name"),
        ("cron(0 0 ? JAN MON-FRY *)", "'FRY' is not a number or a name"),
        ("cron(0 MON * * ? *)", "hours: 'MON' is not a number"),
        ("cron(? 0 * * ? *)", "minutes: ? is only allowed in day-of-month and day-of-week"),
        ("cron(0 0 ? * 1/2 *)", "day-of-week: '1/2': / is not allowed in day-of-week"),
        ("cron(0 0 L,1 * ? *)", "L and W stand alone"),
        ("cron(0 0 1-5W * ? *)", "W follows a single day"),
        ("cron(0 0 L-3 * ? *)", "day-of-month"),
        ("cron(0 0 ? * 3#1,6#3 *)", "3#1,6#3 is not valid"),
        ("cron(0 0 ? * 3#6 *)", "1 to 5"),
        ("cron(0 0 ? * 3#0 *)", "1 to 5"),
        ("cron(0 0 3#1 * ? *)", "day-of-month: '#' is not allowed"),
        ("cron(0 0 ? * 3W *)", "day-of-week: '3W' is not a number or a name"),
        ("cron(0 0 ? * 6L,1 *)", "L stands alone"),
        ("cron(0 L * * ? *)", "hours: 'L' is not a number"),
        ("cron(0/0 * * * ? *)", "minutes: the increment after / must be a whole number from 1 to 60"),
        ("cron(0/61 * * * ? *)", "from 1 to 60"),
        ("cron(1,,2 * * * ? *)", "empty item"),
        ("cron(0 12 * * ? *", "not a schedule expression"),
        ("CRON(0 12 * * ? *)", "not a schedule expression"),
        ("0 12 * * ? *", "not a schedule expression"),
        ("at(2026-12-07T12:00:00)", "not a schedule expression"),
        ("", "not a schedule expression"),
        ("rate(0 minutes)", "positive whole number"),
        ("rate(-5 minutes)", "positive whole number"),
        ("rate(1.5 hours)", "positive whole number"),
        ("rate(1 minutes)", "with a value of 1 the unit is singular: rate(1 minute)"),
        ("rate(1 hours)", "singular"),
        ("rate(5 minute)", "with a value over 1 the unit is plural: rate(5 minutes)"),
        ("rate(5 hour)", "plural"),
        ("rate(5 weeks)", "the unit 'weeks' is not one of minute, minutes, hour, hours, day, days"),
        ("rate(5 Minutes)", "is not one of"),
        ("rate(5)", "rate(value unit)"),
        ("rate(5 minutes now)", "rate(value unit)"),
    ],
)
def test_refused(expr, reason):
    with pytest.raises(ScheduleError) as e:
        parse_expression(expr)
    assert reason in str(e.value)
    assert isinstance(e.value, ValueError)


def test_error_names_the_expression():
    with pytest.raises(ScheduleError) as e:
        parse_expression("cron(0 12 * * * *)")
    assert str(e.value) == "cron(0 12 * * * *): one of day-of-month and day-of-week must be ? (both cannot be specified)"
    with pytest.raises(ScheduleError, match=r"^cron\(60 \* \* \* \? \*\): minutes: "):
        parse_expression("cron(60 * * * ? *)")


# -- the scheduled event ----------------------------------------------------------------------------


def test_scheduled_event_shape():
    arn = "arn:aws:events:eu-west-1:111122223333:rule/nightly"
    event = scheduled_event(arn, "eu-west-1", "111122223333", T("2026-12-07 12:00"))
    assert list(event) == ["version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"]
    assert uuid.UUID(event.pop("id")).version == 4
    assert event == {
        "version": "0",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "111122223333",
        "time": "2026-12-07T12:00:00Z",
        "region": "eu-west-1",
        "resources": [arn],
        "detail": {},
    }
    again = [scheduled_event(arn, "eu-west-1", "111122223333", T("2026-12-07 12:00"))["id"] for _ in range(2)]
    assert again[0] != again[1]  # a fresh id per event, as EventBridge's


# -- the runner -------------------------------------------------------------------------------------


class FakeClock:
    """Time moves only when the runner sleeps; after `sleeps_allowed` sleeps it blocks until stopped."""

    def __init__(self, now: datetime, sleeps_allowed: int = 100) -> None:
        self.t = now
        self.sleeps: list[float] = []
        self.sleeps_allowed = sleeps_allowed
        self.gate = threading.Event()  # cleared by a test that must look before time moves
        self.gate.set()

    def now(self) -> datetime:
        return self.t

    def sleep(self, seconds: float, stop_event: threading.Event) -> None:
        self.gate.wait(10)
        self.sleeps.append(seconds)
        if len(self.sleeps) > self.sleeps_allowed:
            stop_event.wait(10)
            return
        self.t += timedelta(seconds=seconds)


class RecordingBackend:
    def __init__(self, fail_on: tuple[int, ...] = (), clock: FakeClock | None = None, advance: timedelta | None = None) -> None:
        self.calls: list[tuple[str, dict, datetime | None]] = []
        self.fail_on = fail_on
        self.clock = clock
        self.advance = advance

    def invoke(self, name, payload=b"{}", *, invocation_type="RequestResponse", source=None):
        self.calls.append((name, json.loads(payload), self.clock.now() if self.clock else None))
        if self.advance is not None:
            self.clock.t += self.advance
        if len(self.calls) in self.fail_on:
            raise RuntimeError("backend exploded")
        return InvokeResult(function=name, request_id="r", status_code=200, payload=b"null")




def test_runner_fires_scheduled_events_at_the_fire_times():
    clock = FakeClock(T("2026-12-07 11:58") + timedelta(seconds=30), sleeps_allowed=3)
    backend = RecordingBackend(clock=clock)
    runner = ScheduleRunner(
        backend, "nightly", "cron(0/1 12 * * ? *)", rule_name="every-minute", region="eu-west-1", account="111122223333", clock=clock
    )
    clock.gate.clear()
    runner.start()
    assert runner.next_fire == T("2026-12-07 12:00")  # known as soon as start() returns
    clock.gate.set()
    try:
        wait_for(lambda: len(backend.calls) == 3 and len(clock.sleeps) == 4)
    finally:
        runner.stop()
    assert not runner.running
    assert clock.sleeps[:3] == [90.0, 60.0, 60.0]
    assert [call[2] for call in backend.calls] == [T("2026-12-07 12:00"), T("2026-12-07 12:01"), T("2026-12-07 12:02")]
    for (name, event, _), minute in zip(backend.calls, ("00", "01", "02")):
        assert name == "nightly"
        assert event["time"] == f"2026-12-07T12:{minute}:00Z"
        assert event["resources"] == ["arn:aws:events:eu-west-1:111122223333:rule/every-minute"]
        assert event["detail-type"] == "Scheduled Event" and event["source"] == "aws.events"
        assert event["region"] == "eu-west-1" and event["account"] == "111122223333"
    assert len({event["id"] for _, event, _ in backend.calls}) == 3
    assert runner.fired == 3 and runner.errors == 0
    assert runner.next_fire == T("2026-12-07 12:03")


def test_runner_sends_constant_input_instead_of_the_event():
    clock = FakeClock(T("2026-12-07 12:00"), sleeps_allowed=2)
    backend = RecordingBackend(clock=clock)
    runner = ScheduleRunner(backend, "fn", "rate(5 minutes)", input={"job": "cleanup", "n": [1, 2]}, clock=clock)
    runner.start()
    try:
        wait_for(lambda: len(backend.calls) == 2)
    finally:
        runner.stop()
    assert [(c[1], c[2]) for c in backend.calls] == [
        ({"job": "cleanup", "n": [1, 2]}, T("2026-12-07 12:05")),
        ({"job": "cleanup", "n": [1, 2]}, T("2026-12-07 12:10")),
    ]
    assert runner.rule_arn == "arn:aws:events:us-east-1:123456789012:rule/fn-schedule"


def test_runner_survives_backend_errors(caplog):
    caplog.set_level(logging.ERROR, logger="lambdatui.serve")
    clock = FakeClock(T("2026-12-07 12:00"), sleeps_allowed=3)
    backend = RecordingBackend(fail_on=(1,), clock=clock)
    runner = ScheduleRunner(backend, "fn", "rate(1 minute)", clock=clock)
    runner.start()
    try:
        wait_for(lambda: len(backend.calls) == 3)
    finally:
        runner.stop()
    assert runner.fired == 3 and runner.errors == 1
    assert [c[2] for c in backend.calls] == [T("2026-12-07 12:01"), T("2026-12-07 12:02"), T("2026-12-07 12:03")]
    errors = [r for r in caplog.records if r.name == "lambdatui.serve" and r.levelno == logging.ERROR]
    assert len(errors) == 1 and "backend exploded" in errors[0].getMessage()


def test_runner_skips_fire_times_missed_while_busy(caplog):
    caplog.set_level(logging.WARNING, logger="lambdatui.serve")
    clock = FakeClock(T("2026-12-07 12:00"), sleeps_allowed=2)
    backend = RecordingBackend(clock=clock, advance=timedelta(seconds=150))  # each invoke takes 2.5 minutes
    runner = ScheduleRunner(backend, "fn", "cron(* * * * ? *)", clock=clock)
    runner.start()
    try:
        wait_for(lambda: len(backend.calls) == 2)
    finally:
        runner.stop()
    # 12:01 runs until 12:03:30, so 12:02 and 12:03 are skipped; next is 12:04.
    assert [c[2] for c in backend.calls] == [T("2026-12-07 12:01"), T("2026-12-07 12:04")]
    assert any("skipped" in r.getMessage() for r in caplog.records if r.name == "lambdatui.serve")


def test_runner_ends_when_the_schedule_runs_out():
    clock = FakeClock(T("2026-12-31 23:00"))
    backend = RecordingBackend(clock=clock)
    runner = ScheduleRunner(backend, "fn", "cron(0 0 1 1 ? 2027)", clock=clock)
    runner.start()
    wait_for(lambda: not runner.running)
    assert [c[2] for c in backend.calls] == [T("2027-01-01 00:00")]
    assert runner.next_fire is None and runner.fired == 1


def test_runner_with_the_real_clock_stops_at_once():
    backend = RecordingBackend()
    runner = ScheduleRunner(backend, "fn", "cron(0 0 1 1 ? 2199)")
    runner.start()
    assert runner.running and runner.next_fire == T("2199-01-01 00:00")
    started = time.monotonic()
    runner.stop()
    assert time.monotonic() - started < 1.0
    assert not runner.running and backend.calls == []


def test_runner_refuses_a_bad_expression():
    with pytest.raises(ScheduleError):
        ScheduleRunner(RecordingBackend(), "fn", "rate(1 minutes)")


# -- the CLI ----------------------------------------------------------------------------------------


def cli(expression, after=None, count=5):
    return run_schedule(argparse.Namespace(expression=expression, after=after, count=count))


def test_cli_prints_fire_times(capsys):
    assert cli("cron(0 12 ? * 2#1 *)", "2026-12-01T00:00:00Z", 3) == 0
    out, err = capsys.readouterr()
    assert out.splitlines() == ["2026-12-07T12:00:00Z", "2027-01-04T12:00:00Z", "2027-02-01T12:00:00Z"]
    assert err == ""


def test_cli_accepts_offsets_and_defaults_to_now(capsys):
    assert cli("rate(1 hour)", "2026-12-01T00:00:00+00:00", 2) == 0
    assert capsys.readouterr().out.splitlines() == ["2026-12-01T01:00:00Z", "2026-12-01T02:00:00Z"]
    assert cli("cron(0 10 * * ? *)", "2026-12-01T11:30:00+02:00", 1) == 0  # 09:30 UTC
    assert capsys.readouterr().out.splitlines() == ["2026-12-01T10:00:00Z"]
    before = datetime.now(UTC)
    assert cli("cron(* * * * ? *)") == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 5
    times = [datetime.strptime(line, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC) for line in lines]
    assert before < times[0] <= before + timedelta(minutes=1) and times == sorted(times)


def test_cli_says_when_the_schedule_runs_out(capsys):
    assert cli("cron(0 0 1 1 ? 2027)", "2026-12-01T00:00:00Z", 3) == 0
    out, err = capsys.readouterr()
    assert out.splitlines() == ["2027-01-01T00:00:00Z"]
    assert "no fire times after 2027-01-01T00:00:00Z" in err


def test_cli_invalid_expression(capsys):
    assert cli("rate(5 minute)") == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("lambdatui: rate(5 minute): ") and "plural" in err


def test_cli_bad_after_and_count(capsys):
    assert cli("rate(5 minutes)", "next tuesday") == 2
    assert "--after" in capsys.readouterr().err
    assert cli("rate(5 minutes)", "2026-12-01T00:00:00Z", -1) == 2
    assert "--count" in capsys.readouterr().err
