"""Asynchronous invocation with a real LocalBackend and a real store: request ids, retries, event
age, the on-failure record, leases, and a large backlog. Subprocess tests (kill -9, two processes,
a clean stop of `lambdatui serve`) are in test_async_durability.py."""

from __future__ import annotations

import json
import logging
import re
import time

import pytest
from polling import wait_for

from lambdatui.backends import make_backend
from lambdatui.config import load_config
from lambdatui.serve.async_invoke import (
    DEFAULT_THROTTLE_BACKOFF,
    AsyncInvoker,
    QueueFullError,
    pending_counts,
    retry_delay,
    throttle_delay,
)
from lambdatui.serve.async_store import AsyncEventStore
from lambdatui.triggers.sqs_queue import QueueStore

from .async_project import attempts, completed, write_project

ACCOUNT = "123456789012"


@pytest.fixture
def project(tmp_path):
    """make(functions) -> (backend, state dir), the backend closed at the end."""
    made: list = []

    def make(functions: dict[str, str]):
        config = load_config(write_project(tmp_path, functions))
        backend = make_backend(config, state_dir=tmp_path / "state")
        made.append(backend)
        return backend, tmp_path / "state"

    yield make
    for backend in made:
        backend.close()


@pytest.fixture
def invokers():
    """start(backend, state, **options): a started AsyncInvoker on `state`/async.db, stopped at the end."""
    started: list[AsyncInvoker] = []

    def start(backend, state, **options) -> AsyncInvoker:
        options.setdefault("retry_delays", (0.05, 0.05))
        inv = AsyncInvoker(backend, state / "async.db", **options).start()
        started.append(inv)
        return inv

    yield start
    for inv in reversed(started):
        inv.stop(timeout=2)


def failure_records(state, queue="failures") -> list[dict]:
    with QueueStore(state / "sqs.db") as store:
        return [json.loads(m.body) for m in store.receive(queue, 10)]


# -- one request id, every attempt -------------------------------------------------------------


def test_a_retried_event_keeps_the_request_id_submit_returned_on_every_attempt(project, invokers, tmp_path):
    # AWS: the 202's x-amzn-RequestId is the aws_request_id the function sees, on every retry attempt.
    backend, state = project({"rec": ""})
    inv = invokers(backend, state)
    request_id = inv.submit("rec", json.dumps({"fail": "once"}).encode())

    assert inv.wait_idle(30)
    seen = attempts(tmp_path, "rec")
    assert [a["id"] for a in seen] == [request_id, request_id]
    assert [a["id"] for a in completed(tmp_path, "rec")] == [request_id]
    # The START and END lines of both attempts carry it too.
    lines = [e.message for e in backend.logs.events("rec")]
    assert sum(line.startswith(f"START RequestId: {request_id}") for line in lines) == 2
    assert sum(line.startswith(f"END RequestId: {request_id}") for line in lines) == 2
    assert (inv.succeeded, inv.failed) == (1, [])


def test_qualifier_and_client_context_reach_the_function(project, invokers, tmp_path):
    backend, state = project({"rec": ""})
    inv = invokers(backend, state)
    request_id = inv.submit("rec", b"{}", qualifier="$LATEST", client_context={"custom": {"tenant": "t-1"}})

    assert inv.wait_idle(30)
    (seen,) = attempts(tmp_path, "rec")
    assert seen["id"] == request_id
    assert seen["arn"] == f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:rec:$LATEST"
    assert seen["custom"] == {"tenant": "t-1"}


# -- retries and the on-failure record --------------------------------------------------------


