"""The trigger contract: what every trigger type (`type: http`, `schedule`, `s3`, `sqs`, ...)
provides, and what it may ask of whoever runs it.

A trigger type is one `Trigger` dataclass that reads its own keys from the configuration
(`parse`), describes itself in one line (`describe`, `serve_line`), starts its runner (`start`)
and turns back into the plain mapping the configuration and JSON outputs use (`to_dict`).

Triggers sit below the backends and `serve`: they never import them. What a runner needs from
its surroundings comes through a `TriggerHost`, which `serve` implements and of which a `Backend`
already satisfies the `invoke` part.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass, fields, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

if TYPE_CHECKING:
    import yaml

    from ..yaml_nodes import NodeReader
    from .sqs_queue import QueueStore

__all__ = ["AwsServices", "Invoker", "Running", "Trigger", "TriggerHost", "TriggerWhere", "describe_all"]


class Running(Protocol):
    """A started trigger: what `serve` stops on the way out and asks how it is doing."""

    def stop(self) -> None: ...

    def status(self) -> str:
        """One short phrase: the next fire time, the queue's depth, the folder watched."""
        ...


class Invoker(Protocol):
    """What a trigger's runner invokes through: a `TriggerHost` or, in tests and the dashboard, a `Backend`."""

    def invoke(self, name: str, payload: bytes = b"{}", *, invocation_type: str = "RequestResponse", source: str | None = None) -> Any: ...


class AwsServices(Protocol):
    """What a trigger uses of the embedded AWS services' endpoint (`lambdatui.aws_services.
    ServicesEndpoint` is one; a protocol here keeps triggers from importing the services)."""

    @property
    def url(self) -> str: ...

    @property
    def region(self) -> str: ...

    def client(self, service: str, **kw: Any) -> Any:
        """A boto3 client for `service` at the endpoint."""
        ...


class TriggerHost(Protocol):
    """What a trigger's runner may use: invoking, where state lives, and the services shared by
    every trigger of a `serve` (one HTTP route table, one queue store)."""

    state_dir: Path
    region: str
    account_id: str
    # The trigger's position in its function's `triggers` list, for default names (a schedule's
    # rule name) that stay the same from one run to the next.
    index: int

    def invoke(self, name: str, payload: bytes = b"{}", *, invocation_type: str = "RequestResponse", source: str | None = None) -> Any: ...

    def add_http_route(self, function: str, path: str, method: str, payload_format: str, cors: Any = None, stage: str | None = None) -> None:
        """Serve `method path` on the shared HTTP port, invoking `function` (`cors`: the route's
        `HttpCors`, or None for no CORS; `stage`: the events' requestContext.stage, or None for the
        payload format's default); ValueError for a bad path."""
        ...

    def queue_store(self) -> QueueStore:
        """The local SQS queues (one SQLite file under state_dir), shared by every sqs trigger."""
        ...

    def function_log(self, function: str, message: str) -> None:
        """Write `message` as a line of `function`'s log (the tail pane, `lambdatui logs`): how a
        runner tells of its own failures, where the user looks when a trigger stops firing."""
        ...

    def aws_services(self) -> AwsServices | None:
        """The embedded services' endpoint when `--aws-services`/`local.aws_services` is on, else
        None (the triggers that read a table, bucket or queue there do not run)."""
        ...


@dataclass(frozen=True)
class TriggerWhere:
    """Where triggers are being described: the HTTP address `serve` answers on, the state folder
    (queue depths), and the time next fire times are counted from (None: now)."""

    host: str = "127.0.0.1"
    http_port: int = 3000
    state_dir: Path | None = None
    now: datetime | None = None

    def at_now(self) -> TriggerWhere:
        """This, with `now` set (once, so that every line of a listing counts from one instant)."""
        return self if self.now is not None else replace(self, now=datetime.now(timezone.utc))


@dataclass(frozen=True)
class Trigger(ABC):
    """One event source of a function, as the configuration declares it."""

    type: ClassVar[str]  # the `type:` value in the configuration
    keys: ClassVar[tuple[str, ...]]  # the keys its mapping may hold, `type` included

    @classmethod
    @abstractmethod
    def parse(cls, reader: NodeReader, mapping: dict[str, yaml.Node], node: yaml.Node, key: str, base_dir: Path) -> Trigger:
        """The trigger from its configuration mapping; fails through `reader` (file:line: key:).

        `mapping` is `reader.mapping(node)`, its keys already checked against `keys`; `key` is
        where it stands (`local.functions.NAME.triggers[0]`); relative paths are against `base_dir`.
        """

    @abstractmethod
    def describe(self, where: TriggerWhere) -> str:
        """One line for the configuration pane (`where.now` is set)."""

    def serve_line(self, function: str, running: Running | None, where: TriggerWhere) -> str | None:
        """The console line `serve` prints once started (None: nothing to show)."""
        status = f" ({running.status()})" if running is not None else ""
        return f"{self.type:<12} {self.describe(where)} → {function}{status}"

    @abstractmethod
    def start(self, function: str, host: TriggerHost) -> Running | None:
        """Start invoking `function` through `host`; None when nothing runs on its own (a
        disabled schedule, an HTTP route the host's server answers)."""

    def to_dict(self) -> dict[str, Any]:
        """The trigger as the configuration spells it (the mapping JSON outputs show)."""
        out: dict[str, Any] = {"type": self.type}
        for f in fields(self):
            value = getattr(self, f.name)
            out[f.name] = list(value) if isinstance(value, tuple) else value
        return out


def describe_all(triggers: Iterable[Trigger], where: TriggerWhere | None = None) -> list[str]:
    """One line per trigger, for the configuration pane."""
    where = (where or TriggerWhere()).at_now()
    return [t.describe(where) for t in triggers]
