"""The DynamoDB stream trigger, end to end: a table in a real moto server on loopback, a real
`ServeRunner` and executor, and a handler that records every event it gets (ddb_support.RECORDER)."""

from __future__ import annotations

import json

import pytest
from polling import wait_for

from .ddb_support import Project, ServicesEndpoint, create_table


@pytest.fixture
def endpoint(aws_env):
    return ServicesEndpoint(aws_env.endpoint)


@pytest.fixture
def project(tmp_path, endpoint):
    made: list[Project] = []

    def make(triggers: str, **kw) -> Project:
        p = Project(tmp_path / f"p{len(made)}", endpoint, triggers, **kw)
        made.append(p)
        return p

    yield make
    for p in made:
        p.stop()


def put(endpoint, table, pk, **attrs):
    item = {"pk": {"S": pk}, **{k: {"S": v} for k, v in attrs.items()}}
    endpoint.client("dynamodb").put_item(TableName=table, Item=item)


def test_five_writes_are_five_insert_records_in_order_with_aws_shape(project, endpoint):
    stream_arn = create_table(endpoint, "orders")
    p = project("- {type: dynamodb, table: orders, starting_position: TRIM_HORIZON}\n")
    p.start()
    for i in range(5):
        put(endpoint, "orders", f"o{i}", status="new")
    records = wait_for(lambda: len(p.records()) >= 5 and p.records(), timeout=30)
    assert [r["dynamodb"]["Keys"] for r in records] == [{"pk": {"S": f"o{i}"}} for i in range(5)]
    assert [r["eventName"] for r in records] == ["INSERT"] * 5
    seqs = [int(r["dynamodb"]["SequenceNumber"]) for r in records]
    assert seqs == sorted(seqs) and len(set(seqs)) == 5
    r = records[0]
    assert list(r) == ["eventID", "eventName", "eventVersion", "eventSource", "awsRegion", "dynamodb", "eventSourceARN"]
    assert (r["eventVersion"], r["eventSource"], r["awsRegion"]) == ("1.1", "aws:dynamodb", "us-east-1")
    assert r["eventSourceARN"] == stream_arn  # the stream's ARN, not the table's
    assert r["dynamodb"]["NewImage"] == {"pk": {"S": "o0"}, "status": {"S": "new"}}
    assert "OldImage" not in r["dynamodb"]
    assert r["dynamodb"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert isinstance(r["dynamodb"]["ApproximateCreationDateTime"], int)
    assert isinstance(r["dynamodb"]["SizeBytes"], int) and r["dynamodb"]["SizeBytes"] > 0
    wait_for(lambda: p.poller().delivered == 5)
    line = p.runner.describe()[-1]
    assert "stream of table orders → rec (5 records delivered, at " in line
    assert line.endswith(f"{seqs[-1]})")
