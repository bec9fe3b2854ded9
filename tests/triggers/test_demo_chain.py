"""The sample's demo of the lesson's chain (lambdatui/sample/aws-services-demo.yaml), with its own
handlers and triggers, against a real moto server on loopback and a real `ServeRunner`: an upload
to a bucket → demo-write-item writes an item → demo-log-change logs the stream's INSERT.

The services' part of lambdatui starts the services from the seed and gives functions the
endpoint's environment; here the test does both: the seed's bucket and table are made with boto3,
and each function gets AWS_ENDPOINT_URL and an AWS_CONFIG_FILE of dummy keys (Lambda reserves
the credential variables themselves)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import yaml
from polling import wait_for

from lambdatui.config import load_config
from lambdatui.serve.runner import ServeRunner

from .ddb_support import Handle, ServicesEndpoint

SAMPLE = Path(__file__).resolve().parents[2] / "lambdatui" / "sample"


def test_an_upload_becomes_an_item_whose_insert_the_stream_function_logs(aws_env, tmp_path):
    endpoint = ServicesEndpoint(aws_env.endpoint)
    seed = yaml.safe_load((SAMPLE / "aws-services-seed.yaml").read_text())
    ddb = endpoint.client("dynamodb")
    for t in seed["tables"]:
        (key, kind), = t["key"].items()
        ddb.create_table(
            TableName=t["name"], KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": key, "AttributeType": kind}], BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": t["stream"]},
        )
    for b in seed["buckets"]:
        endpoint.client("s3").create_bucket(Bucket=b["name"])

    project = tmp_path / "sample"
    shutil.copytree(SAMPLE, project)
    (project / "aws.cfg").write_text("[default]\naws_access_key_id = testing\naws_secret_access_key = testing\n")
    env = json.dumps({"AWS_ENDPOINT_URL": endpoint.url, "AWS_CONFIG_FILE": str(project / "aws.cfg")})
    text = (project / "aws-services-demo.yaml").read_text()
    text = re.sub(r"\n  aws_services: .*\n", "\n", text)  # the services' part reads this key; here the test is the services
    text = re.sub(r"(\n      code: examples/demo_chain\n)", rf"\1      environment: {env}\n", text)
    text = text.replace("runtime: python3.12", f"runtime: python3.{__import__('sys').version_info[1]}")
    (project / "demo.yaml").write_text(text)

    runner = ServeRunner(load_config(project / "demo.yaml"), port=0, http_port=0, state_dir=tmp_path / "state", aws_services_handle=Handle(endpoint))
    runner.start()
    try:
        notifications = [r for f, t, r in runner._triggers if f == "demo-write-item"][0]
        stream = [r for f, t, r in runner._triggers if f == "demo-log-change"][0]
        wait_for(lambda: notifications._url is not None and stream.stream_arn is not None
                 and all(s.iterator for s in stream._shards.values()) and stream._shards, timeout=30)
        result = runner.backend.invoke("demo-upload", json.dumps({"key": "orders/first.json"}).encode())
        assert not result.function_error, result.payload
        wait_for(lambda: stream.delivered == 1, timeout=60)
        item = ddb.get_item(TableName="demo-orders", Key={"pk": {"S": "orders/first.json"}})["Item"]
        assert item["size"] == {"N": str(len(json.dumps({"item": "coffee", "quantity": 2})))}
        lines = [e.message for e in runner.backend.logs.events("demo-log-change")]
        assert any("INSERT orders/first.json:" in line for line in lines), lines
    finally:
        runner.stop()
