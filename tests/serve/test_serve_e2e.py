"""`lambdatui serve` as a user runs it: a real process, real clients, real files, a restart."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import boto3
import httpx
import pytest
from botocore.config import Config
from serve_process import ServeProcess  # tests/ is on sys.path (its conftest.py)

from lambdatui.serve.runner import is_loopback

PY = f"python{sys.version_info[0]}.{sys.version_info[1]}"


@pytest.fixture
def project(tmp_path):
    for name, source in {
        "web": """
            import json
            def handler(event, context):
                return {"statusCode": 200, "body": json.dumps({"id": event["pathParameters"]["id"]})}
            """,
        "files": """
            def handler(event, context):
                for r in event["Records"]:
                    print("S3-MARKER", r["eventName"], r["s3"]["object"]["key"])
            """,
        "jobs": """
            def handler(event, context):
                for r in event["Records"]:
                    print("SQS-MARKER", r["body"], r["attributes"]["ApproximateReceiveCount"])
            """,
    }.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / "app.py").write_text(textwrap.dedent(source))
    (tmp_path / "lambdatui.yaml").write_text(textwrap.dedent(f"""\
        local:
          functions:
            web:
              {{runtime: {PY}, handler: app.handler, code: web, triggers: [{{type: http, path: "/items/{{id}}", method: GET, payload_format: "1.0"}}]}}
            files:
              {{runtime: {PY}, handler: app.handler, code: files, triggers: [{{type: s3, bucket: uploads, path: bucket}}]}}
            jobs:
              {{runtime: {PY}, handler: app.handler, code: jobs, triggers: [{{type: sqs, queue: work}}]}}
        """))
    return tmp_path


class Serve(ServeProcess):
    wait_timeout = 20.0

    def __init__(self, project: Path) -> None:
        self.env = dict(os.environ, LAMBDATUI_STATE_DIR=str(project / "state"))
        self.config = str(project / "lambdatui.yaml")
        # Port 0: the system picks free ports, which serve prints (no port can be taken by a parallel test).
        super().__init__(["--config", self.config, "--port", "0", "--http-port", "0"], self.env)
        self.port = int(re.search(r"http://127\.0\.0\.1:(\d+)", self.wait_for("Lambda API")).group(1))
        self.http_port = int(re.search(r"http://127\.0\.0\.1:(\d+)/items", self.wait_for("HTTP ")).group(1))
        self.wait_for("Ready.")

    def send_message(self, body: str) -> None:
        done = subprocess.run([sys.executable, "-m", "lambdatui", "send-message", "work", body, "--config", self.config], env=self.env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr


def test_serve_answers_boto3_http_files_and_queues_and_keeps_queued_messages_across_a_restart(project, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "y")
    serve = Serve(project)
    try:
        client = boto3.client("lambda", region_name="us-east-1", endpoint_url=f"http://127.0.0.1:{serve.port}",
                              config=Config(retries={"total_max_attempts": 1, "mode": "standard"}))
        names = [f["FunctionName"] for f in client.list_functions()["Functions"]]
        assert sorted(names) == ["files", "jobs", "web"]
        answer = client.invoke(FunctionName="web", Payload=json.dumps({"pathParameters": {"id": "9"}}), LogType="Tail")
        assert json.loads(answer["Payload"].read())["statusCode"] == 200

        response = httpx.get(f"http://127.0.0.1:{serve.http_port}/items/42")
        assert response.status_code == 200 and response.json() == {"id": "42"}

        (project / "bucket" / "new report.csv").write_text("a,b\n")
        assert "ObjectCreated:Put new+report.csv" in serve.wait_for("S3-MARKER")

        serve.send_message("first")
        assert serve.wait_for("SQS-MARKER").endswith("SQS-MARKER first 1")
    finally:
        serve.stop()

    # Sent while serve is down: the durable queue delivers it at the next start.
    Serve.send_message(serve, "while-down")
    again = Serve(project)
    try:
        assert again.wait_for("SQS-MARKER").endswith("SQS-MARKER while-down 1")
    finally:
        again.stop()


def test_loopback_detection_for_the_bind_warning():
    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.10")
