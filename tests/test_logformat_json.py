"""`logformat.parse_report` reads Lambda's JSON log format (`LoggingConfig.LogFormat=JSON`) as well as
text REPORT lines.

The records are in the shape AWS documents in "Lambda Telemetry API `Event` schema reference"
(platform.start / platform.runtimeDone / platform.report) and "Configuring JSON and plain text log
formats": one JSON object per log event.
"""

from __future__ import annotations

import json

from lambdatui import logformat

RID = "79b5e81f-9cdd-4145-b1f6-7c50ef8a2a36"


def record(kind: str, **fields) -> str:
    return json.dumps({"time": "2026-10-08T07:30:29.470Z", "type": kind, "record": fields}, separators=(",", ":"))


def json_invocation(*, init: float | None = 463.512, status: str = "success", error_type: str | None = None, rid: str = RID) -> str:
    """A JSON-format function's LogType=Tail result: platform.start, an app line, runtimeDone, report."""
    metrics = {"durationMs": 1233.96, "billedDurationMs": 1698, "memorySizeMB": 256, "maxMemoryUsedMB": 123}
    if init is not None:
        metrics["initDurationMs"] = init
    report = {"requestId": rid, "metrics": metrics, "status": status}
    if error_type:
        report["errorType"] = error_type
    return "\n".join([
        record("platform.start", requestId=rid, version="$LATEST"),
        json.dumps({"timestamp": "2026-10-08T07:30:29.443Z", "level": "INFO", "requestId": rid, "message": "hello"}),
        record("platform.runtimeDone", requestId=rid, status=status, metrics={"durationMs": 1233.1, "producedBytes": 50}),
        record("platform.report", **report),
    ]) + "\n"


def test_platform_report_record_gives_every_figure_of_a_cold_start():
    report = logformat.parse_report(json_invocation())
    assert report == logformat.Report(
        request_id=RID, duration_ms=1233.96, billed_duration_ms=1698, memory_size_mb=256,
        max_memory_used_mb=123, init_duration_ms=463.512, status=None, error_type=None,
    )
    assert report.cold_start


def test_warm_json_report_has_no_init_duration():
    report = logformat.parse_report(json_invocation(init=None))
    assert report is not None and report.init_duration_ms is None and not report.cold_start


def test_failed_json_report_keeps_status_and_error_type():
    report = logformat.parse_report(json_invocation(status="error", error_type="Runtime.OutOfMemory"))
    assert report is not None
    assert (report.status, report.error_type) == ("error", "Runtime.OutOfMemory")
    timeout = logformat.parse_report(json_invocation(status="timeout"))
    assert timeout is not None and timeout.status == "timeout"


def test_the_last_report_wins_whatever_its_format():
    text_line = logformat.report_line("text-id", 2.75, 3, 128, 56)
    assert logformat.parse_report(json_invocation() + text_line).request_id == "text-id"
    assert logformat.parse_report(text_line + "\n" + json_invocation()).request_id == RID


def test_text_report_lines_read_as_before():
    line = logformat.report_line("abc", 2.75, 3, 128, 56, init_duration_ms=113.51, status="error", error_type="Runtime.ExitError")
    report = logformat.parse_report(f"START RequestId: abc Version: $LATEST\n{line}\n")
    assert report == logformat.Report("abc", 2.75, 3, 128, 56, 113.51, "error", "Runtime.ExitError")


def test_json_that_is_not_a_report_is_not_one():
    assert logformat.parse_report(record("platform.start", requestId=RID)) is None
    assert logformat.parse_report('{"type": "platform.report", "record": "not an object"}') is None
    assert logformat.parse_report('{"type": "platform.report", "record": {"metrics": {}}}') is None  # no request id
    assert logformat.parse_report('{"message": "platform.report mentioned in an app line"}') is None
    assert logformat.parse_report("{not json at all platform.report") is None


def test_managed_instances_report_only_duration_is_billed_rounded_up():
    # AWS: on Lambda Managed Instances platform.report "Metrics: Only includes durationMs".
    line = record("platform.report", requestId=RID, metrics={"durationMs": 4.2}, status="success")
    report = logformat.parse_report(line)
    assert report is not None and (report.duration_ms, report.billed_duration_ms, report.max_memory_used_mb) == (4.2, 5, 0)


def test_request_id_of_json_records_and_app_lines():
    assert logformat.json_request_id(record("platform.start", requestId=RID)) == RID
    assert logformat.json_request_id(json.dumps({"level": "INFO", "requestId": "app-rid", "message": "m"})) == "app-rid"
    assert logformat.json_request_id("START RequestId: x Version: $LATEST") is None
