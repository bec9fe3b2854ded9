"""A template's inputs from outside it, as SAM CLI takes them: `--parameter-overrides`,
`samconfig.toml`'s `parameter_overrides`, and `--env-vars env.json`.

The command line sets them once per process (`set_options`), so that every load of the template,
a reload after an edit included, sees the same values.
"""

from __future__ import annotations

import json
import os
import shlex
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..yaml_nodes import ConfigError

__all__ = ["TemplateOptions", "current_options", "options_from_args", "parse_overrides", "read_env_vars", "samconfig_overrides", "set_options"]


@dataclass(frozen=True)
class TemplateOptions:
    """`parameter_overrides`: name → value, as given on the command line (they win over
    samconfig.toml's, which win over `Default`s). `env_vars`: SAM's env.json, read."""

    parameter_overrides: dict[str, str] = field(default_factory=dict)
    env_vars: dict[str, Any] = field(default_factory=dict)
    env_vars_path: str | None = None


_options = TemplateOptions()


def set_options(options: TemplateOptions) -> None:
    global _options
    _options = options


def current_options() -> TemplateOptions:
    return _options


def parse_overrides(items: list[str] | str, where: str = "--parameter-overrides") -> dict[str, str]:
    """`Key=Value ...` or CloudFormation's `ParameterKey=Key,ParameterValue=Value ...`, quoting as a
    shell would (SAM CLI accepts both forms); ValueError names the item at fault."""
    texts = [items] if isinstance(items, str) else list(items)
    out: dict[str, str] = {}
    for text in texts:
        try:
            tokens = shlex.split(text)
        except ValueError as e:
            raise ValueError(f"{where}: {text!r}: {e}") from None
        for token in tokens:
            if token.startswith("ParameterKey="):
                key_part, sep, value_part = token.partition(",ParameterValue=")
                if not sep:
                    raise ValueError(f"{where}: {token!r} has no ParameterValue= (ParameterKey=K,ParameterValue=V)")
                key, value = key_part[len("ParameterKey="):], value_part
            else:
                key, sep, value = token.partition("=")
                if not sep or not key:
                    raise ValueError(f"{where}: {token!r} is not KEY=VALUE")
            out[key] = value
    return out


def _load_toml(path: Path) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        try:
            import tomli as tomllib
        except ImportError:
            return {}
    try:
        with path.open("rb") as f:
            data: dict[str, Any] = tomllib.load(f)
            return data
    except OSError as e:
        raise ConfigError(f"cannot read: {e.strerror}", path) from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"TOML syntax error: {e}", path) from None


# The sections SAM CLI reads for a local run, most specific first (`sam local invoke` reads
# `local_invoke`, then `global`); `deploy` last, where most projects keep their overrides.
_SAMCONFIG_COMMANDS = ("local_invoke", "local_start_api", "global", "deploy")


def samconfig_overrides(project: Path, environment: str = "default") -> tuple[dict[str, str], Path | None]:
    """`parameter_overrides` from the project's samconfig.toml (or none), and the file read."""
    path = project / "samconfig.toml"
    if not path.is_file():
        return {}, None
    data = _load_toml(path)
    env = data.get(environment)
    if not isinstance(env, dict):
        return {}, path
    for command in _SAMCONFIG_COMMANDS:
        params = (env.get(command) or {}).get("parameters") if isinstance(env.get(command), dict) else None
        if isinstance(params, dict) and "parameter_overrides" in params:
            value = params["parameter_overrides"]
            try:
                return parse_overrides(value if isinstance(value, (str, list)) else str(value), f"{path} {environment}.{command}"), path
            except ValueError as e:
                raise ConfigError(str(e), path) from None
    return {}, path


def samconfig_stack_name(project: Path, environment: str = "default") -> str | None:
    path = project / "samconfig.toml"
    if not path.is_file():
        return None
    env = _load_toml(path).get(environment)
    if not isinstance(env, dict):
        return None
    for command in ("global", "deploy"):
        section = env.get(command)
        params = section.get("parameters") if isinstance(section, dict) else None
        if isinstance(params, dict) and isinstance(params.get("stack_name"), str):
            return str(params["stack_name"])
    return None


def read_env_vars(path: str) -> dict[str, Any]:
    """SAM's `--env-vars` file: {"FunctionLogicalId": {"VAR": "v"}, "Parameters": {"VAR": "v"}}."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as e:
        raise ValueError(f"--env-vars {path}: cannot read: {e.strerror}") from None
    except ValueError as e:
        raise ValueError(f"--env-vars {path}: not JSON: {e}") from None
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise ValueError(
            f'--env-vars {path}: must be an object of objects: {{"FunctionLogicalId": {{"VAR": "value"}}, "Parameters": {{"VAR": "value"}}}}'
        )
    return data


def options_from_args(parameter_overrides: list[str] | None, env_vars: str | None) -> TemplateOptions:
    """The command line's `--parameter-overrides` and `--env-vars`; ValueError for bad input."""
    return TemplateOptions(
        parameter_overrides=parse_overrides(parameter_overrides or []),
        env_vars=read_env_vars(env_vars) if env_vars else {},
        env_vars_path=os.fspath(env_vars) if env_vars else None,
    )