def test_function_errors_are_retried_twice_by_default_then_the_record_goes_to_on_failure(project, invokers, tmp_path):
    # AWS: MaximumRetryAttempts defaults to 2, so three attempts; the record's shape is the one in
    # "Capturing records of Lambda asynchronous invocations".
    backend, state = project({"rec": "async: {on_failure: failures}"})
    inv = invokers(backend, state)
    request_id = inv.submit("rec", json.dumps({"fail": "always", "n": 7}).encode())

    assert inv.wait_idle(30)
    assert [a["id"] for a in attempts(tmp_path, "rec")] == [request_id] * 3
    (record,) = failure_records(state)
    assert set(record) == {"version", "timestamp", "requestContext", "requestPayload", "responseContext", "responsePayload"}
    assert record["version"] == "1.0"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", record["timestamp"])
    assert record["requestContext"] == {
        "requestId": request_id,
        "functionArn": f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:rec:$LATEST",
        "condition": "RetriesExhausted",
        "approximateInvokeCount": 3,
    }
    assert record["requestPayload"] == {"fail": "always", "n": 7}
    assert record["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"}
    assert record["responsePayload"]["errorType"] == "ValueError"
    assert record["responsePayload"]["errorMessage"] == "always fails"
    assert inv.failed == [(request_id, "rec", "ValueError")]


def test_maximum_retry_attempts_0_runs_once_then_on_failure(project, invokers, tmp_path):
    backend, state = project({"rec": "async: {maximum_retry_attempts: 0, on_failure: failures}"})
    inv = invokers(backend, state)
    request_id = inv.submit("rec", json.dumps({"fail": "always"}).encode())

    assert inv.wait_idle(30)
    assert [a["id"] for a in attempts(tmp_path, "rec")] == [request_id]
    (record,) = failure_records(state)
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 1


def test_maximum_retry_attempts_1_runs_twice(project, invokers, tmp_path):
    backend, state = project({"rec": "async: {maximum_retry_attempts: 1, on_failure: failures}"})
    inv = invokers(backend, state)
    inv.submit("rec", json.dumps({"fail": "always"}).encode())

    assert inv.wait_idle(30)
    assert len(attempts(tmp_path, "rec")) == 2
    assert failure_records(state)[0]["requestContext"]["approximateInvokeCount"] == 2


def test_without_a_destination_a_failed_event_is_dropped_with_a_log_line(project, invokers, tmp_path, caplog):
    backend, state = project({"rec": "async: {maximum_retry_attempts: 0}"})
    inv = invokers(backend, state)
    with caplog.at_level(logging.WARNING, logger="lambdatui.serve"):
        request_id = inv.submit("rec", json.dumps({"fail": "always"}).encode())
        assert inv.wait_idle(30)
    assert inv.pending() == 0
    assert any(request_id in r.getMessage() and "no on_failure destination" in r.getMessage() for r in caplog.records)
    assert not (state / "sqs.db").exists()  # nothing was sent anywhere


def test_an_event_past_its_maximum_age_is_not_run_and_goes_to_on_failure(project, invokers, tmp_path):
    # AWS: MaximumEventAgeInSeconds (60–21600); an older event is discarded or sent to the
    # destination with condition EventAgeExceeded. Here it waited in the store while serve was down.
    backend, state = project({"rec": "async: {maximum_event_age_seconds: 60, on_failure: failures}"})
    with AsyncEventStore(state / "async.db") as store:
        request_id = store.add("rec", b'{"old": true}', received_at=time.time() - 61)
    inv = invokers(backend, state)

    assert inv.wait_idle(30)
    assert attempts(tmp_path, "rec") == []
    (record,) = failure_records(state)
    assert record["requestContext"]["requestId"] == request_id
    assert record["requestContext"]["condition"] == "EventAgeExceeded"
    assert record["requestContext"]["approximateInvokeCount"] == 0
    assert record["requestPayload"] == {"old": True}
    assert "responseContext" not in record  # it never reached the function


def test_a_retry_due_after_the_maximum_age_ends_as_event_age_exceeded_at_that_age(project, invokers, tmp_path):
    # The first attempt fails with 1 s of the event's minute left; its retry would be 30 s later,
    # past the age: the event is given up when it reaches its maximum age, with the failed
    # attempt's response in the record.
    backend, state = project({"rec": "async: {maximum_event_age_seconds: 60, on_failure: failures}"})
    with AsyncEventStore(state / "async.db") as store:
        request_id = store.add("rec", b'{"fail": "always"}', received_at=time.time() - 59)
    inv = invokers(backend, state, retry_delays=(30.0, 30.0))

    assert inv.wait_idle(20)
    assert [a["id"] for a in attempts(tmp_path, "rec")] == [request_id]
    (record,) = failure_records(state)
    assert record["requestContext"]["condition"] == "EventAgeExceeded"
    assert record["requestContext"]["approximateInvokeCount"] == 1
    assert record["responseContext"]["functionError"] == "Unhandled"
    assert record["responsePayload"]["errorType"] == "ValueError"


