"""Writing the dashboard's edits back into an AWS SAM or CloudFormation template.

A function opened from a template (`lambdatui.templates`) is saved where it is declared:
`Resources.<LogicalId>.Properties`, with the template's own names (`MemorySize`, `Timeout`,
`Environment.Variables`, `EphemeralStorage.Size`, `ReservedConcurrentExecutions`, …). The round trip
is config_writer's (ruamel.yaml): comments, key order, quoting and the short-form intrinsic tags
(`!Ref`, `!Sub`, `!GetAtt`) of everything not edited stay as they were; saves are atomic and hold the
same cross-process lock.

Where a value came from: a setting the function's Properties lack comes from SAM's `Globals` (or the
default); a value written as an intrinsic (`MemorySize: !Ref Memory`) from a parameter. Saving
writes the edited value into the function's own Properties, which overrides both, as SAM documents
("Globals section of the AWS SAM template": resource-level values override globals). `sources()` says,
per setting, where the current value comes from, so that the editor can say so before saving.
An environment variable whose resolved value did not change keeps its expression.

Not written: `provisioned_concurrency` (SAM sets it on an alias, `AutoPublishAlias`), and synthesized
templates (a `cdk.out` stack: edit the CDK app, then synthesize).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap, TaggedScalar
from ruamel.yaml.error import YAMLError

from . import config_writer as cw
from .config import ConfigError

__all__ = ["TEMPLATE_KEYS", "origin_line", "sources", "update_function_in_template"]

# The editor's settings and the Properties that hold them.
TEMPLATE_KEYS = {
    "memory_size": "MemorySize",
    "timeout": "Timeout",
    "handler": "Handler",
    "runtime": "Runtime",
    "description": "Description",
    "reserved_concurrency": "ReservedConcurrentExecutions",
    "architecture": "Architectures",
    "ephemeral_storage": "EphemeralStorage",
    "environment": "Environment",
}
_FUNCTION_TYPES = ("AWS::Serverless::Function", "AWS::Lambda::Function")


def _is_expression(value: Any) -> bool:
    """An intrinsic: a short-form tag (`!Ref X`) or a long-form one-key mapping (`{"Ref": X}`)."""
    if isinstance(value, TaggedScalar) or getattr(getattr(value, "tag", None), "value", None):
        tag = getattr(getattr(value, "tag", None), "value", None)
        return bool(tag and tag.startswith("!"))
    return isinstance(value, dict) and len(value) == 1 and (next(iter(value)) == "Ref" or str(next(iter(value))).startswith("Fn::"))


def _function(data: Any, path: Path, logical_id: str) -> tuple[CommentedMap, CommentedMap]:
    resources = data.get("Resources") if isinstance(data, dict) else None
    resource = resources.get(logical_id) if isinstance(resources, dict) else None
    where = f"Resources.{logical_id}"
    if not isinstance(resource, CommentedMap) or resource.get("Type") not in _FUNCTION_TYPES:
        raise ConfigError("no function resource of that logical id in this template", path, key=where)
    props = resource.get("Properties")
    if props is None:
        props = CommentedMap()
        cw._append_key(resource, "Properties", props)
    if not isinstance(props, CommentedMap):
        raise ConfigError("Properties must be a mapping", path, key=f"{where}.Properties")
    return resource, props


def _globals(data: Any) -> dict[str, Any]:
    g = data.get("Globals") if isinstance(data, dict) else None
    f = g.get("Function") if isinstance(g, dict) else None
    return f if isinstance(f, dict) else {}


def sources(path: Path, logical_id: str) -> dict[str, str]:
    """Where each setting's current value comes from: `function`, `parameter` (an intrinsic in the
    function's Properties), `globals` or `default`."""
    text = Path(path).read_text(encoding="utf-8")
    data = cw._load_yaml(text, Path(path))
    resource, props = _function(data, Path(path), logical_id)
    serverless = resource.get("Type") == "AWS::Serverless::Function"
    found: dict[str, str] = {}
    for key, prop in TEMPLATE_KEYS.items():
        if prop in props:
            found[key] = "parameter" if _is_expression(props[prop]) else "function"
        elif serverless and prop in _globals(data):
            found[key] = "globals"
        else:
            found[key] = "default"
    return found


