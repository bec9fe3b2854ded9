"""lambdatui's configuration: where it is found, what its keys mean, and its validation.

The file is YAML (so JSON too). Every error names the file, the line and the key, with the allowed
values, and unknown keys get a did-you-mean: a user should never see a traceback for a typo.
Validation rules are exposed (`validate_function_field`) so the dashboard's editor checks input
with exactly the rules the loader uses.

Loading is on every command's way in, so it stays cheap: the file is composed by libyaml (PyYAML's
C parser, when built with it; the nodes and their lines are the same), and only a file with a
syntax error is composed again by the pure-Python parser, whose messages name more (the character,
the alias). The trigger types (whose modules bring the schedule parser and the SQS store) are
imported only to read triggers, and `triggers=False` leaves triggers unread for a command that
never fires them (a one-shot `lambdatui invoke`).
"""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

# KNOWN_RUNTIMES and the memory limits are re-exported (`X as X`): the dashboard's editor takes the
# limits from this module, not from the executor.
from .executor.runtimes import KNOWN_RUNTIMES as KNOWN_RUNTIMES
from .model import (
    ASYNC_EVENT_AGE_MAX_S,
    ASYNC_EVENT_AGE_MIN_S,
    ASYNC_RETRY_ATTEMPTS_MAX,
    ASYNC_RETRY_ATTEMPTS_MIN,
    EDITABLE_FIELDS,
    ENV_VARS_MAX_BYTES,
    QUEUE_NAME_PATTERN,
    TIMEOUT_MAX_S,
    TIMEOUT_MIN_S,
    AsyncConfig,
    Function,
)
from .model import MEMORY_MAX_MB as MEMORY_MAX_MB
from .model import MEMORY_MIN_MB as MEMORY_MIN_MB
from .templates.detect import TEMPLATE_LOOKUP, has_template_keys
from .yaml_nodes import ConfigError as ConfigError  # re-exported: callers catch config.ConfigError

# The validator under its old names here, for code that imported them from this module.
from .yaml_nodes import NodeReader as _Validator  # noqa: F401
from .yaml_nodes import construct as _construct  # noqa: F401
from .yaml_nodes import describe_value as _describe  # noqa: F401
from .yaml_nodes import is_null as _is_null  # noqa: F401

if TYPE_CHECKING:  # the trigger types are imported when a trigger is read (see the docstring)
    from .triggers.base import Trigger

try:
    from yaml import CSafeLoader as _FastLoader
except ImportError:  # pragma: no cover - a PyYAML built without libyaml
    from yaml import SafeLoader as _FastLoader  # type: ignore[assignment]

CONFIG_ENV_VAR = "LAMBDATUI_CONFIG"
LOCAL_CONFIG_NAME = "lambdatui.yaml"

# Keys Lambda reserves: a function may not set them (AWS rejects them in UpdateFunctionConfiguration).
RESERVED_ENV_KEYS = frozenset(
    {
        "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV",
        "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
        "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR",
    }
)
ENV_KEY_PATTERN = re.compile(r"[a-zA-Z]([a-zA-Z0-9_])+")  # used with fullmatch, as Lambda's patterns
FUNCTION_NAME_PATTERN = re.compile(r"[a-zA-Z0-9_-]{1,64}")


@dataclass
class AwsSettings:
    profile: str | None = None  # None: AWS_PROFILE, else the default chain (as the AWS CLI)
    # None: AWS_REGION, AWS_DEFAULT_REGION, the profile's region, us-east-1 (backends/aws_session.py)
    region: str | None = None
    endpoint_url: str | None = None
    read_only: bool = False
    role: str | None = None
    confirm_invoke: bool | None = None  # None: ask before invoking when read_only is set

    @property
    def invoke_needs_confirmation(self) -> bool:
        """Whether an invoke on AWS is confirmed first: `confirm_invoke`, by default `read_only`
        (a read-only session is one where running a function by mistake should not happen either)."""
        return self.read_only if self.confirm_invoke is None else self.confirm_invoke


