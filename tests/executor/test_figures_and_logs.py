"""Per-invocation figures (duration, billing, memory, cost) and Lambda's log lines, byte for byte."""

from __future__ import annotations

import json
import math
import re

import pytest
from polling import wait_for

from lambdatui import logformat
from lambdatui.figures import billed_duration_ms, invocation_cost, monthly_cost

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


@pytest.mark.parametrize(
    "duration, init, bill_init, billed",
    [
        (2.75, None, True, 3),  # AWS bills duration in 1 ms steps, rounded up
        (3.0, None, True, 3),
        (3.01, None, True, 4),
        (0.2, None, True, 1),
        (4.42, 333.05, True, 338),  # since 1 Aug 2025, INIT of on-demand invokes is billed: ceil(4.42 + 333.05)
        (4.42, 333.05, False, 5),  # provisioned concurrency pays for init separately
    ],
)
def test_billed_duration_rounds_up_to_the_millisecond(duration, init, bill_init, billed):
    assert billed_duration_ms(duration, init, bill_init=bill_init) == billed


def test_seed_worked_example_costs_1_87_before_free_tier():
    cost = monthly_cost(512, 200, 1_000_000, free_tier=False)
    assert cost.gb_seconds == pytest.approx(100_000)
    assert round(cost.duration_usd, 2) == 1.67
    assert round(cost.requests_usd, 2) == 0.20
    assert round(cost.total_usd, 2) == 1.87


def test_invocation_cost_is_request_plus_gb_seconds_by_architecture():
    x86 = invocation_cost(1024, 1000, "x86_64")
    arm = invocation_cost(1024, 1000, "arm64")
    assert x86 == pytest.approx(0.0000002 + 0.0000166667)
    assert arm == pytest.approx(0.0000002 + 0.0000133334)


def test_report_line_ends_every_field_with_a_tab_as_recorded_on_aws():
    line = logformat.report_line("r-1", 2.754, 3, 128, 56, 113.512)
    assert line == (
        "REPORT RequestId: r-1\tDuration: 2.75 ms\tBilled Duration: 3 ms\tMemory Size: 128 MB\t"
        "Max Memory Used: 56 MB\tInit Duration: 113.51 ms\t"
    )
    assert logformat.report_line("r-1", 2.754, 3, 128, 41) == (
        "REPORT RequestId: r-1\tDuration: 2.75 ms\tBilled Duration: 3 ms\tMemory Size: 128 MB\tMax Memory Used: 41 MB\t"
    )
    parsed = logformat.parse_report("noise\n" + line + "\n")
    assert parsed == logformat.Report("r-1", 2.75, 3, 128, 56, 113.51)
    assert parsed.cold_start


@pytest.mark.parametrize(
    "status, error_type, expected",
    [
        # Recorded on AWS: `…\tMax Memory Used: 1201 MB\tStatus: timeout` (no trailing tab after Status),
        ("timeout", None, "Max Memory Used: 40 MB\tStatus: timeout"),
        # `…\tMax Memory Used: 314 MB\tStatus: error\tError Type: Runtime.Unknown`,
        ("error", "Runtime.ExitError", "Max Memory Used: 40 MB\tStatus: error\tError Type: Runtime.ExitError"),
    ],
)
def test_report_line_with_status_as_recorded_on_aws(status, error_type, expected):
    line = logformat.report_line("r-2", 3000.5, 3001, 128, 40, None, status=status, error_type=error_type)
    assert line == f"REPORT RequestId: r-2\tDuration: 3000.50 ms\tBilled Duration: 3001 ms\tMemory Size: 128 MB\t{expected}"
    # …and `…\tInit Duration: 495.04 ms\tStatus: error\tError Type: Runtime.OutOfMemory` on a cold start.
    cold = logformat.report_line("r-3", 8948.73, 8949, 2048, 2048, 495.04, status="error", error_type="Runtime.OutOfMemory")
    assert cold.endswith("\tMax Memory Used: 2048 MB\tInit Duration: 495.04 ms\tStatus: error\tError Type: Runtime.OutOfMemory")


@pytest.mark.parametrize(
    "line",
    [
        # The shapes AWS writes, as the AWS backend and the dashboard read them back (CloudWatch adds "\n").
        "REPORT RequestId: r-2\tDuration: 3000.50 ms\tBilled Duration: 3001 ms\tMemory Size: 128 MB\tMax Memory Used: 40 MB\tStatus: error\tError Type: Runtime.ExitError\n",
        "REPORT RequestId: r-2\tDuration: 3000.50 ms\tBilled Duration: 3001 ms\tMemory Size: 128 MB\tMax Memory Used: 40 MB\tStatus: error\tError Type: Runtime.ExitError",
        "REPORT RequestId: r-2\tDuration: 3000.50 ms\tBilled Duration: 3001 ms\tMemory Size: 128 MB\tMax Memory Used: 40 MB\tStatus: error\tError Type: Runtime.ExitError\t",
    ],
)
def test_parse_report_reads_status_and_error_type_with_or_without_trailing_tab(line):
    parsed = logformat.parse_report(line)
    assert parsed == logformat.Report("r-2", 3000.5, 3001, 128, 40, None, "error", "Runtime.ExitError")
    assert not parsed.cold_start


