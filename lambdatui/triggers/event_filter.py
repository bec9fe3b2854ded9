"""Lambda's event filtering (`FilterCriteria`): which records of a stream or queue reach the function.

A record is delivered when it matches at least one pattern (up to 5, as Lambda allows); one that
matches none is dropped and never retried, and a stream's position moves past it. The pattern
syntax is EventBridge's (equality lists, `prefix`, `suffix`, `anything-but`, `numeric`, `exists`,
`equals-ignore-case`, `$or`); matching is done by moto's implementation of it, which is installed
whenever the embedded AWS services are (the only place the filtered triggers read from).

`check_pattern` is the shape check made when the configuration is read, so a bad pattern is a
file:line error and never a surprise at the first record.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

MAX_FILTERS = 5  # Lambda's limit of filters per event source mapping
_OPERATORS = ("prefix", "suffix", "anything-but", "numeric", "exists", "equals-ignore-case", "cidr", "wildcard")


def check_pattern(pattern: Any, where: str = "pattern") -> dict[str, Any]:
    """The pattern (a mapping, or its JSON text as Lambda's API takes it); ValueError naming the
    first thing that is not EventBridge's pattern syntax."""
    if isinstance(pattern, str):
        try:
            pattern = json.loads(pattern)
        except ValueError as e:
            raise ValueError(f"{where} is not JSON: {e}") from None
    if not isinstance(pattern, dict) or not pattern:
        raise ValueError(f"{where} must be a non-empty mapping such as {{eventName: [INSERT]}}")
    _check(pattern, where)
    return pattern


def _check(node: dict[str, Any], where: str) -> None:
    for key, value in node.items():
        at = f"{where}.{key}"
        if key == "$or":
            if not isinstance(value, list) or len(value) < 2 or not all(isinstance(p, dict) for p in value):
                raise ValueError(f"{at} must be a list of two or more patterns")
            for i, p in enumerate(value):
                _check(p, f"{at}[{i}]")
        elif isinstance(value, dict):
            _check(value, at)
        elif isinstance(value, list):
            if not value:
                raise ValueError(f"{at}: empty lists match nothing (Lambda refuses them)")
            for item in value:
                if isinstance(item, dict):
                    if len(item) != 1 or next(iter(item)) not in _OPERATORS:
                        raise ValueError(f"{at}: {item!r} is not a filter (one of: {', '.join(_OPERATORS)})")
                elif not (item is None or isinstance(item, (str, int, float, bool))):
                    raise ValueError(f"{at}: {item!r} is not a value to match")
        else:
            raise ValueError(f"{at} must be a list of values to match or a nested pattern, not {value!r}")


class EventFilter:
    """Patterns a record must match one of; no patterns: every record passes."""

    def __init__(self, patterns: Sequence[dict[str, Any]]) -> None:
        self.patterns = [check_pattern(p) for p in patterns]
        self._compiled: list[Any] | None = None

    def __bool__(self) -> bool:
        return bool(self.patterns)

    def matches(self, record: dict[str, Any]) -> bool:
        if not self.patterns:
            return True
        if self._compiled is None:
            from moto.events.models import EventPattern

            self._compiled = [EventPattern.load(json.dumps(p)) for p in self.patterns]
        return any(p.matches_event(record) for p in self._compiled)
