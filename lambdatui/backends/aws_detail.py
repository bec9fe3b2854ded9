"""The AWS calls behind `show`, the Details screen, the console's qualifier picker and reserved concurrency.

One `FunctionDetail` is put together from GetFunction (configuration, tags, code), GetFunctionConcurrency,
ListVersionsByFunction, ListAliases, GetFunctionUrlConfig, ListEventSourceMappings, GetPolicy (the
services the resource policy lets invoke it) and GetFunctionEventInvokeConfig (asynchronous
destinations); every list is read through boto3's paginators. The parts around the configuration
are optional on Lambda: a missing one (no URL, no policy, no event invoke config) is Lambda's
ResourceNotFoundException and means "none"; one the caller may not read (a read-only role without
lambda:GetPolicy) becomes a note in the detail rather than a failure of the whole view.

`reserved_concurrencies` asks GetFunctionConcurrency for many functions at once (ListFunctions
does not return it) on a bounded thread pool: boto3 clients are thread-safe, and botocore's
standard retry mode absorbs the control plane's throttling.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar

import botocore.exceptions

from .aws_errors import translate
from .base import BackendError
from .detail import AliasInfo, FunctionDetail, TriggerInfo, VersionInfo, split_qualifier

if TYPE_CHECKING:
    from .aws import AwsBackend

_T = TypeVar("_T")

# GetFunctionConcurrency calls in flight at once for a listing: enough to read 262 functions in a
# couple of seconds, few enough to stay inside Lambda's control-plane request rate.
CONCURRENCY_WORKERS = 8

_BOTO_ERRORS = (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError)


def _code(error: Exception) -> str:
    if isinstance(error, botocore.exceptions.ClientError):
        return str(error.response.get("Error", {}).get("Code", ""))
    return ""


def _optional(backend: AwsBackend, what: str, notes: list[str], call: Callable[[], _T]) -> _T | None:
    """`call()`, or None when Lambda says there is none (404); a refusal becomes a note."""
    try:
        return call()
    except _BOTO_ERRORS as e:
        if _code(e) in ("ResourceNotFoundException", "ResourceNotFound"):
            return None
        notes.append(f"{what}: {translate(e, backend)}")
        return None


def list_versions(backend: AwsBackend, name: str) -> list[VersionInfo]:
    """Published versions, oldest first; $LATEST (which ListVersionsByFunction includes) left out."""
    versions: list[VersionInfo] = []
    try:
        for page in backend.lambda_client.get_paginator("list_versions_by_function").paginate(FunctionName=name):
            for v in page.get("Versions", []):
                if v.get("Version") == "$LATEST":
                    continue
                versions.append(VersionInfo(v.get("Version", ""), v.get("Description") or "", v.get("LastModified"), v.get("CodeSha256")))
    except _BOTO_ERRORS as e:
        raise translate(e, backend) from None
    versions.sort(key=lambda v: int(v.version) if v.version.isdigit() else 0)
    return versions


def list_aliases(backend: AwsBackend, name: str) -> list[AliasInfo]:
    aliases: list[AliasInfo] = []
    try:
        for page in backend.lambda_client.get_paginator("list_aliases").paginate(FunctionName=name):
            for a in page.get("Aliases", []):
                weights = (a.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
                aliases.append(AliasInfo(a.get("Name", ""), a.get("FunctionVersion", ""), a.get("Description") or "", {str(k): float(w) for k, w in weights.items()}))
    except _BOTO_ERRORS as e:
        raise translate(e, backend) from None
    return sorted(aliases, key=lambda a: a.name)


def reserved_concurrency(backend: AwsBackend, name: str) -> int | None:
    """GetFunctionConcurrency: None when unreserved (the answer has no ReservedConcurrentExecutions), 0 kept as 0."""
    try:
        answer = backend.lambda_client.get_function_concurrency(FunctionName=name)
    except _BOTO_ERRORS as e:
        raise translate(e, backend) from None
    value = answer.get("ReservedConcurrentExecutions")
    return int(value) if value is not None else None


def reserved_concurrencies(backend: AwsBackend, names: Iterable[str], workers: int = CONCURRENCY_WORKERS) -> dict[str, int | None]:
    """`reserved_concurrency` of every name, `workers` calls at a time; the first failure is raised."""
    names = list(names)
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(names) or 1)), thread_name_prefix="lambdatui-concurrency") as pool:
        values = list(pool.map(lambda n: reserved_concurrency(backend, n), names))
    return dict(zip(names, values))


def _event_source_type(arn: str) -> str:
    # arn:aws:sqs:…, arn:aws:kinesis:…, arn:aws:dynamodb:…, arn:aws:kafka:…, arn:aws:mq:…
    # A self-managed Kafka source has bootstrap servers instead of an ARN.
    parts = arn.split(":")
    return parts[2] if arn.startswith("arn:") and len(parts) > 2 else "kafka"


def _mappings(backend: AwsBackend, function: str, notes: list[str]) -> list[TriggerInfo]:
    found: list[TriggerInfo] = []
    try:
        for page in backend.lambda_client.get_paginator("list_event_source_mappings").paginate(FunctionName=function):
            for m in page.get("EventSourceMappings", []):
                source = m.get("EventSourceArn") or ",".join((m.get("SelfManagedEventSource") or {}).get("Endpoints", {}).get("KAFKA_BOOTSTRAP_SERVERS", []))
                found.append(TriggerInfo(_event_source_type(source), source, m.get("State", "Unknown"), "event_source_mapping"))
    except _BOTO_ERRORS as e:
        if _code(e) not in ("ResourceNotFoundException",):
            notes.append(f"event source mappings: {translate(e, backend)}")
    return found


def policy_triggers(policy_text: str) -> list[TriggerInfo]:
    """The services a resource policy allows to invoke the function, with the source they are
    limited to (`AWS:SourceArn`, else `AWS:SourceAccount`, else the principal itself)."""
    try:
        statements = json.loads(policy_text).get("Statement", [])
    except (ValueError, AttributeError):
        return []
    found: list[TriggerInfo] = []
    for s in statements if isinstance(statements, list) else [statements]:
        if not isinstance(s, dict) or s.get("Effect") != "Allow":
            continue
        principal = s.get("Principal")
        service = principal.get("Service") if isinstance(principal, dict) else None
        who = service if isinstance(service, str) else (principal.get("AWS") if isinstance(principal, dict) else principal)
        if not isinstance(who, str):
            who = json.dumps(who)
        conditions = s.get("Condition") or {}
        source = None
        for test in conditions.values():
            if isinstance(test, dict):
                source = source or test.get("AWS:SourceArn") or test.get("aws:SourceArn")
        if source is None:
            for test in conditions.values():
                if isinstance(test, dict):
                    source = source or test.get("AWS:SourceAccount") or test.get("aws:SourceAccount")
        kind = who.split(".")[0] if service else "account"
        found.append(TriggerInfo(kind, str(source or who), "Allowed", "resource_policy"))
    return found


def _url(backend: AwsBackend, function: str, qualifier: str | None, notes: list[str], raw: dict[str, Any]) -> dict[str, Any] | None:
    kwargs: dict[str, Any] = {"FunctionName": function}
    if qualifier and qualifier != "$LATEST":
        kwargs["Qualifier"] = qualifier
    answer = _optional(backend, "function URL", notes, lambda: backend.lambda_client.get_function_url_config(**kwargs))
    if answer is None:
        return None
    clean = {k: v for k, v in answer.items() if k != "ResponseMetadata"}
    raw["FunctionUrlConfig"] = clean
    return {
        "url": clean.get("FunctionUrl"),
        "auth_type": clean.get("AuthType"),  # AWS_IAM or NONE (public)
        "invoke_mode": clean.get("InvokeMode", "BUFFERED"),
        "cors": clean.get("Cors"),
    }


def _destinations(backend: AwsBackend, function: str, qualifier: str | None, notes: list[str], raw: dict[str, Any]) -> dict[str, Any] | None:
    kwargs: dict[str, Any] = {"FunctionName": function}
    if qualifier and qualifier != "$LATEST":
        kwargs["Qualifier"] = qualifier
    answer = _optional(backend, "event invoke config", notes, lambda: backend.lambda_client.get_function_event_invoke_config(**kwargs))
    if answer is None:
        return None
    clean: dict[str, Any] = {k: v for k, v in answer.items() if k != "ResponseMetadata"}
    raw["EventInvokeConfig"] = clean
    config: dict[str, Any] = clean.get("DestinationConfig") or {}
    return {
        "on_success": (config.get("OnSuccess") or {}).get("Destination"),
        "on_failure": (config.get("OnFailure") or {}).get("Destination"),
        "maximum_retry_attempts": clean.get("MaximumRetryAttempts"),
        "maximum_event_age_seconds": clean.get("MaximumEventAgeInSeconds"),
    }


def function_detail(backend: AwsBackend, name: str, qualifier: str | None = None) -> FunctionDetail:
    """Everything about `name` at `qualifier` (None: $LATEST, or the one in `NAME:QUALIFIER`)."""
    base, embedded = split_qualifier(name)
    if qualifier and embedded and qualifier != embedded:
        raise BackendError(f"{name}: the name already says qualifier {embedded!r}, --qualifier says {qualifier!r}")
    qualifier = qualifier or embedded
    kwargs: dict[str, Any] = {"FunctionName": base}
    if qualifier:
        kwargs["Qualifier"] = qualifier
    try:
        answer = backend.lambda_client.get_function(**kwargs)
    except _BOTO_ERRORS as e:
        raise translate(e, backend) from None
    c = answer["Configuration"]
    notes: list[str] = []
    function = c["FunctionName"]
    raw: dict[str, Any] = {k: v for k, v in answer.items() if k != "ResponseMetadata"}
    raw.get("Code", {}).pop("Location", None)  # a presigned download URL, valid 10 minutes: not for pasting

    reserved = reserved_concurrency(backend, function)
    provisioned = 0
    if qualifier and qualifier != "$LATEST":
        found = _optional(
            backend, "provisioned concurrency", notes,
            lambda: backend.lambda_client.get_provisioned_concurrency_config(FunctionName=function, Qualifier=qualifier),
        )
        provisioned = int(found.get("RequestedProvisionedConcurrentExecutions", 0)) if found else 0
    configuration = backend._configuration(c, reserved, provisioned)

    qualified = f"{function}:{qualifier}" if qualifier and qualifier != "$LATEST" else function
    triggers = _mappings(backend, qualified, notes)
    policy_kwargs: dict[str, Any] = {"FunctionName": function}
    if qualifier and qualifier != "$LATEST":
        policy_kwargs["Qualifier"] = qualifier
    policy = _optional(backend, "resource policy", notes, lambda: backend.lambda_client.get_policy(**policy_kwargs))
    if policy is not None:
        raw["Policy"] = json.loads(policy.get("Policy") or "{}")
        triggers += policy_triggers(policy.get("Policy") or "{}")

    logging_config: dict[str, Any] = dict(c.get("LoggingConfig") or {})
    logging = {"format": logging_config.get("LogFormat", "Text"), "log_group": logging_config.get("LogGroup") or f"/aws/lambda/{function}"}
    for key, field in (("ApplicationLogLevel", "application_log_level"), ("SystemLogLevel", "system_log_level")):
        if logging_config.get(key):
            logging[field] = logging_config[key]
    vpc_config = c.get("VpcConfig") or {}
    vpc = (
        {"vpc_id": vpc_config.get("VpcId"), "subnet_ids": list(vpc_config.get("SubnetIds", [])), "security_group_ids": list(vpc_config.get("SecurityGroupIds", []))}
        if vpc_config.get("SubnetIds") else None
    )
    return FunctionDetail(
        configuration,
        qualifier=qualifier or "$LATEST",
        version=c.get("Version", "$LATEST"),
        package_type=c.get("PackageType", "Zip"),
        tags=dict(answer.get("Tags") or {}),
        versions=list_versions(backend, function),
        aliases=list_aliases(backend, function),
        url=_url(backend, function, qualifier, notes, raw),
        triggers=triggers,
        logging=logging,
        vpc=vpc,
        tracing=(c.get("TracingConfig") or {}).get("Mode", "PassThrough"),
        dead_letter=(c.get("DeadLetterConfig") or {}).get("TargetArn"),
        destinations=_destinations(backend, function, qualifier, notes, raw),
        code_size=c.get("CodeSize"),
        code_sha256=c.get("CodeSha256"),
        raw=raw,
        notes=notes,
    )
