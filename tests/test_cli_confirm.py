"""`lambdatui invoke` on AWS with aws.confirm_invoke (by default with aws.read_only): asks on the
terminal (a pseudo-terminal here), refuses in one line without one unless --yes is given."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from aws_support import cli_credentials
from test_aws_session import _run_in_pty

from lambdatui.config import parse_config

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def setup(aws_env, monkeypatch, tmp_path):
    aws_env.create_function("orders", "def handler(e, c):\n    return e\n")
    env = {"PATH": "/usr/bin:/bin", "LAMBDATUI_STATE_DIR": str(tmp_path / "state"), "HOME": str(tmp_path)}
    cli_credentials(env, monkeypatch, tmp_path)

    def config(**aws) -> str:
        path = tmp_path / "lambdatui.yaml"
        path.write_text("backend: aws\naws: " + json.dumps({"region": "us-east-1", "endpoint_url": aws_env.endpoint, **aws}) + "\n")
        return str(path)

    return env, config


def _invoke(env, cfg, *extra):
    return subprocess.run([sys.executable, "-m", "lambdatui", "invoke", "orders", "--json", "--config", cfg, *extra],
                          capture_output=True, text=True, env=env, timeout=90, cwd=REPO, stdin=subprocess.DEVNULL, start_new_session=True)


def test_read_only_without_a_terminal_refuses_in_one_line_unless_yes(setup):
    env, config = setup
    cfg = config(read_only=True)
    refused = _invoke(env, cfg)
    assert refused.returncode == 2 and refused.stdout == ""
    assert refused.stderr.count("\n") == 1 and "Traceback" not in refused.stderr
    assert refused.stderr.startswith("lambdatui: not invoking orders: aws.confirm_invoke is set for aws · profile default · us-east-1")
    assert refused.stderr.rstrip().endswith("pass --yes")
    allowed = _invoke(env, cfg, "--yes")
    assert allowed.returncode == 0, allowed.stderr
    assert json.loads(allowed.stdout)["status_code"] == 200


def test_without_read_only_nothing_is_asked_and_confirm_invoke_can_ask_anyway(setup):
    env, config = setup
    assert _invoke(env, config()).returncode == 0
    assert _invoke(env, config(read_only=True, confirm_invoke=False)).returncode == 0
    assert _invoke(env, config(confirm_invoke=True)).returncode == 2


@pytest.mark.parametrize(("answer", "status"), [(b"y\n", 0), (b"n\n", 1)])
def test_the_question_is_asked_on_the_terminal(setup, answer, status):
    env, config = setup
    args = ["invoke", "orders", "--config", config(read_only=True)]
    code, shown = _run_in_pty(env, args, {b"[y/N]": answer})
    assert code == status, shown
    assert b"Invoke orders on aws \xc2\xb7 profile default \xc2\xb7 us-east-1" in shown
    if status == 0:
        assert b"200" in shown or b"{}" in shown
    else:
        assert b"not invoking orders: not confirmed" in shown


def test_confirm_invoke_parses_and_defaults_to_read_only():
    assert parse_config("aws: {read_only: true}\n").aws.invoke_needs_confirmation is True
    assert parse_config("aws: {read_only: false}\n").aws.invoke_needs_confirmation is False
    assert parse_config("aws: {read_only: true, confirm_invoke: false}\n").aws.invoke_needs_confirmation is False
    assert parse_config("aws: {confirm_invoke: true}\n").aws.invoke_needs_confirmation is True


def test_bad_aws_values_are_file_line_key_errors(tmp_path):
    from lambdatui.config import ConfigError, load_config

    path = tmp_path / "lambdatui.yaml"
    path.write_text("backend: aws\naws:\n  read_only: true\n  confirm_invoke: sometimes\n")
    with pytest.raises(ConfigError, match=r"lambdatui.yaml:4.*aws.confirm_invoke.*true or false"):
        load_config(path)
    path.write_text("aws:\n  region: eu-west\n")
    with pytest.raises(ConfigError, match=r"lambdatui.yaml:2.*aws.region.*not a region name"):
        load_config(path)
