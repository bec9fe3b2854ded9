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


@pytest.mark.parametrize(("view", "modify_has", "remove_has"), [
    ("NEW_AND_OLD_IMAGES", {"NewImage", "OldImage"}, {"OldImage"}),
    ("NEW_IMAGE", {"NewImage"}, set()),
    ("OLD_IMAGE", {"OldImage"}, {"OldImage"}),
    ("KEYS_ONLY", set(), set()),
])
def test_modify_and_remove_carry_the_images_the_stream_view_type_gives(project, endpoint, view, modify_has, remove_has):
    create_table(endpoint, "items", view)
    p = project("- {type: dynamodb, table: items, starting_position: TRIM_HORIZON}\n")
    p.start()
    put(endpoint, "items", "a", colour="red")
    put(endpoint, "items", "a", colour="blue")
    endpoint.client("dynamodb").delete_item(TableName="items", Key={"pk": {"S": "a"}})
    records = wait_for(lambda: len(p.records()) >= 3 and p.records(), timeout=30)
    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY", "REMOVE"]
    modify, remove = records[1]["dynamodb"], records[2]["dynamodb"]
    assert {"NewImage", "OldImage"} & set(modify) == modify_has
    assert {"NewImage", "OldImage"} & set(remove) == remove_has
    assert modify["StreamViewType"] == view and modify["Keys"] == {"pk": {"S": "a"}}
    if "OldImage" in modify_has:
        assert modify["OldImage"]["colour"] == {"S": "red"}
    if "NewImage" in modify_has:
        assert modify["NewImage"]["colour"] == {"S": "blue"}
    if "OldImage" in remove_has:
        assert remove["OldImage"]["colour"] == {"S": "blue"}


def test_a_batch_item_failure_is_retried_from_that_item(project, endpoint, tmp_path):
    create_table(endpoint, "orders")
    for pk, fail in [("a", ""), ("b", "item"), ("c", "")]:
        put(endpoint, "orders", pk, **({"fail": fail} if fail else {}))
    p = project("- {type: dynamodb, table: orders, starting_position: TRIM_HORIZON, batch_size: 10}\n")
    p.start()
    # The first batch is a, b, c; b is reported failed, so a is done and b, c come again (b fails
    # again until the function is healed, then b, c succeed).
    wait_for(lambda: len(p.events()) >= 3, timeout=30)
    (p.out.parent / (p.out.name + ".heal")).write_text("")
    wait_for(lambda: p.poller().delivered == 3, timeout=30)
    keys = [[r["dynamodb"]["Keys"]["pk"]["S"] for r in e["Records"]] for e in p.events()]
    assert keys[0] == ["a", "b", "c"]
    assert all(k == ["b", "c"] for k in keys[1:]), keys
    assert p.poller().skipped == 0


