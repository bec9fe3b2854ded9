"""Deploying a local function to AWS Lambda: plan (what would change), then apply.

`make_plan` packages the function and compares it with the deployed one (GetFunction and
GetFunctionConcurrency): create or update, whether the code changed (by CodeSha256), each
configuration field that differs (environment values masked where they look secret), the reserved
concurrency, and what is not deployed (the config's triggers: event sources and permissions are
SAM's or CloudFormation's to create). `apply_plan` runs CreateFunction, or UpdateFunctionCode (only
when the code changed) then UpdateFunctionConfiguration (only when the configuration differs),
waiting for Lambda between the steps (botocore's function_updated_v2 waiter), as AWS requires; then
PutFunctionConcurrency / DeleteFunctionConcurrency when the reserved concurrency differs; then, with
`publish`, PublishVersion and the alias pointed at the new version (CreateAlias when it does not
exist yet, else UpdateAlias). `deploy_target` names the account (STS GetCallerIdentity), profile
and region a deploy goes to.
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

__all__ = ["DeployError", "DeployPlan", "DeployTarget", "FieldChange", "PackageDeployError", "apply_plan", "deploy_target", "make_plan"]


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


@dataclass(frozen=True)
class DeployTarget:
    """Where a deploy goes: the account the credentials belong to, the profile and the region."""

    account: str
    profile: str
    region: str

    def render(self) -> str:
        return f"account {self.account} · profile {self.profile} · region {self.region}"


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
    # Reserved concurrency (None: unreserved): the deployed value and the config's.
    reserved_before: int | None = None
    reserved: int | None = None
    triggers: list[str] = field(default_factory=list)  # the config's triggers, not deployed
    publish: bool = False
    alias: str | None = None
    alias_version: str | None = None  # the version the alias points at now (None: no such alias)
    # Set by apply_plan:
    published_version: str | None = None

    @property
    def reserved_changed(self) -> bool:
        return self.reserved != self.reserved_before

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
        if self.reserved_changed:
            old, new = _reserved(self.reserved_before), _reserved(self.reserved)
            lines.append(f"  reserved_concurrency: {old} → {new}" if self.action != "create" else f"  reserved_concurrency: {new}")
        if self.publish:
            lines.append("  publish: a new version (PublishVersion) after the update")
            if self.alias:
                now = "new alias" if self.alias_version is None else f"now version {self.alias_version}"
                lines.append(f"  alias {self.alias}: → the published version ({now})")
        for trigger in self.triggers:
            lines.append(f"  trigger {trigger}: not deployed (use SAM/CloudFormation)")
        for problem in self.problems:
            lines.append(f"  refused: {problem}")
        return "\n".join(lines)


def _reserved(value: int | None) -> str:
    return "unreserved" if value is None else str(value)


def _trigger_lines(function: FunctionConfig) -> list[str]:
    """Each trigger as the config spells it: `schedule (expression: rate(5 minutes), enabled: True)`."""
    lines = []
    for trigger in function.triggers:
        spelled = {k: v for k, v in trigger.to_dict().items() if k != "type" and v not in (None, "", [], {})}
        lines.append(f"{trigger.type} ({', '.join(f'{k}: {v}' for k, v in spelled.items())})")
    return lines


def _deployed_reserved(aws_backend: AwsBackend, name: str) -> int | None:
    response = _call(aws_backend, aws_backend.lambda_client.get_function_concurrency, FunctionName=name)
    value = response.get("ReservedConcurrentExecutions")
    return int(value) if value is not None else None


def _alias_version(aws_backend: AwsBackend, name: str, alias: str) -> str | None:
    client = aws_backend.lambda_client
    try:
        return str(client.get_alias(FunctionName=name, Name=alias)["FunctionVersion"])
    except client.exceptions.ResourceNotFoundException:
        return None
    except _BOTO_ERRORS as e:
        raise _translate(e, aws_backend) from None


def deploy_target(aws_backend: AwsBackend) -> DeployTarget:
    """The account (STS GetCallerIdentity), profile and region `aws_backend` deploys to."""
    sts = aws_backend.session.client("sts", endpoint_url=aws_backend.endpoint_url, config=aws_backend.lambda_client.meta.config)
    identity = _call(aws_backend, sts.get_caller_identity)
    where = aws_backend.location()
    return DeployTarget(str(identity.get("Account", "?")), where.profile or "default", where.region or "?")


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


def make_plan(
    aws_backend: AwsBackend,
    function: FunctionConfig,
    config: Config,
    progress: Callable[[str], None] | None = None,
    *,
    publish: bool = False,
    alias: str | None = None,
) -> DeployPlan:
    """Package `function` and compare it with the deployed one (GetFunction), if any. With
    `publish`, the plan publishes a version and points `alias` (if given) at it.

    Raises PackageDeployError (a DeployError and a PackageError) when packaging fails or a limit
    is exceeded, DeployError when AWS cannot be read.
    """
    if alias and not publish:
        raise DeployError("--alias needs --publish: an alias points at a published version")
    plan = _make_plan(aws_backend, function, config, progress)
    plan.reserved = function.reserved_concurrency
    plan.triggers = _trigger_lines(function)
    plan.publish, plan.alias = publish, alias or None
    if plan.action != "create":
        plan.reserved_before = _deployed_reserved(aws_backend, function.name)
        if alias:
            plan.alias_version = _alias_version(aws_backend, function.name, alias)
    else:
        plan.reserved_before = None
    if plan.action == "unchanged" and plan.reserved_changed:
        plan.action = "update"
    return plan


def _make_plan(aws_backend: AwsBackend, function: FunctionConfig, config: Config, progress: Callable[[str], None] | None = None) -> DeployPlan:
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
    if plan.reserved_changed:
        if plan.reserved is None:
            say(f"Removing {name}'s reserved concurrency (DeleteFunctionConcurrency)…")
            _call(aws_backend, client.delete_function_concurrency, FunctionName=name)
        else:
            say(f"Reserving {plan.reserved} concurrent executions for {name} (PutFunctionConcurrency)…")
            _call(aws_backend, client.put_function_concurrency, FunctionName=name, ReservedConcurrentExecutions=plan.reserved)
    if plan.publish:
        # PublishVersion once LastUpdateStatus is Successful (an update in progress is refused);
        # with nothing changed since the last version, Lambda returns that version.
        _wait(aws_backend.wait_until_updated, name, progress)
        say(f"Publishing a version of {name}…")
        version = str(_call(aws_backend, client.publish_version, FunctionName=name)["Version"])
        plan.published_version = version
        say(f"Published {name} version {version}")
        if plan.alias:
            if _alias_version(aws_backend, name, plan.alias) is None:
                _call(aws_backend, client.create_alias, FunctionName=name, Name=plan.alias, FunctionVersion=version)
                say(f"Created alias {plan.alias} → version {version}")
            else:
                _call(aws_backend, client.update_alias, FunctionName=name, Name=plan.alias, FunctionVersion=version)
                say(f"Alias {plan.alias} → version {version}")
    return _call(aws_backend, client.get_function_configuration, FunctionName=name)
