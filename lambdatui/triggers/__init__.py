"""Triggers: the event sources that invoke a function locally (HTTP routes, schedules, S3 folders,
SQS queues), one `Trigger` type each.

`base` holds the contract, `registry` the types by name, one module per type holds its dataclass,
its configuration keys and how it starts; the runners they start (`schedule_runner`, `s3_watch`,
`sqs_queue`) are here too, since triggers sit below `serve` and the backends and import neither.
"""

from .base import Running, Trigger, TriggerHost, TriggerWhere, describe_all

__all__ = ["Running", "Trigger", "TriggerHost", "TriggerWhere", "describe_all"]