@pytest.mark.parametrize("trailing", ["\t", "", "\t\n", " \n"])
def test_parse_report_reads_old_and_new_report_lines_alike(trailing):
    line = "REPORT RequestId: r-4\tDuration: 31012.52 ms\tBilled Duration: 31000 ms\tMemory Size: 128 MB\tMax Memory Used: 109 MB" + trailing
    assert logformat.parse_report(line) == logformat.Report("r-4", 31012.52, 31000, 128, 109)


def test_invocation_log_lines_are_lambdas_exactly(make_function, executor_factory):
    spec = make_function("def handler(e, c):\n    print('hello from the handler')\n    return 1\n")
    ex = executor_factory(spec)
    cold = ex.invoke(spec.name)
    events = [e.message for e in ex.logs.events(spec.name)]
    assert re.fullmatch(
        r"INIT_START Runtime Version: python:3\.\d+\.v\d+\tRuntime Version ARN: arn:aws:lambda:us-east-1::runtime:[0-9a-f]{64}",
        events[0],
    )
    # The tail (LogType=Tail) starts at this request's START; INIT_START is the stream's only.
    lines = cold.log_tail.rstrip("\n").split("\n")
    assert lines == events[1:]
    assert lines[0] == f"START RequestId: {cold.request_id} Version: $LATEST"
    assert lines[1] == "hello from the handler"
    assert lines[2] == f"END RequestId: {cold.request_id}"
    assert re.fullmatch(
        rf"REPORT RequestId: {cold.request_id}\tDuration: \d+\.\d\d ms\tBilled Duration: \d+ ms\t"
        r"Memory Size: 128 MB\tMax Memory Used: \d+ MB\tInit Duration: \d+\.\d\d ms\t",
        lines[3],
    )
    warm = ex.invoke(spec.name)
    assert "INIT_START" not in warm.log_tail and "Init Duration" not in warm.log_tail
    report = logformat.parse_report(warm.log_tail)
    assert report.duration_ms == warm.duration_ms and report.billed_duration_ms == warm.billed_duration_ms


def test_figures_agree_with_the_report_line_and_billing_rule(make_function, executor_factory):
    spec = make_function("import time\ndef handler(e, c):\n    time.sleep(0.05)\n", memory_size=256, architecture="arm64")
    ex = executor_factory(spec)
    cold = ex.invoke(spec.name)
    warm = ex.invoke(spec.name)
    assert 50 <= warm.duration_ms < 2000
    assert warm.billed_duration_ms == math.ceil(warm.duration_ms)
    assert cold.billed_duration_ms == math.ceil(cold.duration_ms + cold.init_duration_ms)
    assert warm.cost_usd == pytest.approx(invocation_cost(256, warm.billed_duration_ms, "arm64"))
    report = logformat.parse_report(cold.log_tail)
    assert (report.duration_ms, report.billed_duration_ms, report.init_duration_ms) == (
        cold.duration_ms, cold.billed_duration_ms, cold.init_duration_ms,
    )


def test_init_duration_measures_module_code(make_function, executor_factory):
    spec = make_function("import time\ntime.sleep(0.3)\ndef handler(e, c):\n    return 1\n")
    result = executor_factory(spec).invoke(spec.name)
    assert 300 <= result.init_duration_ms < 1500
    assert result.duration_ms < 300  # the module's sleep is not the handler's


def test_max_memory_used_is_the_peak_of_this_invocation(make_function, executor_factory):
    # Not the configured size (SAM and LocalStack report that), and not the environment's lifetime peak.
    spec = make_function(
        """
        def handler(event, context):
            block = bytearray(event["mb"] * 1024 * 1024)
            block[::4096] = b"x" * len(block[::4096])  # touch every page so it is resident
            return len(block)
        """,
        memory_size=512,
    )
    ex = executor_factory(spec)
    small = ex.invoke(spec.name, b'{"mb": 1}')
    big = ex.invoke(spec.name, b'{"mb": 150}')
    after = ex.invoke(spec.name, b'{"mb": 1}')
    assert not big.cold_start and not after.cold_start
    assert small.max_memory_used_mb < 60
    assert 150 <= big.max_memory_used_mb < 250
    assert after.max_memory_used_mb < big.max_memory_used_mb - 100
    assert f"Max Memory Used: {big.max_memory_used_mb} MB" in big.log_tail


