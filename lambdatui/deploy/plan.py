"""Deploying a local function to AWS Lambda: plan (what would change), then apply.

`make_plan` packages the function and compares it with the deployed one (GetFunction): create or
update, whether the code changed (by CodeSha256), and each configuration field that differs, with
environment values masked where they look secret. `apply_plan` runs CreateFunction, or
UpdateFunctionCode (only when the code changed) then UpdateFunctionConfiguration (only when the
configuration differs), waiting for Lambda between the steps, as AWS requires.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..backends.base import BackendError
from ..config import RESERVED_ENV_KEYS, Config, FunctionConfig
from ..executor.spec import ENV_VARS_MAX_BYTES
from ..masking import looks_secret, mask
from .package import Package, PackageError, _size, build_package

if TYPE_CHECKING:  # boto3 is imported only when a deploy runs
    from ..backends.aws import AwsBackend

__all__ = ["DeployError", "DeployPlan", "FieldChange", "PackageDeployError", "apply_plan", "make_plan"]


# Fields compared and sent with UpdateFunctionConfiguration, and their Lambda API names.
_CONFIG_FIELDS = (
    ("runtime", "Runtime"),
    ("handler", "Handler"),
    ("memory_size", "MemorySize"),
    ("timeout", "Timeout"),
    ("description", "Description"),
    ("ephemeral_storage", "EphemeralStorage"),
    ("role", "Role"),
)


class DeployError(BackendError):
    """A deploy was refused or failed; `str(e)` is one line for the user."""

    code = "DeployError"


class PackageDeployError(DeployError, PackageError):
    """A PackageError raised by make_plan: catchable as either."""


@dataclass
class FieldChange:
    field: str
    old: str | None  # None: not set before (a new function, or a new variable)
    new: str | None  # None: removed


@dataclass
class DeployPlan:
    function: str
    action: str  # "create" | "update" | "unchanged"
    code_changed: bool
    changes: list[FieldChange]
    package: Package
    role: str | None
    problems: list[str] = field(default_factory=list)
    deployed_sha256: str | None = None
    architecture_changed: bool = False

    def render(self) -> str:
        lines = []
        verb = {"create": "create (new function)", "update": "update", "unchanged": "unchanged (nothing to deploy)"}[self.action]
        lines.append(f"{self.function}: {verb}")
        p = self.package
        if self.action == "create":
            code = "new"
        elif self.code_changed:
            code = f"changed (deployed {self.deployed_sha256 or '?'})"
        else:
            code = "unchanged"
        lines.append(
            f"  code: {code} — {len(p.files)} file{'' if len(p.files) == 1 else 's'}, {_size(len(p.zip_bytes))} zipped, "
            f"{_size(p.unzipped_size)} unzipped, sha256 {p.sha256_b64}"
        )
        if self.architecture_changed:
            lines.append("  the architecture changes: the code is uploaded again with it")
        if self.role:
            lines.append(f"  role: {self.role}")
        for c in self.changes:
            old = "(unset)" if c.old is None else c.old
            new = "(unset)" if c.new is None else c.new
            lines.append(f"  {c.field}: {old} → {new}" if self.action != "create" else f"  {c.field}: {new}")
        if self.action == "update" and not self.changes:
            lines.append("  configuration: unchanged")
        for problem in self.problems:
            lines.append(f"  refused: {problem}")
        return "\n".join(lines)


def _show(value: Any) -> str:
    if isinstance(value, str):
        return repr(value) if value == "" or value != value.strip() else value
    return str(value)


def _env_value(key: str, value: str) -> str:
    return mask(value) if looks_secret(key, value) else value


def _desired(function: FunctionConfig, role: str | None) -> dict[str, Any]:
    return {
        "runtime": function.runtime,
        "handler": function.handler,
        "memory_size": function.memory_size,
        "timeout": function.timeout,
        "description": function.description or "",
        "ephemeral_storage": function.ephemeral_storage,
        "role": role,
        "architecture": function.architecture,
    }


def _deployed(c: dict[str, Any]) -> dict[str, Any]:
    return {
        "runtime": c.get("Runtime"),
        "handler": c.get("Handler"),
        "memory_size": c.get("MemorySize", 128),
        "timeout": c.get("Timeout", 3),
        "description": c.get("Description") or "",
        "ephemeral_storage": (c.get("EphemeralStorage") or {}).get("Size", 512),
        "role": c.get("Role"),
        "architecture": (c.get("Architectures") or ["x86_64"])[0],
    }


def _env_changes(old: dict[str, str] | None, new: dict[str, str]) -> list[FieldChange]:
    changes = []
    old = old or {}
    for key in sorted(set(old) | set(new)):
        if old.get(key) == new.get(key):
            continue
        changes.append(
            FieldChange(
                f"environment.{key}",
                None if key not in old else _env_value(key, old[key]),
                None if key not in new else _env_value(key, new[key]),
            )
        )
    return changes


def _problems(function: FunctionConfig, role: str | None, creating: bool) -> list[str]:
    problems = []
    if creating and not role:
        problems.append(
            f"{function.name} does not exist on AWS and has no role to create it with: add `role: arn:aws:iam::ACCOUNT:role/NAME` "
            f"to local.functions.{function.name}, or `role:` to the aws: section (aws.role)"
        )
    env = function.environment or {}
    size = sum(len(k.encode()) + len(str(v).encode()) for k, v in env.items())
    if size > ENV_VARS_MAX_BYTES:
        problems.append(f"{function.name}'s environment variables total {size} bytes, over Lambda's 4 KB limit")
    reserved = sorted(k for k in env if k in RESERVED_ENV_KEYS)
    if reserved:
        problems.append(f"{function.name} sets variables Lambda reserves: {', '.join(reserved)}")
    return problems


def _get_deployed(aws_backend: AwsBackend, name: str) -> dict[str, Any] | None:
    client = aws_backend.lambda_client
    try:
        response = client.get_function(FunctionName=name)
    except client.exceptions.ResourceNotFoundException:
        return None
    except _BOTO_ERRORS as e:
        raise _translate(e, aws_backend) from None
    return dict(response.get("Configuration") or {})  # a plain mapping: the plan compares and reads keys


def _boto_errors() -> tuple[type[Exception], ...]:
    import botocore.exceptions

    return (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError)


_BOTO_ERRORS = _boto_errors()


def _translate(e: Exception, aws_backend: AwsBackend) -> BackendError:
    from ..backends.aws_errors import translate

    error = translate(e, aws_backend)
    if isinstance(error, DeployError):
        return error
    wrapped = DeployError(str(error))
    wrapped.code = error.code
    return wrapped


def make_plan(aws_backend: AwsBackend, function: FunctionConfig, config: Config, progress: Callable[[str], None] | None = None) -> DeployPlan:
    """Package `function` and compare it with the deployed one (GetFunction), if any.

    Raises PackageDeployError (a DeployError and a PackageError) when packaging fails or a limit
    is exceeded, DeployError when AWS cannot be read.
    """
    try:
        package = build_package(function, progress=progress)
    except PackageError as e:
        raise PackageDeployError(str(e)) from e
    role = function.role or config.aws.role or aws_backend.config.aws.role
    if progress:
        progress(f"Reading {function.name} on AWS…")
    deployed = _get_deployed(aws_backend, function.name)
    want = _desired(function, role)
    env = dict(function.environment or {})
    if deployed is None:
        changes = [FieldChange(k, None, _show(v)) for k, v in want.items() if k != "role"]
        changes += _env_changes({}, env)
        return DeployPlan(
            function=function.name, action="create", code_changed=True, changes=changes, package=package,
            role=role, problems=_problems(function, role, creating=True),
        )
    have = _deployed(deployed)
    if not role:
        want["role"] = have["role"]  # keep the deployed function's role
    role = want["role"]
    changes = [FieldChange(k, _show(have[k]), _show(want[k])) for k in want if have[k] != want[k]]
    changes += _env_changes((deployed.get("Environment") or {}).get("Variables"), env)
    deployed_sha = deployed.get("CodeSha256")
    code_changed = deployed_sha != package.sha256_b64
    architecture_changed = have["architecture"] != want["architecture"]
    action = "update" if code_changed or changes else "unchanged"
    return DeployPlan(
        function=function.name, action=action, code_changed=code_changed, changes=changes, package=package,
        role=role, problems=_problems(function, role, creating=False), deployed_sha256=deployed_sha,
        architecture_changed=architecture_changed,
    )


def _call(aws_backend: AwsBackend, method: Callable[..., Any], **kwargs: Any) -> dict[str, Any]:
    try:
        response = method(**kwargs)
    except _BOTO_ERRORS as e:
        raise _translate(e, aws_backend) from None
    response = dict(response)
    response.pop("ResponseMetadata", None)
    return response


def _wait(wait: Callable[[str, Callable[[str], None] | None], None], name: str, progress: Callable[[str], None] | None) -> None:
    """One of the backend's waiters (botocore's function_active_v2 / function_updated_v2), its
    failures as DeployErrors."""
    try:
        wait(name, progress)
    except DeployError:
        raise
    except BackendError as e:
        raise DeployError(str(e)) from None


def _configuration_kwargs(function: FunctionConfig, role: str | None) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "Runtime": function.runtime,
        "Handler": function.handler,
        "MemorySize": function.memory_size,
        "Timeout": function.timeout,
        "Description": function.description or "",
        "Environment": {"Variables": dict(function.environment or {})},
        "EphemeralStorage": {"Size": function.ephemeral_storage},
    }
    if role:
        kwargs["Role"] = role
    return kwargs


def apply_plan(
    aws_backend: AwsBackend,
    plan: DeployPlan,
    function: FunctionConfig,
    config: Config,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Carry out `plan`; returns the function's final configuration (GetFunctionConfiguration)."""
    name = function.name
    if aws_backend.read_only:
        raise DeployError(f"{name} was not deployed: aws.read_only is true for this session")
    if plan.problems:
        raise DeployError(f"{name} was not deployed: {plan.problems[0]}")
    if plan.function != name:
        raise DeployError(f"the plan is for {plan.function}, not {name}")
    client = aws_backend.lambda_client
    say = progress or (lambda _message: None)
    if plan.action == "create":
        say(f"Creating {name} ({_size(len(plan.package.zip_bytes))} upload)…")
        kwargs = _configuration_kwargs(function, plan.role)
        _call(
            aws_backend, client.create_function, FunctionName=name, PackageType="Zip",
            Code={"ZipFile": plan.package.zip_bytes}, Architectures=[function.architecture], Publish=False, **kwargs,
        )
        _wait(aws_backend.wait_until_active, name, progress)
        _wait(aws_backend.wait_until_updated, name, progress)
        say(f"Created {name}")
    elif plan.action == "update":
        if plan.code_changed or plan.architecture_changed:
            say(f"Uploading {name}'s code ({_size(len(plan.package.zip_bytes))})…")
            _call(
                aws_backend, client.update_function_code, FunctionName=name,
                ZipFile=plan.package.zip_bytes, Architectures=[function.architecture],
            )
            _wait(aws_backend.wait_until_updated, name, progress)
        config_changes = [c for c in plan.changes if c.field != "architecture"]
        if config_changes:
            say(f"Updating {name}'s configuration ({', '.join(c.field for c in config_changes)})…")
            _call(aws_backend, client.update_function_configuration, FunctionName=name, **_configuration_kwargs(function, plan.role))
            _wait(aws_backend.wait_until_updated, name, progress)
        say(f"Updated {name}")
    else:
        say(f"{name} is up to date: nothing uploaded")
    return _call(aws_backend, client.get_function_configuration, FunctionName=name)
