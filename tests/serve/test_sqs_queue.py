"""The local SQS queue (SQLite) and the poller that feeds it to a function as Lambda does.

Store tests use QueueStore directly (also from other processes); poller tests run a real
LocalBackend whose handler appends every event to a file and fails, or reports failed items,
according to the message bodies."""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from polling import wait_for

from lambdatui.backends import make_backend
from lambdatui.config import parse_config
from lambdatui.triggers.sqs_queue import (
    BatchResponseError,
    QueueStore,
    SqsPoller,
    failed_item_ids,
    md5_of_message_attributes,
    normalize_attributes,
    sqs_record,
)

PY = f"python{sys.version_info[0]}.{sys.version_info[1]}"
REPO = Path(__file__).resolve().parents[2]
TEMPLATE = json.loads((REPO / "lambdatui" / "data" / "events" / "sqs.json").read_text())

CONSUMER = """
    import json, os
    def handler(event, context):
        with open(os.environ["OUT"], "a") as f:
            f.write(json.dumps(event) + "\\n")
        failures = []
        for r in event["Records"]:
            body = r["body"]
            if body.startswith("crash"):
                raise RuntimeError("cannot handle " + body)
            if body.startswith("malformed"):
                return {"batchItemFailures": [{"itemIdentifier": "not-a-message-of-this-batch"}]}
            if body.startswith("bad"):
                failures.append({"itemIdentifier": r["messageId"]})
        return {"batchItemFailures": failures}
    """


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """A backend with `consumer` (see CONSUMER) and `throttled` (reserved concurrency 0)."""
    root = tmp_path_factory.mktemp("sqs")
    code = root / "consumer"
    code.mkdir()
    (code / "app.py").write_text(textwrap.dedent(CONSUMER))
    out = root / "events.jsonl"
    config = textwrap.dedent(f"""\
        backend: local
        local:
          keep_warm_seconds: 600
          functions:
            consumer:
              runtime: {PY}
              handler: app.handler
              code: consumer
              timeout: 10
              environment: {{OUT: '{out}'}}
            throttled:
              runtime: {PY}
              handler: app.handler
              code: consumer
              reserved_concurrency: 0
              environment: {{OUT: '{out}'}}
        """)
    path = root / "lambdatui.yaml"
    path.write_text(config)
    backend = make_backend(parse_config(config, path), state_dir=root / "state", watch_code=False)
    backend.invoke("consumer", json.dumps({"Records": []}).encode())  # warm it once for every test
    yield backend, out
    backend.close()


def batches(out: Path, queue: str) -> list[list[dict]]:
    """The Records of every invocation the consumer received from `queue`, in order."""
    found = []
    if out.exists():
        for line in out.read_text().splitlines():
            records = json.loads(line)["Records"]
            if records and records[0]["eventSourceARN"].endswith(":" + queue):
                found.append(records)
    return found




@pytest.fixture
def store(tmp_path):
    s = QueueStore(tmp_path / "sqs.db")
    yield s
    s.close()


@pytest.fixture
def pollers():
    started: list[SqsPoller] = []

    def start(*args, **kwargs) -> SqsPoller:
        kwargs.setdefault("poll_interval", 0.05)
        p = SqsPoller(*args, **kwargs)
        p.start()
        started.append(p)
        return p

    yield start
    for p in started:
        p.stop()


# -- the store ---------------------------------------------------------------------------------


def test_visibility_receive_count_and_delete(store):
    ids = [store.send("q", f"m{i}") for i in range(3)]
    assert store.depth("q") == (3, 0)
    # A visibility timeout long enough that the steps below all happen within it, even under load.
    first = store.receive("q", 2, 1.0)
    assert [m.message_id for m in first] == ids[:2]
    assert all(m.receive_count == 1 for m in first)
    assert first[0].md5_of_body == hashlib.md5(b"m0").hexdigest()
    assert first[0].first_receive_timestamp >= first[0].sent_timestamp
    assert store.depth("q") == (1, 2)
    assert [m.body for m in store.receive("q", 10, 1.0)] == ["m2"]
    assert store.receive("q", 10, 1.0) == []  # all invisible
    assert store.depth("q") == (0, 3)
    wait_for(lambda: store.depth("q") == (3, 0), timeout=5)
    again = store.receive("q", 10, 5)
    assert [m.message_id for m in again] == ids
    assert [m.receive_count for m in again] == [2, 2, 2]
    assert again[0].receipt_handle != first[0].receipt_handle
    assert again[0].first_receive_timestamp == first[0].first_receive_timestamp
    assert store.delete("q", first[0].receipt_handle) is False  # a stale handle deletes nothing
    assert store.delete("q", again[0].receipt_handle) is True
    assert store.depth("q") == (0, 2)
    assert store.change_visibility("q", again[1].receipt_handle, 0)
    assert store.depth("q") == (1, 1)
    assert store.depth("other") == (0, 0)


