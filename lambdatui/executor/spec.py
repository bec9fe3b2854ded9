"""What the executor needs to know about a function, and what one invocation returns.

These are plain data: the config loader builds `FunctionSpec`s, the executor returns
`InvokeResult`s, and the backends translate both to and from their own shapes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

# Lambda's limits, from AWS's documentation (see shared/lambda-facts.md).
MEMORY_MIN_MB, MEMORY_MAX_MB = 128, 10240
TIMEOUT_MIN_S, TIMEOUT_MAX_S = 1, 900
MAX_SYNC_PAYLOAD_BYTES = 6 * 1024 * 1024  # request payload limit for synchronous invokes
MAX_RESPONSE_BYTES = 6291556  # the figure Lambda quotes in Function.ResponseSizeTooLarge
INIT_LIMIT_S = 10.0  # the init phase of an on-demand environment
DEFAULT_ACCOUNT_CONCURRENCY = 1000
ENV_VARS_MAX_BYTES = 4096


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    runtime: str
    handler: str
    code_dir: Path
    memory_size: int = 128
    timeout: int = 3
    architecture: str = "x86_64"
    environment: dict[str, str] = field(default_factory=dict)
    layers: tuple[Path, ...] = ()
    reserved_concurrency: int | None = None
    provisioned_concurrency: int = 0
    description: str = ""
    ephemeral_storage: int = 512
    # Host variables passed through by name: the only way host settings (credentials included) reach a function.
    inherit_environment: tuple[str, ...] = ()

    def runtime_identity(self) -> tuple:
        """Everything that, when it changes, means existing environments must be retired."""
        return (
            self.runtime,
            self.handler,
            str(self.code_dir),
            self.memory_size,
            self.timeout,
            self.architecture,
            tuple(sorted(self.environment.items())),
            tuple(str(p) for p in self.layers),
            self.inherit_environment,
            self.ephemeral_storage,
        )


@dataclass
class InvokeResult:
    function: str
    request_id: str
    status_code: int
    payload: bytes
    function_error: str | None = None  # "Unhandled" when the function failed, as X-Amz-Function-Error
    error_type: str | None = None  # e.g. "KeyError", "Sandbox.Timedout", "Runtime.OutOfMemory"
    duration_ms: float = 0.0
    billed_duration_ms: int = 0
    init_duration_ms: float | None = None
    cold_start: bool = False
    memory_size_mb: int = 0
    max_memory_used_mb: int = 0
    cost_usd: float = 0.0
    log_tail: str = ""
    error: dict | None = None  # {"type", "reason"} for invokes refused before reaching a function
    executed_version: str = "$LATEST"
    log_stream_name: str | None = None
    started_at: float = 0.0  # epoch seconds
    warnings: list[str] = field(default_factory=list)
    # False when the platform gave no REPORT line (an endpoint that does not run code, e.g. moto):
    # the figures above are then unknown, not zero.
    has_figures: bool = True

    @property
    def ok(self) -> bool:
        return self.status_code < 300 and self.function_error is None