# A function as the config file declares it (paths resolved against the file): the one model.
FunctionConfig = Function


@dataclass
class AwsServicesSettings:
    """`local.aws_services`: the embedded AWS services (lambdatui.aws_services) and their seed file."""

    seed: Path | None = None  # resolved against the config file's folder
    port: int = 0  # 0: any free port


@dataclass
class LocalSettings:
    region: str = "us-east-1"
    account_id: str = "123456789012"
    keep_warm_seconds: float = 600
    functions: dict[str, Function] = field(default_factory=dict)
    aws_services: AwsServicesSettings | None = None  # None: off


@dataclass
class TuiSettings:
    theme: str | None = None  # a theme name from themes/*.yaml
    keys: dict[str, str] = field(default_factory=dict)  # binding id -> keys, e.g. {"app.invoke": "ctrl+r,f12"}


@dataclass
class ServeSettings:
    """`serve:` — the one key pair whose SigV4 signatures `lambdatui serve`'s Lambda API accepts;
    unset, any key is accepted (every SDK signs, so a signature is still required)."""

    access_key_id: str | None = None
    secret_access_key: str | None = None

    def __repr__(self) -> str:  # the secret never shows, in a log, a traceback or a listing
        from .masking import mask

        secret = None if self.secret_access_key is None else mask(self.secret_access_key)
        return f"ServeSettings(access_key_id={self.access_key_id!r}, secret_access_key={secret!r})"


@dataclass
class Config:
    path: Path | None
    backend: str = "local"
    aws: AwsSettings = field(default_factory=AwsSettings)
    local: LocalSettings = field(default_factory=LocalSettings)
    tui: TuiSettings = field(default_factory=TuiSettings)
    serve: ServeSettings = field(default_factory=ServeSettings)

    @property
    def base_dir(self) -> Path:
        return self.path.parent if self.path else Path.cwd()


# -- finding the file ----------------------------------------------------------------------------


def user_config_path() -> Path:
    from platformdirs import user_config_dir

    return Path(user_config_dir("lambdatui")) / "config.yaml"


def find_config(explicit: str | os.PathLike[str] | None = None) -> Path:
    """--config FILE, else $LAMBDATUI_CONFIG, else ./lambdatui.yaml, else a SAM template (see
    `templates.detect.TEMPLATE_LOOKUP`), else the user config dir, else the user's own copy of the
    bundled sample project (made on first use: see `lambdatui.assets`). FILE may also be an AWS
    SAM or CloudFormation template, or a cdk.out folder."""
    if explicit:
        path = Path(explicit)
        if not path.is_file() and not (path.is_dir() and any(path.glob("*.template.json"))):
            raise ConfigError("no such config file", path)
        return path
    from_env = os.environ.get(CONFIG_ENV_VAR)
    if from_env:
        path = Path(from_env)
        if not path.is_file():
            raise ConfigError(f"no such config file (from ${CONFIG_ENV_VAR})", path)
        return path
    for candidate in (Path.cwd() / LOCAL_CONFIG_NAME, *(Path.cwd() / t for t in TEMPLATE_LOOKUP), user_config_path()):
        if candidate.is_file():
            return candidate
    from .assets import user_sample_config

    try:
        return user_sample_config()
    except OSError as e:
        raise ConfigError(f"no config file found, and the sample project could not be copied: {e.strerror or e}", e.filename) from None


def load_config(explicit: str | os.PathLike[str] | None = None, *, triggers: bool = True) -> Config:
    """The configuration found as `find_config` says; `triggers`: as `parse_config`."""
    path = find_config(explicit)
    if path.is_dir():  # a cdk.out folder: every stack's template
        return _template_config(path, None, triggers)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError(f"cannot read: {e.strerror}", path) from None
    except UnicodeDecodeError as e:
        raise ConfigError(f"not UTF-8 text (byte {e.start})", path) from None
    return parse_config(text, path, triggers=triggers)


# -- parsing with line numbers -------------------------------------------------------------------