def test_a_function_error_is_retried_then_given_up_after_maximum_retry_attempts_to_on_failure(project, endpoint):
    stream_arn = create_table(endpoint, "orders")
    put(endpoint, "orders", "bad", fail="crash")
    put(endpoint, "orders", "good")
    p = project("- {type: dynamodb, table: orders, starting_position: TRIM_HORIZON, batch_size: 1, maximum_retry_attempts: 2, on_failure: failed-orders}\n")
    p.start()
    wait_for(lambda: p.poller().delivered == 1, timeout=30)
    keys = [e["Records"][0]["dynamodb"]["Keys"]["pk"]["S"] for e in p.events()]
    assert keys == ["bad", "bad", "bad", "good"]  # the first try and 2 retries, then the next record
    sqs = endpoint.client("sqs")
    url = sqs.get_queue_url(QueueName="failed-orders")["QueueUrl"]
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert len(messages) == 1
    body = json.loads(messages[0]["Body"])
    assert body["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert body["requestContext"]["approximateInvokeCount"] == 3
    assert body["requestContext"]["functionArn"].endswith(":function:rec")
    assert body["responseContext"]["functionError"] == "Unhandled"
    info = body["DDBStreamBatchInfo"]
    assert info["streamArn"] == stream_arn and info["batchSize"] == 1
    assert info["startSequenceNumber"] == info["endSequenceNumber"] == p.records()[0]["dynamodb"]["SequenceNumber"]
    assert any("gave up on 1 record" in line and "failed-orders" in line for line in p.log_lines())


def test_bisect_splits_a_failing_batch_and_delivers_the_good_half(project, endpoint):
    create_table(endpoint, "orders")
    for pk in ("a", "b", "c", "d"):
        put(endpoint, "orders", pk, **({"fail": "crash"} if pk == "d" else {}))
    p = project("- {type: dynamodb, table: orders, starting_position: TRIM_HORIZON, bisect_batch_on_function_error: true, maximum_retry_attempts: 0}\n")
    p.start()
    wait_for(lambda: p.poller().skipped == 1, timeout=30)
    keys = [[r["dynamodb"]["Keys"]["pk"]["S"] for r in e["Records"]] for e in p.events()]
    # a b c d fails → a b (ok), c d fails → c (ok), d fails and is given up (no retries).
    assert keys == [["a", "b", "c", "d"], ["a", "b"], ["c", "d"], ["c"], ["d"]]
    assert p.poller().delivered == 3


def test_filter_patterns_drop_records_that_match_none(project, endpoint):
    create_table(endpoint, "orders")
    p = project("""\
        - type: dynamodb
          table: orders
          starting_position: TRIM_HORIZON
          filter_patterns:
            - {eventName: [INSERT], dynamodb: {NewImage: {status: {S: [paid]}}}}
            - {eventName: [REMOVE]}
        """)
    p.start()
    put(endpoint, "orders", "a", status="new")
    put(endpoint, "orders", "b", status="paid")
    put(endpoint, "orders", "b", status="shipped")  # a MODIFY: matches neither
    endpoint.client("dynamodb").delete_item(TableName="orders", Key={"pk": {"S": "a"}})
    put(endpoint, "orders", "z", status="new")
    wait_for(lambda: p.poller().filtered == 3 and p.poller().delivered == 2, timeout=30)
    got = [(r["eventName"], r["dynamodb"]["Keys"]["pk"]["S"]) for r in p.records()]
    assert got == [("INSERT", "b"), ("REMOVE", "a")]
    # The position moves past the dropped records too (z's INSERT is the stream's last record).
    last = str(int(p.records()[-1]["dynamodb"]["SequenceNumber"]) + 1)
    wait_for(lambda: p.poller().position == last, timeout=30)
    assert p.poller().checkpoints.get(p.poller().stream_arn, next(iter(p.poller()._shards))) == last


def test_trim_horizon_reads_what_was_written_before_the_start_and_latest_does_not(project, endpoint):
    create_table(endpoint, "orders")
    put(endpoint, "orders", "before")
    old = project("- {type: dynamodb, table: orders, starting_position: TRIM_HORIZON}\n")
    new = project("- {type: dynamodb, table: orders, starting_position: LATEST}\n")
    old.start()
    new.start()
    wait_for(lambda: old.poller().delivered == 1, timeout=30)
    wait_for(lambda: new.poller().stream_arn is not None and new.poller()._shards and all(s.iterator for s in new.poller()._shards.values()), timeout=30)
    put(endpoint, "orders", "after")
    wait_for(lambda: old.poller().delivered == 2 and new.poller().delivered == 1, timeout=30)
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in old.records()] == ["before", "after"]
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in new.records()] == ["after"]


def test_the_checkpoint_survives_a_restart_of_serve(project, endpoint):
    create_table(endpoint, "orders")
    p = project("- {type: dynamodb, table: orders, starting_position: TRIM_HORIZON}\n")
    p.start()
    put(endpoint, "orders", "a")
    put(endpoint, "orders", "b")
    wait_for(lambda: p.poller().delivered == 2, timeout=30)
    p.stop()
    put(endpoint, "orders", "c")  # written while serve is down
    p.start()
    wait_for(lambda: p.poller().delivered == 1, timeout=30)
    put(endpoint, "orders", "d")
    wait_for(lambda: p.poller().delivered == 2, timeout=30)
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in p.records()] == ["a", "b", "c", "d"]  # nothing again, nothing lost
    files = list((p.root / "state" / "dynamodb-streams").glob("*.json"))
    assert [f.name for f in files] == ["rec--orders.json"]


def test_a_missing_table_is_told_once_in_the_functions_log_and_again_when_it_is_there(project, endpoint):
    p = project("- {type: dynamodb, table: later, starting_position: TRIM_HORIZON}\n")
    p.start()
    wait_for(lambda: any("does not exist" in line for line in p.log_lines()), timeout=30)
    import time

    time.sleep(1.0)  # four polls at least: still one line
    assert sum("does not exist" in line for line in p.log_lines()) == 1
    assert "failing: table later does not exist" in p.runner.describe()[-1]
    create_table(endpoint, "later")
    put(endpoint, "later", "x")
    wait_for(lambda: p.poller().delivered == 1, timeout=30)
    assert sum("reading the stream again" in line for line in p.log_lines()) == 1
