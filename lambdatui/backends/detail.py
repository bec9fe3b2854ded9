"""The one detail model of a function: what `lambdatui show` prints and the dashboard's Details screen shows.

`Backend.function_detail(name, qualifier)` returns a `FunctionDetail`; both backends fill it (AWS
from GetFunction and the calls around it, see `aws_detail`; local from the configuration). Its JSON
(`to_json`) is a contract for scripts: the keys of `DETAIL_KEYS`, environment values that look like
secrets masked unless `reveal` (lambdatui.masking), `reserved_concurrency` 0 kept as 0 and null only
when unreserved.

A leaf of the backends package: the standard library, the model and the masking rules only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ..masking import looks_secret, mask
from ..model import Function

__all__ = ["AliasInfo", "DETAIL_KEYS", "render_text", "sections", "FunctionDetail", "TriggerInfo", "VersionInfo", "masked_environment", "split_qualifier"]

# Every `show --json` object has these keys, in this order (null where the backend cannot tell).
DETAIL_KEYS = (
    "function", "qualifier", "version", "arn", "description", "runtime", "handler", "memory_size", "timeout",
    "ephemeral_storage", "architecture", "package_type", "reserved_concurrency", "provisioned_concurrency",
    "state", "last_update_status", "last_modified", "role", "layers", "environment", "tags", "versions",
    "aliases", "url", "triggers", "logging", "vpc", "tracing", "dead_letter", "destinations", "code_size",
    "code_sha256",
)


@dataclass(frozen=True)
class VersionInfo:
    """A published version (ListVersionsByFunction, less $LATEST which every function has)."""

    version: str
    description: str = ""
    last_modified: str | None = None
    code_sha256: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"version": self.version, "description": self.description, "last_modified": self.last_modified, "code_sha256": self.code_sha256}


@dataclass(frozen=True)
class AliasInfo:
    """An alias (ListAliases): the version it points at and, for a weighted alias, the share of
    invocations that go to another version (`routing`: {version: weight 0-1})."""

    name: str
    function_version: str
    description: str = ""
    routing: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "function_version": self.function_version, "description": self.description, "routing": dict(self.routing)}


@dataclass(frozen=True)
class TriggerInfo:
    """Something that invokes the function: an event source mapping (`via` "event_source_mapping",
    `state` Lambda's: Enabled, Disabled, Creating…), a service the resource policy allows (`via`
    "resource_policy", `state` "Allowed"), or a trigger of the local configuration (`via` "config")."""

    type: str  # sqs, kinesis, dynamodb, kafka, mq / apigateway, s3, events, sns… / http, schedule, s3, sqs locally
    source: str  # an ARN, a principal, or the local trigger's description
    state: str
    via: str

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type, "source": self.source, "state": self.state, "via": self.via}


def masked_environment(environment: dict[str, str], reveal: bool) -> dict[str, str]:
    """`environment` with values that look like secrets masked, unless `reveal`."""
    if reveal:
        return dict(environment)
    return {k: mask(v) if looks_secret(k, v) else v for k, v in environment.items()}


def split_qualifier(name: str) -> tuple[str, str | None]:
    """`NAME:QUALIFIER` (or a function ARN with a qualifier) as (name-or-ARN, qualifier), as Lambda
    reads a FunctionName: `fn`, `fn:prod`, `arn:aws:lambda:us-east-1:123456789012:function:fn:7`."""
    parts = name.split(":")
    if name.startswith("arn:"):
        # arn:partition:lambda:region:account:function:NAME[:QUALIFIER]
        return (":".join(parts[:7]), parts[7]) if len(parts) == 8 and parts[7] else (name, None)
    if len(parts) == 2 and parts[0] and parts[1]:
        return parts[0], parts[1]
    return name, None


@dataclass
class FunctionDetail:
    """Everything about one function (at one qualifier) that `show` and the Details screen present.

    `configuration` is the backend's `Function` (the settings); the rest is what lies around it on
    Lambda. `raw` keeps the API answers as received (AWS) or the function in Lambda's shape
    (locally), for the raw JSON view; `notes` say which parts could not be read and why (a
    read-only role without lambda:GetPolicy, say) so an absence is never silent.
    """

    configuration: Function
    qualifier: str = "$LATEST"  # as asked: $LATEST, a version or an alias
    version: str = "$LATEST"  # the version it resolves to (an alias's function version)
    package_type: str = "Zip"
    tags: dict[str, str] = field(default_factory=dict)
    versions: list[VersionInfo] = field(default_factory=list)
    aliases: list[AliasInfo] = field(default_factory=list)
    url: dict[str, Any] | None = None  # {url, auth_type, invoke_mode, cors}
    triggers: list[TriggerInfo] = field(default_factory=list)
    logging: dict[str, Any] = field(default_factory=dict)  # {format, log_group[, application_log_level, system_log_level]}
    vpc: dict[str, Any] | None = None  # {vpc_id, subnet_ids, security_group_ids}
    tracing: str = "PassThrough"
    dead_letter: str | None = None  # the target ARN
    destinations: dict[str, Any] | None = None  # {on_success, on_failure, maximum_retry_attempts, maximum_event_age_seconds}
    code_size: int | None = None
    code_sha256: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.configuration.name

    def to_json(self, reveal: bool = False) -> dict[str, Any]:
        """The `show --json` object (DETAIL_KEYS, in order); secrets masked unless `reveal`."""
        c = self.configuration
        out: dict[str, Any] = {
            "function": c.name,
            "qualifier": self.qualifier,
            "version": self.version,
            "arn": c.arn,
            "description": c.description,
            "runtime": c.runtime,
            "handler": c.handler,
            "memory_size": c.memory_size,
            "timeout": c.timeout,
            "ephemeral_storage": c.ephemeral_storage,
            "architecture": c.architecture,
            "package_type": self.package_type,
            "reserved_concurrency": c.reserved_concurrency,  # 0 stays 0: every invoke is throttled
            "provisioned_concurrency": c.provisioned_concurrency,
            "state": c.state,
            "last_update_status": c.last_update_status,
            "last_modified": c.last_modified,
            "role": c.role,
            "layers": list(c.layers),
            "environment": masked_environment(c.environment, reveal),
            "tags": dict(self.tags),
            "versions": [v.to_json() for v in self.versions],
            "aliases": [a.to_json() for a in self.aliases],
            "url": dict(self.url) if self.url is not None else None,
            "triggers": [t.to_json() for t in self.triggers],
            "logging": dict(self.logging),
            "vpc": dict(self.vpc) if self.vpc is not None else None,
            "tracing": self.tracing,
            "dead_letter": self.dead_letter,
            "destinations": dict(self.destinations) if self.destinations is not None else None,
            "code_size": self.code_size,
            "code_sha256": self.code_sha256,
        }
        if self.notes:
            out["notes"] = list(self.notes)
        return out

    def raw_json(self, reveal: bool = False) -> str:
        """The API answers as received, indented; environment values masked unless `reveal`."""
        return json.dumps(_mask_raw(self.raw, reveal), indent=2, default=str, ensure_ascii=False)


def _mask_raw(value: Any, reveal: bool) -> Any:
    """`value` with every `Environment.Variables` mapping in it masked (GetFunction's answer holds one)."""
    if reveal:
        return value
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if k == "Variables" and isinstance(v, dict):
                out[k] = masked_environment({str(a): str(b) for a, b in v.items()}, False)
            else:
                out[k] = _mask_raw(v, False)
        return out
    if isinstance(value, list):
        return [_mask_raw(v, False) for v in value]
    return value


def _value(v: Any) -> str:
    if v is None or v == [] or v == {} or v == "":
        return "-"
    if isinstance(v, list):
        return ", ".join(str(x) for x in v)
    return str(v)


def render_text(detail: FunctionDetail, reveal: bool = False) -> str:
    """The detail as aligned `key  value` lines under section titles (the Details screen shows the same)."""
    lines: list[str] = []
    for title, rows in sections(detail, reveal):
        lines.append(title)
        width = max((len(k) for k, _ in rows), default=0)
        for key, value in rows:
            lines.append(f"  {key.ljust(width)}  {value}" if key else f"  {value}")
        lines.append("")
    return "\n".join(lines).rstrip("\n")


def sections(detail: FunctionDetail, reveal: bool = False) -> list[tuple[str, list[tuple[str, str]]]]:
    """(title, [(key, value)]) for each part of the detail: `show`'s text and the Details screen."""
    j = detail.to_json(reveal=reveal)
    reserved = j["reserved_concurrency"]
    concurrency = "unreserved" if reserved is None else (f"reserved {reserved} (every invoke is throttled)" if reserved == 0 else f"reserved {reserved}")
    out: list[tuple[str, list[tuple[str, str]]]] = [
        (
            f"{j['function']} ({j['qualifier']}" + (f" → version {j['version']})" if j["version"] != j["qualifier"] else ")"),
            [
                ("ARN", _value(j["arn"])),
                ("Description", _value(j["description"])),
                ("State", f"{j['state']} · last update {j['last_update_status']}"),
                ("Last modified", _value(j["last_modified"])),
                ("Runtime", f"{j['runtime']} · {j['architecture']} · {j['package_type']}"),
                ("Handler", _value(j["handler"])),
                ("Memory", f"{j['memory_size']} MB · timeout {j['timeout']} s · /tmp {j['ephemeral_storage']} MB"),
                ("Concurrency", f"{concurrency} · provisioned {j['provisioned_concurrency']}"),
                ("Role", _value(j["role"])),
                ("Code", f"{_value(j['code_size'])} bytes · sha256 {_value(j['code_sha256'])}" if j["code_size"] is not None else "-"),
                ("Layers", _value(j["layers"])),
            ],
        ),
        ("Environment", [(k, v) for k, v in j["environment"].items()] or [("", "-")]),
        ("Versions", [(v["version"], v["description"] or "-") for v in j["versions"]] or [("", "none published")]),
        (
            "Aliases",
            [
                (a["name"], f"→ {a['function_version']}" + "".join(f" ({w:.0%} → {v})" for v, w in a["routing"].items()))
                for a in j["aliases"]
            ] or [("", "-")],
        ),
        ("Function URL", [("", f"{j['url']['url']} (auth {j['url']['auth_type']})")] if j["url"] else [("", "-")]),
        ("Triggers", [(t["type"], f"{t['source']} · {t['state']}") for t in j["triggers"]] or [("", "-")]),
        ("Logging", [("Format", j["logging"].get("format", "-")), ("Log group", j["logging"].get("log_group", "-"))]),
        (
            "Network and delivery",
            [
                ("VPC", f"{j['vpc']['vpc_id']} · subnets {', '.join(j['vpc']['subnet_ids'])} · groups {', '.join(j['vpc']['security_group_ids'])}" if j["vpc"] else "-"),
                ("Tracing", _value(j["tracing"])),
                ("Dead letter", _value(j["dead_letter"])),
                (
                    "Destinations",
                    f"on success {_value(j['destinations']['on_success'])} · on failure {_value(j['destinations']['on_failure'])}"
                    if j["destinations"] else "-",
                ),
            ],
        ),
        ("Tags", [(k, v) for k, v in j["tags"].items()] or [("", "-")]),
    ]
    if detail.notes:
        out.append(("Not read", [("", n) for n in detail.notes]))
    return out
