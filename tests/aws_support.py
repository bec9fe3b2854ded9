"""moto's server on 127.0.0.1, and functions created in it, for the AWS backend's tests.

A real AWS-protocol server, not stubs: boto3 talks HTTP to it exactly as it would to AWS. moto does
not run handlers without Docker; with `use_docker: false` its Invoke echoes the payload.
"""

from __future__ import annotations

import io
import json
import textwrap
import zipfile

import boto3
import httpx

REGION = "us-east-1"
ROLE_NAME = "lambdatui-test-role"
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
}


class MotoServer:
    def __init__(self) -> None:
        from moto.server import ThreadedMotoServer

        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint = f"http://{host}:{port}"

    def reset(self) -> None:
        httpx.post(f"{self.endpoint}/moto-api/reset").raise_for_status()
        httpx.post(f"{self.endpoint}/moto-api/config", json={"lambda": {"use_docker": False}}).raise_for_status()

    def client(self, service: str):
        return boto3.client(service, region_name=REGION, endpoint_url=self.endpoint)

    def role_arn(self) -> str:
        iam = self.client("iam")
        try:
            return iam.get_role(RoleName=ROLE_NAME)["Role"]["Arn"]
        except iam.exceptions.NoSuchEntityException:
            policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
            return iam.create_role(RoleName=ROLE_NAME, AssumeRolePolicyDocument=json.dumps(policy))["Role"]["Arn"]

    def create_function(self, name: str, source: str, *, environment: dict | None = None, memory: int = 128, timeout: int = 3, handler: str = "app.handler") -> dict:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr("app.py", textwrap.dedent(source))
        return self.client("lambda").create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=self.role_arn(),
            Handler=handler,
            Code={"ZipFile": buf.getvalue()},
            MemorySize=memory,
            Timeout=timeout,
            Environment={"Variables": environment or {}},
        )

    def stop(self) -> None:
        self._server.stop()


def cli_credentials(env: dict, monkeypatch, tmp_path) -> None:
    """Credentials that reach only moto, for this process's boto3 clients and for CLI subprocesses
    run with `env`; the host's ~/.aws files are kept out of the subprocesses."""
    for key, value in CREDENTIALS.items():
        monkeypatch.setenv(key, value)
        env[key] = value
    env["AWS_CONFIG_FILE"] = str(tmp_path / "no-aws-config")
    env["AWS_SHARED_CREDENTIALS_FILE"] = str(tmp_path / "no-aws-credentials")