def _compose(text: str, path: Path | None) -> yaml.Node | None:
    """The file's node tree, by libyaml; a syntax error is located and worded by PyYAML's own parser."""
    try:
        return yaml.compose(text, Loader=_FastLoader)
    except (yaml.YAMLError, RecursionError):
        pass  # composed again below, for the message (libyaml's omit the character, the alias)
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark else None
        problem = e.problem or e.context or "invalid YAML"
        raise ConfigError(f"YAML syntax error: {problem}", path, line) from None
    except yaml.YAMLError as e:
        raise ConfigError(f"YAML error: {e}", path) from None
    except RecursionError:
        raise ConfigError("YAML error: nested too deeply", path) from None


def parse_config(text: str, path: Path | None = None, *, triggers: bool = True) -> Config:
    """The configuration in `text` (read from `path`), checked; ConfigError names the line at fault.

    With `triggers=False`, each function's `triggers:` is only checked to be a list and left out
    (`Function.triggers` empty): for a command that invokes and never fires a trigger.
    """
    root = _compose(text, path)
    v = _Validator(path)
    if root is None:
        return Config(path=path)
    top = v.mapping(root, "config")
    if has_template_keys(top):  # an AWS SAM or CloudFormation template, by content
        return _template_config(path, text, triggers)
    v.only_keys(top, ("backend", "aws", "local", "tui", "serve"), "")
    config = Config(path=path)
    if "backend" in top:
        config.backend = v.choice(top["backend"], "backend", ("local", "aws"))
    if "aws" in top:
        config.aws = _parse_aws(v, top["aws"])
    if "local" in top:
        config.local = _parse_local(v, top["local"], config.base_dir, triggers)
    if "tui" in top:
        config.tui = _parse_tui(v, top["tui"])
    if "serve" in top and not _is_null(top["serve"]):
        config.serve = _parse_serve(v, top["serve"])
    return config


def _template_config(path: Path | None, text: str | None, triggers: bool) -> Config:
    """A template opened as the configuration: its functions, lambdatui's defaults for the rest."""
    from .templates.loader import load_template

    config = Config(path=path)
    s = config.local
    s.functions = load_template(path or Path("template.yaml"), text=text, triggers=triggers, region=s.region, account_id=s.account_id)
    return config


def _local_template(v: _Validator, m: dict[str, yaml.Node], s: LocalSettings, base: Path, triggers: bool) -> dict[str, Function]:
    """`local.template`: the functions of a SAM or CloudFormation template (or a cdk.out folder),
    with `local.s3_folders` (bucket → folder) for its S3 events."""
    from .templates.loader import load_template

    folders: dict[str, str] = {}
    if "s3_folders" in m and not _is_null(m["s3_folders"]):
        for bucket, fnode in v.mapping(m["s3_folders"], "local.s3_folders").items():
            folders[bucket] = v.string(fnode, f"local.s3_folders.{bucket}")
    text = v.string(m["template"], "local.template")
    path = base / text
    if not path.exists():
        v.fail(m["template"], "local.template", f"{text!r} does not exist (looked for {path.resolve()})")
    try:
        return load_template(path, triggers=triggers, region=s.region, account_id=s.account_id, s3_folders=folders, project=base)
    except ConfigError as e:
        v.fail(m["template"], "local.template", str(e))


_SERVE_KEYS = ("access_key_id", "secret_access_key")


def _parse_serve(v: _Validator, node: yaml.Node) -> ServeSettings:
    m = v.mapping(node, "serve")
    v.only_keys(m, _SERVE_KEYS, "serve.")
    s = ServeSettings()
    for key in _SERVE_KEYS:
        if key in m:
            value = v.scalar_str(m[key], f"serve.{key}")
            if not value or any(c.isspace() for c in value):
                v.fail(m[key], f"serve.{key}", "must be text without spaces")
            setattr(s, key, value)
    if s.access_key_id is not None and ("/" in s.access_key_id or "," in s.access_key_id):
        # It is sent inside the Authorization header's Credential=KEY/date/region/service/aws4_request.
        v.fail(m["access_key_id"], "serve.access_key_id", "must not contain / or ,")
    if (s.access_key_id is None) != (s.secret_access_key is None):
        missing = "secret_access_key" if s.secret_access_key is None else "access_key_id"
        v.fail(node, f"serve.{missing}", "is required with the other key (both or neither)")
    return s


