"""The one function model: a Lambda function as lambdatui knows it, Lambda's limits, and the
shape of a function's metrics over time (what CloudWatch, or the local history, reports).

`Function` is what the config loader builds from a file, what the executor runs (it is the
executor's `FunctionSpec`), and what both backends return from `list_functions`/`get_function`
(the backends' `FunctionConfiguration`): one dataclass under three historical names, never copied
field by field. The settings a user writes come first; the deployment's state (ARN, last modified,
state) follows and is filled in by a backend. Lambda's API shape is a view of it: `to_aws()`.

A leaf module: the standard library only.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

# Lambda's limits, from AWS's documentation (see shared/lambda-facts.md).
MEMORY_MIN_MB, MEMORY_MAX_MB = 128, 10240
TIMEOUT_MIN_S, TIMEOUT_MAX_S = 1, 900
EPHEMERAL_MIN_MB, EPHEMERAL_MAX_MB = 512, 10240
MAX_SYNC_PAYLOAD_BYTES = 6 * 1024 * 1024  # request payload limit for synchronous invokes
MAX_RESPONSE_BYTES = 6291556  # the figure Lambda quotes in Function.ResponseSizeTooLarge
INIT_LIMIT_S = 10.0  # the init phase of an on-demand environment
DEFAULT_ACCOUNT_CONCURRENCY = 1000
ENV_VARS_MAX_BYTES = 4096
# Asynchronous invocation config (PutFunctionEventInvokeConfig): MaximumRetryAttempts 0–2 (default 2),
# MaximumEventAgeInSeconds 60–21600 (default 21600, six hours).
ASYNC_RETRY_ATTEMPTS_MIN, ASYNC_RETRY_ATTEMPTS_MAX, ASYNC_RETRY_ATTEMPTS_DEFAULT = 0, 2, 2
ASYNC_EVENT_AGE_MIN_S, ASYNC_EVENT_AGE_MAX_S, ASYNC_EVENT_AGE_DEFAULT_S = 60, 21600, 21600
# A local SQS queue's name (an sqs trigger's `queue`, an `async.on_failure`): here, not in the
# queue's module, so the config reads `on_failure` without importing the SQS store.
QUEUE_NAME_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,80}")
# The `runtime` of a function packaged as a container image (`PackageType: Image` in a template):
# listed, never run (the executor refuses it with IMAGE_NOT_RUN).
IMAGE_RUNTIME = "image"
IMAGE_NOT_RUN = "container images are not run locally"

# The settings a user edits in the dashboard (and `UpdateFunctionConfiguration` changes on AWS).
EDITABLE_FIELDS = (
    "memory_size", "timeout", "environment", "handler", "runtime", "architecture", "description",
    "reserved_concurrency", "provisioned_concurrency", "ephemeral_storage",
)


@dataclass(frozen=True)
class AsyncConfig:
    """How asynchronous (`Event`) invocations of a function are retried, and where the ones that
    fail for good go: Lambda's event invoke config. `on_failure` names a local SQS queue (the
    queues `type: sqs` triggers consume), which receives Lambda's invocation record."""

    maximum_retry_attempts: int = ASYNC_RETRY_ATTEMPTS_DEFAULT
    maximum_event_age_seconds: int = ASYNC_EVENT_AGE_DEFAULT_S
    on_failure: str | None = None