def test_throttled_events_are_kept_with_back_off_and_not_counted_as_attempts(project, invokers, tmp_path):
    # AWS: throttles (429) and system errors return the event to the queue, retried with
    # exponential back-off until the maximum age; they are not function-error retries.
    backend, state = project({"rec": "reserved_concurrency: 0, async: {maximum_event_age_seconds: 60, on_failure: failures}"})
    inv = invokers(backend, state, throttle_backoff=(0.02, 0.1))
    request_id = inv.submit("rec", b"{}")

    stored = wait_for(lambda: (e := inv.store.get(request_id)) is not None and e.throttles >= 5 and e)
    assert stored.attempts == 0 and stored.last_error_type == "TooManyRequestsException"
    assert failure_records(state) == [] and attempts(tmp_path, "rec") == []


def test_a_throttled_event_that_ages_out_goes_to_on_failure(project, invokers, tmp_path):
    backend, state = project({"rec": "reserved_concurrency: 0, async: {maximum_event_age_seconds: 60, on_failure: failures}"})
    with AsyncEventStore(state / "async.db") as store:
        request_id = store.add("rec", b"{}", received_at=time.time() - 59.5)
    inv = invokers(backend, state, throttle_backoff=(0.05, 0.2))

    assert inv.wait_idle(20)
    (record,) = failure_records(state)
    assert record["requestContext"]["requestId"] == request_id
    assert record["requestContext"]["condition"] == "EventAgeExceeded"
    assert record["requestContext"]["approximateInvokeCount"] == 0
    assert inv.failed == [(request_id, "rec", "TooManyRequestsException")]


def test_back_off_figures_follow_lambda():
    # Function errors: about 1 minute before the 2nd attempt, 2 minutes before the 3rd.
    assert [retry_delay(n, (60.0, 120.0)) for n in (1, 2)] == [60.0, 120.0]
    assert retry_delay(3, (60.0, 120.0)) == 120.0  # more retries than delays: the last one again
    assert retry_delay(1, ()) == 0.0
    # Throttles and system errors: from 1 s, doubling, at most 5 minutes.
    assert DEFAULT_THROTTLE_BACKOFF == (1.0, 300.0)
    assert [throttle_delay(n, DEFAULT_THROTTLE_BACKOFF) for n in range(1, 12)] == [
        1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300,
    ]
    assert throttle_delay(10_000, DEFAULT_THROTTLE_BACKOFF) == 300  # no overflow however long it was throttled


def test_an_event_for_a_function_that_no_longer_exists_is_dropped_without_retry(project, invokers, caplog):
    backend, state = project({"rec": "async: {on_failure: failures}"})
    inv = invokers(backend, state)
    with caplog.at_level(logging.WARNING, logger="lambdatui.serve"):
        request_id = inv.submit("removed", b"{}")
        assert inv.wait_idle(10)
    assert inv.failed == [(request_id, "removed", "ResourceNotFoundException")]
    assert any("no longer exists" in r.getMessage() for r in caplog.records)


# -- a large backlog ---------------------------------------------------------------------------


def test_10000_events_are_accepted_and_stored_while_the_function_is_blocked(project, invokers, tmp_path):
    backend, state = project({"rec": ""})
    release = tmp_path / "release"
    inv = invokers(backend, state, workers=1)
    blocker = inv.submit("rec", json.dumps({"wait_for": str(release)}).encode())
    wait_for(lambda: attempts(tmp_path, "rec"))  # the only worker is now held

    ids = [inv.submit("rec", json.dumps({"i": i}).encode()) for i in range(10_000)]

    assert len(set(ids)) == 10_000
    assert inv.pending("rec") == 10_001
    assert pending_counts(state) == {"rec": 10_001}
    with AsyncEventStore(state / "async.db") as other:  # another connection sees them: committed
        assert other.count("rec") == 10_001
        assert json.loads(other.get(ids[-1]).payload) == {"i": 9999}
    assert blocker not in ids
    release.touch()


