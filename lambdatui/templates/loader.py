"""`load_template`: a template (or a cdk.out folder) read into lambdatui's `Function`s; see the
package's docstring for the steps."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import yaml

from ..model import Function
from ..yaml_nodes import ConfigError
from .cdk import stack_templates
from .cloudformation import FunctionReader
from .detect import find_template, is_sam, is_template
from .intrinsics import Resolver, load_document
from .params import TemplateOptions, current_options, samconfig_overrides, samconfig_stack_name

__all__ = ["load_template", "project_dir", "pseudo_parameters"]

log = logging.getLogger("lambdatui.templates")
# SAM CLI's stack name for local runs, when samconfig.toml names none.
LOCAL_STACK_NAME = "local"
_told: set[tuple[str, str]] = set()


def project_dir(template: Path) -> Path:
    """The project a template belongs to: `sam build`'s `.aws-sam/build/template.yaml` is two
    folders below it; any other template's folder is the project's."""
    folder = template.resolve() if template.is_dir() else template.resolve().parent
    if folder.name == "build" and folder.parent.name == ".aws-sam":
        return folder.parent.parent
    if folder.name == "cdk.out":
        return folder.parent
    return folder


def pseudo_parameters(region: str, account_id: str, stack_name: str) -> dict[str, Any]:
    partition = "aws-cn" if region.startswith("cn-") else "aws-us-gov" if region.startswith("us-gov-") else "aws"
    return {
        "AWS::Region": region,
        "AWS::AccountId": account_id,
        "AWS::StackName": stack_name,
        "AWS::StackId": f"arn:{partition}:cloudformation:{region}:{account_id}:stack/{stack_name}/00000000-0000-0000-0000-000000000000",
        "AWS::Partition": partition,
        "AWS::URLSuffix": "amazonaws.com.cn" if partition == "aws-cn" else "amazonaws.com",
        "AWS::NotificationARNs": [],
    }


def _display(path: Path) -> str:
    """The template as the user would name it: relative to the current folder when under it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


class _Warnings:
    """Warnings by function (the first part of `where`), and all of them in order."""

    def __init__(self) -> None:
        self.by_function: dict[str, list[str]] = {}
        self.all: list[str] = []

    def __call__(self, where: str, message: str) -> None:
        text = f"{where}: {message}"
        if text in self.all:
            return
        self.all.append(text)
        self.by_function.setdefault(where.split(".", 1)[0].split("[", 1)[0], []).append(text)


def load_template(
    path: Path,
    *,
    region: str = "us-east-1",
    account_id: str = "123456789012",
    triggers: bool = True,
    s3_folders: dict[str, str] | None = None,
    project: Path | None = None,
    options: TemplateOptions | None = None,
    text: str | None = None,
) -> dict[str, Function]:
    """The functions of the template at `path` (a cdk.out folder: of every stack in it).

    `region`/`account_id` are the pseudo parameters' (lambdatui's local settings); `triggers=False`
    leaves event sources unread, as the config loader's; `s3_folders` maps bucket names to local
    folders (relative to `project`, the template's project folder by default).
    """
    if path.is_dir():
        stacks = stack_templates(path)
        if not stacks:
            raise ConfigError("is a folder without *.template.json (a cdk.out folder holds them: run `cdk synth`)", path)
        out: dict[str, Function] = {}
        for stack in stacks:
            for name, f in load_template(
                stack, region=region, account_id=account_id, triggers=triggers, s3_folders=s3_folders, project=project or project_dir(path), options=options
            ).items():
                if name in out:
                    raise ConfigError(f"function {name} is in two stacks ({out[name].source} and {f.source})", path)
                out[name] = f
        return out
    if text is None:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as e:
            raise ConfigError(f"cannot read: {e.strerror}", path) from None
        except UnicodeDecodeError as e:
            raise ConfigError(f"not UTF-8 text (byte {e.start})", path) from None
    try:
        document = load_document(text)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        raise ConfigError(f"YAML syntax error: {e.problem or e.context or 'invalid YAML'}", path, mark.line + 1 if mark else None) from None
    except (yaml.YAMLError, ValueError, RecursionError) as e:
        raise ConfigError(f"not a readable template: {e}", path) from None
    if not is_template(document):
        raise ConfigError("is not an AWS SAM or CloudFormation template (no AWSTemplateFormatVersion, SAM Transform or AWS:: Resources)", path)
    options = options or current_options()
    project = project or project_dir(path)
    warn = _Warnings()
    parameters, unset = _parameters(document, project, options, warn)
    parameters.update(pseudo_parameters(region, account_id, samconfig_stack_name(project) or LOCAL_STACK_NAME))
    parameters.update({k: v for k, v in options.parameter_overrides.items() if k.startswith("AWS::")})
    original = document.get("Resources") or {}

    local = None
    cfn = document
    if is_sam(document):
        from .sam import translate

        cfn, local = translate(document, {k: v for k, v in parameters.items() if k not in unset}, region, path, warn)
    resources = cfn.get("Resources") or {}
    function_ids = [
        logical_id for logical_id, r in resources.items() if isinstance(r, dict) and r.get("Type") == "AWS::Lambda::Function"
    ]
    resolver = Resolver(
        {k: v for k, v in parameters.items() if k not in unset},
        refs={logical_id: logical_id for logical_id in function_ids},  # a local function's name is its logical id
        mappings=cfn.get("Mappings"),
        conditions=cfn.get("Conditions"),
        warn=warn,
        unset=unset,
    )

    def active(logical_id: str, resource: dict[str, Any]) -> bool:
        condition = resource.get("Condition")
        return condition is None or resolver.condition(str(condition), logical_id)

    reader = FunctionReader(resources, resolver, path.resolve().parent, local, warn)
    declared = {logical_id: reader.read(logical_id, resources[logical_id]) for logical_id in function_ids if active(logical_id, resources[logical_id])}
    _apply_env_vars(declared, resources, options, warn)
    found: dict[str, list[Any]] = {name: [] for name in declared}
    if triggers:
        from .events import EventReader  # here: the trigger types' modules come with it (as config's)

        events = EventReader(original if isinstance(original, dict) else {}, resolver, project, s3_folders or {}, warn)
        for name in declared:
            raw = original.get(name) if isinstance(original, dict) else None
            if isinstance(raw, dict) and raw.get("Type") == "AWS::Serverless::Function":
                found[name].extend(events.sam_events(name, (raw.get("Properties") or {}).get("Events")))
        for name, more in events.cloudformation(set(declared), active).items():
            found[name].extend(more)
    shown = _display(path)
    functions = {
        name: Function(**kwargs, triggers=tuple(found[name]), source=f"{shown}:{name}", warnings=tuple(warn.by_function.get(name, ())),
                       template_file=path.resolve())
        for name, kwargs in declared.items()
    }
    for message in warn.all:
        if (shown, message) not in _told:  # once per process: a command may load the template twice
            _told.add((shown, message))
            log.warning("%s: %s", shown, message)
    return functions


