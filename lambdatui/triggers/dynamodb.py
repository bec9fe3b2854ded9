"""`type: dynamodb`: a table's stream in the embedded AWS services (`--aws-services`), fed to the
function in batches by `StreamPoller` (lambdatui.triggers.ddb_stream), as Lambda's DynamoDB event
source mapping does. Its keys are the mapping's settings, named as the configuration names them
elsewhere; with the services off the trigger is listed and not run (there is no stream to read).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from .base import Running, Trigger, TriggerHost, TriggerWhere
from .event_filter import MAX_FILTERS, check_pattern

if TYPE_CHECKING:
    import yaml

    from ..yaml_nodes import NodeReader
    from .ddb_stream import StreamPoller

STARTING_POSITIONS = ("LATEST", "TRIM_HORIZON")
NEEDS_SERVICES = "not run: it reads the table's stream in the embedded AWS services (serve --aws-services, or local.aws_services: true)"
# DynamoDB's table names: 3-255 letters, digits, underscores, hyphens and dots.
_TABLE_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.")
_QUEUE_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")


def check_table_name(name: str) -> str:
    if not 3 <= len(name) <= 255 or not set(name) <= _TABLE_CHARS:
        raise ValueError(f"{name!r} is not a DynamoDB table name (3-255 letters, digits, '_', '-', '.')")
    return name


@dataclass(frozen=True)
class DynamoDbTrigger(Trigger):
    type: ClassVar[str] = "dynamodb"
    keys: ClassVar[tuple[str, ...]] = (
        "type", "table", "starting_position", "batch_size", "maximum_batching_window_seconds", "filter_patterns",
        "bisect_batch_on_function_error", "maximum_retry_attempts", "on_failure",
    )

    table: str
    starting_position: str = "LATEST"  # required by AWS; LATEST here, as the console proposes
    batch_size: int = 100  # AWS's default
    maximum_batching_window_seconds: float = 0
    filter_patterns: tuple[dict[str, Any], ...] = ()
    bisect_batch_on_function_error: bool = False
    maximum_retry_attempts: int = -1  # AWS's default: retried until the record expires
    on_failure: str | None = None  # a queue of the embedded services (its name or ARN)

    @classmethod
    def parse(cls, reader: NodeReader, mapping: dict[str, yaml.Node], node: yaml.Node, key: str, base_dir: Path) -> DynamoDbTrigger:
        m, v = mapping, reader
        if "table" not in m:
            v.fail(node, f"{key}.table", "is required")
        t = cls(table=v.run(m["table"], f"{key}.table", lambda x: check_table_name(_text(x))))
        if "starting_position" in m:
            t = replace(t, starting_position=v.choice(m["starting_position"], f"{key}.starting_position", STARTING_POSITIONS))
        if "batch_size" in m:
            t = replace(t, batch_size=_whole(v, m["batch_size"], f"{key}.batch_size", 1, 10000))
        if "maximum_batching_window_seconds" in m:
            t = replace(t, maximum_batching_window_seconds=v.number(m["maximum_batching_window_seconds"], f"{key}.maximum_batching_window_seconds", 0, 300))
        if "filter_patterns" in m:
            nodes = v.sequence(m["filter_patterns"], f"{key}.filter_patterns")
            if len(nodes) > MAX_FILTERS:
                v.fail(m["filter_patterns"], f"{key}.filter_patterns", f"{len(nodes)} patterns: Lambda allows at most {MAX_FILTERS}")
            patterns = tuple(
                v.run(p, f"{key}.filter_patterns[{i}]", partial(check_pattern, where=f"filter_patterns[{i}]"))
                for i, p in enumerate(nodes)
            )
            t = replace(t, filter_patterns=patterns)
        if "bisect_batch_on_function_error" in m:
            t = replace(t, bisect_batch_on_function_error=v.boolean(m["bisect_batch_on_function_error"], f"{key}.bisect_batch_on_function_error"))
        if "maximum_retry_attempts" in m:
            retries = _whole(v, m["maximum_retry_attempts"], f"{key}.maximum_retry_attempts", -1, 10000)
            t = replace(t, maximum_retry_attempts=retries)
        if "on_failure" in m:
            t = replace(t, on_failure=v.run(m["on_failure"], f"{key}.on_failure", _queue))
        return t

    def describe(self, where: TriggerWhere) -> str:
        extras = []
        if self.filter_patterns:
            extras.append(f"{len(self.filter_patterns)} filter{'s' if len(self.filter_patterns) != 1 else ''}")
        if self.on_failure:
            extras.append(f"on failure → queue {self.on_failure}")
        more = f", {', '.join(extras)}" if extras else ""
        return f"DynamoDB stream of table {self.table} ({self.starting_position}, batch {self.batch_size}{more})"

    def serve_line(self, function: str, running: Running | None, where: TriggerWhere) -> str:
        status = f" ({running.status()})" if running is not None else f": {NEEDS_SERVICES}"
        return f"DynamoDB     stream of table {self.table} → {function}{status}"

    def start(self, function: str, host: TriggerHost) -> StreamPoller | None:
        services = host.aws_services()
        if services is None:
            return None
        from .ddb_stream import Checkpoints, StreamPoller, checkpoint_path

        poller = StreamPoller(
            host, function, services, table=self.table,
            checkpoints=Checkpoints(checkpoint_path(host.state_dir, function, self.table)),
            starting_position=self.starting_position, batch_size=self.batch_size,
            maximum_batching_window=self.maximum_batching_window_seconds, filter_patterns=self.filter_patterns,
            bisect_batch_on_function_error=self.bisect_batch_on_function_error,
            maximum_retry_attempts=self.maximum_retry_attempts, on_failure=self.on_failure,
            region=services.region, account=host.account_id,
            function_log=lambda message: host.function_log(function, message),
        )
        poller.start()
        return poller

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "type": self.type, "table": self.table, "starting_position": self.starting_position,
            "batch_size": self.batch_size, "maximum_batching_window_seconds": self.maximum_batching_window_seconds,
            "bisect_batch_on_function_error": self.bisect_batch_on_function_error,
            "maximum_retry_attempts": self.maximum_retry_attempts,
        }
        if self.filter_patterns:
            out["filter_patterns"] = [json.loads(json.dumps(p)) for p in self.filter_patterns]
        if self.on_failure is not None:
            out["on_failure"] = self.on_failure
        return out


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"must be text, not {value!r}")
    return value


def _queue(value: Any) -> str:
    """A queue of the embedded services, by name or ARN (arn:aws:sqs:REGION:ACCOUNT:NAME)."""
    text = _text(value)
    name = text.rsplit(":", 1)[-1] if text.startswith("arn:") else text
    if not 1 <= len(name) <= 80 or not set(name) <= _QUEUE_CHARS:
        raise ValueError(f"{text!r} is not a queue name or ARN (1-80 letters, digits, hyphens or underscores)")
    return text


def _whole(v: NodeReader, node: yaml.Node, key: str, low: int, high: int) -> int:
    value = v.number(node, key, low, high)
    if value != int(value):
        v.fail(node, key, f"{value!r} is not a whole number")
    return int(value)
