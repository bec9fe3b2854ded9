"""EventBridge schedule expressions: their grammar, parsed and evaluated locally (fire times).

A leaf module (the standard library only): the configuration checks expressions with it, the
schedule trigger fires on it and `lambdatui schedule` prints its fire times.

The grammar is the one the EventBridge user guide documents under "Schedule expressions for rules"
(eb-scheduled-rule-pattern / eb-cron-expressions / eb-rate-expressions):

``rate(value unit)``
    value is a positive whole number; unit is minute|minutes|hour|hours|day|days, singular when the
    value is 1 and plural otherwise (AWS rejects ``rate(1 hours)`` and ``rate(5 hour)``).

``cron(minutes hours day-of-month month day-of-week year)``
    Six fields, always UTC.

    ============  ====================  ===============
    field         values                wildcards
    ============  ====================  ===============
    minutes       0-59                  , - * /
    hours         0-23                  , - * /
    day-of-month  1-31                  , - * ? / L W
    month         1-12 or JAN-DEC       , - * /
    day-of-week   1-7 or SUN-SAT        , - * ? L #
    year          1970-2199             , - * /
    ============  ====================  ===============

    Day-of-week counts from 1 = SUNDAY to 7 = SATURDAY (Quartz's numbering, which EventBridge uses),
    not from 0 = Sunday as Unix cron does. This is why croniter is not used here: it reads a six-field
    expression as seconds-first and numbers weekdays from 0, so AWS's ``2#1`` (first Monday) silently
    becomes the first Tuesday.

    Exactly one of day-of-month and day-of-week is ``?``: AWS refuses a value (or ``*``) in both, and
    ``?`` in both.

Points the AWS page leaves open, decided here (and why):

* ``/`` is refused in day-of-week because AWS's table does not list it there (Quartz itself would
  take it); everything else follows the table literally.
* ``L`` alone in day-of-week is "the last day of the week", i.e. 7 = SATURDAY, every week (Quartz's
  meaning). ``nL`` is the last day n of the month (``6L`` = last Friday).
* ``L`` in day-of-month is the month's last day; ``LW`` (the last weekday, Monday-Friday, of the
  month) is accepted as Quartz accepts it. Other Quartz forms (``L-3``) are refused.
* ``nW`` is the weekday nearest day n that stays in the month: a Saturday moves to Friday, a Sunday
  to Monday, except that 1st-is-Saturday moves forward to Monday 3rd and last-day-is-Sunday moves
  back to Friday. A month without day n (``31W`` in June) does not fire.
* ``L``, ``LW``, ``nW``, ``nL`` and ``n#k`` stand alone in their field (AWS says so for ``#``:
  "3#1,6#3" is not valid; Quartz says so for the others). ``n#k`` takes k from 1 to 5; a month
  without a fifth such day does not fire.
* A range may wrap (``FRI-MON``, hours ``22-2``), as in Quartz; a year range may not.
* Month and day names are accepted in any case (``mon-fri``); the ``cron(``/``rate(`` words are not.
* ``/`` takes a start (``0/15``, ``*/15``, ``10-40/10``) and a step from 1 to the field's width.
* An expression that can never fire (``cron(0 0 30 2 ? *)``) parses; it just has no fire times.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

__all__ = [
    "CronSchedule",
    "RateSchedule",
    "Schedule",
    "ScheduleError",
    "format_time",
    "parse_expression",
]

UTC = timezone.utc
MIN_YEAR, MAX_YEAR = 1970, 2199

MONTH_NAMES = {name: i for i, name in enumerate(
    ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"), start=1)}
DAY_NAMES = {name: i for i, name in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"), start=1)}

_DIGITS = re.compile(r"[0-9]+")

# A day rule, tagged by its first item: ("days", values) | ("last",) | ("last-weekday",) |
# ("nearest-weekday", n) for day-of-month; ("days", values) | ("last-of", d) | ("nth", d, k) for day-of-week.
DayRule = tuple[Any, ...]


class ScheduleError(ValueError):
    """An expression EventBridge would refuse; `str(e)` names the expression, the field and the fault."""


# -- fields ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Field:
    name: str
    lo: int
    hi: int
    wildcards: str  # the punctuation AWS's table allows besides digits (letters are checked apart)
    names: dict[str, int] | None = None
    wraps: bool = True  # a range like 22-2 wraps round (Quartz); a year range cannot

    def describe_values(self) -> str:
        if self.names:
            first, last = list(self.names)[0], list(self.names)[-1]
            return f"{self.lo}-{self.hi} or {first}-{last}"
        return f"{self.lo}-{self.hi}"


MINUTES = _Field("minutes", 0, 59, ",-*/")
HOURS = _Field("hours", 0, 23, ",-*/")
DAY_OF_MONTH = _Field("day-of-month", 1, 31, ",-*?/LW")
MONTH = _Field("month", 1, 12, ",-*/", MONTH_NAMES)
DAY_OF_WEEK = _Field("day-of-week", 1, 7, ",-*?L#", DAY_NAMES)
YEAR = _Field("year", MIN_YEAR, MAX_YEAR, ",-*/", wraps=False)
FIELDS = (MINUTES, HOURS, DAY_OF_MONTH, MONTH, DAY_OF_WEEK, YEAR)


class _Parser:
    """Parses one cron expression; every error names the expression and the field."""

    def __init__(self, expr: str) -> None:
        self.expr = expr

    def fail(self, message: str, field: _Field | None = None) -> ScheduleError:
        where = f"{field.name}: " if field else ""
        return ScheduleError(f"{self.expr}: {where}{message}")

    def check_wildcards(self, text: str, field: _Field) -> None:
        for ch in text:
            if not ch.isalnum() and ch not in field.wildcards:
                allowed = " ".join(field.wildcards)
                raise self.fail(f"{ch!r} is not allowed here ({field.name} takes digits and {allowed})", field)

    def value(self, token: str, field: _Field) -> int:
        if _DIGITS.fullmatch(token):
            v = int(token)
        elif field.names and token.upper() in field.names:
            v = field.names[token.upper()]
        elif field.names:
            raise self.fail(f"{token!r} is not a number or a name ({', '.join(field.names)})", field)
        elif token == "":
            raise self.fail("a value is missing", field)
        else:
            raise self.fail(f"{token!r} is not a number", field)
        if not field.lo <= v <= field.hi:
            raise self.fail(f"{token} is out of range ({field.describe_values()})", field)
        return v

    def step(self, token: str, field: _Field) -> int:
        width = field.hi - field.lo + 1
        if not _DIGITS.fullmatch(token) or not 1 <= int(token) <= width:
            raise self.fail(f"the increment after / must be a whole number from 1 to {width}, not {token!r}", field)
        return int(token)

    def values(self, text: str, field: _Field) -> frozenset[int]:
        """A list of values, ranges and increments: `1,5-10,*/15,JAN-MAR`."""
        self.check_wildcards(text, field)
        found: set[int] = set()
        for part in text.split(","):
            if part == "":
                raise self.fail(f"{text!r} has an empty item in its list", field)
            base, slash, step_text = part.partition("/")
            step = self.step(step_text, field) if slash else 1
            if base == "*":
                start, end = field.lo, field.hi
            elif "-" in base:
                a, _, b = base.partition("-")
                start, end = self.value(a, field), self.value(b, field)
            else:
                start = self.value(base, field)
                end = field.hi if slash else start  # `5/15` is 5, 20, 35, ... to the field's end
            if start <= end:
                sequence = list(range(start, end + 1))
            elif field.wraps:  # Quartz: FRI-MON is FRI, SAT, SUN, MON; 22-2 is 22, 23, 0, 1, 2
                sequence = list(range(start, field.hi + 1)) + list(range(field.lo, end + 1))
            else:
                raise self.fail(f"the range {base} runs backwards", field)
            found.update(sequence[::step])
        return frozenset(found)

    def day_of_month(self, text: str) -> DayRule:
        field = DAY_OF_MONTH
        self.check_wildcards(text, field)
        upper = text.upper()
        if upper == "L":
            return ("last",)
        if upper == "LW":
            return ("last-weekday",)
        if upper.endswith("W"):
            day = upper[:-1]
            if not _DIGITS.fullmatch(day):
                raise self.fail(f"{text!r}: W follows a single day, as in 15W (the weekday nearest the 15th)", field)
            return ("nearest-weekday", self.value(day, field))
        if "L" in upper or "W" in upper:
            raise self.fail(f"{text!r}: L and W stand alone (L, LW or a day and W as 15W), not in lists, ranges or increments", field)
        return ("days", self.values(text, field))

    def day_of_week(self, text: str) -> DayRule:
        field = DAY_OF_WEEK
        if "/" in text:  # AWS's table leaves / out of day-of-week, though Quartz would take it
            raise self.fail(f"{text!r}: / is not allowed in day-of-week (it takes digits, names and , - * ? L #)", field)
        self.check_wildcards(text, field)
        upper = text.upper()
        if "#" in upper:
            if "," in upper or upper.count("#") > 1:
                raise self.fail(f"{text!r}: with # the field holds a single expression (AWS: 3#1,6#3 is not valid)", field)
            day, _, nth = upper.partition("#")
            if "-" in day or "*" in day:
                raise self.fail(f"{text!r}: # follows a single day, as in 3#2 (the second Tuesday)", field)
            weekday = self.value(day, field)
            if not _DIGITS.fullmatch(nth) or not 1 <= int(nth) <= 5:
                raise self.fail(f"{text!r}: the number after # is which one in the month, 1 to 5", field)
            return ("nth", weekday, int(nth))
        if upper == "L":  # the last day of the week: 7, SATURDAY, every week (Quartz)
            return ("days", frozenset({7}))
        if "L" in upper:  # no day name holds an L, so any L here is the wildcard
            if upper.endswith("L") and upper.count("L") == 1 and not any(c in upper for c in ",-*"):
                return ("last-of", self.value(upper[:-1], field))
            raise self.fail(f"{text!r}: L stands alone (L, or a day and L as 6L, the last Friday)", field)
        return ("days", self.values(text, field))


# -- schedules ------------------------------------------------------------------------------------


def _utc(dt: datetime, what: str = "time") -> datetime:
    if not isinstance(dt, datetime):
        raise TypeError(f"{what} must be a datetime, not {type(dt).__name__}")
    if dt.tzinfo is None or dt.utcoffset() is None:
        # A naive time is ambiguous (local? UTC?) and schedules are UTC: refuse rather than guess.
        raise ValueError(f"{what} {dt.isoformat()} has no time zone; pass an aware datetime (e.g. tzinfo=timezone.utc)")
    return dt.astimezone(UTC)


def format_time(dt: datetime) -> str:
    """`2026-12-07T12:00:00Z`: EventBridge's `time` format (UTC, whole seconds)."""
    return _utc(dt).strftime("%Y-%m-%dT%H:%M:%SZ")


