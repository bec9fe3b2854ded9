"""Located YAML: `ConfigError` (file:line: key: message) and `NodeReader`, which reads values off a
composed node tree (`yaml.compose`) so that every error names the line it comes from.

A leaf module (the standard library and PyYAML only): the configuration and every trigger type
read their keys with it.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import yaml

__all__ = ["ConfigError", "NodeReader", "construct", "describe_value", "is_null"]


class ConfigError(Exception):
    """A configuration problem, located: file, line, key."""

    def __init__(self, message: str, path: Path | str | None = None, line: int | None = None, key: str | None = None):
        self.message = message
        self.path = str(path) if path is not None else None
        self.line = line
        self.key = key
        super().__init__(str(self))

    def __str__(self) -> str:
        where = self.path or "<config>"
        if self.line is not None:
            where += f":{self.line}"
        key = f" {self.key}:" if self.key else ""
        return f"{where}:{key} {self.message}"


def is_null(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null"


_constructor = yaml.SafeLoader("")  # builds values from nodes; reused because building one costs


_STR_TAG = "tag:yaml.org,2002:str"
_INT_TAG = "tag:yaml.org,2002:int"


def construct(node: yaml.Node) -> Any:
    # Text and plain decimal integers, the bulk of a config, are built here as SafeConstructor
    # builds them: a 1,000-function file has ~10,000 such scalars, and the constructor's
    # bookkeeping per call was a third of the parse (cProfile of load_config).
    if type(node) is yaml.ScalarNode:
        if node.tag == _STR_TAG:
            return node.value
        if node.tag == _INT_TAG and node.value.isdecimal() and (node.value[0] != "0" or node.value == "0"):
            return int(node.value)  # (a leading 0 is YAML 1.1 octal: the constructor's job)
    try:
        return _constructor.construct_object(node, deep=True)
    finally:
        # Forget what was built, or the cache would hold every config ever parsed.
        _constructor.constructed_objects.clear()
        _constructor.recursive_objects.clear()


class NodeReader:
    """Reads a composed YAML node tree, failing with the file, line and key of the node at fault.

    `key_nodes` maps id(mapping returned by `mapping()`) to its key nodes, so that a bad key is
    located at the key rather than at its value.
    """

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.key_nodes: dict[int, dict[str, yaml.Node]] = {}
        self._folders: dict[tuple[Path, str], str | None] = {}

    def folder(self, base: Path, text: str) -> str | None:
        """`text` resolved against `base`, if it names a folder; else None. Remembered for this
        read: many functions share one code or layer folder (SAM's `CodeUri: src/`), and resolving
        it (a stat per path component) once per function was a quarter of a 1,000-function parse."""
        key = (base, text)
        if key not in self._folders:
            path = (base / text).resolve()
            self._folders[key] = str(path) if path.is_dir() else None
        return self._folders[key]

    def fail(self, node: yaml.Node, key: str, message: str) -> NoReturn:
        raise ConfigError(message, self.path, node.start_mark.line + 1, key)

    def mapping(self, node: yaml.Node, key: str) -> dict[str, yaml.Node]:
        if not isinstance(node, yaml.MappingNode):
            self.fail(node, key, "must be a mapping of keys to values")
        own = {id(k) for k, _ in node.value if k.tag != "tag:yaml.org,2002:merge"}
        self._merge(node)
        out: dict[str, yaml.Node] = {}
        keys: dict[str, yaml.Node] = {}
        for knode, vnode in node.value:
            k = construct(knode)
            k = str(k)
            # A key of the mapping's own overrides one merged in with `<<:`, as YAML specifies.
            if k in out and (id(knode) not in own or id(keys[k]) in own):
                self.fail(knode, f"{key}.{k}" if key != "config" else k, "appears twice")
            out[k] = vnode
            keys[k] = knode
        self.key_nodes[id(out)] = keys
        return out

    def _merge(self, node: yaml.MappingNode) -> None:
        """Apply YAML merge keys (`<<: *defaults`) as PyYAML's constructor does, keeping the nodes' lines."""
        if any(k.tag == "tag:yaml.org,2002:merge" for k, _ in node.value):
            loader = yaml.SafeLoader("")
            try:
                loader.flatten_mapping(node)
            except yaml.constructor.ConstructorError as e:
                line = e.problem_mark.line + 1 if e.problem_mark else node.start_mark.line + 1
                raise ConfigError(f"bad merge key: {e.problem}", self.path, line) from None
            finally:
                loader.dispose()

    def sequence(self, node: yaml.Node, key: str) -> list[yaml.Node]:
        if not isinstance(node, yaml.SequenceNode):
            self.fail(node, key, "must be a list")
        return list(node.value)

    def only_keys(self, m: dict[str, yaml.Node], allowed: tuple[str, ...], prefix: str) -> None:
        for k, knode in self.key_nodes[id(m)].items():
            if k not in allowed:
                close = difflib.get_close_matches(k, allowed, n=1, cutoff=0.6)
                hint = f"; did you mean {close[0]!r}?" if close else f" (allowed: {', '.join(allowed)})"
                self.fail(knode, prefix + k, f"unknown key{hint}")

    def value(self, node: yaml.Node) -> Any:
        return construct(node)

    def run(self, node: yaml.Node, key: str, check: Callable[[Any], Any]) -> Any:
        try:
            return check(self.value(node))
        except ValueError as e:
            self.fail(node, key, str(e))

    def string(self, node: yaml.Node, key: str) -> str:
        value = self.value(node)
        if not isinstance(value, str) or not value:
            self.fail(node, key, f"must be text, not {describe_value(value)}")
        return value

    def optional_str(self, node: yaml.Node, key: str) -> str | None:
        value = self.value(node)
        if value is None:
            return None
        if not isinstance(value, str):
            self.fail(node, key, f"must be text or null, not {describe_value(value)}")
        return value

    def scalar_str(self, node: yaml.Node, key: str) -> str:
        if not isinstance(node, yaml.ScalarNode):
            self.fail(node, key, "must be a single value (text or number)")
        value = self.value(node)
        if value is None:
            return ""
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)

    def boolean(self, node: yaml.Node, key: str) -> bool:
        value = self.value(node)
        if not isinstance(value, bool):
            self.fail(node, key, f"must be true or false, not {describe_value(value)}")
        return value

    def number(self, node: yaml.Node, key: str, low: float, high: float) -> float:
        value = self.value(node)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
            self.fail(node, key, f"{value!r} is outside {low:g}–{high:g}")
        return value

    def choice(self, node: yaml.Node, key: str, allowed: tuple[str, ...]) -> str:
        value = self.value(node)
        if not isinstance(value, str) or value not in allowed:
            self.fail(node, key, f"{value!r} is not one of: {', '.join(allowed)}")
        return value


def describe_value(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return repr(value)
