"""Execution environment lifecycle, as AWS documents it ("Lambda execution environment lifecycle")."""

from __future__ import annotations

import json
import math
import threading
import time
from dataclasses import replace

import pytest
from polling import process_ended, wait_for

from lambdatui.figures import billed_duration_ms

SLEEPY = """
import os, time
def handler(event, context):
    time.sleep(event.get("sleep", 0))
    return {"pid": os.getpid(), "init": os.environ["AWS_LAMBDA_INITIALIZATION_TYPE"]}
"""


def _pid(result):
    return json.loads(result.payload)["pid"]


def test_first_invoke_is_cold_and_next_reuses_the_warm_environment(make_function, executor_factory):
    spec = make_function(SLEEPY)
    ex = executor_factory(spec)
    first = ex.invoke(spec.name)
    second = ex.invoke(spec.name)
    assert first.cold_start and first.init_duration_ms > 0
    assert not second.cold_start and second.init_duration_ms is None
    assert _pid(first) == _pid(second)
    assert first.log_stream_name == second.log_stream_name


def test_module_code_runs_once_per_environment(make_function, executor_factory):
    spec = make_function(
        """
        COUNT = {"imports": 0, "calls": 0}
        COUNT["imports"] += 1
        def handler(event, context):
            COUNT["calls"] += 1
            return COUNT
        """
    )
    ex = executor_factory(spec)
    results = [json.loads(ex.invoke(spec.name).payload) for _ in range(3)]
    assert results[-1] == {"imports": 1, "calls": 3}


