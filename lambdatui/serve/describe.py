"""Triggers described in one line each for people: where an HTTP route answers, when a schedule
fires next, how many messages wait on a queue. The configuration pane and `serve` show these."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path


def trigger_lines(triggers: list[dict], *, host: str = "127.0.0.1", http_port: int = 3000, state_dir: Path | None = None, now: datetime | None = None) -> list[str]:
    lines = []
    now = now or datetime.now(timezone.utc)
    for t in triggers:
        kind = t.get("type")
        if kind == "http":
            lines.append(f"HTTP {t['method']} http://{host}:{http_port}{t['path']} (payload {t['payload_format']})")
        elif kind == "schedule":
            lines.append(f"Schedule {t['expression']}: {_next_fire(t['expression'], now)}" + ("" if t.get("enabled", True) else " (disabled)"))
        elif kind == "s3":
            events = ", ".join(e.replace("s3:", "") for e in t["events"])
            lines.append(f"S3 s3://{t['bucket']} = {t['path']} ({events})")
        elif kind == "sqs":
            lines.append(f"SQS {t['queue']}: {_depth(t['queue'], state_dir)} (batch {t['batch_size']})")
    return lines


def _next_fire(expression: str, now: datetime) -> str:
    from ..schedule_expr import parse_expression

    try:
        nxt = parse_expression(expression).next_after(now)
    except ValueError as e:
        return f"invalid: {e}"
    return f"next {nxt.strftime('%Y-%m-%dT%H:%M:%SZ')}" if nxt else "no more fire times"


def _depth(queue: str, state_dir: Path | None) -> str:
    if state_dir is None:
        return "depth unknown"
    db = state_dir / "sqs.db"
    if not db.exists():
        return "0 waiting"
    from .sqs_queue import QueueStore

    try:
        visible, in_flight = QueueStore(db).depth(queue)
    except Exception as e:  # a locked or damaged store must not break the pane
        return f"depth unknown ({e})"
    return f"{visible} waiting, {in_flight} in flight"
