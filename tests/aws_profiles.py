"""AWS config and credentials files for the credential and region tests: every kind of profile the
AWS CLI knows that can be exercised on loopback (static keys, a failing `credential_process`, MFA
assume-role answered by moto's STS, SSO without a login), and environments that point only at them.
"""

from __future__ import annotations

import os
import sys
import textwrap
from pathlib import Path

FAILING_PROCESS = 'import sys\nsys.stderr.write("aws-vault: session expired\\nrun aws-vault login\\n")\nsys.exit(1)\n'
MFA_SERIAL = "arn:aws:iam::123456789012:mfa/dev-user"
ROLE_ARN = "arn:aws:iam::123456789012:role/admin"


def write_profiles(tmp_path: Path) -> dict[str, str]:
    """Write the files; return the environment variables that select them (and nothing else)."""
    home = tmp_path / "home"
    (home / ".aws").mkdir(parents=True, exist_ok=True)
    script = tmp_path / "failing_process.py"
    script.write_text(FAILING_PROCESS)
    config = home / ".aws" / "config"
    config.write_text(textwrap.dedent(f"""\
        [default]
        region = ap-southeast-2

        [profile eu]
        region = eu-west-1

        [profile us]
        region = us-west-2

        [profile broken]
        region = eu-central-1
        credential_process = {sys.executable} {script}

        [profile mfa]
        region = eu-west-1
        role_arn = {ROLE_ARN}
        source_profile = eu
        mfa_serial = {MFA_SERIAL}

        [profile sso-dev]
        sso_session = corp
        sso_account_id = 123456789012
        sso_role_name = Dev
        region = us-east-2

        [sso-session corp]
        sso_start_url = https://example.awsapps.com/start
        sso_region = us-east-1
        """))
    credentials = home / ".aws" / "credentials"
    credentials.write_text(textwrap.dedent("""\
        [default]
        aws_access_key_id = testing
        aws_secret_access_key = testing

        [eu]
        aws_access_key_id = testing
        aws_secret_access_key = testing

        [us]
        aws_access_key_id = testing
        aws_secret_access_key = testing
        """))
    return {
        "HOME": str(home),  # the SSO token cache and the assume-role cache (~/.aws/cli/cache) live here
        "AWS_CONFIG_FILE": str(config),
        "AWS_SHARED_CREDENTIALS_FILE": str(credentials),
        "AWS_EC2_METADATA_DISABLED": "true",
    }


_CLEARED = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE",
            "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_STS")


def use_profiles(monkeypatch, tmp_path: Path, sts_endpoint: str | None = None) -> dict[str, str]:
    """This process sees only the written profiles (no keys or region from the environment); STS
    (assume-role) goes to `sts_endpoint`. Returns an environment for CLI subprocesses alike."""
    for key in _CLEARED:
        monkeypatch.delenv(key, raising=False)
    files = write_profiles(tmp_path)
    if sts_endpoint:
        files["AWS_ENDPOINT_URL_STS"] = sts_endpoint
    for key, value in files.items():
        monkeypatch.setenv(key, value)
    env = {k: v for k, v in os.environ.items() if k not in _CLEARED}
    env.update(files, LAMBDATUI_STATE_DIR=str(tmp_path / "state"))
    return env