def _parse_tui(v: _Validator, node: yaml.Node) -> TuiSettings:
    m = v.mapping(node, "tui")
    v.only_keys(m, ("theme", "keys"), "tui.")
    s = TuiSettings()
    if "theme" in m:
        s.theme = v.optional_str(m["theme"], "tui.theme")
    if "keys" in m and not _is_null(m["keys"]):
        keys = v.mapping(m["keys"], "tui.keys")
        for binding_id, knode in keys.items():
            s.keys[binding_id] = v.string(knode, f"tui.keys.{binding_id}")
    return s


_AWS_KEYS = ("profile", "region", "endpoint_url", "read_only", "role", "confirm_invoke")
_LOCAL_KEYS = ("region", "account_id", "keep_warm_seconds", "functions", "template", "s3_folders", "aws_services")
FUNCTION_KEYS = (
    "runtime", "handler", "code", "memory_size", "timeout", "architecture", "environment", "layers",
    "reserved_concurrency", "provisioned_concurrency", "triggers", "description", "ephemeral_storage",
    "inherit_environment", "role", "async",
)
ASYNC_KEYS = ("maximum_retry_attempts", "maximum_event_age_seconds", "on_failure")


def _parse_aws(v: _Validator, node: yaml.Node) -> AwsSettings:
    m = v.mapping(node, "aws")
    v.only_keys(m, _AWS_KEYS, "aws.")
    s = AwsSettings()
    if "profile" in m:
        s.profile = v.optional_str(m["profile"], "aws.profile")
    if "region" in m:
        s.region = v.optional_str(m["region"], "aws.region")
        if s.region is not None and not re.fullmatch(r"[a-z]{2}(-[a-z]+)+-\d+", s.region):
            v.fail(m["region"], "aws.region", f"{s.region!r} is not a region name (like us-east-1 or eu-west-1)")
    if "endpoint_url" in m:
        s.endpoint_url = v.optional_str(m["endpoint_url"], "aws.endpoint_url")
        if s.endpoint_url and not re.match(r"^https?://", s.endpoint_url):
            v.fail(m["endpoint_url"], "aws.endpoint_url", f"{s.endpoint_url!r} is not an http:// or https:// URL")
    if "read_only" in m:
        s.read_only = v.boolean(m["read_only"], "aws.read_only")
    if "confirm_invoke" in m:
        s.confirm_invoke = None if v.value(m["confirm_invoke"]) is None else v.boolean(m["confirm_invoke"], "aws.confirm_invoke")
    if "role" in m:
        s.role = v.optional_str(m["role"], "aws.role")
    return s


def _parse_local(v: _Validator, node: yaml.Node, base: Path, triggers: bool = True) -> LocalSettings:
    m = v.mapping(node, "local")
    v.only_keys(m, _LOCAL_KEYS, "local.")
    s = LocalSettings()
    if "region" in m:
        s.region = v.string(m["region"], "local.region")
    if "account_id" in m:
        s.account_id = v.string(m["account_id"], "local.account_id")
        if not re.fullmatch(r"\d{12}", s.account_id):
            v.fail(m["account_id"], "local.account_id", f"{s.account_id!r} is not a 12-digit account id")
    if "keep_warm_seconds" in m:
        s.keep_warm_seconds = v.number(m["keep_warm_seconds"], "local.keep_warm_seconds", 0, 86400)
    if "aws_services" in m and not _is_null(m["aws_services"]):
        s.aws_services = _parse_aws_services(v, m["aws_services"], base)
    if "template" in m and not _is_null(m["template"]):
        s.functions.update(_local_template(v, m, s, base, triggers))
    if "functions" in m and not _is_null(m["functions"]):
        fm = v.mapping(m["functions"], "local.functions")
        for name, fnode in fm.items():
            key = f"local.functions.{name}"
            if not FUNCTION_NAME_PATTERN.fullmatch(name):
                v.fail(v.key_nodes[id(fm)][name], key, "a function name is 1-64 letters, digits, hyphens or underscores")
            if name in s.functions:
                v.fail(v.key_nodes[id(fm)][name], key, f"is also in the template ({s.functions[name].source}): rename one")
            s.functions[name] = _parse_function(v, name, fnode, base, triggers)
    return s


