"""`type: sqs`: a local SQS queue (durable, in `<state dir>/sqs.db`) that `SqsPoller`
(lambdatui.triggers.sqs_queue) feeds to the function in batches, as Lambda's event source mapping.

With `services: true` the queue is one of the embedded AWS services (`--aws-services`) instead, read
with the SQS API by `QueuePoller` (lambdatui.triggers.services_sources); its redrive is the queue's
own RedrivePolicy there, so `max_receive_count` and `dead_letter_queue` do not apply. With the
services off it is listed and not run."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from .base import Running, Trigger, TriggerHost, TriggerWhere
from .sqs_queue import QUEUE_NAME_PATTERN, QueueStore, SqsPoller

if TYPE_CHECKING:
    import yaml

    from ..yaml_nodes import NodeReader


@dataclass(frozen=True)
class SqsTrigger(Trigger):
    type: ClassVar[str] = "sqs"
    keys: ClassVar[tuple[str, ...]] = (
        "type", "queue", "batch_size", "maximum_batching_window", "visibility_timeout", "max_receive_count", "dead_letter_queue",
        "services",
    )

    queue: str
    batch_size: int = 10
    maximum_batching_window: float = 0
    visibility_timeout: float = 30
    max_receive_count: int | None = None
    dead_letter_queue: str | None = None
    services: bool = False  # the queue is in the embedded AWS services

    @property
    def queues(self) -> tuple[str, ...]:
        """The queues this trigger reads or writes: its own and its dead-letter queue, if any
        (`QUEUE-dlq` when only max_receive_count is set, as the poller names it)."""
        if self.dead_letter_queue:
            return (self.queue, self.dead_letter_queue)
        if self.max_receive_count is not None:
            return (self.queue, f"{self.queue}-dlq")
        return (self.queue,)

    @classmethod
    def parse(cls, reader: NodeReader, mapping: dict[str, yaml.Node], node: yaml.Node, key: str, base_dir: Path) -> SqsTrigger:
        m, v = mapping, reader
        if "queue" not in m:
            v.fail(node, f"{key}.queue", "is required")
        queue = v.string(m["queue"], f"{key}.queue")
        if not QUEUE_NAME_PATTERN.fullmatch(queue):
            v.fail(m["queue"], f"{key}.queue", "a queue name is 1-80 letters, digits, hyphens or underscores")
        t = cls(queue=queue)
        if "batch_size" in m:
            t = replace(t, batch_size=int(v.number(m["batch_size"], f"{key}.batch_size", 1, 10000)))
        if "maximum_batching_window" in m:
            t = replace(t, maximum_batching_window=v.number(m["maximum_batching_window"], f"{key}.maximum_batching_window", 0, 300))
        if "visibility_timeout" in m:
            t = replace(t, visibility_timeout=v.number(m["visibility_timeout"], f"{key}.visibility_timeout", 0, 43200))
        if "max_receive_count" in m:
            t = replace(t, max_receive_count=int(v.number(m["max_receive_count"], f"{key}.max_receive_count", 1, 1000)))
        if "dead_letter_queue" in m:
            t = replace(t, dead_letter_queue=v.string(m["dead_letter_queue"], f"{key}.dead_letter_queue"))
        if "services" in m and v.boolean(m["services"], f"{key}.services"):
            for local_only in ("max_receive_count", "dead_letter_queue"):
                if local_only in m:
                    v.fail(m[local_only], f"{key}.{local_only}", "a queue of the embedded AWS services redrives by its own RedrivePolicy (set it in the seed)")
            t = replace(t, services=True)
        return t

    def describe(self, where: TriggerWhere) -> str:
        if self.services:
            return f"SQS queue {self.queue} in the embedded AWS services (batch {self.batch_size})"
        return f"SQS {self.queue}: {_depth(self.queue, where.state_dir)} (batch {self.batch_size})"

    def serve_line(self, function: str, running: Running | None, where: TriggerWhere) -> str:
        if self.services:
            status = f" ({running.status()})" if running is not None else (
                ": not run: the queue is in the embedded AWS services (serve --aws-services, or local.aws_services: true)"
            )
            return f"SQS          {self.queue} (embedded AWS services) → {function}{status}"
        return f"SQS          {self.queue} → {function} (lambdatui send-message {self.queue} BODY)"

    def start(self, function: str, host: TriggerHost) -> Running | None:
        if self.services:
            services = host.aws_services()
            if services is None:
                return None
            from .services_sources import QueuePoller

            remote = QueuePoller(
                host, function, services, queue=self.queue, batch_size=self.batch_size,
                maximum_batching_window=self.maximum_batching_window, visibility_timeout=self.visibility_timeout,
                function_log=lambda message: host.function_log(function, message),
            )
            remote.start()
            return remote
        poller = SqsPoller(
            host, function, host.queue_store(), queue=self.queue, batch_size=self.batch_size,
            maximum_batching_window=self.maximum_batching_window, visibility_timeout=self.visibility_timeout,
            max_receive_count=self.max_receive_count, dead_letter_queue=self.dead_letter_queue,
            region=host.region, account=host.account_id,
        )
        poller.start()
        return poller

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "type": self.type, "queue": self.queue, "batch_size": self.batch_size,
            "maximum_batching_window": self.maximum_batching_window, "visibility_timeout": self.visibility_timeout,
        }
        if self.max_receive_count is not None:
            out["max_receive_count"] = self.max_receive_count
        if self.dead_letter_queue is not None:
            out["dead_letter_queue"] = self.dead_letter_queue
        if self.services:
            out["services"] = True
        return out


def _depth(queue: str, state_dir: Path | None) -> str:
    if state_dir is None:
        return "depth unknown"
    db = state_dir / "sqs.db"
    if not db.exists():
        return "0 waiting"  # not created until a message is sent: opening it here would create it
    try:
        with QueueStore(db) as store:
            visible, in_flight = store.depth(queue)
    except Exception as e:  # a locked or damaged store must not break the pane
        return f"depth unknown ({e})"
    return f"{visible} waiting, {in_flight} in flight"