def test_submit_after_stop_is_refused_with_queue_full_error(project, invokers):
    backend, state = project({"rec": ""})
    inv = invokers(backend, state)
    inv.stop()
    with pytest.raises(QueueFullError):
        inv.submit("rec", b"{}")


def test_pending_counts_without_a_store_is_empty_and_creates_nothing(tmp_path):
    assert pending_counts(tmp_path) == {}
    assert not (tmp_path / "async.db").exists()


# -- leases ------------------------------------------------------------------------------------


def test_an_attempt_longer_than_the_lease_is_not_run_again_by_another_invoker(project, invokers, tmp_path):
    # The heartbeat renews the lease while the attempt runs, so the second invoker never takes it.
    backend, state = project({"rec": ""})
    first = invokers(backend, state, lease_seconds=0.3, workers=1)
    request_id = first.submit("rec", json.dumps({"sleep": 1.5}).encode())
    wait_for(lambda: attempts(tmp_path, "rec"))
    second = invokers(backend, state, lease_seconds=0.3, workers=2, poll_interval=0.05)

    assert second.wait_idle(30)
    assert [a["id"] for a in attempts(tmp_path, "rec")] == [request_id]


def test_an_event_leased_by_a_vanished_owner_runs_once_its_lease_expires(project, invokers, tmp_path):
    # A process on another host (or one whose pid cannot be checked) claimed it and died.
    backend, state = project({"rec": ""})
    with AsyncEventStore(state / "async.db") as store:
        request_id = store.add("rec", b"{}")
        assert [e.request_id for e in store.claim("elsewhere:1:dead", 1.0)] == [request_id]
    inv = invokers(backend, state, poll_interval=0.05)
    time.sleep(0.5)
    assert attempts(tmp_path, "rec") == []  # still leased
    assert inv.wait_idle(10)
    assert [a["id"] for a in attempts(tmp_path, "rec")] == [request_id]


def test_an_event_leased_by_a_dead_process_of_this_host_runs_at_once(project, invokers, tmp_path):
    import subprocess
    import sys

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    pid = int(dead.stdout)
    import socket

    backend, state = project({"rec": ""})
    with AsyncEventStore(state / "async.db") as store:
        request_id = store.add("rec", b"{}")
        store.claim(f"{socket.gethostname()}:{pid}:gone", 3600)  # an hour: only the pid check frees it
    inv = invokers(backend, state)
    assert inv.wait_idle(10)
    assert [a["id"] for a in attempts(tmp_path, "rec")] == [request_id]


def test_clean_stop_keeps_queued_events_and_the_next_start_runs_them(project, tmp_path, caplog):
    backend, state = project({"rec": ""})
    inv = AsyncInvoker(backend, state / "async.db", workers=1).start()
    ids = [inv.submit("rec", json.dumps({"sleep": 0.02}).encode()) for _ in range(200)]
    wait_for(lambda: len(completed(tmp_path, "rec")) >= 5)
    with caplog.at_level(logging.INFO, logger="lambdatui.serve"):
        inv.stop(timeout=5)
    ran = [a["id"] for a in completed(tmp_path, "rec")]
    left = pending_counts(state).get("rec", 0)
    assert 0 < left and len(ran) + left == 200  # none lost, none run twice
    assert any(f"{left} event(s) pending" in r.getMessage() and "next start" in r.getMessage() for r in caplog.records)

    again = AsyncInvoker(backend, state / "async.db", workers=2).start()
    try:
        assert again.wait_idle(60)
    finally:
        again.stop()
    assert sorted(a["id"] for a in completed(tmp_path, "rec")) == sorted(ids)