def _parse_aws_services(v: _Validator, node: yaml.Node, base: Path) -> AwsServicesSettings | None:
    """`local.aws_services`: true/false, or {seed: FILE, port: N}."""
    if isinstance(node, yaml.ScalarNode):
        return AwsServicesSettings() if v.boolean(node, "local.aws_services") else None
    m = v.mapping(node, "local.aws_services")
    v.only_keys(m, ("seed", "port"), "local.aws_services.")
    settings = AwsServicesSettings()
    if "seed" in m and not _is_null(m["seed"]):
        text = v.string(m["seed"], "local.aws_services.seed")
        settings.seed = (base / text).resolve()
        if not settings.seed.is_file():
            v.fail(m["seed"], "local.aws_services.seed", f"{text!r} is not a file (looked for {settings.seed})")
    if "port" in m:
        port = v.number(m["port"], "local.aws_services.port", 0, 65535)
        if port != int(port):
            v.fail(m["port"], "local.aws_services.port", f"{port!r} is not a whole number")
        settings.port = int(port)
    return settings


def _parse_function(v: _Validator, name: str, node: yaml.Node, base: Path, triggers: bool = True) -> Function:
    prefix = f"local.functions.{name}"
    m = v.mapping(node, prefix)
    v.only_keys(m, FUNCTION_KEYS, prefix + ".")
    f: dict[str, Any] = {"name": name, "line": node.start_mark.line + 1, "environment": {}, "layers": [], "triggers": [], "inherit_environment": []}
    f["source"] = v.path.name if v.path else None  # `list --json`'s source (a template's: FILE:LogicalId)
    for key in ("runtime", "handler", "memory_size", "timeout", "architecture", "description",
                "reserved_concurrency", "provisioned_concurrency", "ephemeral_storage", "role"):
        if key in m:
            f[key] = (v.run(m[key], f"{prefix}.{key}", functools.partial(validate_function_field, key)))
    if "code" not in m:
        v.fail(node, prefix, "code: is required (the folder holding the handler, relative to the config file)")
    code = v.string(m["code"], f"{prefix}.code")
    code_dir = v.folder(base, code)
    if code_dir is None:
        v.fail(m["code"], f"{prefix}.code", f"{code!r} is not a folder (looked for {(base / code).resolve()})")
    f["code"] = code_dir
    if "environment" in m and not _is_null(m["environment"]):
        env_map = v.mapping(m["environment"], f"{prefix}.environment")
        for k, vnode in env_map.items():
            value = v.scalar_str(vnode, f"{prefix}.environment.{k}")
            try:
                validate_env_key(k)
            except ValueError as e:
                v.fail(v.key_nodes[id(env_map)][k], f"{prefix}.environment.{k}", str(e))
            f["environment"][k] = value
        try:
            validate_environment(f["environment"])
        except ValueError as e:
            v.fail(m["environment"], f"{prefix}.environment", str(e))
    if "layers" in m and not _is_null(m["layers"]):
        for i, lnode in enumerate(v.sequence(m["layers"], f"{prefix}.layers")):
            text = v.string(lnode, f"{prefix}.layers[{i}]")
            layer = v.folder(base, text)
            if layer is None:
                v.fail(lnode, f"{prefix}.layers[{i}]", f"{text!r} is not a folder (looked for {(base / text).resolve()})")
            f["layers"].append(layer)
    if "triggers" in m and not _is_null(m["triggers"]):
        trigger_nodes = v.sequence(m["triggers"], f"{prefix}.triggers")
        if triggers:
            for i, tnode in enumerate(trigger_nodes):
                f["triggers"].append(_parse_trigger(v, tnode, f"{prefix}.triggers[{i}]", base))
    if "inherit_environment" in m and not _is_null(m["inherit_environment"]):
        for i, inode in enumerate(v.sequence(m["inherit_environment"], f"{prefix}.inherit_environment")):
            f["inherit_environment"].append(v.string(inode, f"{prefix}.inherit_environment[{i}]"))
    if "async" in m and not _is_null(m["async"]):
        f["async_config"] = _parse_async(v, m["async"], f"{prefix}.async")
    function = Function(**f)
    if function.reserved_concurrency is not None and function.provisioned_concurrency > function.reserved_concurrency:
        v.fail(
            m.get("provisioned_concurrency", node),
            f"{prefix}.provisioned_concurrency",
            f"{function.provisioned_concurrency} is more than reserved_concurrency ({function.reserved_concurrency})",
        )
    # A handler without a dot is accepted, as Lambda accepts it: it fails at init with
    # Runtime.MalformedHandlerName, which is what the user should see.
    return function


