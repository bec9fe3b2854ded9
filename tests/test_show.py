"""`lambdatui show` and the reserved concurrency of `list --json`, run as real subprocesses against
the local backend and moto's server: the JSON contract (DETAIL_KEYS), masking, qualifiers, one-line
errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from aws_support import cli_credentials
from test_aws_detail import rich_function

from lambdatui.backends.detail import DETAIL_KEYS

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "lambdatui" / "sample" / "lambdatui.yaml"


@pytest.fixture
def env(tmp_path):
    return {**{k: v for k, v in os.environ.items() if k != "LAMBDATUI_CONFIG"}, "LAMBDATUI_STATE_DIR": str(tmp_path / "state")}


@pytest.fixture
def cli(env, tmp_path):
    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "lambdatui", *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)

    return run


def one_line_error(proc: subprocess.CompletedProcess) -> str:
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("lambdatui: "), proc.stderr
    return lines[0]


@pytest.fixture
def local_config(tmp_path):
    code = tmp_path / "fn"
    code.mkdir()
    (code / "app.py").write_text("def handler(event, context):\n    return event\n")
    path = tmp_path / "lambdatui.yaml"
    path.write_text(
        "backend: local\nlocal:\n  functions:\n    billing:\n"
        f"      runtime: python{sys.version_info[0]}.{sys.version_info[1]}\n      handler: app.handler\n      code: fn\n"
        "      memory_size: 256\n      reserved_concurrency: 0\n"
        "      environment: {TABLE: bills, STRIPE_KEY: sk_live_abcdefghijklmnop}\n"
        "      async: {on_failure: failed-bills}\n"
        "      triggers:\n        - {type: schedule, expression: rate(5 minutes), enabled: false}\n"
    )
    return str(path)


def test_show_json_local_has_every_key_from_the_config(cli, local_config):
    proc = cli("show", "billing", "--json", "--config", local_config)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert list(out) == list(DETAIL_KEYS)
    assert (out["function"], out["memory_size"], out["qualifier"]) == ("billing", 256, "$LATEST")
    assert out["reserved_concurrency"] == 0  # 0 stays 0: every invoke throttled, not "unreserved"
    assert out["environment"] == {"TABLE": "bills", "STRIPE_KEY": "••••••••"}
    assert out["triggers"] == [{"type": "schedule", "source": out["triggers"][0]["source"], "state": "Disabled", "via": "config"}]
    assert "rate(5 minutes)" in out["triggers"][0]["source"]
    assert out["logging"] == {"format": "Text", "log_group": "/aws/lambda/billing"}
    assert out["destinations"]["on_failure"] == "failed-bills"
    # Locally there are no versions, aliases, URL, VPC or DLQ; the code's zip exists only on deploy.
    assert (out["versions"], out["aliases"], out["url"], out["vpc"], out["dead_letter"]) == ([], [], None, None, None)
    assert (out["code_size"], out["code_sha256"]) == (None, None)
    revealed = json.loads(cli("show", "billing", "--json", "--reveal", "--config", local_config).stdout)
    assert revealed["environment"]["STRIPE_KEY"] == "sk_live_abcdefghijklmnop"


def test_show_text_local_names_the_sections(cli, local_config):
    proc = cli("show", "billing", "--config", local_config)
    assert proc.returncode == 0, proc.stderr
    for title in ("billing ($LATEST)", "Environment", "Versions", "Aliases", "Function URL", "Triggers", "Logging", "Tags"):
        assert f"\n{title}\n" in f"\n{proc.stdout}"
    assert "reserved 0 (every invoke is throttled)" in proc.stdout
    assert "sk_live_abcdefghijklmnop" not in proc.stdout


def test_show_unknown_function_or_qualifier_is_one_line_exit_1(cli, local_config):
    missing = cli("show", "nope", "--config", local_config)
    assert missing.returncode == 1 and "Function not found: arn:aws:lambda:us-east-1:123456789012:function:nope" in one_line_error(missing)
    qualified = cli("show", "billing", "--qualifier", "prod", "--config", local_config)
    assert qualified.returncode == 1 and one_line_error(qualified).endswith("function:billing:prod")
    assert cli("show", "billing:prod", "--config", local_config).returncode == 1
    assert cli("show", "billing", "--qualifier", "$LATEST", "--config", local_config).returncode == 0
    empty = cli("show", "billing", "--qualifier", "", "--config", local_config)
    assert empty.returncode == 2 and "--qualifier" in one_line_error(empty)


@pytest.fixture
def aws(aws_env, env, monkeypatch, tmp_path):
    cli_credentials(env, monkeypatch, tmp_path)
    rich_function(aws_env)
    aws_env.create_function("plain", "def handler(e, c):\n    return e\n")
    return ["--backend", "aws", "--endpoint-url", aws_env.endpoint, "--region", "us-east-1", "--config", str(SAMPLE)]


def test_show_json_aws_reads_the_account(cli, aws):
    proc = cli("show", "orders", "--json", *aws)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert list(out) == list(DETAIL_KEYS)
    assert out["reserved_concurrency"] == 0
    assert out["aliases"][0] == {"name": "canary", "function_version": "2", "description": "", "routing": {"1": 0.25}}
    assert out["url"]["auth_type"] == "AWS_IAM"
    assert {t["type"] for t in out["triggers"]} == {"sqs", "s3"}
    assert out["environment"]["DB_PASSWORD"] == "••••••••"
    live = json.loads(cli("show", "orders", "--qualifier", "live", "--json", *aws).stdout)
    assert (live["qualifier"], live["version"], live["memory_size"]) == ("live", "1", 128)
    assert json.loads(cli("show", "orders:canary", "--json", *aws).stdout)["version"] == "2"
    assert json.loads(cli("show", "plain", "--json", *aws).stdout)["reserved_concurrency"] is None
    text = cli("show", "orders", *aws).stdout
    assert "canary" in text and "→ 2 (25% → 1)" in text and "auth AWS_IAM" in text
    missing = cli("show", "orders", "--qualifier", "nope", *aws)
    assert missing.returncode == 1
    one_line_error(missing)


def test_list_json_on_aws_gives_each_functions_real_reserved_concurrency(cli, aws):
    proc = cli("list", "--json", *aws)
    assert proc.returncode == 0, proc.stderr
    rows = {r["name"]: r for r in json.loads(proc.stdout)}
    assert rows["orders"]["reserved_concurrency"] == 0
    assert rows["plain"]["reserved_concurrency"] is None