class Schedule:
    """A parsed schedule expression."""

    expression: str

    def next_after(self, dt: datetime) -> datetime | None:
        """The first fire time strictly after `dt` (aware; any zone), in UTC; None when there is none."""
        raise NotImplementedError

    def fire_times(self, after: datetime, count: int) -> list[datetime]:
        """The next `count` fire times strictly after `after` (fewer when the schedule runs out)."""
        if count < 0:
            raise ValueError(f"count must be 0 or more, not {count}")
        times: list[datetime] = []
        t = after
        while len(times) < count:
            nxt = self.next_after(t)
            if nxt is None:
                break
            times.append(nxt)
            t = nxt
        return times


@dataclass(frozen=True)
class RateSchedule(Schedule):
    """`rate(value unit)`.

    EventBridge counts a rate from the rule's creation, which a local run does not have; so the
    schedule counts from whatever time it is asked about: the first fire is one interval after
    `after` (the runner passes its start time, as if the rule were created then).
    """

    expression: str
    value: int
    unit: str  # minute, hour or day (singular)

    @property
    def interval(self) -> timedelta:
        return timedelta(**{self.unit + "s": self.value})

    def next_after(self, dt: datetime) -> datetime | None:
        try:
            return _utc(dt) + self.interval
        except OverflowError:  # past datetime's year 9999
            return None


