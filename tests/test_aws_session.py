"""Profiles, regions, credentials and timeouts resolved as the AWS CLI resolves them
(backends/aws_session.py), against real AWS config files and moto's server on 127.0.0.1."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest
from aws_profiles import MFA_SERIAL, use_profiles
from aws_shaped import StalledServer

from lambdatui.backends.aws import AwsBackend
from lambdatui.backends.aws_errors import CredentialsError, EndpointError
from lambdatui.backends.aws_session import Timeouts, available_profiles, available_regions
from lambdatui.config import parse_config

REPO = Path(__file__).resolve().parent.parent


def backend(endpoint: str = "http://127.0.0.1:9", **aws) -> AwsBackend:
    settings = {"endpoint_url": endpoint, **aws}
    return AwsBackend(parse_config("backend: aws\naws: " + json.dumps(settings) + "\n"))


# -- region: --region > aws.region > AWS_REGION > AWS_DEFAULT_REGION > the profile's > us-east-1 ---


@pytest.mark.parametrize(
    ("aws", "env", "region", "source"),
    [
        ({"profile": "eu"}, {}, "eu-west-1", "profile eu"),
        ({}, {}, "ap-southeast-2", "profile default"),  # the [default] section's region
        ({"profile": "eu"}, {"AWS_DEFAULT_REGION": "ap-south-1"}, "ap-south-1", "AWS_DEFAULT_REGION"),
        ({"profile": "eu"}, {"AWS_DEFAULT_REGION": "ap-south-1", "AWS_REGION": "ca-central-1"}, "ca-central-1", "AWS_REGION"),
        ({"profile": "eu", "region": "sa-east-1"}, {"AWS_REGION": "ca-central-1"}, "sa-east-1", "aws.region"),
    ],
)
def test_region_precedence_is_the_aws_clis(monkeypatch, tmp_path, aws, env, region, source):
    use_profiles(monkeypatch, tmp_path)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    b = backend(**aws)
    assert (b.region, b.region_source) == (region, source)
    assert b.lambda_client.meta.region_name == region
    assert f"· {region}" in b.describe()


def test_no_region_anywhere_is_us_east_1(monkeypatch, tmp_path):
    use_profiles(monkeypatch, tmp_path)
    empty = tmp_path / "empty"
    empty.write_text("")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(empty))
    b = backend()
    assert (b.region, b.region_source) == ("us-east-1", "default")


def test_aws_region_defaults_to_unset_in_the_config():
    assert parse_config("backend: aws\n").aws.region is None
    assert parse_config("aws: {region: null}\n").aws.region is None


# -- profile: --profile > aws.profile > AWS_PROFILE > default --------------------------------------


def test_aws_profile_is_the_one_named_in_messages_and_header(monkeypatch, tmp_path):
    use_profiles(monkeypatch, tmp_path)
    monkeypatch.setenv("AWS_PROFILE", "sso-dev")
    b = backend()
    assert b.profile == "sso-dev" and b.region == "us-east-2"
    assert b.describe().startswith("aws · profile sso-dev · us-east-2")
    with pytest.raises(CredentialsError, match=r"profile 'sso-dev'.*run aws sso login --profile sso-dev$"):
        b.list_functions()


def test_config_profile_beats_aws_profile(monkeypatch, tmp_path):
    use_profiles(monkeypatch, tmp_path)
    monkeypatch.setenv("AWS_PROFILE", "sso-dev")
    assert backend(profile="eu").profile == "eu"


def test_aws_profile_naming_a_missing_profile_is_named(monkeypatch, tmp_path):
    use_profiles(monkeypatch, tmp_path)
    monkeypatch.setenv("AWS_PROFILE", "nosuch")
    with pytest.raises(CredentialsError, match="AWS profile 'nosuch' is not configured"):
        backend()


def test_picker_lists_the_profiles_of_both_files_and_lambdas_regions(monkeypatch, tmp_path):
    use_profiles(monkeypatch, tmp_path)
    assert available_profiles() == ["broken", "default", "eu", "mfa", "sso-dev", "us"]
    regions = available_regions()
    assert {"us-east-1", "eu-west-1", "ap-southeast-2", "us-gov-west-1", "cn-north-1"} <= set(regions)
    assert regions == sorted(regions) and len(regions) > 25


# -- credential providers fail in one line ---------------------------------------------------------


def test_failing_credential_process_is_one_line_naming_the_profile(monkeypatch, tmp_path):
    use_profiles(monkeypatch, tmp_path)
    b = backend(profile="broken")  # nothing resolved yet: the dashboard can open and say so
    with pytest.raises(CredentialsError) as info:
        b.list_functions()
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("No credentials for profile 'broken': credential_process failed:")
    assert "aws-vault: session expired run aws-vault login" in message


def test_failed_switch_leaves_the_backend_where_it_was(monkeypatch, tmp_path):
    use_profiles(monkeypatch, tmp_path)
    b = backend(profile="eu")
    before = (b.describe(), b.location())
    with pytest.raises(CredentialsError, match="'nosuch' is not configured"):
        b.switch(profile="nosuch", region="us-east-1")
    with pytest.raises(CredentialsError, match="profile 'broken': credential_process failed"):
        b.switch(profile="broken", region="eu-central-1")
    assert (b.describe(), b.location()) == before
    b.switch(profile="us", region=None)
    assert (b.profile, b.region) == ("us", "us-west-2")  # a new profile brings its own region
    b.switch(region="eu-north-1")
    assert (b.profile, b.region) == ("us", "eu-north-1")


# -- timeouts --------------------------------------------------------------------------------------


def test_control_plane_reads_wait_15_s_and_invoke_the_functions_timeout_plus_a_margin(aws_env):
    aws_env.create_function("slow", "def handler(e, c):\n    return e\n", timeout=120)
    b = backend(aws_env.endpoint, region="us-east-1")
    for client in (b.lambda_client, b.logs_client, b.cloudwatch_client):
        assert (client.meta.config.connect_timeout, client.meta.config.read_timeout) == (3, 15)
    assert b.invoke_client("slow").meta.config.read_timeout == 900 + 15  # not listed yet: Lambda's longest
    b.list_functions()
    assert b.invoke_client("slow").meta.config.read_timeout == 120 + 15
    assert b.invoke_client("slow:live").meta.config.read_timeout == 120 + 15
    assert b.invoke_client("slow", "Event") is b.lambda_client  # answers at once (202)
    assert b.invoke("slow", b'{"a": 1}').status_code == 200


def test_stalled_endpoint_fails_after_one_read_timeout_not_resent(aws_env):
    stalled = StalledServer()
    try:
        b = AwsBackend(
            parse_config(f"backend: aws\naws: {{region: us-east-1, endpoint_url: '{stalled.endpoint}'}}\n"),
            timeouts=Timeouts(connect=1, read=0.5),
        )
        started = time.monotonic()
        with pytest.raises(EndpointError, match=f"No answer from {stalled.endpoint} in time"):
            b.list_functions()
        elapsed = time.monotonic() - started
        time.sleep(0.2)
        assert len(stalled._held) == 1  # botocore's standard mode would have sent it 5 times
        assert elapsed < 3
    finally:
        stalled.stop()


# -- the command line ------------------------------------------------------------------------------


def _cli(env, *args, **kw):
    return subprocess.run([sys.executable, "-m", "lambdatui", *args], capture_output=True, text=True, env=env, timeout=90, cwd=REPO, **kw)


def _regional_functions(aws_env):
    aws_env.create_function("in-us-east-1", "def handler(e, c):\n    return e\n")
    import boto3

    boto3.client("lambda", region_name="eu-west-1", endpoint_url=aws_env.endpoint).create_function(
        FunctionName="in-eu-west-1", Runtime="python3.12", Role=aws_env.role_arn(), Handler="app.handler",
        Code={"ZipFile": _zip()},
    )


def _zip() -> bytes:
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("app.py", "def handler(e, c):\n    return e\n")
    return buf.getvalue()


def _names(proc) -> set[str]:
    assert proc.returncode == 0, proc.stderr
    return {row["name"] for row in json.loads(proc.stdout)}


def test_cli_lists_the_profiles_region_and_honours_the_environment_and_flags(aws_env, monkeypatch, tmp_path):
    _regional_functions(aws_env)
    env = use_profiles(monkeypatch, tmp_path)
    common = ["--backend", "aws", "--endpoint-url", aws_env.endpoint, "--config", str(REPO / "lambdatui" / "sample" / "lambdatui.yaml")]
    assert _names(_cli(env, "list", "--json", "--profile", "eu", *common)) == {"in-eu-west-1"}
    assert _names(_cli(env, "list", "--json", "--profile", "eu", "--region", "us-east-1", *common)) == {"in-us-east-1"}
    assert _names(_cli({**env, "AWS_REGION": "us-east-1"}, "list", "--json", "--profile", "eu", *common)) == {"in-us-east-1"}
    assert _names(_cli({**env, "AWS_PROFILE": "eu"}, "list", "--json", *common)) == {"in-eu-west-1"}


def test_cli_deploy_creates_in_the_profiles_region(aws_env, monkeypatch, tmp_path):
    env = use_profiles(monkeypatch, tmp_path)
    (tmp_path / "fn").mkdir()
    (tmp_path / "fn" / "app.py").write_text("def handler(e, c):\n    return {}\n")
    cfg = tmp_path / "lambdatui.yaml"
    cfg.write_text(
        f"backend: local\naws: {{role: '{aws_env.role_arn()}'}}\n"
        "local:\n  functions:\n    eu-service:\n      code: fn\n      handler: app.handler\n      runtime: python3.12\n"
    )
    proc = _cli(env, "deploy", "eu-service", "--profile", "eu", "--config", str(cfg), "--endpoint-url", aws_env.endpoint)
    assert proc.returncode == 0, proc.stderr
    assert "profile eu · eu-west-1" in proc.stdout
    import boto3

    def names(region):
        return {f["FunctionName"] for f in boto3.client("lambda", region_name=region, endpoint_url=aws_env.endpoint).list_functions()["Functions"]}

    assert "eu-service" in names("eu-west-1") and "eu-service" not in names("us-east-1")


@pytest.mark.parametrize("command", [["list"], ["logs", "fn"], ["stats", "fn"], ["invoke", "fn"], ["deploy", "hello"]])
def test_cli_failing_credential_process_is_one_line_exit_1(monkeypatch, tmp_path, command):
    env = use_profiles(monkeypatch, tmp_path)
    (tmp_path / "fn").mkdir()
    cfg = tmp_path / "lambdatui.yaml"
    cfg.write_text("backend: aws\nlocal:\n  functions:\n    hello: {code: fn, handler: app.handler, runtime: python3.12}\n")
    (tmp_path / "fn" / "app.py").write_text("def handler(e, c):\n    return {}\n")
    proc = _cli(env, *command, "--profile", "broken", "--config", str(cfg), "--endpoint-url", "http://127.0.0.1:9")
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr and proc.stderr.count("\n") == 1, proc.stderr
    assert "profile 'broken': credential_process failed: aws-vault: session expired" in proc.stderr


# -- MFA -------------------------------------------------------------------------------------------


def test_cli_without_a_terminal_says_the_profile_needs_an_mfa_code(aws_env, monkeypatch, tmp_path):
    env = use_profiles(monkeypatch, tmp_path, sts_endpoint=aws_env.endpoint)
    proc = _cli(env, "list", "--backend", "aws", "--profile", "mfa", "--endpoint-url", aws_env.endpoint,
                stdin=subprocess.DEVNULL, start_new_session=True)  # a new session: no controlling terminal
    assert proc.returncode == 1
    assert proc.stderr == "lambdatui: profile mfa needs an MFA code: run it in a terminal\n"


def _run_in_pty(env, args, answers: dict[bytes, bytes], timeout: float = 60) -> tuple[int, bytes]:
    """Run the CLI with a pseudo-terminal as its controlling terminal; type each answer once its
    prompt shows. Returns the exit status and everything the terminal showed."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: the pty is its controlling terminal
        os.chdir(REPO)
        os.execve(sys.executable, [sys.executable, "-m", "lambdatui", *args], env)
    shown = b""
    pending = dict(answers)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            shown += chunk
            for prompt in [p for p in pending if p in shown]:
                os.write(fd, pending.pop(prompt))
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), shown


def test_cli_asks_for_the_mfa_code_on_the_terminal_and_assumes_the_role(aws_env, monkeypatch, tmp_path):
    _regional_functions(aws_env)
    env = use_profiles(monkeypatch, tmp_path, sts_endpoint=aws_env.endpoint)
    args = ["list", "--backend", "aws", "--profile", "mfa", "--endpoint-url", aws_env.endpoint]
    status, shown = _run_in_pty(env, args, {f"Enter MFA code for {MFA_SERIAL}:".encode(): b"654321\n"})
    assert status == 0, shown
    assert f"Enter MFA code for {MFA_SERIAL}:".encode() in shown
    assert b"654321" not in shown  # not echoed
    assert b"in-eu-west-1" in shown and b"in-us-east-1" not in shown  # the mfa profile's region
    # The assumed role's credentials went to the AWS CLI's cache: the next run asks no code.
    assert list((tmp_path / "home" / ".aws" / "cli" / "cache").glob("*.json"))
    again = _cli(env, *args, stdin=subprocess.DEVNULL, start_new_session=True)
    assert again.returncode == 0 and "in-eu-west-1" in again.stdout, again.stderr