def test_queues_are_separate_and_purge(store):
    store.send("a", "1")
    store.send("b", "2")
    assert [m.body for m in store.receive("b", 10, 30)] == ["2"]
    assert store.queues() == ["a", "b"]
    assert store.purge("a") == 1
    assert store.depth("a") == (0, 0)


def test_send_validates(store):
    with pytest.raises(ValueError):
        store.send("bad name!", "x")
    with pytest.raises(ValueError):
        store.send("q", "")
    with pytest.raises(ValueError):
        store.send("q", "x" * (1024 * 1024 + 1))
    with pytest.raises(ValueError):
        store.send("q", "nul \x00 byte")


def test_move_to_dlq(store):
    mid = store.send("q", "poison", {"priority": "high"})
    m = store.receive("q", 1, 30)[0]
    assert store.move_to_dlq("q", m.receipt_handle, "q-dlq")
    assert store.depth("q") == (0, 0)
    dead = store.receive("q-dlq", 10, 30)
    assert [(d.message_id, d.body, d.receive_count, d.sent_timestamp) for d in dead] == [(mid, "poison", 1, m.sent_timestamp)]
    assert dead[0].attributes == m.attributes


def test_durable_across_processes(tmp_path):
    db = tmp_path / "sqs.db"
    code = (
        "import sys; from pathlib import Path; from lambdatui.triggers.sqs_queue import QueueStore; "
        "print(QueueStore(Path(sys.argv[1])).send('orders', sys.argv[2], {'priority': 'high'}))"
    )
    ids = [
        subprocess.run([sys.executable, "-c", code, str(db), body], check=True, capture_output=True, text=True, cwd=REPO).stdout.strip()
        for body in ("from another process", "and another")
    ]
    with QueueStore(db) as store:
        got = store.receive("orders", 10, 30)
    assert [(m.message_id, m.body) for m in got] == list(zip(ids, ("from another process", "and another")))
    assert got[0].attributes["priority"]["stringValue"] == "high"


