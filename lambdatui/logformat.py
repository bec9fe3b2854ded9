"""Lambda's platform log lines: writing them byte for byte, and reading REPORT lines back.

Both backends use this module: the local executor writes `START`/`END`/`REPORT` exactly as
Lambda does, and the AWS backend parses the REPORT line out of an invoke's `LogType=Tail`
result with the same `parse_report` so the two show the same figures.

A function whose `LoggingConfig.LogFormat` is `JSON` gets its platform lines as JSON records
instead, one object per log event, in the Telemetry API's shape (AWS, "Configuring JSON and plain
text log formats" and "Lambda Telemetry API `Event` schema reference"):
`{"time": "…", "type": "platform.report", "record": {"requestId": "…", "metrics": {"durationMs": …,
"billedDurationMs": …, "memorySizeMB": …, "maxMemoryUsedMB": …, "initDurationMs": …}, "status":
"success"}}` — `initDurationMs` only after an init, `status` one of success, error, failure,
timeout (with `errorType` beside it on a failure). `parse_report` reads either form, so every
caller (invoke figures, the log tail, stats) understands both.
"""

from __future__ import annotations

import hashlib
import json
import math
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
    """The REPORT line, byte for byte as Lambda writes it.

    Every field is followed by a tab, the last one included
    (`…\tMax Memory Used: 41 MB\t`, `…\tInit Duration: 113.51 ms\t`, recorded on AWS). A failed
    invocation on a runtime of the Amazon Linux 2023 generation (see `reports_status`) appends
    `Status: timeout`, or `Status: error` and `Error Type: …`, joined by tabs and then with no
    trailing tab: recorded on AWS as `…\tMax Memory Used: 1201 MB\tStatus: timeout` and
    `…\tInit Duration: 495.04 ms\tStatus: error\tError Type: Runtime.OutOfMemory`.
    """
    line = (
        f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\tBilled Duration: {billed_ms} ms\t"
        f"Memory Size: {memory_size_mb} MB\tMax Memory Used: {max_memory_used_mb} MB\t"
    )
    if init_duration_ms is not None:
        line += f"Init Duration: {init_duration_ms:.2f} ms\t"
    if status:
        line += f"Status: {status}"
        if error_type:
            line += f"\tError Type: {error_type}"
    return line


# Runtimes on Amazon Linux 2 (and the first Amazon Linux), whose platform still reports a failed
# invocation the old way: a timeout as its own line (`<time> <id> Task timed out after 3.00 seconds`),
# a crash as one event `RequestId: <id> Error: Runtime exited with error: …` + `\n` + the error type,
# an out-of-memory kill as a crash (`signal: killed`, Runtime.ExitError), and a REPORT line without
# `Status:`. Runtimes on Amazon Linux 2023 (python3.12+, nodejs20.x+, provided.al2023, java21, …)
# write neither line and put `Status:` / `Error Type:` on the REPORT line instead, with
# Runtime.OutOfMemory for memory kills. Recorded on AWS: one project's timeouts logged
# `Task timed out after 31.01 seconds` and a REPORT ending `Max Memory Used: 109 MB\t` on python3.11
# (2023), and no such line but `…\tStatus: timeout` on python3.14 (2026).
_AMAZON_LINUX_2_RUNTIMES = frozenset({
    "python3.8", "python3.9", "python3.10", "python3.11",
    "nodejs16.x", "nodejs18.x",
    "provided", "provided.al2",
    "java8", "java8.al2", "java11", "java17",
    "dotnet6", "ruby3.2", "go1.x",
})


def reports_status(runtime: str) -> bool:
    """Whether Lambda reports a failed invocation of this runtime with `Status:` on the REPORT line.

    False for the Amazon Linux 2 generation of runtimes, which log the old-style error lines instead
    (see `_AMAZON_LINUX_2_RUNTIMES`); True for every newer runtime and any runtime not known.
    """
    return runtime not in _AMAZON_LINUX_2_RUNTIMES


