"""CloudFormation's intrinsic functions, evaluated locally: reading a template (JSON, or YAML with
the short forms `!Ref`, `!Sub`, `!GetAtt`, ...) and resolving `Ref`, `Fn::Sub`, `Fn::Join`,
`Fn::If`, ... against parameters, pseudo parameters and conditions.

What only a deployed stack knows (`Fn::GetAtt Table.Arn`, `Fn::ImportValue`, a `Ref` to a bucket
or a table) cannot be resolved here: it becomes a visible placeholder, `<unresolved !GetAtt
Table.Arn>`, and a warning naming where it stood. Nothing in a template makes loading crash.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from typing import Any

import yaml

try:
    from yaml import CSafeLoader as _BaseLoader
except ImportError:  # pragma: no cover - a PyYAML built without libyaml
    from yaml import SafeLoader as _BaseLoader  # type: ignore[assignment]

__all__ = ["NO_VALUE", "Resolver", "load_document", "placeholder"]


class _TemplateLoader(_BaseLoader):
    """YAML as CloudFormation reads it: the `!Tag` short forms and dates kept as text."""


def _construct_tag(loader: yaml.Loader, suffix: str, node: yaml.Node) -> Any:
    """`!Ref x` → {"Ref": "x"}, `!GetAtt a.b` → {"Fn::GetAtt": ["a", "b"]}, `!Sub ...` → {"Fn::Sub": ...}."""
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    elif isinstance(node, yaml.MappingNode):
        value = loader.construct_mapping(node, deep=True)
    else:  # pragma: no cover - YAML has no other kind of node
        value = None
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "Condition":
        return {"Condition": value}
    if suffix == "GetAtt" and isinstance(value, str):
        resource, _, attribute = value.partition(".")
        return {"Fn::GetAtt": [resource, attribute]}
    return {f"Fn::{suffix}": value}


_TemplateLoader.add_multi_constructor("!", _construct_tag)
# `AWSTemplateFormatVersion: 2010-09-09` unquoted is a date to YAML and text to CloudFormation.
def _timestamp_as_text(loader: yaml.Loader, node: yaml.Node) -> Any:
    return loader.construct_scalar(node) if isinstance(node, yaml.ScalarNode) else None


_TemplateLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_as_text)


def load_document(text: str) -> Any:
    """A template's text as plain data (JSON is YAML); yaml.YAMLError or ValueError when it is neither."""
    stripped = text.lstrip()
    if stripped.startswith("{"):
        try:
            return json.loads(text)
        except ValueError:
            pass  # YAML's flow style starts with { too
    return yaml.load(text, Loader=_TemplateLoader)  # noqa: S506 - a SafeLoader subclass


class _NoValue:
    """`Ref: AWS::NoValue`: the property it stands for is removed."""

    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE: Any = _NoValue()


def short_form(value: Any) -> str:
    """An intrinsic as a user wrote it in YAML: `!GetAtt Table.Arn`, `!ImportValue shared-vpc`."""
    if isinstance(value, dict) and len(value) == 1:
        (key, arg), = value.items()
        name = key[4:] if key.startswith("Fn::") else key
        if name == "GetAtt" and isinstance(arg, list):
            arg = ".".join(str(a) for a in arg)
        if not isinstance(arg, str):
            arg = json.dumps(arg, separators=(",", ":"), default=str)
        return f"!{name} {arg}"
    return json.dumps(value, default=str)


def placeholder(value: Any) -> str:
    """The visible stand-in for what cannot be resolved locally."""
    return f"<unresolved {short_form(value)}>"


_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")