def test_a_process_dying_mid_batch_loses_nothing(tmp_path):
    db = tmp_path / "sqs.db"
    with QueueStore(db) as store:
        mid = store.send("jobs", "work")
    # Another process receives the message, then dies before deleting it.
    code = (
        "import os, sys; from pathlib import Path; from lambdatui.triggers.sqs_queue import QueueStore; "
        "s = QueueStore(Path(sys.argv[1])); print(len(s.receive('jobs', 10, 1.5))); sys.stdout.flush(); os._exit(9)"
    )
    proc = subprocess.run([sys.executable, "-c", code, str(db)], capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 9 and proc.stdout.strip() == "1"
    with QueueStore(db) as store:
        assert store.depth("jobs") == (0, 1)
        assert store.receive("jobs", 10, 30) == []
        back = wait_for(lambda: store.receive("jobs", 10, 30), timeout=5)
    assert [(m.message_id, m.receive_count) for m in back] == [(mid, 2)]


def test_concurrent_receivers_never_share_a_message(tmp_path):
    db = tmp_path / "sqs.db"
    with QueueStore(db) as store:
        sent = {store.send("q", str(i)) for i in range(60)}
    got: list[str] = []
    lock = threading.Lock()

    def consume():
        with QueueStore(db) as s:
            while True:
                batch = s.receive("q", 3, 30)
                if not batch:
                    return
                with lock:
                    got.extend(m.message_id for m in batch)

    threads = [threading.Thread(target=consume) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(got) == sorted(sent)


def test_record_shape_and_attribute_digest_match_sqs(store):
    store.send("orders-queue", '{"orderId":"ord-20240312-0002","total":9.99}', {"priority": "high"})
    m = store.receive("orders-queue", 1, 30)[0]
    record = sqs_record(m, queue="orders-queue", region="us-east-1", account="123456789012")
    sample = TEMPLATE["Records"][1]
    assert list(record) == list(sample)
    assert list(record["attributes"]) == list(sample["attributes"])
    assert record["messageAttributes"] == sample["messageAttributes"]
    assert record["md5OfMessageAttributes"] == sample["md5OfMessageAttributes"]  # SQS's own digest
    assert record["md5OfBody"] == sample["md5OfBody"]
    assert record["eventSourceARN"] == sample["eventSourceARN"]
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    store.send("orders-queue", "x")
    plain = sqs_record(store.receive("orders-queue", 1, 30)[0], queue="orders-queue")
    assert list(plain) == list(TEMPLATE["Records"][0])  # no md5OfMessageAttributes without attributes


def test_attribute_forms():
    attrs = normalize_attributes({
        "s": "text", "n": 3, "b": b"\x00\x01", "api": {"DataType": "Number.int", "StringValue": "7"},
    })
    assert attrs["s"]["dataType"] == "String" and attrs["n"] == {
        "stringValue": "3", "stringListValues": [], "binaryListValues": [], "dataType": "Number"
    }
    assert attrs["b"]["binaryValue"] == "AAE=" and attrs["api"]["dataType"] == "Number.int"
    assert md5_of_message_attributes({}) is None
    with pytest.raises(ValueError):
        normalize_attributes({"AWS.reserved": "x"})


def test_batch_item_failure_parsing():
    ids = {"a", "b"}
    assert failed_item_ids(None, ids, strict=True) is None
    assert failed_item_ids({}, ids, strict=True) is None
    assert failed_item_ids({"batchItemFailures": []}, ids, strict=True) == set()
    assert failed_item_ids({"batchItemFailures": None}, ids, strict=True) is None
    assert failed_item_ids({"batchItemFailures": [{"itemIdentifier": "b"}]}, ids, strict=False) == {"b"}
    assert failed_item_ids("ok", ids, strict=False) is None
    for bad in ({"batchItemFailures": [{"itemIdentifier": ""}]}, {"batchItemFailures": [{"id": "a"}]},
                {"batchItemFailures": [{"itemIdentifier": "zzz"}]}, {"batchItemFailures": "a"}):
        with pytest.raises(BatchResponseError):
            failed_item_ids(bad, ids, strict=False)
    with pytest.raises(BatchResponseError):
        failed_item_ids("ok", ids, strict=True)


# -- the poller with a real function ---------------------------------------------------------------


def test_batch_delivered_with_sqs_shape_and_deleted(env, store, pollers):
    backend, out = env
    ids = [store.send("orders", json.dumps({"n": i})) for i in range(3)]
    p = pollers(backend, "consumer", store, queue="orders", batch_size=10, region="eu-west-1", account="111122223333")
    got = wait_for(lambda: batches(out, "orders"))
    assert len(got) == 1
    records = got[0]
    assert [r["messageId"] for r in records] == ids
    for r in records:
        assert list(r) == list(TEMPLATE["Records"][0])
        assert list(r["attributes"]) == list(TEMPLATE["Records"][0]["attributes"])
        assert r["eventSource"] == "aws:sqs"
        assert r["eventSourceARN"] == "arn:aws:sqs:eu-west-1:111122223333:orders"
        assert r["awsRegion"] == "eu-west-1"
        assert r["attributes"]["ApproximateReceiveCount"] == "1"
        assert int(r["attributes"]["ApproximateFirstReceiveTimestamp"]) >= int(r["attributes"]["SentTimestamp"])
        assert r["md5OfBody"] == hashlib.md5(r["body"].encode()).hexdigest()
        assert r["messageAttributes"] == {}
    assert wait_for(lambda: store.depth("orders") == (0, 0))
    assert wait_for(lambda: p.deleted == 3) and p.failed == 0


def test_batch_size_splits_batches(env, store, pollers):
    backend, out = env
    for i in range(5):
        store.send("split", str(i))
    pollers(backend, "consumer", store, queue="split", batch_size=2)
    got = wait_for(lambda: len(batches(out, "split")) == 3 and batches(out, "split"))
    assert [[r["body"] for r in b] for b in got] == [["0", "1"], ["2", "3"], ["4"]]


def test_failing_function_leaves_messages_for_redelivery(env, store, pollers):
    backend, out = env
    mid = store.send("retry", "crash please")
    p = pollers(backend, "consumer", store, queue="retry", visibility_timeout=0.5)
    got = wait_for(lambda: len(batches(out, "retry")) >= 2 and batches(out, "retry"))
    counts = [b[0]["attributes"]["ApproximateReceiveCount"] for b in got[:2]]
    assert counts == ["1", "2"]
    assert all(b[0]["messageId"] == mid for b in got)
    p.stop()
    assert sum(store.depth("retry")) == 1  # still there
    assert p.failed >= 2 and p.deleted == 0


def test_batch_item_failures_delete_only_the_others(env, store, pollers):
    backend, out = env
    ok1 = store.send("partial", "ok-1")
    bad = store.send("partial", "bad-2")
    ok3 = store.send("partial", "ok-3")
    p = pollers(backend, "consumer", store, queue="partial", visibility_timeout=0.5)
    got = wait_for(lambda: len(batches(out, "partial")) >= 2 and batches(out, "partial"))
    assert [r["messageId"] for r in got[0]] == [ok1, bad, ok3]
    assert [(r["messageId"], r["attributes"]["ApproximateReceiveCount"]) for r in got[1]] == [(bad, "2")]
    p.stop()
    assert sum(store.depth("partial")) == 1
    assert p.deleted == 2


def test_malformed_batch_item_failures_fail_the_whole_batch(env, store, pollers):
    backend, out = env
    store.send("malformed", "ok")
    store.send("malformed", "malformed report")
    p = pollers(backend, "consumer", store, queue="malformed", visibility_timeout=0.5)
    got = wait_for(lambda: len(batches(out, "malformed")) >= 2 and batches(out, "malformed"))
    assert [len(b) for b in got[:2]] == [2, 2]
    assert [r["attributes"]["ApproximateReceiveCount"] for r in got[1]] == ["2", "2"]
    p.stop()
    assert p.deleted == 0


def test_max_receive_count_moves_to_dead_letter_queue(env, store, pollers):
    backend, out = env
    mid = store.send("poison", "crash always")
    ok = store.send("poison", "fine")  # delivered in the same batches; fails with them
    p = pollers(
        backend, "consumer", store, queue="poison", visibility_timeout=0.3, max_receive_count=2,
        dead_letter_queue="poison-dlq",
    )
    assert wait_for(lambda: store.depth("poison-dlq")[0] == 2)
    p.stop()
    got = batches(out, "poison")
    assert len(got) == 2  # delivered max_receive_count times, never a third
    assert store.depth("poison") == (0, 0)
    dead = store.receive("poison-dlq", 10, 30)
    assert sorted(m.message_id for m in dead) == sorted([mid, ok])
    assert p.dead_lettered == 2


def test_max_receive_count_without_a_named_dlq_uses_queue_dlq(env, store, pollers):
    backend, _ = env
    store.send("lonely", "crash")
    p = pollers(backend, "consumer", store, queue="lonely", visibility_timeout=0.2, max_receive_count=1)
    assert p.dead_letter_queue == "lonely-dlq"
    assert wait_for(lambda: store.depth("lonely-dlq")[0] == 1)


def test_message_sent_while_no_poller_runs_is_delivered_when_one_starts(env, tmp_path, pollers):
    backend, out = env
    db = tmp_path / "durable.db"
    with QueueStore(db) as sender:
        mid = sender.send("later", "sent while serve was down")
    store = QueueStore(db)
    try:
        pollers(backend, "consumer", store, queue="later")
        got = wait_for(lambda: batches(out, "later"))
        assert [r["messageId"] for r in got[0]] == [mid]
        assert wait_for(lambda: store.depth("later") == (0, 0))
    finally:
        store.close()


def test_throttled_invocations_leave_the_messages(env, store, pollers):
    backend, _ = env
    store.send("throttle", "x")
    p = pollers(backend, "throttled", store, queue="throttle", visibility_timeout=0.3)
    assert wait_for(lambda: p.failed >= 2)
    p.stop()
    assert sum(store.depth("throttle")) == 1 and p.deleted == 0


def test_batching_window_fills_a_batch(env, store, pollers):
    backend, out = env
    store.send("window", "first")
    pollers(backend, "consumer", store, queue="window", batch_size=3, maximum_batching_window=1.5)
    time.sleep(0.2)
    store.send("window", "second")
    store.send("window", "third")
    got = wait_for(lambda: batches(out, "window"))
    assert [[r["body"] for r in b] for b in got] == [["first", "second", "third"]]


def test_send_message_command(capsys, tmp_path, monkeypatch):
    from lambdatui.cli.send_message import queue_db_path, run_send_message

    monkeypatch.chdir(tmp_path)
    assert queue_db_path() == tmp_path / "state" / "sqs.db"  # $LAMBDATUI_STATE_DIR, set by conftest
    assert run_send_message(argparse.Namespace(queue="cli-queue", body="hello from the CLI", config=None)) == 0
    message_id = capsys.readouterr().out.strip()
    with QueueStore(queue_db_path()) as store:
        got = store.receive("cli-queue", 10, 30)
    assert [(m.message_id, m.body) for m in got] == [(message_id, "hello from the CLI")]


def test_send_message_rejects_a_bad_queue_name():
    from lambdatui.cli.main import UsageError
    from lambdatui.cli.send_message import run_send_message

    with pytest.raises(UsageError):
        run_send_message(argparse.Namespace(queue="no spaces", body="x", config=None))