def fault_line(request_id: str, message: str, error_type: str) -> str:
    """The old-style platform error event of a crash: one event, its two parts joined by a newline.

    As AWS's Runtime Interface Emulator renders a fault: `RequestId: %s Error: %s\n%s`.
    """
    return f"RequestId: {request_id} Error: {message}\n{error_type}"


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


def init_report_line(init_duration_ms: float, status: str, error_type: str | None = None, phase: str = "init") -> str:
    """INIT_REPORT of a failed init. `phase` is `invoke` for an init run inside an invocation (a
    suppressed init), as recorded on AWS: `INIT_REPORT Init Duration: 998.15 ms\tPhase: invoke\tStatus: error\t…`."""
    parts = [f"INIT_REPORT Init Duration: {init_duration_ms:.2f} ms", f"Phase: {phase}", f"Status: {status}"]
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
    """Find the last report in a log excerpt and read its figures; None if there is none.

    A report is a text `REPORT RequestId: …` line or, for `LogFormat=JSON`, a `platform.report`
    record (see the module docstring); whichever comes last wins.
    """
    line = None
    found: Report | None = None
    for candidate in text.splitlines():
        if candidate.startswith("REPORT RequestId:"):
            line, found = candidate, None
        elif candidate.startswith("{") and '"platform.report"' in candidate:
            record = parse_json_report(candidate)
            if record is not None:
                line, found = None, record
    if found is not None:
        return found
    if line is None:
        return None
    return _parse_report_line(line)


def _parse_report_line(line: str) -> Report | None:
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


# -- JSON log format (LoggingConfig.LogFormat=JSON) ----------------------------------------------

# The Telemetry API's `Status` values; a report with any but "success" is a failed invocation.
JSON_FAILED_STATUSES = ("error", "failure", "timeout")


def json_record(message: str) -> dict[str, object] | None:
    """A log event's message as the JSON object Lambda writes with LogFormat=JSON; None otherwise."""
    text = message.strip()
    if not (text.startswith("{") and text.endswith("}")):
        return None
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        return float(value)
    except ValueError:
        return None


def parse_json_report(message: str) -> Report | None:
    """A `platform.report` record's figures (AWS: "Lambda Telemetry API `Event` schema reference",
    PlatformReport and ReportMetrics); None for any other message."""
    value = json_record(message)
    if value is None or value.get("type") != "platform.report":
        return None
    record = value.get("record")
    if not isinstance(record, dict):
        return None
    metrics = record.get("metrics")
    metrics = metrics if isinstance(metrics, dict) else {}
    request_id = record.get("requestId")
    if not isinstance(request_id, str):
        return None
    duration = _number(metrics.get("durationMs"))
    billed = _number(metrics.get("billedDurationMs"))
    status = record.get("status")
    error_type = record.get("errorType")
    return Report(
        request_id=request_id,
        duration_ms=duration or 0.0,
        # Lambda Managed Instances report only durationMs: billed as Lambda rounds it (1 ms steps).
        billed_duration_ms=int(billed) if billed is not None else (math.ceil(round(duration, 6)) if duration else 0),
        memory_size_mb=int(_number(metrics.get("memorySizeMB")) or 0),
        max_memory_used_mb=int(_number(metrics.get("maxMemoryUsedMB")) or 0),
        init_duration_ms=_number(metrics.get("initDurationMs")),
        # "success" is what a text REPORT line leaves out: only a failure is a status worth showing.
        status=status if isinstance(status, str) and status != "success" else None,
        error_type=error_type if isinstance(error_type, str) else None,
    )


def json_request_id(message: str) -> str | None:
    """The request id a JSON platform record (or a JSON application log line) names, if any."""
    value = json_record(message)
    if value is None:
        return None
    record = value.get("record")
    for holder in (record if isinstance(record, dict) else {}, value):
        rid = holder.get("requestId")
        if isinstance(rid, str):
            return rid
    return None