def test_concurrent_invokes_scale_out_to_new_environments(make_function, executor_factory):
    # One request per environment at a time: a second concurrent invoke gets its own environment.
    spec = make_function(SLEEPY)
    ex = executor_factory(spec)
    results = []
    threads = [threading.Thread(target=lambda: results.append(ex.invoke(spec.name, b'{"sleep": 0.5}'))) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(r.cold_start for r in results)
    assert len({_pid(r) for r in results}) == 2
    assert ex.environment_counts(spec.name)["idle"] == 2


def test_reserved_concurrency_throttles_with_429_beyond_the_limit(make_function, executor_factory):
    spec = make_function(SLEEPY, reserved_concurrency=1)
    ex = executor_factory(spec)
    results = []
    threads = [threading.Thread(target=lambda: results.append(ex.invoke(spec.name, b'{"sleep": 0.6}'))) for _ in range(2)]
    threads[0].start()
    time.sleep(0.2)
    threads[1].start()
    for t in threads:
        t.join()
    statuses = sorted(r.status_code for r in results)
    assert statuses == [200, 429]
    throttled = next(r for r in results if r.status_code == 429)
    assert throttled.error == {"type": "TooManyRequestsException", "reason": "ReservedFunctionConcurrentInvocationLimitExceeded"}
    assert json.loads(throttled.payload)["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"


def test_reserved_concurrency_zero_throttles_every_invoke(make_function, executor_factory):
    spec = make_function(SLEEPY, reserved_concurrency=0)
    ex = executor_factory(spec)
    assert [ex.invoke(spec.name).status_code for _ in range(2)] == [429, 429]


def test_idle_environments_are_reaped_after_keep_warm_seconds(make_function, executor_factory):
    spec = make_function(SLEEPY)
    ex = executor_factory(spec, keep_warm_seconds=0.3, start=True)
    first = ex.invoke(spec.name)
    assert not ex.invoke(spec.name).cold_start
    deadline = time.time() + 5
    while ex.environment_counts(spec.name)["idle"] and time.time() < deadline:
        time.sleep(0.05)
    assert ex.environment_counts(spec.name)["idle"] == 0
    again = ex.invoke(spec.name)
    assert again.cold_start and _pid(again) != _pid(first)


def test_provisioned_environments_are_initialised_ahead_and_never_cold(make_function, executor_factory):
    spec = make_function(SLEEPY, provisioned_concurrency=1)
    ex = executor_factory(spec, start=True)
    assert ex.environment_counts(spec.name)["provisioned"] == 1
    result = ex.invoke(spec.name)
    assert not result.cold_start
    assert result.init_duration_ms is None
    assert json.loads(result.payload)["init"] == "provisioned-concurrency"
    assert "Init Duration" not in result.log_tail
    # Lambda does not bill a provisioned environment's init to the invocation: only its own duration
    # (not a bound in ms, which a loaded machine exceeds).
    assert result.billed_duration_ms == billed_duration_ms(result.duration_ms)


def test_provisioned_spill_over_goes_to_on_demand_environments(make_function, executor_factory):
    spec = make_function(SLEEPY, provisioned_concurrency=1)
    ex = executor_factory(spec, start=True)
    results = []
    threads = [threading.Thread(target=lambda: results.append(ex.invoke(spec.name, b'{"sleep": 0.4}'))) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    kinds = sorted(json.loads(r.payload)["init"] for r in results)
    assert kinds == ["on-demand", "provisioned-concurrency"]
    assert sorted(r.cold_start for r in results) == [False, True]


def test_configuration_change_retires_old_environments(make_function, executor_factory):
    spec = make_function(SLEEPY)
    ex = executor_factory(spec)
    first = ex.invoke(spec.name)
    ex.update_function(replace(spec, memory_size=256))
    second = ex.invoke(spec.name)
    assert second.cold_start and _pid(second) != _pid(first)
    assert second.memory_size_mb == 256


def test_description_change_keeps_warm_environments(make_function, executor_factory):
    # Only changes an environment can observe retire it.
    spec = make_function(SLEEPY)
    ex = executor_factory(spec)
    first = ex.invoke(spec.name)
    ex.update_function(replace(spec, description="new words"))
    assert _pid(ex.invoke(spec.name)) == _pid(first)


def test_code_change_retires_environments_when_watching(make_function, executor_factory):
    spec = make_function("def handler(event, context):\n    return 'v1'\n")
    ex = executor_factory(spec, keep_warm_seconds=1, watch_code=True, start=True)
    assert ex.invoke(spec.name).payload == b'"v1"'
    # The watcher must have recorded the first fingerprint, or it would take v2's as the first.
    wait_for(lambda: ex._pools[spec.name].fingerprint is not None)
    (spec.code_dir / "app.py").write_text("def handler(event, context):\n    return 'v2'\n")
    deadline = time.time() + 5
    result = ex.invoke(spec.name)
    while result.payload != b'"v2"' and time.time() < deadline:
        time.sleep(0.1)
        result = ex.invoke(spec.name)
    assert result.payload == b'"v2"' and result.cold_start


RESETTABLE = """
import json, os, time
STATE = {"calls": 0}
time.sleep(0.3)  # init takes a while
def handler(event, context):
    STATE["calls"] += 1
    if event.get("crash"):
        os._exit(1)
    if event.get("hang"):
        time.sleep(30)
    with open("/tmp/lambdatui-reset-" + context.function_name, "a") as f:
        f.write("x")
    return {"pid": os.getpid(), "calls": STATE["calls"]}
"""


def _report(tail: str) -> str:
    return tail.rstrip("\n").split("\n")[-1]


@pytest.mark.parametrize("failure", [b'{"crash": true}', b'{"hang": true}'])
def test_after_a_crash_or_timeout_the_next_invoke_is_a_suppressed_init(make_function, executor_factory, failure):
    # AWS, "Understanding the Lambda execution environment lifecycle", failures during the invoke phase:
    # the environment is reset, and the next invoke runs the init again inside the invoke (a suppressed
    # init): no INIT_START, no Init Duration, the init's time inside that invoke's Duration; the
    # environment is the same (its log stream), its runtime process and globals are new.
    spec = make_function(RESETTABLE, timeout=2)
    ex = executor_factory(spec)
    first = ex.invoke(spec.name)
    failed = ex.invoke(spec.name, failure)
    assert failed.function_error == "Unhandled"
    after = ex.invoke(spec.name)
    assert after.function_error is None, after.payload
    state = json.loads(after.payload)
    assert state["pid"] != json.loads(first.payload)["pid"] and state["calls"] == 1  # a new process, globals reset
    assert not after.cold_start and after.init_duration_ms is None
    assert "Init Duration" not in _report(after.log_tail)
    assert after.duration_ms >= 300  # the module's sleep, inside Duration
    assert after.billed_duration_ms == math.ceil(after.duration_ms)
    assert after.log_stream_name == first.log_stream_name
    events = [e.message for e in ex.logs.events(spec.name)]
    assert sum(m.startswith("INIT_START") for m in events) == 1  # the first, cold, init only
    warm = ex.invoke(spec.name)
    assert json.loads(warm.payload) == {"pid": state["pid"], "calls": 2} and warm.duration_ms < 300
    assert ex.environment_counts(spec.name) == {"idle": 1, "provisioned": 0, "busy": 0}


SLOW_INIT = """
import time
time.sleep(%s)
def handler(event, context):
    time.sleep(event.get("sleep", 0))
    return "done"
"""


def test_a_suppressed_init_counts_against_the_function_timeout(make_function, executor_factory):
    # A cold init has its own 10 s; an init inside an invoke shares the invoke's timeout (AWS: an init
    # retried in the invoke phase runs "with the configured function timeout").
    spec = make_function(SLOW_INIT % 0.6, timeout=1)
    ex = executor_factory(spec)
    assert ex.invoke(spec.name, b'{"sleep": 0.6}').payload == b'"done"'  # 0.6 s of init, then 0.6 s of handler
    assert ex.invoke(spec.name, b'{"sleep": 5}').error_type == "Sandbox.Timedout"
    result = ex.invoke(spec.name, b'{"sleep": 0.6}')  # 0.6 + 0.6 s inside a 1 s invoke
    assert result.error_type == "Sandbox.Timedout" and result.duration_ms == 1000.0


def test_a_suppressed_init_longer_than_the_timeout_reports_phase_invoke(make_function, executor_factory):
    spec = make_function(SLOW_INIT % 1.5, timeout=1, runtime="python3.12")
    ex = executor_factory(spec)
    assert ex.invoke(spec.name).payload == b'"done"'  # the cold init may take 1.5 s
    ex.invoke(spec.name, b'{"sleep": 5}')
    result = ex.invoke(spec.name)
    assert result.error_type == "Sandbox.Timedout" and not result.cold_start
    assert json.loads(result.payload)["errorMessage"].endswith("Task timed out after 1.00 seconds")
    events = [e.message for e in ex.logs.events(spec.name)]
    start = events.index(f"START RequestId: {result.request_id} Version: $LATEST")
    # Recorded on AWS: a failed init inside an invoke is reported before START with `Phase: invoke`.
    assert events[start - 1].startswith("INIT_REPORT Init Duration: 1000.00 ms\tPhase: invoke\tStatus: timeout")
    assert _report(result.log_tail).endswith("\tStatus: timeout") and "Duration: 1000.00 ms" in result.log_tail


def test_close_kills_every_environment_process(make_function, executor_factory):
    spec = make_function(SLEEPY)
    ex = executor_factory(spec)
    pid = _pid(ex.invoke(spec.name))
    ex.close()
    deadline = time.time() + 3
    import os

    while time.time() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    else:
        raise AssertionError("environment process still alive after close()")


def test_a_runtime_that_exits_after_answering_gets_a_fresh_environment_next(make_function, executor_factory):
    # The answer is posted, then the process ends (as Node's runtime does after an uncaught exception):
    # the next invoke must start a new environment, not fail on the dead one.
    spec = make_function(
        """
        import os, threading, time
        def handler(event, context):
            threading.Thread(target=lambda: (time.sleep(0.1), os._exit(7))).start()
            return os.getpid()
        """
    )
    ex = executor_factory(spec)
    first = ex.invoke(spec.name)
    wait_for(lambda: process_ended(json.loads(first.payload)))
    second = ex.invoke(spec.name)
    assert second.function_error is None, second.payload
    assert second.cold_start and json.loads(second.payload) != json.loads(first.payload)
