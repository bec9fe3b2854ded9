"""`type: schedule`: an EventBridge scheduled rule, fired locally by `ScheduleRunner`
(lambdatui.triggers.schedule_runner) on the expression's fire times."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from ..schedule_expr import format_time, parse_expression
from .base import Running, Trigger, TriggerHost, TriggerWhere
from .schedule_runner import ScheduleRunner

if TYPE_CHECKING:
    import yaml

    from ..yaml_nodes import NodeReader


class _NoInput:
    """`input:` absent, told apart from `input: null` so that to_dict gives back what the file says."""

    def __repr__(self) -> str:
        return "NO_INPUT"


NO_INPUT: Any = _NoInput()


@dataclass(frozen=True)
class ScheduleTrigger(Trigger):
    type: ClassVar[str] = "schedule"
    keys: ClassVar[tuple[str, ...]] = ("type", "expression", "input", "enabled", "name")

    expression: str
    input: Any = NO_INPUT  # replaces the scheduled event as the payload (EventBridge's constant input)
    enabled: bool = True
    name: str | None = None  # the rule's name; by default FUNCTION-schedule-INDEX

    @classmethod
    def parse(cls, reader: NodeReader, mapping: dict[str, yaml.Node], node: yaml.Node, key: str, base_dir: Path) -> ScheduleTrigger:
        m, v = mapping, reader
        if "expression" not in m:
            v.fail(node, f"{key}.expression", "is required (rate(5 minutes) or cron(0 12 * * ? *))")
        expression = v.string(m["expression"], f"{key}.expression")
        try:
            parse_expression(expression)
        except ValueError as e:
            v.fail(m["expression"], f"{key}.expression", str(e))
        return cls(
            expression=expression,
            input=v.value(m["input"]) if "input" in m else NO_INPUT,
            enabled=v.boolean(m["enabled"], f"{key}.enabled") if "enabled" in m else True,
            name=v.string(m["name"], f"{key}.name") if "name" in m else None,
        )

    def describe(self, where: TriggerWhere) -> str:
        now = where.at_now().now  # describe_all sets it; a direct call counts from now
        assert now is not None
        try:
            nxt = parse_expression(self.expression).next_after(now)
        except ValueError as e:
            when = f"invalid: {e}"
        else:
            when = f"next {format_time(nxt)}" if nxt else "no more fire times"
        return f"Schedule {self.expression}: {when}" + ("" if self.enabled else " (disabled)")

    def serve_line(self, function: str, running: Running | None, where: TriggerWhere) -> str | None:
        if running is None:
            return None  # disabled: serve does not mention it
        return f"Schedule     {self.expression} → {function} ({running.status()})"

    def start(self, function: str, host: TriggerHost) -> ScheduleRunner | None:
        if not self.enabled:
            return None
        runner = ScheduleRunner(
            host, function, self.expression, input=None if self.input is NO_INPUT else self.input,
            rule_name=self.name or f"{function}-schedule-{host.index}", region=host.region, account=host.account_id,
        )
        runner.start()
        return runner

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type, "expression": self.expression}
        if self.input is not NO_INPUT:
            out["input"] = self.input
        out["enabled"] = self.enabled
        if self.name is not None:
            out["name"] = self.name
        return out