def _parse_async(v: _Validator, node: yaml.Node, key: str) -> AsyncConfig:
    """The function's asynchronous invocation config, with Lambda's ranges (PutFunctionEventInvokeConfig)."""
    m = v.mapping(node, key)
    v.only_keys(m, ASYNC_KEYS, key + ".")
    defaults = AsyncConfig()
    retries: float = defaults.maximum_retry_attempts
    age: float = defaults.maximum_event_age_seconds
    on_failure = defaults.on_failure
    if "maximum_retry_attempts" in m:
        retries = v.number(m["maximum_retry_attempts"], f"{key}.maximum_retry_attempts", ASYNC_RETRY_ATTEMPTS_MIN, ASYNC_RETRY_ATTEMPTS_MAX)
        if retries != int(retries):
            v.fail(m["maximum_retry_attempts"], f"{key}.maximum_retry_attempts", f"{retries!r} is not a whole number")
    if "maximum_event_age_seconds" in m:
        age = v.number(m["maximum_event_age_seconds"], f"{key}.maximum_event_age_seconds", ASYNC_EVENT_AGE_MIN_S, ASYNC_EVENT_AGE_MAX_S)
        if age != int(age):
            v.fail(m["maximum_event_age_seconds"], f"{key}.maximum_event_age_seconds", f"{age!r} is not a whole number of seconds")
    if "on_failure" in m:
        on_failure = v.optional_str(m["on_failure"], f"{key}.on_failure")
        if on_failure is not None and not QUEUE_NAME_PATTERN.fullmatch(on_failure):
            v.fail(m["on_failure"], f"{key}.on_failure", "names a local SQS queue: 1-80 letters, digits, hyphens or underscores")
    return AsyncConfig(maximum_retry_attempts=int(retries), maximum_event_age_seconds=int(age), on_failure=on_failure)


def _parse_trigger(v: _Validator, node: yaml.Node, key: str, base: Path) -> Trigger:
    """One event source: checked here, with lines, so `serve` never starts on a bad trigger."""
    from .triggers.registry import TRIGGER_TYPES  # here: every trigger type's module comes with it

    m = v.mapping(node, key)
    types = tuple(TRIGGER_TYPES)
    if "type" not in m:
        v.fail(node, f"{key}.type", f"is required (one of: {', '.join(types)})")
    cls = TRIGGER_TYPES[v.choice(m["type"], f"{key}.type", types)]
    v.only_keys(m, cls.keys, key + ".")
    return cls.parse(v, m, node, key, base)


# -- field rules shared with the editor ----------------------------------------------------------