@dataclass(frozen=True)
class Function:
    """A function's settings and, from a backend, its deployment's state.

    `code` is the folder holding the handler (locally) or the package type (on AWS); `layers` are
    folders locally and layer version ARNs on AWS. `triggers` are `lambdatui.triggers.Trigger`s.
    """

    name: str
    runtime: str = "python3.12"
    handler: str = "app.lambda_handler"
    code: str = "."
    memory_size: int = 128
    timeout: int = 3
    architecture: str = "x86_64"
    environment: dict[str, str] = field(default_factory=dict)
    layers: tuple[str, ...] = ()
    reserved_concurrency: int | None = None
    provisioned_concurrency: int = 0
    description: str = ""
    ephemeral_storage: int = 512  # MB of /tmp (Lambda's EphemeralStorage.Size), EPHEMERAL_MIN_MB–EPHEMERAL_MAX_MB
    # Host variables passed through by name: the only way host settings (credentials included) reach a function.
    inherit_environment: tuple[str, ...] = ()
    role: str | None = None
    triggers: tuple[Any, ...] = ()
    # The config file's `async:` mapping: retries, event age and on-failure destination of Event invokes.
    async_config: AsyncConfig = field(default_factory=AsyncConfig)
    # The deployment's state, as a backend reports it.
    arn: str = ""
    last_modified: str | None = None  # ISO 8601, as Lambda's LastModified
    state: str = "Active"
    last_update_status: str = "Successful"
    # Where the function is declared (the config file's line), for messages; not a setting.
    line: int | None = field(default=None, compare=False)
    # Where it comes from (`lambdatui.yaml`, `template.yaml:HelloWorldFunction`) and what of its
    # declaration does not apply locally (an unresolvable `!GetAtt`, a container image): shown by
    # `list --json` and the dashboard, never settings.
    source: str | None = field(default=None, compare=False)
    warnings: tuple[str, ...] = field(default=(), compare=False)
    # The template that declares it (its logical id is `name`), where edits are saved; None for
    # functions of lambdatui's own config file.
    template_file: Path | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        # Accept paths and lists from callers; store one canonical, comparable form.
        object.__setattr__(self, "code", str(self.code))
        object.__setattr__(self, "layers", tuple(str(p) for p in self.layers))
        object.__setattr__(self, "environment", dict(self.environment))
        object.__setattr__(self, "inherit_environment", tuple(self.inherit_environment))
        object.__setattr__(self, "triggers", tuple(self.triggers))
        object.__setattr__(self, "warnings", tuple(self.warnings))

    @property
    def code_dir(self) -> Path:
        return Path(self.code)

    @property
    def layer_dirs(self) -> tuple[Path, ...]:
        return tuple(Path(p) for p in self.layers)

    def runtime_identity(self) -> tuple[Any, ...]:
        """Everything that, when it changes, means existing environments must be retired."""
        return (
            self.runtime,
            self.handler,
            self.code,
            self.memory_size,
            self.timeout,
            self.architecture,
            tuple(sorted(self.environment.items())),
            self.layers,
            self.inherit_environment,
            self.ephemeral_storage,
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON output: triggers as their dicts, the source line left out."""
        out = asdict(self)
        out.pop("line", None)
        out.pop("template_file", None)  # `source` names it
        out["layers"] = list(self.layers)
        out["inherit_environment"] = list(self.inherit_environment)
        out["triggers"] = [t.to_dict() for t in self.triggers]  # as the config spells them
        out["warnings"] = list(self.warnings)
        return out

    def to_aws(self) -> dict[str, Any]:
        """The function in the shape of Lambda's `FunctionConfiguration` (GetFunctionConfiguration)."""
        out: dict[str, Any] = {
            "FunctionName": self.name,
            "FunctionArn": self.arn,
            "Runtime": self.runtime,
            "Role": self.role or "",
            "Handler": self.handler,
            "CodeSize": 0,
            "Description": self.description,
            "Timeout": self.timeout,
            "MemorySize": self.memory_size,
            "LastModified": self.last_modified,
            "Version": "$LATEST",
            "TracingConfig": {"Mode": "PassThrough"},
            "State": self.state,
            "LastUpdateStatus": self.last_update_status,
            "PackageType": "Zip",
            "Architectures": [self.architecture],
            "EphemeralStorage": {"Size": self.ephemeral_storage},
            "LoggingConfig": {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{self.name}"},
        }
        if self.environment:
            out["Environment"] = {"Variables": dict(self.environment)}
        if self.layers:
            out["Layers"] = [{"Arn": layer} for layer in self.layers]
        return out


@dataclass
class MetricSeries:
    """One metric over time: `timestamps` (epoch seconds, ascending) and their `values`."""

    timestamps: list[float] = field(default_factory=list)
    values: list[float] = field(default_factory=list)


@dataclass
class FunctionMetrics:
    """A function's figures over [start, end) in buckets of `period` seconds (the monitor pane's data).

    The duration percentiles of a window cannot be derived from per-bucket percentiles, so a backend
    that can compute them over the whole window sets `duration_p50_window` / `duration_p99_window`;
    otherwise `totals()` falls back to the largest bucket value (an upper bound).
    """

    function: str
    start: float
    end: float
    period: int
    invocations: MetricSeries  # Sum
    errors: MetricSeries  # Sum
    throttles: MetricSeries  # Sum
    duration_p50: MetricSeries  # ms
    duration_p99: MetricSeries  # ms
    concurrent_executions: MetricSeries  # Maximum
    duration_p50_window: float | None = None  # ms, over the whole window, when available
    duration_p99_window: float | None = None

    def totals(self) -> dict[str, float]:
        def largest(series: MetricSeries) -> float:
            return float(max(series.values, default=0.0))

        def window(value: float | None, series: MetricSeries) -> float:
            return float(value) if value is not None else largest(series)

        return {
            "invocations": float(sum(self.invocations.values)),
            "errors": float(sum(self.errors.values)),
            "throttles": float(sum(self.throttles.values)),
            "duration_p50": window(self.duration_p50_window, self.duration_p50),
            "duration_p99": window(self.duration_p99_window, self.duration_p99),
            "concurrent_executions": largest(self.concurrent_executions),
        }
