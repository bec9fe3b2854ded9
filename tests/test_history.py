"""The invocation history (`lambdatui.history`): what is recorded, the summary's and the series' math
on known results, pruning, durability across instances and processes, and the local backend
recording every invocation with its source."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from polling import wait_for

from lambdatui import figures as pricing
from lambdatui import history as history_module
from lambdatui.backends import make_backend
from lambdatui.backends.base import FunctionMetrics, FunctionNotFoundError, InvalidParameterError
from lambdatui.config import parse_config
from lambdatui.executor.spec import InvokeResult
from lambdatui.figures import MONTH_S, percentile
from lambdatui.history import History, max_concurrency

PY = f"python{sys.version_info[0]}.{sys.version_info[1]}"
T0 = 1_800_000_000.0  # a multiple of 60 (and of 3600): bucket edges fall on round numbers
REPO = Path(__file__).resolve().parent.parent


def result(
    at: float,
    *,
    function: str = "f",
    duration: float = 10.0,
    billed: int | None = None,
    init: float | None = None,
    memory: int = 128,
    used: int = 50,
    error: str | None = None,
    status: int = 200,
    cost: float | None = None,
    figures: bool = True,
) -> InvokeResult:
    billed = billed if billed is not None else pricing.billed_duration_ms(duration, init)
    r = InvokeResult(
        function=function,
        request_id=f"req-{at}-{duration}",
        status_code=status,
        payload=b"{}",
        function_error="Unhandled" if error else None,
        error_type=error,
        duration_ms=duration,
        billed_duration_ms=billed,
        init_duration_ms=init,
        cold_start=init is not None,
        memory_size_mb=memory,
        max_memory_used_mb=used,
        cost_usd=pricing.invocation_cost(memory, billed) if cost is None else cost,
        started_at=at,
        has_figures=figures,
    )
    if status == 429:
        r.error = {"type": "TooManyRequestsException", "reason": "ReservedFunctionConcurrentInvocationLimitExceeded"}
        r.duration_ms = r.billed_duration_ms = r.max_memory_used_mb = 0
        r.cost_usd = 0.0
    return r


@pytest.fixture
def db(tmp_path) -> Path:
    return tmp_path / "history.db"


@pytest.fixture
def hist(db):
    h = History(db, max_age_days=None)
    yield h
    h.close()


# -- record and query -----------------------------------------------------------------------------


def test_record_and_query_round_trip(hist):
    hist.record(result(T0 + 1, duration=12.5, init=80.0, used=60), "http", "arm64")
    hist.record(result(T0 + 2, error="KeyError", used=40), "schedule")
    hist.record(result(T0 + 3, status=429), "sqs")
    hist.record(result(T0 + 4, function="g"), None)
    rows = hist.query("f", T0)
    assert [r.source for r in rows] == ["http", "schedule", "sqs"]
    first, failed, throttled = rows
    assert (first.time, first.function, first.status_code) == (T0 + 1, "f", 200)
    assert (first.duration_ms, first.init_duration_ms, first.billed_duration_ms) == (12.5, 80.0, 93)
    assert (first.memory_size_mb, first.max_memory_used_mb, first.cold, first.architecture) == (128, 60, True, "arm64")
    assert first.cost_usd == pytest.approx(pricing.invocation_cost(128, 93))
    assert first.request_id == f"req-{T0 + 1}-12.5"
    assert (failed.error, failed.error_type, failed.cold, failed.architecture) == (True, "KeyError", False, "x86_64")
    assert (throttled.throttled, throttled.error, throttled.error_type) == (True, False, "TooManyRequestsException")
    assert throttled.duration_ms is None and throttled.cost_usd == 0
    # [since, until), every function with None
    assert [r.time for r in hist.query("f", T0 + 2, T0 + 3)] == [T0 + 2]
    assert [r.function for r in hist.query(None, T0)] == ["f", "f", "f", "g"]
    assert hist.query("f", T0 + 10) == []
    assert hist.functions() == ["f", "g"]


def test_unknown_figures_are_null_not_zero(hist):
    hist.record(result(T0, figures=False), "api")
    (row,) = hist.query("f", 0)
    assert (row.duration_ms, row.billed_duration_ms, row.max_memory_used_mb) == (None, None, None)
    s = hist.summary("f", T0, T0 + 60)
    assert s["invocations"] == 1 and s["duration_p50"] is None and s["memory_max_mb"] is None


def test_record_only_queues_it_never_waits_for_the_database(hist, db):
    """The invoke path is not slowed by the history: `record` returns while another process holds
    the database's write lock (it was a timed test, < 0.1 ms a record, which failed under CI load;
    the figure belongs in benchmarks/)."""
    r = result(T0)
    n = 2000
    assert hist.flush()  # the writer is up and idle
    other = sqlite3.connect(db, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process writing: the history's writer must wait
    try:
        recorder = threading.Thread(target=lambda: [hist.record(r, "console") for _ in range(n)])
        recorder.start()
        recorder.join(10)
        assert not recorder.is_alive(), "record() waited for the database"
        assert other.execute("SELECT COUNT(*) FROM invocations").fetchone() == (0,)  # none written yet
    finally:
        other.execute("COMMIT")
        other.close()
    assert hist.flush()
    assert len(hist.query("f", 0)) == n


# -- percentiles and the summary ------------------------------------------------------------------


def test_percentile_interpolates_between_ranks():
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == pytest.approx(50.5)
    assert percentile(values, 90) == pytest.approx(90.1)
    assert percentile(values, 99) == pytest.approx(99.01)
    assert percentile(list(reversed(values)), 0) == 1 and percentile(values, 100) == 100
    assert percentile([7.0], 99) == 7.0
    assert percentile([], 50) is None


def test_summary_math(hist):
    durations = [10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0]
    inits = {0: 100.0, 4: 300.0}
    used = [40, 50, 60, 40, 50, 60, 40, 50, 100]
    expected_cost = 0.0
    for i, d in enumerate(durations):
        r = result(T0 + i, duration=d, init=inits.get(i), used=used[i], error="ValueError" if i in (2, 7) else None)
        expected_cost += r.cost_usd
        hist.record(r, "console")
    hist.record(result(T0 + 20, status=429), "http")
    s = hist.summary("f", T0, T0 + 3600)
    assert (s["invocations"], s["errors"], s["throttles"]) == (9, 2, 1)
    assert s["cold_starts"] == 2
    assert s["cold_start_rate"] == pytest.approx(2 / 9)
    assert s["avg_init_ms"] == pytest.approx(200.0)
    # over successful and failed invocations alike; the throttle has no duration
    assert s["duration_p50"] == pytest.approx(percentile(durations, 50)) == pytest.approx(50.0)
    assert s["duration_p90"] == pytest.approx(82.0)
    assert s["duration_p99"] == pytest.approx(89.2)
    assert s["memory_max_mb"] == 100
    assert s["memory_avg_mb"] == pytest.approx(sum(used) / len(used))
    assert s["memory_size_mb"] == 128  # the latest invocation's, when none is given
    assert s["cost_usd"] == pytest.approx(expected_cost)
    assert s["window_seconds"] == 3600
    assert s["by_source"] == {"console": 9, "http": 1}
    assert s["concurrent_executions"] == 1  # 10-390 ms runs, one a second
    assert hist.summary("f", T0, T0 + 3600, memory_size=512)["memory_size_mb"] == 512


def test_summary_of_an_empty_window(hist):
    s = hist.summary("nothing", T0, T0 + 600)
    assert (s["invocations"], s["errors"], s["throttles"], s["cold_starts"], s["cost_usd"]) == (0, 0, 0, 0, 0)
    for key in ("cold_start_rate", "avg_init_ms", "duration_p50", "duration_p90", "duration_p99", "memory_max_mb", "memory_avg_mb"):
        assert s[key] is None, key
    assert s["projected_monthly_usd"] == 0 and s["projected_monthly_usd_no_free_tier"] == 0


def test_projection_extrapolates_the_window_to_a_month(hist):
    # 10 invocations of ~60 s at 10 GB in one hour: 7,200 a month, well past the free tier.
    billed = [60_000, 60_010, 60_020, 59_990, 60_000, 60_005, 60_000, 60_000, 59_995, 60_000]
    for i, b in enumerate(billed):
        hist.record(result(T0 + i * 300, duration=b - 0.5, billed=b, memory=10240), "console", "arm64")
    s = hist.summary("f", T0, T0 + 3600)
    monthly = round(10 * MONTH_S / 3600)  # AWS's pricing month: 730 hours
    average = sum(billed) / len(billed)
    with_free = pricing.monthly_cost(10240, average, monthly, "arm64", free_tier=True).total_usd
    without = pricing.monthly_cost(10240, average, monthly, "arm64", free_tier=False).total_usd
    assert s["projected_monthly_usd"] == pytest.approx(with_free)
    assert s["projected_monthly_usd_no_free_tier"] == pytest.approx(without)
    assert 0 < s["projected_monthly_usd"] < s["projected_monthly_usd_no_free_tier"]
    # priced at the memory and architecture given (the function's current settings)
    s = hist.summary("f", T0, T0 + 3600, memory_size=2048, architecture="x86_64")
    assert s["projected_monthly_usd_no_free_tier"] == pytest.approx(
        pricing.monthly_cost(2048, average, monthly, "x86_64", free_tier=False).total_usd
    )
    # half the window, half the rate... the same invocations in twice the time: half as many a month
    s = hist.summary("f", T0, T0 + 7200)
    assert s["projected_monthly_usd_no_free_tier"] == pytest.approx(
        pricing.monthly_cost(10240, average, monthly // 2, "arm64", free_tier=False).total_usd
    )


def test_a_small_load_stays_in_the_free_tier(hist):
    for i in range(5):
        hist.record(result(T0 + i, duration=3.0), "console")
    s = hist.summary("f", T0, T0 + 3600)
    assert s["projected_monthly_usd"] == 0
    assert s["projected_monthly_usd_no_free_tier"] == pytest.approx(
        pricing.monthly_cost(128, 3, round(5 * MONTH_S / 3600), "x86_64", free_tier=False).total_usd
    )


# -- series ---------------------------------------------------------------------------------------


def test_max_concurrency_of_intervals():
    assert max_concurrency([]) == 0
    assert max_concurrency([(0, 10), (5, 15), (6, 7)]) == 3
    assert max_concurrency([(0, 5), (5, 10), (10, 15)]) == 1  # touching is not overlapping
    assert max_concurrency([(3, 3), (3, 3)]) == 2  # no known duration: still ran, for an instant


def test_series_buckets_counts_percentiles_and_concurrency(hist):
    records = [
        result(T0 - 30, duration=45_000.0),  # before the window, still running in its first bucket
        result(T0 + 1, duration=5_000.0),
        result(T0 + 2, duration=3_000.0, init=1_000.0),  # runs 2-6 s: overlaps the one above
        result(T0 + 3, duration=10.0),  # 3-3.01 s: four at once, with the first
        result(T0 + 61, duration=100.0, error="ValueError"),
        result(T0 + 62, status=429),
        result(T0 + 150, duration=50_000.0),  # into the next bucket: concurrency 1 there, no invocation
        result(T0 + 185, duration=20.0),
        result(T0 + 400, duration=1.0),  # after the window
    ]
    for r in records:
        hist.record(r, "console")
    m = hist.series("f", T0 + 10, T0 + 230, period=60)  # aligned out to [T0, T0 + 240)
    assert isinstance(m, FunctionMetrics)
    assert (m.function, m.start, m.end, m.period) == ("f", T0, T0 + 240, 60)
    stamps = [T0, T0 + 60, T0 + 120, T0 + 180]
    assert m.invocations.timestamps == stamps
    assert m.invocations.values == [3, 1, 1, 1]
    assert m.errors.values == [0, 1, 0, 0]
    assert m.throttles.values == [0, 1, 0, 0]
    assert m.concurrent_executions.timestamps == stamps
    assert m.concurrent_executions.values == [4, 1, 1, 2]
    # percentiles only where there were durations
    assert m.duration_p50.timestamps == stamps
    assert m.duration_p50.values == pytest.approx([3000.0, 100.0, 50_000.0, 20.0])
    assert m.duration_p99.values[0] == pytest.approx(percentile([5000.0, 3000.0, 10.0], 99))
    window = [5000.0, 3000.0, 10.0, 100.0, 50_000.0, 20.0]
    assert m.duration_p50_window == pytest.approx(percentile(window, 50))
    assert m.duration_p99_window == pytest.approx(percentile(window, 99))
    totals = m.totals()
    assert (totals["invocations"], totals["errors"], totals["throttles"], totals["concurrent_executions"]) == (6, 1, 1, 4)


def test_series_of_a_quiet_window_has_zeros_and_no_percentiles(hist):
    m = hist.series("f", T0, T0 + 120, 60)
    assert m.invocations.values == [0, 0] and m.concurrent_executions.values == [0, 0]
    assert m.duration_p50.values == [] and m.duration_p50_window is None


def test_series_refuses_bad_windows(hist):
    with pytest.raises(ValueError):
        hist.series("f", T0, T0, 60)
    with pytest.raises(ValueError):
        hist.series("f", T0, T0 + 60, 0)
    with pytest.raises(ValueError):
        hist.series("f", T0, T0 + 86400 * 30, 1)  # millions of buckets


# -- pruning --------------------------------------------------------------------------------------


def count(db: Path) -> int:
    with sqlite3.connect(db) as c:
        return c.execute("SELECT count(*) FROM invocations").fetchone()[0]


def test_prune_by_age(db):
    now = time.time()
    with History(db, max_age_days=None) as h:
        for age_days in (40, 31, 29, 1):
            h.record(result(now - age_days * 86400), "console")
    with History(db, max_age_days=30) as h:
        h.flush()  # the writer prunes when it starts
        assert sorted(round((now - r.time) / 86400) for r in h.query("f", 0)) == [1, 29]
    with History(db, max_age_days=None) as h:
        assert h.prune(now=now + 5 * 86400) == 0  # no age limit: nothing goes
    with History(db, max_age_days=10) as h:
        assert [round((now - r.time) / 86400) for r in h.query("f", 0)] == [1]
        assert h.prune(now=now + 8 * 86400) == 0  # 9 days old then: kept
        assert h.prune(now=now + 10 * 86400) == 1
        assert h.query("f", 0) == []


def test_prune_by_rows_keeps_the_newest(db):
    with History(db, max_age_days=None, max_rows=None) as h:
        for t in (5, 1, 4, 2, 3, 8, 7, 6):  # recorded out of order: oldest means by time
            h.record(result(T0 + t), "console")
    with History(db, max_age_days=None, max_rows=5) as h:
        assert [r.time - T0 for r in h.query("f", 0)] == [4, 5, 6, 7, 8]
        assert h.prune() == 0


def test_prune_runs_every_n_records(db, monkeypatch):
    monkeypatch.setattr(history_module, "PRUNE_EVERY", 10)
    with History(db, max_age_days=None, max_rows=4) as h:
        for i in range(10):
            h.record(result(T0 + i), "console")
            h.flush()  # one batch each: the 10th insert triggers the prune
        assert [r.time - T0 for r in h.query("f", 0)] == [6, 7, 8, 9]


# -- durability -----------------------------------------------------------------------------------


def test_rows_outlive_the_instance(db):
    with History(db, max_age_days=None) as h:
        h.record(result(T0, duration=7.0), "cli")
    h.record(result(T0 + 1), "cli")  # after close: dropped, not an error
    with History(db, max_age_days=None) as again:
        rows = again.query("f", 0)
        assert [(r.time, r.duration_ms, r.source) for r in rows] == [(T0, 7.0, "cli")]


WRITER = """
import sys
from pathlib import Path
from lambdatui.executor.spec import InvokeResult
from lambdatui.history import History

