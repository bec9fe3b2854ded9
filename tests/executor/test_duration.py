"""Duration means what Lambda's means (issue 16): from handing the event to the runtime until the
runtime posts its answer, whatever the invoking process was doing in between; and a timeout's
Duration is the timeout.

The read of the runtime's POST is delayed here by wrapping the environment's selector, which is what
a busy thread sharing the executor's GIL (the dashboard's UI) does to it: the POST sits in the
socket until the invoking thread gets to run.
"""

from __future__ import annotations

import re
import threading
import time

import pytest

from lambdatui.executor import environment as environment_module
from lambdatui.executor.http1 import SO_TIMESTAMPNS

pytestmark = pytest.mark.skipif(SO_TIMESTAMPNS is None, reason="kernel receive timestamps are Linux's")


def _delay_reads(monkeypatch, delay_s: float):
    """Make every environment's selector, once armed, sleep `delay_s` before each select call, as
    an invoking thread held off the GIL would. Returns the selector class; set `armed` on it."""
    real = environment_module.selectors.DefaultSelector

    class Late(real):  # type: ignore[misc, valid-type]
        armed = False
        invoker = threading.get_ident()  # not the executor's own threads' selectors

        def select(self, timeout=None):
            # Once, at the first wait after the event was handed over (the one polling memory).
            in_invocation = timeout is not None and timeout <= environment_module.MEMORY_POLL_S
            if Late.armed and in_invocation and threading.get_ident() == Late.invoker:
                Late.armed = False
                time.sleep(delay_s)
            return super().select(timeout)

    monkeypatch.setattr(environment_module.selectors, "DefaultSelector", Late)
    return Late


def _report_duration(log_tail: str) -> str:
    match = re.search(r"REPORT RequestId: \S+\tDuration: ([0-9.]+) ms", log_tail)
    assert match, log_tail
    return match.group(1)


def test_a_late_read_of_the_response_does_not_count_in_duration(make_function, executor_factory, monkeypatch):
    late = _delay_reads(monkeypatch, 0.3)
    spec = make_function("def handler(event, context):\n    return 1\n")
    ex = executor_factory(spec)
    ex.invoke(spec.name, b"{}")  # cold start, undelayed
    late.armed = True
    started = time.perf_counter()
    result = ex.invoke(spec.name, b"{}")
    wall_ms = (time.perf_counter() - started) * 1000.0
    assert result.error_type is None and result.payload == b"1"
    assert wall_ms >= 300.0  # the read really was late
    # The runtime answered a no-op in far less than the 300 ms its POST waited to be read.
    assert result.duration_ms < 100.0, result.duration_ms
    assert _report_duration(result.log_tail) == f"{result.duration_ms:.2f}"
    assert result.billed_duration_ms == max(1, -(-result.duration_ms // 1))


def test_an_answer_posted_after_the_deadline_is_a_timeout_even_if_read_late(make_function, executor_factory, monkeypatch):
    # The first select after the event is handed over sleeps past the deadline; by then the
    # handler's answer (posted at ~1.2 s, after the 1 s timeout) is waiting in the socket. Lambda
    # would have stopped the environment at 1 s: the answer must not be taken as a success.
    late = _delay_reads(monkeypatch, 1.6)
    spec = make_function(
        "import time\ndef handler(event, context):\n    time.sleep(event['sleep'])\n    return 'late'\n", timeout=1
    )
    ex = executor_factory(spec)
    assert ex.invoke(spec.name, b'{"sleep": 0}').payload == b'"late"'  # the cold start, undelayed
    late.armed = True
    result = ex.invoke(spec.name, b'{"sleep": 1.2}')
    assert result.error_type == "Sandbox.Timedout"
    assert result.duration_ms == 1000.0
    assert _report_duration(result.log_tail) == "1000.00"


def test_warm_timeout_reports_the_timeout_as_duration(make_function, executor_factory):
    spec = make_function("import time\ndef handler(event, context):\n    time.sleep(30)\n", timeout=1)
    ex = executor_factory(spec)
    for _ in range(2):
        result = ex.invoke(spec.name, b"{}")
        assert result.error_type == "Sandbox.Timedout"
        assert json_message(result.payload).endswith("Task timed out after 1.00 seconds")
        assert result.duration_ms == 1000.0
        assert _report_duration(result.log_tail) == "1000.00"
        assert result.billed_duration_ms >= 1000


def test_timeout_after_a_reset_counts_the_suppressed_init_and_reports_the_timeout(make_function, executor_factory, tmp_path):
    # A crash resets the environment; the next invoke's suppressed init (here 150 ms) runs inside
    # the invoke and counts against the timeout (AWS: "Understanding the Lambda execution
    # environment lifecycle"), and the Duration of the timeout that follows is still the timeout —
    # never the timeout less the init (`Duration 1984.32 ms` next to `timed out after 2.00 seconds`).
    spec = make_function(
        """
        import os, time
        time.sleep(0.15)
        def handler(event, context):
            if event.get("exit"):
                os._exit(3)
            time.sleep(30)
        """,
        timeout=1,
    )
    ex = executor_factory(spec)
    crashed = ex.invoke(spec.name, b'{"exit": true}')
    assert crashed.error_type == "Runtime.ExitError"
    result = ex.invoke(spec.name, b"{}")
    assert not result.cold_start and result.init_duration_ms is None
    assert result.error_type == "Sandbox.Timedout"
    assert result.duration_ms == 1000.0
    assert _report_duration(result.log_tail) == "1000.00"


def test_a_suppressed_init_that_times_out_reports_the_timeout(make_function, executor_factory, tmp_path):
    marker = tmp_path / "crashed-once"
    spec = make_function(
        f"""
        import os, time
        if os.path.exists({str(marker)!r}):
            time.sleep(30)  # the init after the reset never ends
        def handler(event, context):
            open({str(marker)!r}, "w").close()
            os._exit(3)
        """,
        timeout=1,
    )
    ex = executor_factory(spec)
    assert ex.invoke(spec.name, b"{}").error_type == "Runtime.ExitError"
    result = ex.invoke(spec.name, b"{}")
    assert result.error_type == "Sandbox.Timedout"
    assert result.duration_ms == 1000.0
    assert _report_duration(result.log_tail) == "1000.00"
    init_reports = [e.message for e in ex.logs.events(spec.name) if e.message.startswith("INIT_REPORT")]
    assert init_reports[-1].startswith("INIT_REPORT Init Duration: 1000.00 ms\tPhase: invoke\tStatus: timeout"), init_reports


def json_message(payload: bytes) -> str:
    import json

    return json.loads(payload)["errorMessage"]
