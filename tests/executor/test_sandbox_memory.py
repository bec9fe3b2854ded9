"""Max Memory Used and the out-of-memory kill by unique memory, as Lambda's memory cgroup counts
it: a page shared by forked children counts once, never once per process (summed RSS)."""

from __future__ import annotations

import json

import pytest
from sandbox_support import needs, without_cgroups

from lambdatui import logformat
from lambdatui.executor.memory import ProcessMemory, pss_kb, rss_kb
from lambdatui.executor.sandbox import capabilities

FORKS = """
import os, time

def handler(event, context):
    pids = []
    for _ in range(event["n"]):
        pid = os.fork()
        if pid == 0:
            time.sleep(event.get("hold", 0.5))  # long enough for the executor's 10 ms polls to see all
            os._exit(0)
        pids.append(pid)
    for pid in pids:
        os.waitpid(pid, 0)
    return len(pids)
"""


@pytest.fixture(params=["cgroup", "pss"])
def measured(request, executor_factory):
    """Executors measuring by memory cgroup (where available) and by PSS (the fallback)."""

    def make(spec):
        ex = executor_factory(spec)
        if request.param == "pss":
            without_cgroups(ex)
        elif not capabilities().memory_cgroup.holds:
            pytest.skip(f"no memory cgroup here: {capabilities().memory_cgroup.how}")
        return ex

    return make


def test_24_small_forks_fit_in_128_mb_as_on_lambda(make_function, measured):
    # Summed RSS read this as 24 copies of the runtime (~1 GB) and killed it; Lambda's cgroup does not.
    spec = make_function(FORKS, memory_size=128, timeout=20)
    ex = measured(spec)
    result = ex.invoke(spec.name, json.dumps({"n": 24}))
    assert result.function_error is None, result.payload
    assert json.loads(result.payload) == 24
    alone = ex.invoke(spec.name, json.dumps({"n": 0}))
    # Near the real unique use: the runtime plus what 24 forked copies dirty (page tables, stacks).
    assert alone.max_memory_used_mb <= result.max_memory_used_mb < alone.max_memory_used_mb + 60


def test_100_forks_do_not_report_100_runtimes(make_function, measured):
    spec = make_function(FORKS, memory_size=1024, timeout=30)
    ex = measured(spec)
    result = ex.invoke(spec.name, json.dumps({"n": 100, "hold": 1.0}))
    assert result.function_error is None, result.payload
    one = ex.invoke(spec.name, json.dumps({"n": 0})).max_memory_used_mb
    assert result.max_memory_used_mb < one + 150  # summed RSS reported ~600 MB here


def test_memory_that_is_really_used_by_children_counts(make_function, measured):
    # Unique memory is not a discount: 8 children each touching 20 MB of their own use 160 MB more.
    spec = make_function(
        """
        import os, time
        def handler(event, context):
            pids = []
            for _ in range(8):
                pid = os.fork()
                if pid == 0:
                    block = bytearray(20 * 1024 * 1024)  # zero-filled: every page touched
                    time.sleep(0.5)
                    os._exit(0)
                pids.append(pid)
            for pid in pids:
                os.waitpid(pid, 0)
            return 8
        """,
        memory_size=512,
        timeout=20,
    )
    ex = measured(spec)
    result = ex.invoke(spec.name)
    assert result.function_error is None, result.payload
    assert result.max_memory_used_mb >= 150


def test_children_over_the_limit_are_out_of_memory(make_function, measured):
    # The OOM decision uses the same unique figure: 6 children of 40 MB each exceed 128 MB.
    spec = make_function(
        """
        import os, time
        def handler(event, context):
            for _ in range(6):
                if os.fork() == 0:
                    block = bytearray(40 * 1024 * 1024)
                    time.sleep(5)
                    os._exit(0)
            time.sleep(10)
        """,
        memory_size=128,
        timeout=20,
    )
    result = measured(spec).invoke(spec.name)
    # The kill as the runtime's generation reports it (see test_errors: OutOfMemory or ExitError).
    assert result.error_type == ("Runtime.OutOfMemory" if logformat.reports_status(spec.runtime) else "Runtime.ExitError")
    assert b"signal: killed" in result.payload
    assert result.duration_ms < 5000


@needs("private_tmp")
def test_files_in_tmp_are_not_counted_as_memory(make_function, executor_factory):
    # /tmp is ephemeral storage, not memory, on Lambda: 300 MB there fit a 128 MB function.
    spec = make_function(
        """
        def handler(event, context):
            with open("/tmp/big", "wb") as f:
                for _ in range(300):
                    f.write(b"x" * (1024 * 1024))
            return "written"
        """,
        memory_size=128,
        timeout=20,
    )
    result = executor_factory(spec).invoke(spec.name)
    assert result.function_error is None, result.payload
    assert result.max_memory_used_mb < 128


def test_pss_of_a_process_is_at_most_its_rss():
    import os

    assert 0 < pss_kb(os.getpid()) <= rss_kb(os.getpid())
    meter = ProcessMemory(os.getpid())
    try:
        assert meter.used_kb() > 0 and meter.peak_kb() >= meter.rss_kb() > 0
    finally:
        meter.close()
