"""The embedded AWS services as the triggers see them, for these tests: a stand-in for
`lambdatui.aws_services.ServicesEndpoint` (the same fields and methods) over the session's real
moto server on loopback, and a project of functions run by a real `ServeRunner`.

Handlers that call the services get its URL as $SERVICES_URL and make boto3 clients with it and
dummy keys (once the services' part of lambdatui is on, it injects AWS_ENDPOINT_URL and
credentials into every function, which Lambda's reserved names keep out of `environment`)."""

from __future__ import annotations

import json
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

from lambdatui.config import load_config
from lambdatui.serve.runner import ServeRunner

PY = f"python{sys.version_info[0]}.{sys.version_info[1]}"
REGION = "us-east-1"


@dataclass(frozen=True)
class ServicesEndpoint:
    url: str
    region: str = REGION
    access_key_id: str = "testing"
    secret_access_key: str = "testing"

    def client(self, service: str, **kw: Any) -> Any:
        kw.setdefault("region_name", self.region)
        return boto3.client(
            service, endpoint_url=self.url, aws_access_key_id=self.access_key_id,
            aws_secret_access_key=self.secret_access_key, **kw,
        )

    def function_env(self) -> dict[str, str]:
        return {
            "AWS_ENDPOINT_URL": self.url, "AWS_ACCESS_KEY_ID": self.access_key_id,
            "AWS_SECRET_ACCESS_KEY": self.secret_access_key, "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
        }


@dataclass(frozen=True)
class Handle:
    """What `serve` reads of an `EmbeddedServices`: its endpoint, and whether this process started it."""

    endpoint: ServicesEndpoint
    owner: bool = True


# Appends every event to $OUT (one JSON line each) and answers as the records ask: a NewImage with
# `fail: item` is reported as a batch item failure, `fail: crash` raises.
RECORDER = """
import json, os

def handler(event, context):
    with open(os.environ["OUT"], "a") as f:
        f.write(json.dumps(event) + "\\n")
    failures = []
    for r in event.get("Records", []):
        image = (r.get("dynamodb") or {}).get("NewImage") or {}
        fail = (image.get("fail") or {}).get("S")
        if fail == "crash":
            raise RuntimeError("cannot handle " + r["dynamodb"]["SequenceNumber"])
        if fail == "item" and not os.path.exists(os.environ["OUT"] + ".heal"):
            failures.append({"itemIdentifier": r["dynamodb"]["SequenceNumber"]})
    return {"batchItemFailures": failures}
"""


def create_table(endpoint: ServicesEndpoint, name: str, view: str = "NEW_AND_OLD_IMAGES") -> str:
    ddb = endpoint.client("dynamodb")
    ddb.create_table(
        TableName=name, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": view},
    )
    return str(ddb.describe_table(TableName=name)["Table"]["LatestStreamArn"])


class Project:
    """A config with function `rec` (RECORDER) and whatever the test adds, served for real."""

    def __init__(self, root: Path, endpoint: ServicesEndpoint | None, triggers: str, extra_functions: str = "") -> None:
        self.root = root
        self.endpoint = endpoint
        self.out = root / "events.jsonl"
        (root / "code").mkdir(parents=True, exist_ok=True)
        (root / "code" / "app.py").write_text(textwrap.dedent(RECORDER))
        # The endpoint's URL only: Lambda reserves the credential variables (the services' part of
        # lambdatui injects them itself); handlers here pass dummy keys to boto3.
        env = {"OUT": str(self.out), **({"SERVICES_URL": endpoint.url} if endpoint else {})}
        config = textwrap.dedent("""\
            backend: local
            local:
              keep_warm_seconds: 600
              functions:
                rec:
                  runtime: {py}
                  handler: app.handler
                  code: code
                  timeout: 20
                  environment: {env}
                  triggers:
            """).format(py=PY, env=json.dumps(env))
        config += textwrap.indent(textwrap.dedent(triggers), " " * 8)
        if extra_functions:
            config += textwrap.indent(textwrap.dedent(extra_functions).replace("ENV", json.dumps(env)), " " * 4)
        self.config_path = root / "lambdatui.yaml"
        self.config_path.write_text(config)
        self.runner: ServeRunner | None = None

    def start(self) -> ServeRunner:
        handle = Handle(self.endpoint) if self.endpoint else None
        self.runner = ServeRunner(load_config(self.config_path), port=0, http_port=0, state_dir=self.root / "state", aws_services_handle=handle)
        self.runner.start()
        return self.runner

    def stop(self) -> None:
        if self.runner is not None:
            self.runner.stop()
            self.runner = None

    def events(self) -> list[dict[str, Any]]:
        if not self.out.exists():
            return []
        return [json.loads(line) for line in self.out.read_text().splitlines() if line.strip()]

    def records(self) -> list[dict[str, Any]]:
        return [r for e in self.events() for r in e.get("Records", [])]

    def poller(self, index: int = 0) -> Any:
        assert self.runner is not None
        return [r for _, _, r in self.runner._triggers][index]

    def log_lines(self, function: str = "rec") -> list[str]:
        assert self.runner is not None and self.runner.backend is not None
        return [e.message for e in self.runner.backend.logs.events(function, log_stream="lambdatui/triggers")]
