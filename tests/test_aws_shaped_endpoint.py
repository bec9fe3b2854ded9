"""The AWS-shaped test endpoint answers boto3 over real HTTP (paging by NextMarker, JSON-protocol
targets, non-JSON error bodies) and the stalled server times a client out."""

from __future__ import annotations

import boto3
import botocore.exceptions
import pytest
from aws_shaped import Answer, AwsShapedServer, StalledServer
from botocore.config import Config


@pytest.fixture
def shaped():
    server = AwsShapedServer()
    yield server
    server.stop()


def _client(service, endpoint, **config):
    return boto3.client(
        service, region_name="us-east-1", endpoint_url=endpoint, aws_access_key_id="k", aws_secret_access_key="s",
        config=Config(retries={"max_attempts": 1, "mode": "standard"}, **config),
    )


def test_boto3_pages_list_functions_by_next_marker(shaped):
    def page(req):
        start = int(req.query.get("Marker") or 0)
        functions = [{"FunctionName": f"fn-{i}"} for i in range(start, min(start + 50, 120))]
        return Answer(200, {"Functions": functions, **({"NextMarker": str(start + 50)} if start + 50 < 120 else {})})

    shaped.on("GET", "/2015-03-31/functions/", page)
    names = [f["FunctionName"] for p in _client("lambda", shaped.endpoint).get_paginator("list_functions").paginate() for f in p["Functions"]]
    assert names == [f"fn-{i}" for i in range(120)]
    assert len(shaped.seen(path="/2015-03-31/functions/")) == 3


def test_json_protocol_target_and_an_unregistered_operation(shaped):
    shaped.on_target("Logs_20140328.DescribeLogGroups", lambda req: Answer(200, {"logGroups": [{"logGroupName": req.json()["logGroupNamePrefix"]}]}))
    logs = _client("logs", shaped.endpoint)
    assert logs.describe_log_groups(logGroupNamePrefix="/aws/lambda/x")["logGroups"] == [{"logGroupName": "/aws/lambda/x"}]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        logs.describe_log_streams(logGroupName="g")
    assert "nothing registered for Logs_20140328.DescribeLogStreams" in str(e.value)


def test_an_html_error_body_reaches_botocore_as_a_status(shaped):
    shaped.on("GET", "/2015-03-31/functions/", lambda req: Answer(500, "<html><body><h1>502 Bad Gateway</h1></body></html>", content_type="text/html"))
    with pytest.raises(botocore.exceptions.ClientError) as e:
        _client("lambda", shaped.endpoint).list_functions()
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500


def test_the_stalled_server_times_a_client_out():
    stalled = StalledServer()
    try:
        with pytest.raises(botocore.exceptions.ReadTimeoutError):
            _client("lambda", stalled.endpoint, read_timeout=0.5, connect_timeout=0.5).list_functions()
    finally:
        stalled.stop()
