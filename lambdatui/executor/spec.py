"""What the executor needs to know about a function, and what one invocation returns.

`FunctionSpec` is `lambdatui.model.Function`, the one function model; the executor returns
`InvokeResult`s, which the backends pass on as they are.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# The function model and Lambda's limits live in the leaf module `lambdatui.model`; the executor
# knows a function as `FunctionSpec`, the same class.
from ..model import (
    DEFAULT_ACCOUNT_CONCURRENCY,
    ENV_VARS_MAX_BYTES,
    INIT_LIMIT_S,
    MAX_RESPONSE_BYTES,
    MAX_SYNC_PAYLOAD_BYTES,
    MEMORY_MAX_MB,
    MEMORY_MIN_MB,
    TIMEOUT_MAX_S,
    TIMEOUT_MIN_S,
)
from ..model import Function as FunctionSpec

__all__ = [
    "DEFAULT_ACCOUNT_CONCURRENCY",
    "ENV_VARS_MAX_BYTES",
    "INIT_LIMIT_S",
    "MAX_RESPONSE_BYTES",
    "MAX_SYNC_PAYLOAD_BYTES",
    "MEMORY_MAX_MB",
    "MEMORY_MIN_MB",
    "TIMEOUT_MAX_S",
    "TIMEOUT_MIN_S",
    "FunctionSpec",
    "InvokeResult",
]


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
    error: dict[str, str] | None = None  # {"type", "reason"} for invokes refused before reaching a function
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
