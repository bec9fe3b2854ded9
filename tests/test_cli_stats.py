"""`lambdatui stats`, run as a real subprocess over the history that `lambdatui invoke`s in other
processes recorded: `--json` counts, the table's headings, `--since`, exit statuses; and the AWS
backend's CloudWatch totals against moto's server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from datetime import datetime, timezone

import pytest
from aws_support import cli_credentials

PY = f"python{sys.version_info.major}.{sys.version_info.minor}"
HANDLER = """
def handler(event, context):
    if event.get("fail"):
        raise ValueError("failed on demand")
    return {"ok": True}
"""


@pytest.fixture
def env(tmp_path):
    e = {k: v for k, v in os.environ.items() if k not in ("LAMBDATUI_CONFIG", "AWS_PROFILE")}
    e["LAMBDATUI_STATE_DIR"] = str(tmp_path / "state")
    return e


@pytest.fixture
def config(tmp_path) -> str:
    code = tmp_path / "code"
    code.mkdir()
    (code / "app.py").write_text(textwrap.dedent(HANDLER))
    path = tmp_path / "lambdatui.yaml"
    path.write_text(
        "backend: local\nlocal:\n  functions:\n"
        f"    stats-fn:\n      runtime: {PY}\n      handler: app.handler\n      code: {code}\n      memory_size: 512\n"
        f"    idle-fn:\n      runtime: {PY}\n      handler: app.handler\n      code: {code}\n"
    )
    return str(path)


@pytest.fixture
def cli(env, tmp_path):
    def run(*args: str, input: str | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "lambdatui", *args],
            cwd=tmp_path, env=env, capture_output=True, text=True, input=input, timeout=60,
        )

    return run


def test_stats_counts_invocations_made_by_other_processes(cli, config):
    for event in ("{}", "{}", '{"fail": true}'):
        r = cli("invoke", "stats-fn", "--config", config, "--event", "-", input=event)
        assert r.returncode in (0, 1), r.stderr
    r = cli("invoke", "stats-fn", "--config", config, "--repeat", "2")  # one process, two invocations
    assert r.returncode == 0, r.stderr

    r = cli("stats", "stats-fn", "--config", config, "--json")
    assert r.returncode == 0, r.stderr
    s = json.loads(r.stdout)
    assert (s["function"], s["backend"]) == ("stats-fn", "local")
    assert (s["invocations"], s["errors"], s["throttles"]) == (5, 1, 0)
    # each `invoke` process started its own environment; the --repeat one reused it once
    assert s["cold_starts"] == 4
    assert s["cold_start_rate"] == pytest.approx(0.8)
    assert s["avg_init_ms"] > 0
    assert 0 < s["duration_p50"] <= s["duration_p90"] <= s["duration_p99"]
    assert s["memory_size_mb"] == 512 and 0 < s["memory_max_mb"] <= 512
    assert s["cost_usd"] > 0
    assert s["projected_monthly_usd"] == 0  # a handful of invocations an hour: free
    assert s["projected_monthly_usd_no_free_tier"] > 0
    assert s["window_seconds"] == pytest.approx(3600, abs=5)
    assert s["since"].endswith("Z")
    for key in ("memory_avg_mb", "concurrent_executions", "by_source"):
        assert key in s

    # --since as an ISO time, and a function never invoked
    r = cli("stats", "stats-fn", "--config", config, "--json", "--since", "2000-01-01T00:00:00Z")
    assert json.loads(r.stdout)["invocations"] == 5
    r = cli("stats", "idle-fn", "--config", config, "--json", "--since", "1d")
    idle = json.loads(r.stdout)
    assert (idle["invocations"], idle["duration_p50"], idle["cold_start_rate"]) == (0, None, None)

    r = cli("stats", "stats-fn", "--config", config)
    assert r.returncode == 0, r.stderr
    for heading in (
        "Invocations", "Errors", "Throttles", "Cold starts", "Init (avg)", "Duration p50", "Duration p90",
        "Duration p99", "Memory max / avg", "Cost so far", "Projected monthly", "without free tier",
    ):
        assert heading in r.stdout, heading
    assert "of 512 MB" in r.stdout
    assert "1 (20.0%)" in r.stdout  # the errors' share


def test_stats_exit_statuses(cli, config):
    r = cli("stats", "missing-fn", "--config", config)
    assert r.returncode == 1
    assert r.stderr.strip().count("\n") == 0 and "missing-fn" in r.stderr
    r = cli("stats", "stats-fn", "--config", config, "--since", "yesterday-ish")
    assert r.returncode == 2
    assert "--since" in r.stderr
    r = cli("stats", "stats-fn", "--config", config, "--json")
    assert r.returncode == 0 and json.loads(r.stdout)["invocations"] == 0  # nothing recorded yet


def test_stats_does_not_import_textual(config, env, tmp_path):
    code = (
        "import sys\nfrom lambdatui.cli.main import main\n"
        f"rc = main(['stats', 'stats-fn', '--config', {config!r}, '--json'])\n"
        "assert 'textual' not in sys.modules, 'textual was imported'\nsys.exit(rc)\n"
    )
    r = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr


# -- AWS backend: CloudWatch's totals ---------------------------------------------------------------


@pytest.fixture
def moto(moto_server):
    return moto_server  # the session's server (tests/conftest.py)


@pytest.fixture
def aws(moto, env, monkeypatch, tmp_path):
    cli_credentials(env, monkeypatch, tmp_path)
    moto.reset()
    moto.create_function("remote-fn", "def handler(event, context):\n    return 1\n", memory=1024)
    return moto


def test_aws_stats_from_cloudwatch_totals(cli, config, aws):
    now = time.time()

    def put(metric: str, points: list[tuple[float, float]]) -> None:
        aws.client("cloudwatch").put_metric_data(
            Namespace="AWS/Lambda",
            MetricData=[
                {
                    "MetricName": metric,
                    "Dimensions": [{"Name": "FunctionName", "Value": "remote-fn"}],
                    "Timestamp": datetime.fromtimestamp(t, timezone.utc),
                    "Value": v,
                    "Unit": "Count",
                }
                for t, v in points
            ],
        )

    put("Invocations", [(now - 600, 4), (now - 300, 6)])
    put("Errors", [(now - 300, 2)])
    put("Throttles", [(now - 300, 1)])
    put("ConcurrentExecutions", [(now - 600, 3), (now - 300, 5)])
    remote = ("--config", config, "--backend", "aws", "--endpoint-url", aws.endpoint, "--region", "us-east-1")

    r = cli("stats", "remote-fn", *remote, "--json")
    assert r.returncode == 0, r.stderr
    s = json.loads(r.stdout)
    assert (s["backend"], s["invocations"], s["errors"], s["throttles"]) == ("aws", 10, 2, 1)
    assert (s["concurrent_executions"], s["memory_size_mb"]) == (5, 1024)
    for key in ("cold_starts", "cold_start_rate", "avg_init_ms", "duration_p90", "memory_max_mb"):
        assert s[key] is None, key  # CloudWatch's Lambda metrics do not say
    # Cost is estimated from p50, the same way the monitor pane estimates it (summarize_metrics).
    assert s["cost_estimated"] is True and s["cost_usd"] > 0 and s["projected_monthly_usd_no_free_tier"] > 0

    r = cli("stats", "remote-fn", *remote)
    assert r.returncode == 0, r.stderr
    assert "Invocations" in r.stdout and "Cold starts" in r.stdout

    r = cli("stats", "no-such-fn", *remote)
    assert r.returncode == 1 and "no-such-fn" in r.stderr


def test_stats_and_the_monitor_show_the_same_projection(cli, config, env, monkeypatch):
    """One home for figures: `lambdatui stats` and the monitor pane both price the window through
    `Backend.summary` / `lambdatui.figures` (AWS's 730-hour month), so they agree to the cent."""
    from lambdatui.backends.local import LocalBackend
    from lambdatui.config import load_config
    from lambdatui.tui.widgets.monitor import fetch_monitor_data, figures

    for _ in range(3):
        r = cli("invoke", "stats-fn", "--config", config)
        assert r.returncode == 0, r.stderr
    r = cli("stats", "stats-fn", "--config", config, "--since", "1h", "--json")
    assert r.returncode == 0, r.stderr
    printed = json.loads(r.stdout)

    monkeypatch.setenv("LAMBDATUI_STATE_DIR", env["LAMBDATUI_STATE_DIR"])
    backend = LocalBackend(load_config(config), start=False, watch_code=False, persist_logs=False)
    try:
        shown = figures(fetch_monitor_data(backend, "stats-fn", "1h", memory_size=512))
    finally:
        backend.close()
    assert printed["invocations"] == shown.ran == 3
    assert printed["projected_monthly_usd_no_free_tier"] > 0
    assert shown.monthly_no_free_tier == pytest.approx(printed["projected_monthly_usd_no_free_tier"], rel=1e-9)
    assert shown.monthly == pytest.approx(printed["projected_monthly_usd"], abs=1e-12)
    assert shown.cost == pytest.approx(printed["cost_usd"], rel=1e-9)


def test_aws_stats_of_an_alias_are_that_alias_own_metrics(cli, config, aws):
    # Lambda publishes an alias's metrics with the dimensions FunctionName and Resource NAME:ALIAS
    # (AWS: "Types of metrics for Lambda functions"); the function's own have FunctionName only.
    now = time.time()

    def put(dimensions: list[dict], value: float) -> None:
        aws.client("cloudwatch").put_metric_data(
            Namespace="AWS/Lambda",
            MetricData=[{"MetricName": "Invocations", "Dimensions": dimensions, "Timestamp": datetime.fromtimestamp(now - 300, timezone.utc),
                         "Value": value, "Unit": "Count"}],
        )

    lam = aws.client("lambda")
    lam.create_alias(FunctionName="remote-fn", Name="live", FunctionVersion=lam.publish_version(FunctionName="remote-fn")["Version"])
    put([{"Name": "FunctionName", "Value": "remote-fn"}], 10)
    put([{"Name": "FunctionName", "Value": "remote-fn"}, {"Name": "Resource", "Value": "remote-fn:live"}], 3)
    remote = ("--config", config, "--backend", "aws", "--endpoint-url", aws.endpoint, "--region", "us-east-1")
    whole = json.loads(cli("stats", "remote-fn", *remote, "--json").stdout)
    by_flag = cli("stats", "remote-fn", "--qualifier", "live", *remote, "--json")
    assert by_flag.returncode == 0, by_flag.stderr
    by_name = json.loads(cli("stats", "remote-fn:live", *remote, "--json").stdout)
    assert (whole["invocations"], json.loads(by_flag.stdout)["invocations"], by_name["invocations"]) == (10, 3, 3)
    assert by_name["function"] == "remote-fn:live"
    clash = cli("stats", "remote-fn:live", "--qualifier", "blue", *remote)
    assert clash.returncode == 2 and "live" in clash.stderr and "Traceback" not in clash.stderr