class Resolver:
    """Evaluates intrinsic functions. `parameters` holds the template's parameters (their final
    values) and the pseudo parameters; `refs` what a `Ref` to a resource means locally (a local
    function's name); `mappings` and `conditions` are the template's sections.

    `warn(where, message)` is told of every placeholder; `where` is the key being resolved,
    `HelloWorldFunction.Environment.Variables.TABLE`.
    """

    def __init__(
        self,
        parameters: dict[str, Any],
        *,
        refs: dict[str, Any] | None = None,
        mappings: dict[str, Any] | None = None,
        conditions: dict[str, Any] | None = None,
        warn: Callable[[str, str], None] | None = None,
        unset: dict[str, str] | None = None,
    ) -> None:
        self.parameters = parameters
        self.unset = unset or {}  # parameters without a value: name → why
        self.refs = refs or {}
        self.mappings = mappings if isinstance(mappings, dict) else {}
        self.conditions = conditions if isinstance(conditions, dict) else {}
        self._warn = warn or (lambda where, message: None)
        self._condition_values: dict[str, bool] = {}
        self._evaluating: set[str] = set()

    # -- the entry points ------------------------------------------------------------------------

    def resolve(self, value: Any, where: str) -> Any:
        """`value` with every intrinsic evaluated (NO_VALUE where `AWS::NoValue` removes it)."""
        if isinstance(value, dict):
            if len(value) == 1:
                (key,) = value
                if key == "Ref" or key == "Condition" or key.startswith("Fn::"):
                    return self._intrinsic(key, value[key], value, where)
            out = {}
            for k, v in value.items():
                resolved = self.resolve(v, f"{where}.{k}")
                if resolved is not NO_VALUE:
                    out[k] = resolved
            return out
        if isinstance(value, list):
            items = [self.resolve(v, f"{where}[{i}]") for i, v in enumerate(value)]
            return [v for v in items if v is not NO_VALUE]
        return value

    def condition(self, name: str, where: str = "Conditions") -> bool:
        """The value of the named condition (False, with a warning, when it cannot be told)."""
        if name in self._condition_values:
            return self._condition_values[name]
        if name not in self.conditions or name in self._evaluating:
            self._warn(where, f"condition {name!r} is not defined (or refers to itself): taken as false")
            return False
        self._evaluating.add(name)
        try:
            result = self._truth(self.resolve(self.conditions[name], f"Conditions.{name}"), f"Conditions.{name}")
        finally:
            self._evaluating.discard(name)
        self._condition_values[name] = result
        return result

    # -- the functions ---------------------------------------------------------------------------

    def _unresolved(self, intrinsic: Any, where: str, why: str) -> str:
        self._warn(where, f"{short_form(intrinsic)} {why}: left as a placeholder")
        return placeholder(intrinsic)

    def _intrinsic(self, key: str, arg: Any, whole: Any, where: str) -> Any:
        if key == "Ref":
            return self._ref(arg, whole, where)
        if key == "Condition":
            return self.condition(str(arg), where)
        name = key[4:]
        handler = getattr(self, f"_fn_{name.lower()}", None)
        if handler is None:
            return self._unresolved(whole, where, "cannot be evaluated locally")
        try:
            return handler(arg, whole, where)
        except (TypeError, ValueError, IndexError, KeyError, AttributeError):
            return self._unresolved(whole, where, "is malformed")

    def _ref(self, name: Any, whole: Any, where: str) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        if isinstance(name, str) and name in self.parameters:
            return self.parameters[name]
        if isinstance(name, str) and name in self.refs:
            return self.refs[name]
        if isinstance(name, str) and name in self.unset:
            return self._unresolved(whole, where, f"(the parameter {self.unset[name]})")
        return self._unresolved(whole, where, "names a resource that exists only once deployed")

    def _fn_getatt(self, arg: Any, whole: Any, where: str) -> Any:
        return self._unresolved(whole, where, "is known only once deployed")

    def _fn_importvalue(self, arg: Any, whole: Any, where: str) -> Any:
        return self._unresolved(whole, where, "is another stack's export")

    def _fn_join(self, arg: Any, whole: Any, where: str) -> Any:
        delimiter, items = arg
        items = self.resolve(items, where)
        return str(self.resolve(delimiter, where)).join(_text(i) for i in items)

    def _fn_select(self, arg: Any, whole: Any, where: str) -> Any:
        index, items = arg
        return self.resolve(items, where)[int(self.resolve(index, where))]

    def _fn_split(self, arg: Any, whole: Any, where: str) -> Any:
        delimiter, text = arg
        return str(self.resolve(text, where)).split(str(self.resolve(delimiter, where)))

    def _fn_base64(self, arg: Any, whole: Any, where: str) -> Any:
        return base64.b64encode(str(self.resolve(arg, where)).encode()).decode()

    def _fn_tojsonstring(self, arg: Any, whole: Any, where: str) -> Any:  # AWS::LanguageExtensions
        return json.dumps(self.resolve(arg, where), separators=(",", ":"))

    def _fn_length(self, arg: Any, whole: Any, where: str) -> Any:  # AWS::LanguageExtensions
        return len(self.resolve(arg, where))

    def _fn_getazs(self, arg: Any, whole: Any, where: str) -> Any:
        region = self.resolve(arg, where) or self.parameters.get("AWS::Region", "us-east-1")
        return [f"{region}{zone}" for zone in "abc"]

    def _fn_findinmap(self, arg: Any, whole: Any, where: str) -> Any:
        args = [self.resolve(a, where) for a in arg[:3]]
        try:
            return self.mappings[args[0]][args[1]][args[2]]
        except (KeyError, TypeError):
            if len(arg) > 3 and isinstance(arg[3], dict) and "DefaultValue" in arg[3]:
                return self.resolve(arg[3]["DefaultValue"], where)
            return self._unresolved(whole, where, "finds nothing in Mappings")

    def _fn_if(self, arg: Any, whole: Any, where: str) -> Any:
        name, if_true, if_false = arg
        return self.resolve(if_true if self.condition(str(name), where) else if_false, where)

    def _fn_equals(self, arg: Any, whole: Any, where: str) -> Any:
        left, right = (self.resolve(a, where) for a in arg)
        return _text(left) == _text(right)

    def _fn_and(self, arg: Any, whole: Any, where: str) -> Any:
        return all(self._truth(self.resolve(a, where), where) for a in arg)

    def _fn_or(self, arg: Any, whole: Any, where: str) -> Any:
        return any(self._truth(self.resolve(a, where), where) for a in arg)

    def _fn_not(self, arg: Any, whole: Any, where: str) -> Any:
        (only,) = arg
        return not self._truth(self.resolve(only, where), where)

    def _fn_sub(self, arg: Any, whole: Any, where: str) -> Any:
        if isinstance(arg, list):
            text, variables = arg
            variables = self.resolve(variables, where)
        else:
            text, variables = arg, {}
        if not isinstance(text, str):
            raise TypeError("Fn::Sub takes text")

        def one(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):  # ${!Literal} is the text ${Literal}
                return "${" + name[1:] + "}"
            if name in variables:
                return _text(variables[name])
            if "." in name and name.split(".", 1)[0] not in self.parameters and name.split(".", 1)[0] not in self.unset:
                resource, attribute = name.split(".", 1)
                return _text(self._fn_getatt([resource, attribute], {"Fn::GetAtt": [resource, attribute]}, where))
            return _text(self._ref(name, {"Ref": name}, where))

        return _SUB_VARIABLE.sub(one, text)

    def _truth(self, value: Any, where: str) -> bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        self._warn(where, f"{value!r} is not a condition's true or false: taken as false")
        return False


def _text(value: Any) -> str:
    """A value where CloudFormation wants text: lists joined by commas (a List parameter), booleans lower-case."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(_text(v) for v in value)
    return str(value)
