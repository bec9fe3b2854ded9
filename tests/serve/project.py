"""A small project for serve's end-to-end tests: functions that record each request id they run
with to a file (so a test can prove a refused request ran nothing), and a real `ServeRunner` on
free ports, as `lambdatui serve` runs it."""

from __future__ import annotations

import json
import shutil
import sys
import textwrap
from pathlib import Path

import boto3
from botocore.config import Config as BotoConfig

from lambdatui.config import load_config
from lambdatui.serve.runner import ServeRunner

PY = f"python{sys.version_info[0]}.{sys.version_info[1]}"
NODE = shutil.which("node")

RECORDER_PY = """
import json, os

def handler(event, context):
    with open(os.environ["RECORD_FILE"], "a") as f:
        f.write(context.aws_request_id + "\\n")
    cc = context.client_context
    return {
        "request_id": context.aws_request_id,
        "arn": context.invoked_function_arn,
        "client_context": None if cc is None else {
            # AWS's runtime gives these objects __slots__, not a __dict__.
            "client": {k: getattr(cc.client, k) for k in cc.client.__slots__} if cc.client else None,
            "custom": cc.custom,
            "env": cc.env,
        },
    }

def http(event, context):
    with open(os.environ["RECORD_FILE"], "a") as f:
        f.write(context.aws_request_id + "\\n")
    return {"statusCode": 200, "headers": {"Access-Control-Allow-Origin": "*"}, "body": "ran"}
"""

RECORDER_NODE = """
import { appendFileSync } from "node:fs";

export const handler = async (event, context) => {
  appendFileSync(process.env.RECORD_FILE, context.awsRequestId + "\\n");
  return { request_id: context.awsRequestId, arn: context.invokedFunctionArn, client_context: context.clientContext ?? null };
};
"""


class Project:
    def __init__(self, root: Path, serve: str = "") -> None:
        self.root = root
        self.record = root / "record.txt"
        self.record.write_text("")
        (root / "py").mkdir()
        (root / "py" / "app.py").write_text(textwrap.dedent(RECORDER_PY))
        (root / "node").mkdir()
        (root / "node" / "index.mjs").write_text(textwrap.dedent(RECORDER_NODE))
        env = f"      environment: {{RECORD_FILE: '{self.record}'}}"
        lines = ["backend: local", "local:", "  functions:",
                 "    rec:", f"      runtime: {PY}", "      handler: app.handler", "      code: py", env,
                 "    web:", f"      runtime: {PY}", "      handler: app.http", "      code: py", env,
                 "      triggers:",
                 "        - {type: http, path: /open, method: ANY}",
                 "        - type: http",
                 "          path: /shared",
                 "          method: ANY",
                 "          cors: {allow_origins: ['http://app.example:5173'], allow_methods: [GET, POST], allow_headers: [content-type], max_age: 600}"]
        if NODE:
            major = __import__("subprocess").run([NODE, "--version"], capture_output=True, text=True).stdout.strip().lstrip("v").split(".")[0]
            lines += ["    noderec:", f"      runtime: nodejs{major}.x", "      handler: index.handler", "      code: node", env]
        self.config_path = root / "lambdatui.yaml"
        self.config_path.write_text("\n".join(lines) + "\n" + textwrap.dedent(serve))

    def ran(self) -> list[str]:
        """The request ids the functions ran with, in order."""
        return self.record.read_text().split()

    def start(self, **options) -> ServeRunner:
        runner = ServeRunner(load_config(self.config_path), port=0, http_port=0, state_dir=self.root / "state", **options)
        runner.start()
        return runner


def client(runner: ServeRunner, **credentials) -> object:
    assert runner.lambda_api is not None
    credentials.setdefault("aws_access_key_id", "AKIDANYTHING")
    credentials.setdefault("aws_secret_access_key", "whatever")
    return boto3.client(
        "lambda", endpoint_url=runner.lambda_api.url, region_name="us-east-1",
        config=BotoConfig(retries={"total_max_attempts": 1, "mode": "standard"}), **credentials,
    )


def payload(response: dict) -> object:
    return json.loads(response["Payload"].read())
