"""`lambdatui schedule EXPR [--after ISO8601] [--count N]`: the next fire times of an EventBridge
schedule expression, one per line in UTC (`2026-12-07T12:00:00Z`), to check an expression before
putting it in a configuration or on AWS."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timezone


def _parse_after(text: str) -> datetime:
    """ISO 8601, `Z` or an offset; a time without a zone is taken as UTC (schedules are UTC)."""
    value = text.strip()
    if value[-1:] in ("Z", "z"):  # fromisoformat takes Z only from Python 3.11
        value = value[:-1] + "+00:00"
    dt = datetime.fromisoformat(value)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc)


def run_schedule(args: argparse.Namespace) -> int:
    from ..schedule_expr import ScheduleError, format_time, parse_expression

    try:
        schedule = parse_expression(args.expression)
    except ScheduleError as e:
        print(f"lambdatui: {e}", file=sys.stderr)
        return 2
    after_text = getattr(args, "after", None)
    if after_text is None:
        after = datetime.now(timezone.utc)
    else:
        try:
            after = _parse_after(after_text)
        except (ValueError, OverflowError):
            print(f"lambdatui: --after: {after_text!r} is not an ISO 8601 time (e.g. 2026-12-01T00:00:00Z)", file=sys.stderr)
            return 2
    count = getattr(args, "count", 5)
    if count is None:
        count = 5
    if count < 0:
        print(f"lambdatui: --count: {count} is negative", file=sys.stderr)
        return 2
    times = schedule.fire_times(after, count)
    for t in times:
        print(format_time(t))
    if len(times) < count:
        last = format_time(times[-1]) if times else format_time(after)
        print(f"lambdatui: no fire times after {last}", file=sys.stderr)
    return 0