h = History(Path(sys.argv[1]), max_age_days=None)
for i in range(int(sys.argv[2])):
    h.record(InvokeResult(function="f", request_id=f"sub-{i}", status_code=200, payload=b"",
                          duration_ms=1.0 + i, billed_duration_ms=2 + i, memory_size_mb=128,
                          max_memory_used_mb=30, started_at=float(sys.argv[3]) + i), "subprocess")
# no close(): what was queued is written at exit
"""


def test_rows_written_by_other_processes_are_seen(db, tmp_path):
    with History(db, max_age_days=None) as h:
        h.record(result(T0 - 10), "console")  # this process writes too, the file open throughout
        procs = [
            subprocess.Popen([sys.executable, "-c", WRITER, str(db), "50", str(T0 + k * 100)], cwd=REPO)
            for k in range(3)
        ]
        for p in procs:
            assert p.wait(60) == 0
        rows = h.query("f", 0)
        assert len(rows) == 151
        assert sum(1 for r in rows if r.source == "subprocess") == 150
        assert h.summary("f", T0, T0 + 400)["invocations"] == 150


CONTENDER = """
import sys, time
from pathlib import Path
from lambdatui.executor.spec import InvokeResult
from lambdatui.history import History

folder, tag, rounds, n, go = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), Path(sys.argv[5])
give_up = time.monotonic() + 60  # never outlive a failed test, spinning at a barrier
while not go.exists():
    assert time.monotonic() < give_up
    time.sleep(0.001)