def validate_function_field(key: str, value: Any) -> Any:
    """Check one function setting; returns the normalised value or raises ValueError with the rule."""
    if key == "runtime":
        if not isinstance(value, str) or value not in KNOWN_RUNTIMES:
            raise ValueError(f"{value!r} is not a Lambda runtime (one of: {', '.join(KNOWN_RUNTIMES)})")
        return value
    if key == "handler":
        if not isinstance(value, str) or not value.strip():
            raise ValueError("must be a handler name such as app.lambda_handler")
        if len(value) > 128:
            raise ValueError("is longer than 128 characters")
        return value
    if key == "memory_size":
        n = _int(value)
        if n is None or not MEMORY_MIN_MB <= n <= MEMORY_MAX_MB:
            raise ValueError(f"{value} is outside {MEMORY_MIN_MB}–{MEMORY_MAX_MB} MB")
        return n
    if key == "timeout":
        n = _int(value)
        if n is None or not TIMEOUT_MIN_S <= n <= TIMEOUT_MAX_S:
            raise ValueError(f"{value} is outside {TIMEOUT_MIN_S}–{TIMEOUT_MAX_S} s")
        return n
    if key == "architecture":
        if value not in ("x86_64", "arm64"):
            raise ValueError(f"{value!r} is not one of x86_64, arm64")
        return value
    if key == "description":
        if value is None:
            return ""
        if not isinstance(value, str) or len(value) > 256:
            raise ValueError("must be text of at most 256 characters")
        return value
    if key == "reserved_concurrency":
        if value is None:
            return None
        n = _int(value)
        # AWS keeps 100 of the account's 1,000 default concurrency unreserved.
        if n is None or not 0 <= n <= 900:
            raise ValueError(f"{value} is outside 0–900 (or null for unreserved)")
        return n
    if key == "provisioned_concurrency":
        n = _int(value if value is not None else 0)
        if n is None or not 0 <= n <= 1000:
            raise ValueError(f"{value} is outside 0–1000")
        return n
    if key == "ephemeral_storage":
        n = _int(value)
        if n is None or not 512 <= n <= 10240:
            raise ValueError(f"{value} is outside 512–10240 MB")
        return n
    if key == "role":
        if value is None:
            return None
        if not isinstance(value, str) or not re.match(r"^arn:aws[a-zA-Z-]*:iam::\d{12}:role/.+", value):
            raise ValueError(f"{value!r} is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)")
        return value
    raise ValueError(f"unknown setting {key}")


EDITABLE_FUNCTION_FIELDS = EDITABLE_FIELDS


def validate_changes(changes: dict[str, Any]) -> dict[str, Any]:
    """Check an edit of a function's settings with the loader's rules; returns the normalised values.

    Raises ValueError naming the field ("memory_size: 64 is outside 128–10240 MB"). Both backends
    run every edit through this, so the dashboard, the config file and AWS agree on what is valid.
    """
    out: dict[str, Any] = {}
    for key, value in changes.items():
        if key not in EDITABLE_FUNCTION_FIELDS:
            raise ValueError(f"{key} cannot be changed (editable: {', '.join(EDITABLE_FUNCTION_FIELDS)})")
        try:
            if key == "environment":
                env = {str(k): "" if v is None else str(v) for k, v in (value or {}).items()}
                for k in env:
                    validate_env_key(k)
                validate_environment(env)
                out[key] = env
            else:
                out[key] = validate_function_field(key, value)
        except ValueError as e:
            raise ValueError(f"{key}: {e}") from None
    return out


def validate_env_key(key: str) -> None:
    if key in RESERVED_ENV_KEYS:
        raise ValueError(f"{key} is reserved by Lambda and cannot be set")
    if not ENV_KEY_PATTERN.fullmatch(key):
        raise ValueError(f"{key!r} is not a valid variable name (a letter, then letters, digits or _)")


def validate_environment(env: dict[str, str]) -> None:
    size = sum(len(k.encode()) + len(str(v).encode()) for k, v in env.items())
    if size > ENV_VARS_MAX_BYTES:
        raise ValueError(f"variables total {size} bytes, over Lambda's 4 KB limit")


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None