@dataclass(frozen=True)
class CronSchedule(Schedule):
    """`cron(...)`: sorted allowed values per field, and the one day rule that is not `?`."""

    expression: str
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    months: tuple[int, ...]
    years: tuple[int, ...]
    day_of_month: DayRule | None  # ("days", set) | ("last",) | ("last-weekday",) | ("nearest-weekday", n); None for ?
    day_of_week: DayRule | None  # ("days", set of 1-7) | ("last-of", d) | ("nth", d, k); None for ?

    def days_in(self, year: int, month: int) -> list[int]:
        """The days of this month on which the schedule fires, ascending."""
        last = calendar.monthrange(year, month)[1]
        rule: DayRule | None
        if self.day_of_month is not None:
            rule = self.day_of_month
            if rule[0] == "days":
                return [d for d in range(1, last + 1) if d in rule[1]]
            if rule[0] == "last":
                return [last]
            if rule[0] == "last-weekday":
                return [_nearest_weekday(year, month, last, last)]
            day = rule[1]
            return [_nearest_weekday(year, month, day, last)] if day <= last else []
        rule = self.day_of_week
        assert rule is not None
        first = _aws_weekday(year, month, 1)
        # The n-th day of the month falls on AWS weekday ((first - 1 + n - 1) % 7) + 1.
        if rule[0] == "days":
            return [d for d in range(1, last + 1) if (first + d - 2) % 7 + 1 in rule[1]]
        weekday = rule[1]
        first_such = 1 + (weekday - first) % 7  # the first day of the month that is `weekday`
        if rule[0] == "nth":
            day = first_such + 7 * (rule[2] - 1)
            return [day] if day <= last else []
        # "last-of": the last `weekday` of the month
        return [first_such + 7 * ((last - first_such) // 7)]

    def next_after(self, dt: datetime) -> datetime | None:
        dt = _utc(dt)
        if dt.year > MAX_YEAR:
            return None
        # Whole minutes only: the first candidate is the next minute boundary strictly after dt.
        start = dt.replace(second=0, microsecond=0) + timedelta(minutes=1)
        # Walk years, months and days that match, narrowing to hours and minutes only on a matching
        # day; at each level the lower bound of `start` applies only while still on start's path.
        for year in self.years:
            if year < start.year:
                continue
            on_year = year == start.year
            for month in self.months:
                if on_year and month < start.month:
                    continue
                on_month = on_year and month == start.month
                for day in self.days_in(year, month):
                    if on_month and day < start.day:
                        continue
                    on_day = on_month and day == start.day
                    for hour in self.hours:
                        if on_day and hour < start.hour:
                            continue
                        on_hour = on_day and hour == start.hour
                        for minute in self.minutes:
                            if on_hour and minute < start.minute:
                                continue
                            return datetime(year, month, day, hour, minute, tzinfo=UTC)
        return None


def _aws_weekday(year: int, month: int, day: int) -> int:
    """AWS's day-of-week: 1 = SUNDAY ... 7 = SATURDAY (Python's weekday() is 0 = Monday)."""
    return (calendar.weekday(year, month, day) + 1) % 7 + 1


def _nearest_weekday(year: int, month: int, day: int, last: int) -> int:
    """The Monday-Friday nearest `day`, without leaving the month (Quartz's W)."""
    weekday = _aws_weekday(year, month, day)
    if weekday == 7:  # Saturday: Friday before, unless that is last month, then Monday after
        return day - 1 if day > 1 else day + 2
    if weekday == 1:  # Sunday: Monday after, unless that is next month, then Friday before
        return day + 1 if day < last else day - 2
    return day


_RATE_UNITS = ("minute", "hour", "day")


def _parse_rate(expr: str, body: str) -> RateSchedule:
    parts = body.split()
    if len(parts) != 2:
        raise ScheduleError(f"{expr}: a rate is rate(value unit), e.g. rate(5 minutes)")
    value_text, unit = parts
    if not _DIGITS.fullmatch(value_text) or int(value_text) == 0:
        raise ScheduleError(f"{expr}: the value {value_text!r} must be a positive whole number")
    value = int(value_text)
    singular = unit[:-1] if unit.endswith("s") else unit
    if singular not in _RATE_UNITS:
        raise ScheduleError(f"{expr}: the unit {unit!r} is not one of minute, minutes, hour, hours, day, days")
    if value == 1 and unit != singular:
        raise ScheduleError(f"{expr}: with a value of 1 the unit is singular: rate(1 {singular})")
    if value > 1 and unit == singular:
        raise ScheduleError(f"{expr}: with a value over 1 the unit is plural: rate({value} {singular}s)")
    return RateSchedule(expr, value, singular)


def _parse_cron(expr: str, body: str) -> CronSchedule:
    fields = body.split()
    if len(fields) != 6:
        raise ScheduleError(
            f"{expr}: a cron expression has 6 fields (minutes hours day-of-month month day-of-week year), not {len(fields)}"
        )
    p = _Parser(expr)
    minutes, hours, dom, month, dow, year = fields
    if dom == "?" and dow == "?":
        raise ScheduleError(f"{expr}: day-of-month and day-of-week cannot both be ?; one of them must have a value or *")
    if dom != "?" and dow != "?":
        raise ScheduleError(f"{expr}: one of day-of-month and day-of-week must be ? (both cannot be specified)")
    for text, field in ((minutes, MINUTES), (hours, HOURS), (month, MONTH), (year, YEAR)):
        if "?" in text:
            raise p.fail("? is only allowed in day-of-month and day-of-week", field)
    if "?" in dom and dom != "?":
        raise p.fail(f"{dom!r}: ? stands alone", DAY_OF_MONTH)
    if "?" in dow and dow != "?":
        raise p.fail(f"{dow!r}: ? stands alone", DAY_OF_WEEK)
    return CronSchedule(
        expression=expr,
        minutes=tuple(sorted(p.values(minutes, MINUTES))),
        hours=tuple(sorted(p.values(hours, HOURS))),
        months=tuple(sorted(p.values(month, MONTH))),
        years=tuple(sorted(p.values(year, YEAR))),
        day_of_month=None if dom == "?" else p.day_of_month(dom),
        day_of_week=None if dow == "?" else p.day_of_week(dow),
    )


_EXPRESSION = re.compile(r"(rate|cron)\((.*)\)", re.DOTALL)


def parse_expression(expr: str) -> Schedule:
    """Parse `rate(...)` or `cron(...)` as EventBridge does; raises ScheduleError saying what is wrong."""
    if not isinstance(expr, str):
        raise ScheduleError(f"{expr!r}: a schedule expression is a string, e.g. rate(5 minutes)")
    text = expr.strip()
    m = _EXPRESSION.fullmatch(text)
    if not m:
        raise ScheduleError(
            f"{text or expr!r}: not a schedule expression; use rate(value unit) or "
            "cron(minutes hours day-of-month month day-of-week year)"
        )
    kind, body = m.groups()
    return _parse_rate(text, body) if kind == "rate" else _parse_cron(text, body)