def test_memory_of_child_processes_counts(make_function, executor_factory):
    spec = make_function(
        """
        import subprocess, sys
        def handler(event, context):
            subprocess.run([sys.executable, "-c", "import time; b = bytearray(200*1024*1024); b[::4096] = b'x' * len(b[::4096]); time.sleep(0.3)"])
            return 1
        """,
        memory_size=512,
    )
    result = executor_factory(spec).invoke(spec.name)
    assert result.function_error is None
    assert result.max_memory_used_mb >= 200


def test_log_tail_is_the_last_4_kb(make_function, executor_factory):
    spec = make_function("def handler(e, c):\n    for i in range(500):\n        print('line', i, 'x' * 40)\n")
    result = executor_factory(spec).invoke(spec.name)
    assert len(result.log_tail.encode()) <= 4096
    assert result.log_tail.rstrip("\n").split("\n")[-1].startswith(f"REPORT RequestId: {result.request_id}")
    assert "line 499" in result.log_tail and "line 0 " not in result.log_tail


def test_stdout_stderr_and_logging_reach_the_log_in_order(make_function, executor_factory):
    spec = make_function(
        """
        import logging, sys
        logger = logging.getLogger()
        logger.setLevel(logging.INFO)
        print("init line")
        def handler(event, context):
            print("one")
            logger.info("two %s", 2)
            print("three", file=sys.stderr)
            logger.debug("hidden")
            return None
        """
    )
    ex = executor_factory(spec)
    result = ex.invoke(spec.name)
    events = [e.message for e in ex.logs.events(spec.name)]
    assert events[events.index(f"START RequestId: {result.request_id} Version: $LATEST") - 1] == "init line"
    # Module output belongs to INIT, before START: in the stream, not in the tail.
    assert "init line" not in result.log_tail
    lines = result.log_tail.split("\n")
    start = lines.index(f"START RequestId: {result.request_id} Version: $LATEST")
    assert start == 0
    assert lines[start + 1] == "one"
    assert re.fullmatch(rf"\[INFO\]\t\d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{{3}}Z\t{result.request_id}\ttwo 2", lines[start + 2])
    assert lines[start + 3] == "three"
    assert lines[start + 4] == f"END RequestId: {result.request_id}"
    assert "hidden" not in result.log_tail


def test_logging_imported_inside_the_handler_still_uses_lambdas_format(make_function, executor_factory):
    spec = make_function("def handler(e, c):\n    import logging\n    logging.warning('late import')\n")
    result = executor_factory(spec).invoke(spec.name)
    assert re.search(rf"^\[WARNING\]\t\S+Z\t{result.request_id}\tlate import$", result.log_tail, re.M)


def test_every_line_is_kept_per_function_and_log_stream(make_function, executor_factory):
    spec = make_function("def handler(e, c):\n    print('x')\n")
    other = make_function("def handler(e, c):\n    print('y')\n")
    ex = executor_factory(spec, other)
    a = ex.invoke(spec.name)
    ex.invoke(other.name)
    events = ex.logs.events(spec.name)
    assert {e.log_stream for e in events} == {a.log_stream_name}
    assert [e.message for e in events if e.message in ("x", "y")] == ["x"]
    assert ex.logs.log_streams(spec.name) == [a.log_stream_name]


def test_output_written_after_the_response_appears_with_the_next_invocation(make_function, executor_factory):
    # Lambda freezes the environment after the response; what a background thread prints shows up later.
    spec = make_function(
        """
        import threading, time
        def late(done):
            time.sleep(0.2)
            print("from the background")
            open(done, "w").close()
        def handler(e, c):
            threading.Thread(target=late, args=(e["done"],)).start()
            return 1
        """
    )
    ex = executor_factory(spec)
    done = spec.code_dir / "printed"  # not under the host's /tmp: the function's /tmp is its own
    first = ex.invoke(spec.name, json.dumps({"done": str(done)}).encode())
    wait_for(done.exists)
    second = ex.invoke(spec.name, json.dumps({"done": str(done)}).encode())
    assert "from the background" not in first.log_tail
    assert "from the background" in second.log_tail


def test_request_ids_are_unique_uuids(make_function, executor_factory):
    spec = make_function("def handler(e, c):\n    return c.aws_request_id\n")
    ex = executor_factory(spec)
    ids = [json.loads(ex.invoke(spec.name).payload) for _ in range(5)]
    assert len(set(ids)) == 5 and all(re.fullmatch(UUID, i) for i in ids)
