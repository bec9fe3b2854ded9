"""Helpers for the embedded AWS services' tests: a project whose functions call AWS, and the CLI as
a real subprocess on a temporary state folder."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

PY = f"python{sys.version_info[0]}.{sys.version_info[1]}"

SEED = """\
tables:
  - name: orders
    key: {pk: S, sk: S}
    stream: NEW_AND_OLD_IMAGES
    items:
      - {pk: seeded, sk: "1", total: 12.5}
buckets:
  - name: uploads
    objects:
      hello.txt: "hello from the seed"
queues:
  - name: jobs
parameters:
  /app/table: orders
secrets:
  db: {user: app, password: pw}
"""

# put_item/get_item and put_object/get_object, through the SDK the Python runtime ships, with no
# endpoint or credentials in the code: they come from the environment, as on Lambda.
BOTO3_HANDLER = """\
import os
import boto3

def handler(event, context):
    ddb = boto3.client("dynamodb")
    ddb.put_item(TableName="orders", Item={"pk": {"S": event["id"]}, "sk": {"S": "1"}, "note": {"S": "written"}})
    item = ddb.get_item(TableName="orders", Key={"pk": {"S": event["id"]}, "sk": {"S": "1"}})["Item"]
    seeded = ddb.get_item(TableName="orders", Key={"pk": {"S": "seeded"}, "sk": {"S": "1"}}).get("Item")
    s3 = boto3.client("s3")
    s3.put_object(Bucket="uploads", Key=event["id"] + ".txt", Body=b"body of " + event["id"].encode())
    body = s3.get_object(Bucket="uploads", Key=event["id"] + ".txt")["Body"].read().decode()
    return {
        "note": item["note"]["S"], "body": body, "seeded_total": seeded and seeded["total"]["N"],
        "endpoint": os.environ.get("AWS_ENDPOINT_URL"), "region": os.environ["AWS_REGION"],
    }
"""


def write_project(root: Path, *, seed: str | None = SEED, aws_services: str = "{seed: seed.yaml}", extra_env: dict | None = None) -> Path:
    code = root / "calls-aws"
    code.mkdir(parents=True, exist_ok=True)
    (code / "app.py").write_text(BOTO3_HANDLER)
    if seed is not None:
        (root / "seed.yaml").write_text(seed)
    env_line = ""
    if extra_env:
        env_line = "      environment: {" + ", ".join(f"{k}: {v!r}" for k, v in extra_env.items()) + "}\n"
    (root / "lambdatui.yaml").write_text(
        textwrap.dedent(f"""\
        backend: local
        local:
          aws_services: {aws_services}
          functions:
            calls-aws:
              runtime: {PY}
              handler: app.handler
              code: calls-aws
              timeout: 60
        """) + env_line
    )
    return root / "lambdatui.yaml"


def cli_env(state_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "LAMBDATUI_CONFIG" and not k.startswith("AWS_")}
    env["LAMBDATUI_STATE_DIR"] = str(state_dir)
    return env


def lambdatui(*args: str, env: dict[str, str], cwd: Path, timeout: float = 90, input: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lambdatui", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, input=input
    )