def _parameters(document: dict[str, Any], project: Path, options: TemplateOptions, warn: _Warnings) -> tuple[dict[str, Any], dict[str, str]]:
    """Each parameter's value (overrides, then samconfig.toml, then Default) and those without one."""
    declared = document.get("Parameters") or {}
    if not isinstance(declared, dict):
        declared = {}
    from_samconfig, _ = samconfig_overrides(project)
    given = {**from_samconfig, **options.parameter_overrides}
    values: dict[str, Any] = {}
    unset: dict[str, str] = {}
    for name, spec in declared.items():
        spec = spec if isinstance(spec, dict) else {}
        kind = str(spec.get("Type", "String"))
        if name in given:
            value: Any = given[name]
        elif "Default" in spec:
            value = spec["Default"]
        else:
            unset[name] = f"has no value (no Default): give --parameter-overrides {name}=VALUE"
            continue
        if kind.startswith("AWS::SSM::Parameter::Value"):
            unset[name] = f"is read from SSM Parameter Store ({value}) at deploy time: give --parameter-overrides {name}=VALUE"
            if name not in given:
                continue
            del unset[name]
        allowed = spec.get("AllowedValues")
        if isinstance(allowed, list) and str(value) not in [str(a) for a in allowed]:
            warn("Parameters", f"{name}: {value!r} is not one of its AllowedValues ({', '.join(str(a) for a in allowed)})")
        if kind == "CommaDelimitedList" or kind.startswith("List<"):
            value = value if isinstance(value, list) else [part.strip() for part in str(value).split(",")]
        elif isinstance(value, bool):
            value = "true" if value else "false"
        elif not isinstance(value, list):
            value = str(value)  # a Ref to a Number parameter is text, as CloudFormation gives it
        values[name] = value
    for name in given:
        if name not in declared and not name.startswith("AWS::"):
            warn("Parameters", f"{name} is overridden but not a parameter of this template: ignored")
    return values, unset


def _apply_env_vars(declared: dict[str, dict[str, Any]], resources: dict[str, Any], options: TemplateOptions, warn: _Warnings) -> None:
    """SAM's `--env-vars`: a function's own object (by logical id, or by its FunctionName) wins over
    `Parameters`, which applies to every function. As in SAM CLI, only variables the template
    declares for a function are set: the others are ignored, with a warning."""
    if not options.env_vars:
        return
    shared = options.env_vars.get("Parameters") or {}
    for name, kwargs in declared.items():
        props = (resources.get(name) or {}).get("Properties") or {}
        function_name = props.get("FunctionName") if isinstance(props, dict) else None
        own = options.env_vars.get(name) or (options.env_vars.get(function_name) if isinstance(function_name, str) else None) or {}
        environment = kwargs["environment"]
        for key, value in {**shared, **own}.items():
            if key in environment:
                environment[key] = ("true" if value else "false") if isinstance(value, bool) else ("" if value is None else str(value))
            elif key in own:
                warn(f"{name}.Environment", f"--env-vars {options.env_vars_path or ''}: {key} is not declared in the template's Environment: ignored (as SAM CLI)")


def template_for(folder: Path) -> Path | None:
    """The template lambdatui opens from `folder` when it has no lambdatui.yaml (see detect)."""
    return find_template(folder)

