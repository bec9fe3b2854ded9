"""Every trigger type, by the `type:` value that selects it in the configuration.

A new type is one module in this package and one `register` line here; the configuration, `serve`
and the dashboard's configuration pane find it through `TRIGGER_TYPES`.
"""

from __future__ import annotations

from .base import Trigger
from .dynamodb import DynamoDbTrigger
from .http import HttpTrigger
from .s3 import S3Trigger
from .schedule import ScheduleTrigger
from .sqs import SqsTrigger

TRIGGER_TYPES: dict[str, type[Trigger]] = {}


def register(cls: type[Trigger]) -> type[Trigger]:
    """Make `type: <cls.type>` mean `cls` (usable as a class decorator)."""
    if cls.type in TRIGGER_TYPES and TRIGGER_TYPES[cls.type] is not cls:
        raise ValueError(f"trigger type {cls.type!r} is already {TRIGGER_TYPES[cls.type].__name__}")
    if "type" not in cls.keys:
        raise ValueError(f"{cls.__name__}.keys must include 'type'")
    TRIGGER_TYPES[cls.type] = cls
    return cls


# The order is the order error messages list the types in.
register(HttpTrigger)
register(ScheduleTrigger)
register(S3Trigger)
register(SqsTrigger)
register(DynamoDbTrigger)
