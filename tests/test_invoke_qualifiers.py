"""`lambdatui invoke --qualifier Q --invocation-type RequestResponse|Event|DryRun` on both backends
(Event → 202, DryRun → 204, as Lambda's Invoke API answers), `NAME:ALIAS`, and the CLI pricing arm64
invocations at the arm64 rate (issue 15, item 12) — real subprocesses against the local backend,
moto's server and the AWS-shaped endpoint (moto returns no LogResult, so no figures to price)."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from aws_shaped import Answer, AwsShapedServer
from aws_support import cli_credentials
from test_aws_detail import rich_function

from lambdatui.figures import invocation_cost

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "lambdatui" / "sample" / "lambdatui.yaml"


@pytest.fixture
def env(tmp_path):
    return {**{k: v for k, v in os.environ.items() if k != "LAMBDATUI_CONFIG"}, "LAMBDATUI_STATE_DIR": str(tmp_path / "state")}


@pytest.fixture
def cli(env, tmp_path):
    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "lambdatui", *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=90)

    return run


@pytest.fixture
def local_config(tmp_path):
    code = tmp_path / "fn"
    code.mkdir()
    # The handler logs a line: proof (in `lambdatui logs`) that an invocation really ran, and as what.
    (code / "app.py").write_text(
        "def handler(event, context):\n"
        "    print('ran as', context.invoked_function_arn)\n"
        "    return {'ok': True}\n"
    )
    path = tmp_path / "lambdatui.yaml"
    path.write_text(
        "backend: local\nlocal:\n  functions:\n    marker:\n"
        f"      runtime: python{sys.version_info[0]}.{sys.version_info[1]}\n      handler: app.handler\n      code: fn\n"
        "      inherit_environment: []\n"
    )
    event = tmp_path / "event.json"
    event.write_text("{}")
    return str(path), str(event)


def ran(cli, config: str) -> list[str]:
    """The `ran as ARN` lines the function logged, as `lambdatui logs` prints them."""
    proc = cli("logs", "marker", "--since", "10m", "--config", config)
    return [line.split("ran as ", 1)[1] for line in proc.stdout.splitlines() if "ran as " in line]


def test_local_event_invoke_answers_202_and_the_function_runs(cli, local_config):
    config, event = local_config
    proc = cli("invoke", "marker", "--invocation-type", "Event", "--event", event, "--json", "--config", config)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["status_code"] == 202 and out["payload"] is None and out["duration_ms"] is None
    # Accepted at once, run in the background; the one-shot CLI waits for it before it exits.
    assert len(ran(cli, config)) == 1
    assert out["request_id"] in cli("logs", "marker", "--since", "10m", "--config", config).stdout
    text = cli("invoke", "marker", "--invocation-type", "Event", "--event", event, "--config", config)
    assert text.returncode == 0 and text.stdout.startswith("202 Accepted (Event)")


def test_local_dry_run_answers_204_and_runs_nothing(cli, local_config):
    config, event = local_config
    proc = cli("invoke", "marker", "--invocation-type", "DryRun", "--event", event, "--json", "--config", config)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["status_code"] == 204
    assert ran(cli, config) == []
    missing = cli("invoke", "nope", "--invocation-type", "DryRun", "--config", config)
    assert missing.returncode == 1 and "Function not found" in missing.stderr


def test_local_qualifiers_latest_runs_others_are_not_found(cli, local_config):
    config, event = local_config
    for args in (["marker", "--qualifier", "$LATEST"], ["marker:$LATEST"]):
        proc = cli("invoke", *args, "--event", event, "--json", "--config", config)
        assert proc.returncode == 0, proc.stderr
        assert json.loads(proc.stdout)["status_code"] == 200
    assert ran(cli, config) == ["arn:aws:lambda:us-east-1:123456789012:function:marker:$LATEST"] * 2
    for args in (["marker", "--qualifier", "live"], ["marker:live"]):
        proc = cli("invoke", *args, "--event", event, "--config", config)
        assert proc.returncode == 1
        assert proc.stderr.strip() == "lambdatui: Function not found: arn:aws:lambda:us-east-1:123456789012:function:marker:live"
    clash = cli("invoke", "marker:live", "--qualifier", "1", "--config", config)
    assert clash.returncode == 1 and "does not match" in clash.stderr
    assert cli("invoke", "marker", "--invocation-type", "Later", "--config", config).returncode == 2


def test_aws_invocation_types_and_qualifiers_through_moto(cli, aws_env, env, monkeypatch, tmp_path):
    cli_credentials(env, monkeypatch, tmp_path)
    rich_function(aws_env)
    aws_env.client("lambda").delete_function_concurrency(FunctionName="orders")  # rich_function reserves 0
    common = ["--backend", "aws", "--endpoint-url", aws_env.endpoint, "--region", "us-east-1", "--config", str(SAMPLE), "--json"]
    event = json.loads(cli("invoke", "orders", "--invocation-type", "Event", *common).stdout)
    assert event["status_code"] == 202 and event["request_id"]
    assert json.loads(cli("invoke", "orders", "--invocation-type", "DryRun", *common).stdout)["status_code"] == 204
    for args in (["orders", "--qualifier", "live"], ["orders:live"]):
        proc = cli("invoke", *args, *common)
        assert proc.returncode == 0, proc.stderr
        assert json.loads(proc.stdout)["status_code"] == 200


REPORT = "REPORT RequestId: 1b2c\tDuration: 812.40 ms\tBilled Duration: 813 ms\tMemory Size: 1024 MB\tMax Memory Used: 80 MB\t\n"


@pytest.fixture
def shaped():
    server = AwsShapedServer()
    yield server
    server.stop()


def test_cli_prices_arm64_invocations_at_the_arm64_rate(cli, shaped, env, monkeypatch, tmp_path):
    # The one-shot CLI lists nothing before invoking: the architecture is asked of the function.
    cli_credentials(env, monkeypatch, tmp_path)
    tail = base64.b64encode(f"START RequestId: 1b2c Version: 3\nEND RequestId: 1b2c\n{REPORT}".encode()).decode()
    shaped.on("POST", "/2015-03-31/functions/graviton/invocations", lambda req: Answer(200, {"ok": 1}, headers={"X-Amz-Log-Result": tail, "X-Amz-Executed-Version": "3"}))
    shaped.on("GET", "/2015-03-31/functions/graviton/configuration", lambda req: Answer(200, {"FunctionName": "graviton", "Architectures": ["arm64"], "Version": req.query.get("Qualifier", "$LATEST")}))
    common = ["--backend", "aws", "--endpoint-url", shaped.endpoint, "--region", "us-east-1", "--config", str(SAMPLE)]
    proc = cli("invoke", "graviton", "--qualifier", "live", "--json", *common)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["cost_usd"] == pytest.approx(invocation_cost(1024, 813, "arm64"))
    assert out["cost_usd"] < invocation_cost(1024, 813, "x86_64")
    invoked = shaped.seen(path="/2015-03-31/functions/graviton/invocations")[0]
    assert invoked.query == {"Qualifier": "live"} and invoked.headers["x-amz-invocation-type"] == "RequestResponse"
    # The price is of the version that ran (X-Amz-Executed-Version), not of $LATEST.
    assert shaped.seen(path="/2015-03-31/functions/graviton/configuration")[0].query == {"Qualifier": "3"}