folder.mkdir(parents=True, exist_ok=True)
for k in range(rounds):
    # A new file each round, which both processes open at the same moment (each waits for the
    # other at a barrier of marker files): creating it and turning on WAL race too.
    (folder / f"round{k}.{tag}").touch()
    while len(list(folder.glob(f"round{k}.*"))) < 2:
        assert time.monotonic() < give_up
        time.sleep(0.0005)
    h = History(folder / f"history{k}.db", max_age_days=None)
    for i in range(n):
        h.record(InvokeResult(function="f", request_id=f"{tag}-{i}", status_code=200, payload=b"",
                              duration_ms=1.0, billed_duration_ms=1, memory_size_mb=128,
                              max_memory_used_mb=30, started_at=1_800_000_000.0 + i), tag)
        if i % 3 == 0:
            h.flush()  # many small transactions, so the two writers contend for the lock all along
    h.close()
"""


def test_two_processes_writing_at_once_lose_no_record(tmp_path):
    folder = tmp_path / "state"
    go = tmp_path / "go"
    rounds, n = 30, 40
    procs = [
        subprocess.Popen([sys.executable, "-c", CONTENDER, str(folder), tag, str(rounds), str(n), str(go)], cwd=REPO,
                         stderr=subprocess.PIPE, text=True)
        for tag in ("one", "two")
    ]
    try:
        time.sleep(0.5)  # both interpreters up and waiting
        go.touch()
        for p in procs:
            _, err = p.communicate(timeout=120)
            assert p.returncode == 0, err
            assert "not recorded" not in err  # the writer's warning when a batch was dropped
    finally:
        for p in procs:
            p.kill()  # the other one, when one failed (a no-op on an ended process)
    for k in range(rounds):
        with History(folder / f"history{k}.db", max_age_days=None) as h:
            rows = h.query("f", 0)
        for tag in ("one", "two"):
            assert sorted(r.request_id for r in rows if r.source == tag) == sorted(f"{tag}-{i}" for i in range(n))
        assert len(rows) == 2 * n


# -- the local backend ----------------------------------------------------------------------------


def local_backend(tmp_path, **options):
    folder = tmp_path / "echo"
    folder.mkdir(exist_ok=True)
    (folder / "app.py").write_text(textwrap.dedent("""
        def handler(event, context):
            if event.get("fail"):
                raise ValueError("failed on demand")
            return {"ok": True}
        """))
    path = tmp_path / "lambdatui.yaml"
    path.write_text(textwrap.dedent(f"""\
        backend: local
        local:
          keep_warm_seconds: 600
          functions:
            hist-echo:
              runtime: {PY}
              handler: app.handler
              code: echo
              memory_size: 256
              architecture: arm64
            hist-throttled:
              runtime: {PY}
              handler: app.handler
              code: echo
              reserved_concurrency: 0
        """))
    return make_backend(parse_config(path.read_text(), path), state_dir=tmp_path / "state", **options)




def test_local_backend_records_every_invocation_with_its_source(tmp_path):
    started = time.time()
    backend = local_backend(tmp_path)
    try:
        assert backend.invoke("hist-echo", b"{}", source="http").ok
        assert backend.invoke("hist-echo", b"{}").ok  # the dashboard's: "console"
        assert backend.invoke("hist-echo", json.dumps({"fail": 1}).encode(), source="schedule").function_error
        assert backend.invoke("hist-throttled", b"{}", source="sqs").status_code == 429
        assert backend.invoke("hist-echo", b"{}", invocation_type="DryRun").status_code == 204  # not an invocation
        assert backend.invoke("hist-echo", b"{}", invocation_type="Event", source="s3").status_code == 202
        history = backend.history
        wait_for(lambda: len(history.query("hist-echo", started)) == 4, timeout=20)  # the event's run is recorded when it runs

        rows = history.query("hist-echo", started)
        assert [r.source for r in rows] == ["http", "console", "schedule", "s3"]
        assert rows[0].cold and not rows[1].cold
        assert all(r.memory_size_mb == 256 and r.architecture == "arm64" for r in rows)
        assert [r.error for r in rows] == [False, False, True, False]
        (throttle,) = history.query("hist-throttled", started)
        assert (throttle.source, throttle.throttled) == ("sqs", True)

        m = backend.metrics("hist-echo", start=started - 60, end=time.time() + 1, period=60)
        totals = m.totals()
        assert (totals["invocations"], totals["errors"], totals["throttles"]) == (4, 1, 0)
        assert totals["concurrent_executions"] >= 1 and m.duration_p50_window > 0
        assert backend.metrics("hist-throttled", start=started - 60, end=time.time() + 1).totals()["throttles"] == 1

        s = backend.summary("hist-echo", started - 1)
        assert (s["invocations"], s["errors"], s["cold_starts"], s["memory_size_mb"]) == (4, 1, 1, 256)
        assert s["by_source"] == {"console": 1, "http": 1, "s3": 1, "schedule": 1}
        with pytest.raises(FunctionNotFoundError):
            backend.summary("missing", started)
        with pytest.raises(FunctionNotFoundError):
            backend.metrics("missing", start=started, end=started + 60)
        with pytest.raises(InvalidParameterError):
            backend.metrics("hist-echo", start=started, end=started - 60)
    finally:
        backend.close()
    # closing wrote everything; the file holds it for the next process
    assert (tmp_path / "state" / "history.db").exists()
    with History(tmp_path / "state" / "history.db") as again:
        assert len(again.query(None, started)) == 5


def test_serve_triggers_record_their_source(tmp_path):
    from lambdatui.serve.async_invoke import AsyncInvoker

    started = time.time()
    backend = local_backend(tmp_path)
    invoker = AsyncInvoker(backend, tmp_path / "state" / "async.db", retry_delays=(0.01,), workers=1).start()
    try:
        invoker.submit("hist-echo", b"{}")
        invoker.submit("hist-echo", json.dumps({"fail": 1}).encode())  # fails, retried twice (Lambda's default)
        assert invoker.wait_idle(30)
        rows = backend.history.query("hist-echo", started)
        assert [r.source for r in rows] == ["api-async"] * 4
        assert sorted(r.error for r in rows) == [False, True, True, True]
    finally:
        invoker.stop()
        backend.close()


def test_local_backend_without_recording(tmp_path):
    backend = local_backend(tmp_path, record_history=False)
    try:
        assert backend.invoke("hist-echo", b"{}", source="http").ok
        assert backend.summary("hist-echo", 0)["invocations"] == 0
    finally:
        backend.close()


def test_a_broken_history_file_does_not_stop_invocations(tmp_path):
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / "history.db").write_bytes(b"this is not a database" * 100)
    backend = local_backend(tmp_path)
    try:
        assert backend.invoke("hist-echo", b"{}").ok
        assert backend.history is None
    finally:
        backend.close()
