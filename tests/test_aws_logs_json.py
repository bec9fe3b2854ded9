"""JSON log format and custom log groups on the AWS backend (issue 15, items 7 and 8), against the
AWS-shaped endpoint: moto neither stores `LoggingConfig` nor returns a `LogResult`.

Every request is real HTTP from boto3; the endpoint answers what Lambda and CloudWatch Logs answer:
a JSON-format function's `LogResult` carries `platform.*` records, its `LoggingConfig.LogGroup`
names where its lines go, and FilterLogEvents on a group that does not exist is
`ResourceNotFoundException: The specified log group does not exist.`
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time

import pytest
from aws_shaped import Answer, AwsShapedServer, Seen
from aws_support import CREDENTIALS
from test_logformat_json import RID, json_invocation

from lambdatui import logformat
from lambdatui.backends import aws_logs
from lambdatui.backends.aws import AwsBackend
from lambdatui.config import parse_config
from lambdatui.figures import invocation_cost

CUSTOM_GROUP = "/shared/orders"
FN = "orders"
CONFIG_PATH = f"/2015-03-31/functions/{FN}/configuration"


def configuration(name: str = FN, *, log_format: str = "JSON", group: str | None = CUSTOM_GROUP, arch: str = "arm64") -> dict:
    logging = {"LogFormat": log_format, "ApplicationLogLevel": "INFO", "SystemLogLevel": "INFO"}
    if group:
        logging["LogGroup"] = group
    return {
        "FunctionName": name, "FunctionArn": f"arn:aws:lambda:us-east-1:123456789012:function:{name}",
        "Runtime": "python3.12", "Handler": "app.handler", "MemorySize": 256, "Timeout": 3,
        "Architectures": [arch], "State": "Active", "LastUpdateStatus": "Successful", "LoggingConfig": logging,
    }


def not_found_group() -> Answer:
    return Answer(400, {"__type": "ResourceNotFoundException", "message": "The specified log group does not exist."})


@pytest.fixture
def shaped(monkeypatch, tmp_path):
    for key, value in CREDENTIALS.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    server = AwsShapedServer()
    server.on("GET", CONFIG_PATH, lambda req: Answer(200, configuration()))
    yield server
    server.stop()


@pytest.fixture
def backend(shaped):
    b = AwsBackend(parse_config(f"backend: aws\naws: {{region: us-east-1, endpoint_url: '{shaped.endpoint}'}}\n"), max_attempts=1)
    yield b
    b.close()


def filter_answer(events_by_group: dict[str, list[tuple[int, str]]]):
    def answer(req: Seen) -> Answer:
        body = req.json()
        if body["logGroupName"] not in events_by_group:
            return not_found_group()
        events = [
            {"logStreamName": "2026/11/27/[$LATEST]abc", "timestamp": t, "message": m, "ingestionTime": t, "eventId": f"{body['logGroupName']}-{i}"}
            for i, (t, m) in enumerate(events_by_group[body["logGroupName"]])
            if t >= body.get("startTime", 0)
        ]
        return Answer(200, {"events": events, "searchedLogStreams": []})
    return answer


def json_lines(t0: int, rid: str = RID, init: float | None = 463.512) -> list[tuple[int, str]]:
    return [(t0 + i, line + "\n") for i, line in enumerate(json_invocation(rid=rid, init=init).splitlines())]


# -- invoke figures (item 7) -------------------------------------------------------------------------


def test_invoke_of_a_json_format_function_reads_platform_report(shaped, backend):
    tail = json_invocation()
    shaped.on("POST", f"/2015-03-31/functions/{FN}/invocations", lambda req: Answer(
        200, b'{"ok": true}', headers={"X-Amz-Log-Result": base64.b64encode(tail.encode()).decode(), "X-Amz-Executed-Version": "$LATEST"},
        content_type="application/json",
    ))
    backend.logging_config(FN)  # the configuration, as listing or selecting fetches it
    result = backend.invoke(FN, b"{}")
    assert result.has_figures and result.request_id == RID
    assert (result.duration_ms, result.billed_duration_ms, result.init_duration_ms) == (1233.96, 1698, 463.512)
    assert (result.memory_size_mb, result.max_memory_used_mb, result.cold_start) == (256, 123, True)
    # priced at the architecture its configuration names (arm64)
    assert result.cost_usd == pytest.approx(invocation_cost(256, 1698, "arm64"))
    # and noted for the monitor's cold-start and memory figures
    assert [r.request_id for r in backend.reports.between(FN, time.time() - 60, time.time() + 1)] == [RID]


def test_logging_config_is_kept_from_the_configuration_fetched(shaped, backend):
    assert backend.logging_config(FN) == ("JSON", CUSTOM_GROUP)
    assert backend.logging_config(FN) == ("JSON", CUSTOM_GROUP)
    assert len(shaped.seen(path=CONFIG_PATH)) == 1  # fetched once, then known
    shaped.on("GET", "/2015-03-31/functions/plain/configuration", lambda req: Answer(200, configuration("plain", log_format="Text", group=None)))
    assert backend.log_group("plain") == "/aws/lambda/plain"
    # A function Lambda no longer knows: its logs outlive it in the default group.
    assert backend.log_group("deleted") == "/aws/lambda/deleted"


# -- logs and the tail read the custom log group (item 8) ------------------------------------------------


async def test_tail_reads_the_log_group_loggingconfig_names(shaped, backend):
    t0 = int(time.time() * 1000) - 5000
    shaped.on_target("Logs_20140328.FilterLogEvents", filter_answer({CUSTOM_GROUP: json_lines(t0)}))
    events = [e async for e in aws_logs.tail_log_group(backend, FN, follow=False)]
    assert [json.loads(e.message)["type"] if e.message.startswith('{"time"') else "app" for e in events] == [
        "platform.start", "app", "platform.runtimeDone", "platform.report",
    ]
    assert {r.json()["logGroupName"] for r in shaped.seen(target="Logs_20140328.FilterLogEvents")} == {CUSTOM_GROUP}
    # The REPORT figures the tail read are the monitor's, with where they came from.
    figures = backend.report_figures(FN, time.time() - 600, time.time() + 1)
    assert figures is not None
    assert (figures["reports"], figures["cold_starts"], figures["avg_init_ms"], figures["memory_max_mb"]) == (1, 1, 463.512, 123.0)
    assert figures["source"] == "1 REPORT lines read"


def _cli(shaped, *args: str, tmp_path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, LAMBDATUI_STATE_DIR=str(tmp_path / "state"))
    config = tmp_path / "lambdatui.yaml"
    config.write_text("backend: aws\naws: {region: us-east-1}\n")
    return subprocess.run(
        [sys.executable, "-m", "lambdatui", *args, "--config", str(config), "--endpoint-url", shaped.endpoint],
        capture_output=True, text=True, env=env, timeout=60,
    )


def test_cli_logs_prints_the_custom_group_and_a_missing_group_is_one_line_exit_1(shaped, tmp_path):
    t0 = int(time.time() * 1000) - 5000
    shaped.on_target("Logs_20140328.FilterLogEvents", filter_answer({CUSTOM_GROUP: json_lines(t0)}))
    r = _cli(shaped, "logs", FN, tmp_path=tmp_path)
    assert r.returncode == 0, r.stderr
    assert len(r.stdout.splitlines()) == 4 and '"type":"platform.report"' in r.stdout.splitlines()[3]

    shaped.on("GET", "/2015-03-31/functions/quiet/configuration", lambda req: Answer(200, configuration("quiet", log_format="Text", group=None)))
    r = _cli(shaped, "logs", "quiet", tmp_path=tmp_path)
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr == "lambdatui: The specified log group does not exist: /aws/lambda/quiet (quiet has not logged there yet)\n"
    # --follow says so too, rather than waiting silently (as `aws logs tail --follow` does)
    r = _cli(shaped, "logs", "quiet", "--follow", tmp_path=tmp_path)
    assert r.returncode == 1 and "does not exist: /aws/lambda/quiet" in r.stderr and r.stderr.count("\n") == 1


# -- stats: cold starts and memory through Logs Insights ---------------------------------------------


def insights(shaped, row: dict[str, str], *, running_polls: int = 1, bytes_scanned: float = 2_500_000.0) -> list:
    started: list = []
    polls = {"n": 0}

    def start(req: Seen) -> Answer:
        started.append(req.json())
        return Answer(200, {"queryId": "q-1"})

    def results(req: Seen) -> Answer:
        assert req.json() == {"queryId": "q-1"}
        polls["n"] += 1
        if polls["n"] <= running_polls:
            return Answer(200, {"status": "Running", "results": []})
        return Answer(200, {
            "status": "Complete",
            "results": [[{"field": k, "value": v} for k, v in row.items()]],
            "statistics": {"recordsMatched": 3.0, "recordsScanned": 40.0, "bytesScanned": bytes_scanned},
        })

    shaped.on_target("Logs_20140328.StartQuery", start)
    shaped.on_target("Logs_20140328.GetQueryResults", results)
    return started


def test_report_figures_from_logs_insights_use_the_function_format_and_group(shaped, backend):
    started = insights(shaped, {"reports": "3", "cold_starts": "1", "avg_init_ms": "463.512", "memory_max_mb": "123", "memory_avg_mb": "101.5"})
    now = time.time()
    figures = backend.report_figures(FN, now - 3600, now, insights=True)
    assert figures == {
        "reports": 3, "bytes_scanned": 2_500_000.0, "cold_starts": 1, "cold_start_rate": pytest.approx(1 / 3),
        "avg_init_ms": 463.512, "memory_max_mb": 123.0, "memory_avg_mb": 101.5,
        "source": f"Logs Insights over {CUSTOM_GROUP} (3 REPORT lines)",
    }
    (query,) = started
    assert query["logGroupName"] == CUSTOM_GROUP
    assert query["queryString"].startswith('filter type = "platform.report"')  # JSON-format records
    assert query["endTime"] - query["startTime"] in (3600, 3601)


def test_text_format_query_reads_report_lines_and_no_reports_means_unknown(shaped, backend):
    shaped.on("GET", "/2015-03-31/functions/plain/configuration", lambda req: Answer(200, configuration("plain", log_format="Text", group=None)))
    started = insights(shaped, {"reports": "0", "cold_starts": "0"}, running_polls=0)
    figures = backend.report_figures("plain", time.time() - 60, time.time(), insights=True)
    assert started[0]["queryString"].startswith('filter @type = "REPORT"') and started[0]["logGroupName"] == "/aws/lambda/plain"
    assert figures is not None and figures["reports"] == 0 and "cold_starts" not in figures


def test_cli_stats_on_aws_shows_cold_starts_and_memory_with_their_source(shaped, tmp_path):
    insights(shaped, {"reports": "4", "cold_starts": "1", "avg_init_ms": "463.5", "memory_max_mb": "123", "memory_avg_mb": "100"})
    metric = {"Id": "invocations", "Label": "Invocations", "Timestamps": [], "Values": [], "StatusCode": "Complete"}

    def metrics(req: Seen) -> Answer:
        results = []
        for qid in ("invocations", "errors", "throttles", "p50", "p99", "concurrency", "p50_window", "p99_window"):
            values = {"invocations": [4.0], "p50": [20.0], "p99": [40.0], "p50_window": [20.0], "p99_window": [40.0]}.get(qid, [0.0])
            results.append({**metric, "Id": qid, "Label": qid, "Timestamps": [time.time() - 120], "Values": values})
        return Answer(200, {"MetricDataResults": results, "Messages": []})

    shaped.on_target("GraniteServiceVersion20100801.GetMetricData", metrics)
    shaped.on("GET", f"/2019-09-30/functions/{FN}/concurrency", lambda req: Answer(200, {}))
    shaped.on("GET", f"/2019-09-30/functions/{FN}/provisioned-concurrency", lambda req: Answer(200, {"ProvisionedConcurrencyConfigs": []}))
    r = _cli(shaped, "stats", FN, "--json", tmp_path=tmp_path)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert (out["invocations"], out["cold_starts"], out["avg_init_ms"], out["memory_max_mb"], out["memory_avg_mb"]) == (4, 1, 463.5, 123.0, 100.0)
    assert out["cold_start_rate"] == 0.25
    assert out["report_figures_source"] == f"Logs Insights over {CUSTOM_GROUP} (4 REPORT lines)"
    table = _cli(shaped, "stats", FN, tmp_path=tmp_path)
    assert table.returncode == 0, table.stderr
    assert "Cold starts          1 (25.0%)" in table.stdout and "Memory max / avg     123 / 100 of 256 MB" in table.stdout
    assert f"from Logs Insights over {CUSTOM_GROUP} (4 REPORT lines)" in table.stdout


def test_report_log_counts_an_invocation_once_from_tail_and_invoke():
    log = aws_logs.ReportLog()
    report = logformat.Report(RID, 1.0, 1, 128, 40, 100.0)
    log.note("fn", 10.0, report)
    log.note("fn", 10.5, report)
    assert log.between("fn", 0, 20) == [report]