def update_function_in_template(
    path: Path,
    logical_id: str,
    changes: dict[str, Any],
    *,
    environment_before: dict[str, str] | None = None,
    save_to: dict[str, str] | None = None,
) -> None:
    """Write `changes` (the editor's keys, see TEMPLATE_KEYS) into `Resources.<logical_id>.Properties`.

    `environment` is the whole new mapping of resolved values; `environment_before` the resolved
    mapping it replaces, so that a variable whose value did not change keeps its expression.
    `save_to[key]` may send a setting where it comes from instead: "globals" (`Globals.Function`,
    which every function of the template shares) or "parameter" (the `Default` of the parameter its
    `!Ref` names); a key the template does not hold that way is refused, nothing written.
    """
    path = Path(path)
    if path.suffix == ".json" and "cdk.out" in path.parts:
        raise ConfigError("a synthesized CDK template: edit the CDK app and run cdk synth again", path)
    unknown = [k for k in changes if k not in TEMPLATE_KEYS]
    if unknown:
        detail = "provisioned concurrency is set on an alias in SAM (AutoPublishAlias)" if "provisioned_concurrency" in unknown else ""
        raise ConfigError(f"cannot write {', '.join(unknown)} into a template{': ' + detail if detail else ''}", path, key=f"Resources.{logical_id}")
    target = Path(os.path.realpath(path))
    with cw._editing(target, path):
        try:
            text = target.read_text(encoding="utf-8")
        except OSError as e:
            raise ConfigError(f"cannot read: {e.strerror}", path) from None
        newline = "\r\n" if "\r\n" in text else "\n"
        text = text.replace("\r\n", "\n")
        if cw._looks_like_json(text):
            raise ConfigError("a JSON template: lambdatui writes back into YAML templates only", path)
        data = cw._load_yaml(text, path)
        dump, baseline = cw._best_dumper(text, path)
        _resource, props = _function(data, path, logical_id)
        for key, value in changes.items():
            where = (save_to or {}).get(key, "function")
            if where == "globals":
                holder = _globals(data)
                if not isinstance(holder, CommentedMap) or TEMPLATE_KEYS[key] not in holder:
                    raise ConfigError(f"{TEMPLATE_KEYS[key]} is not set in Globals.Function", path, key="Globals.Function")
                _set(holder, TEMPLATE_KEYS[key], key, value, environment_before or {})
            elif where == "parameter":
                _set_parameter_default(data, props, path, logical_id, key, value)
            elif where == "function":
                _set(props, TEMPLATE_KEYS[key], key, value, environment_before or {})
            else:
                raise ValueError(f"save_to {where!r} is not function, globals or parameter")
        try:
            out = dump(data)
        except YAMLError as e:  # pragma: no cover - a bug here, reported as the file's problem
            raise ConfigError(f"cannot write YAML: {e}", path) from None
        if out == baseline:
            return
        cw._write_atomically(target, path, out.replace("\n", newline) if newline != "\n" else out)


def _ref_target(value: Any) -> str | None:
    """The parameter a `!Ref P` / `{"Ref": P}` names, else None."""
    tag = getattr(getattr(value, "tag", None), "value", None)
    if tag == "!Ref":
        return str(getattr(value, "value", "")) or None
    if isinstance(value, dict) and list(value) == ["Ref"]:
        return str(value["Ref"])
    return None


def _set_parameter_default(data: Any, props: CommentedMap, path: Path, logical_id: str, key: str, value: Any) -> None:
    prop = TEMPLATE_KEYS[key]
    name = _ref_target(props.get(prop)) if prop in props else None
    parameters = data.get("Parameters") if isinstance(data, dict) else None
    parameter = parameters.get(name) if name is not None and isinstance(parameters, dict) else None
    if not isinstance(parameter, CommentedMap):
        raise ConfigError(f"{prop} is not a !Ref to one of the template's parameters", path, key=f"Resources.{logical_id}.Properties.{prop}")
    if key not in ("memory_size", "timeout", "handler", "runtime", "description", "reserved_concurrency"):
        raise ConfigError(f"{prop} cannot be written into a parameter's Default", path, key=f"Parameters.{name}")
    text = "" if value is None else str(value)
    if "Default" in parameter:
        parameter["Default"] = cw._scalar(value if not isinstance(parameter["Default"], str) else text, like=parameter["Default"])
    else:
        cw._append_key(parameter, "Default", cw._scalar(value))


def _set(props: CommentedMap, prop: str, key: str, value: Any, environment_before: dict[str, str]) -> None:
    if key == "environment":
        _set_environment(props, dict(value or {}), environment_before)
        return
    if key == "reserved_concurrency" and value is None:
        if prop in props:
            cw._delete_key(props, prop)
        return
    if key == "architecture":
        new: Any = [value]
        if prop in props and not _is_expression(props[prop]) and list(props[prop]) == new:
            return
    elif key == "ephemeral_storage":
        current = props.get(prop)
        if isinstance(current, CommentedMap) and not _is_expression(current):
            if current.get("Size") != value:
                current["Size"] = value
            return
        new = CommentedMap([("Size", value)])
    else:
        new = cw._scalar(value, like=props[prop] if prop in props and not _is_expression(props[prop]) else None)
    if prop in props:
        props[prop] = new
    else:
        cw._append_key(props, prop, new)


def _set_environment(props: CommentedMap, new: dict[str, Any], before: dict[str, str]) -> None:
    env = props.get("Environment")
    if not isinstance(env, CommentedMap) or _is_expression(env):
        env = CommentedMap()
        if "Environment" in props:
            props["Environment"] = env
        else:
            cw._append_key(props, "Environment", env)
    variables = env.get("Variables")
    if not isinstance(variables, CommentedMap) or _is_expression(variables):
        variables = CommentedMap()
        if "Variables" in env:
            env["Variables"] = variables
        else:
            cw._append_key(env, "Variables", variables)
    for name in [k for k in variables if str(k) not in new]:
        cw._delete_key(variables, name)
    for name, value in new.items():
        text = cw._env_text(value)
        if name in variables:
            old = variables[name]
            if _is_expression(old):
                if before.get(name) == text:
                    continue  # resolved to the same value: keep the expression
                variables[name] = cw._scalar(text)
            elif cw._env_text(cw._plain(old)) != text:
                variables[name] = cw._scalar(text, like=old)
        else:
            cw._append_key(variables, name, cw._scalar(text))


def origin_line(path: Path, logical_id: str) -> str:
    """For the editor: where the function is declared and which of its settings come from
    `Globals` or a parameter (a save sets them on the function itself, overriding both)."""
    found = sources(path, logical_id)
    inherited = {
        "Globals": [TEMPLATE_KEYS[k] for k, v in found.items() if v == "globals"],
        "a parameter": [TEMPLATE_KEYS[k] for k, v in found.items() if v == "parameter"],
    }
    parts = [f"Declared in {Path(path).name}:{logical_id}."]
    parts += [f"From {where}: {', '.join(props)}." for where, props in inherited.items() if props]
    if any(inherited.values()):
        parts.append("Saving one of these sets it on the function, which overrides it.")
    return " ".join(parts)
