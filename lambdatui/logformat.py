"""Lambda's platform log lines: writing them byte for byte, and reading REPORT lines back.

Both backends use this module: the local executor writes `START`/`END`/`REPORT` exactly as
Lambda does, and the AWS backend parses the REPORT line out of an invoke's `LogType=Tail`
result with the same `parse_report` so the two show the same figures.
"""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass

VERSION = "$LATEST"


def start_line(request_id: str, version: str = VERSION) -> str:
    return f"START RequestId: {request_id} Version: {version}"


def end_line(request_id: str) -> str:
    return f"END RequestId: {request_id}"


def report_line(
    request_id: str,
    duration_ms: float,
    billed_ms: int,
    memory_size_mb: int,
    max_memory_used_mb: int,
    init_duration_ms: float | None = None,
    status: str | None = None,
    error_type: str | None = None,
) -> str:
    """The REPORT line, tab-separated as Lambda writes it.

    Newer Lambda REPORT lines append `Status: timeout` or `Status: error` with an
    `Error Type:` for platform failures (timeouts, crashes, out of memory).
    """
    parts = [
        f"REPORT RequestId: {request_id}",
        f"Duration: {duration_ms:.2f} ms",
        f"Billed Duration: {billed_ms} ms",
        f"Memory Size: {memory_size_mb} MB",
        f"Max Memory Used: {max_memory_used_mb} MB",
    ]
    if init_duration_ms is not None:
        parts.append(f"Init Duration: {init_duration_ms:.2f} ms")
    if status:
        parts.append(f"Status: {status}")
    if error_type:
        parts.append(f"Error Type: {error_type}")
    return "\t".join(parts)


def runtime_version(runtime: str) -> tuple[str, str]:
    """Runtime version label and ARN for INIT_START, in Lambda's shape (`python:3.12.v0`)."""
    family = re.sub(r"[\d.x]+$", "", runtime) or runtime
    number = runtime[len(family):].rstrip(".x") or "0"
    label = f"{family}:{number}.v0"
    digest = hashlib.sha256(f"lambdatui-local-{runtime}".encode()).hexdigest()
    return label, digest


def init_start_line(runtime: str, region: str) -> str:
    label, digest = runtime_version(runtime)
    return f"INIT_START Runtime Version: {label}\tRuntime Version ARN: arn:aws:lambda:{region}::runtime:{digest}"


def init_report_line(init_duration_ms: float, status: str, error_type: str | None = None) -> str:
    parts = [f"INIT_REPORT Init Duration: {init_duration_ms:.2f} ms", "Phase: init", f"Status: {status}"]
    if error_type:
        parts.append(f"Error Type: {error_type}")
    return "\t".join(parts)


def iso_timestamp(epoch_seconds: float | None = None) -> str:
    """UTC timestamp with milliseconds, as Lambda's timeout line and Python logger use."""
    t = time.time() if epoch_seconds is None else epoch_seconds
    ms = int(t * 1000) % 1000
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{ms:03d}Z"


def timeout_line(request_id: str, timeout_s: float, epoch_seconds: float | None = None) -> str:
    return f"{iso_timestamp(epoch_seconds)} {request_id} Task timed out after {timeout_s:.2f} seconds"


@dataclass(frozen=True)
class Report:
    request_id: str
    duration_ms: float
    billed_duration_ms: int
    memory_size_mb: int
    max_memory_used_mb: int
    init_duration_ms: float | None = None
    status: str | None = None
    error_type: str | None = None

    @property
    def cold_start(self) -> bool:
        return self.init_duration_ms is not None


_FIELD = re.compile(r"([A-Za-z][A-Za-z ]*?):\s*([^\t]*?)\s*(?:\t|$)")


def parse_report(text: str) -> Report | None:
    """Find the last REPORT line in a log excerpt and read its figures; None if there is none."""
    line = None
    for candidate in text.splitlines():
        if candidate.startswith("REPORT RequestId:"):
            line = candidate
    if line is None:
        return None
    fields = {k.strip(): v for k, v in _FIELD.findall(line[len("REPORT "):])}

    def number(key: str) -> float | None:
        value = fields.get(key)
        if value is None:
            return None
        m = re.match(r"[\d.]+", value)
        return float(m.group()) if m else None

    try:
        return Report(
            request_id=fields["RequestId"],
            duration_ms=number("Duration") or 0.0,
            billed_duration_ms=int(number("Billed Duration") or 0),
            memory_size_mb=int(number("Memory Size") or 0),
            max_memory_used_mb=int(number("Max Memory Used") or 0),
            init_duration_ms=number("Init Duration"),
            status=fields.get("Status"),
            error_type=fields.get("Error Type"),
        )
    except KeyError:
        return None
