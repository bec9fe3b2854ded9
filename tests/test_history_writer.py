"""The invocation history's writer (`lambdatui.history`): records gathered and inserted together off
the invoking thread, `flush` not waiting for the gathering window, and an open that takes no write
lock when the file is already set up — what keeps the history cheap for a one-shot `lambdatui
invoke` and for every invoke `serve` records."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
from polling import wait_for

from lambdatui import history as history_module
from lambdatui.executor.spec import InvokeResult
from lambdatui.history import History

T0 = 1_800_000_000.0


def result(i: int, function: str = "f") -> InvokeResult:
    return InvokeResult(
        function=function, request_id=f"req-{i}", status_code=200, payload=b"", duration_ms=1.0 + i,
        billed_duration_ms=2 + i, memory_size_mb=128, max_memory_used_mb=30, started_at=T0 + i,
    )


def rows_seen_by_another_connection(db: Path) -> list[tuple]:
    with sqlite3.connect(db) as c:
        return c.execute("SELECT request_id, duration_ms, time FROM invocations ORDER BY id").fetchall()


@pytest.fixture
def db(tmp_path) -> Path:
    return tmp_path / "history.db"


def test_records_reach_the_file_without_a_flush(db):
    with History(db, max_age_days=None) as h:
        for i in range(5):
            h.record(result(i), "cli")
        # Written by the writer thread once its window closes; another process sees them then.
        wait_for(lambda: len(rows_seen_by_another_connection(db)) == 5, timeout=10)


def test_flush_writes_at_once_rather_than_at_the_end_of_the_window(db, monkeypatch):
    monkeypatch.setattr(history_module, "BATCH_WINDOW_S", 3600.0)  # a window no test would outwait
    with History(db, max_age_days=None) as h:
        h.record(result(0), "cli")
        assert h.flush(timeout=30)
        assert [r[0] for r in rows_seen_by_another_connection(db)] == ["req-0"]
        h.record(result(1), "cli")
    # close writes what is queued, without waiting for the window either
    assert [r[0] for r in rows_seen_by_another_connection(db)] == ["req-0", "req-1"]


def test_a_batch_longer_than_one_insert_statement_is_written_whole_and_in_order(db, monkeypatch):
    monkeypatch.setattr(history_module, "BATCH_WINDOW_S", 3600.0)
    n = 3 * history_module.ROWS_PER_INSERT + 7  # several full statements and a shorter last one
    with History(db, max_age_days=None) as h:
        for i in range(n):
            h.record(result(i), "cli")
        h.flush()
    assert rows_seen_by_another_connection(db) == [(f"req-{i}", 1.0 + i, T0 + i) for i in range(n)]


def test_records_from_many_threads_are_each_written_once(db):
    with History(db, max_age_days=None) as h:

        def record(k: int) -> None:
            for i in range(200):
                h.record(result(k * 1000 + i), f"thread-{k}")

        threads = [threading.Thread(target=record, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        rows = h.query("f", 0)
    assert sorted(r.request_id for r in rows) == sorted(f"req-{k * 1000 + i}" for k in range(4) for i in range(200))


def hold_write_lock(db: Path) -> sqlite3.Connection:
    """Another process's writer, mid-transaction: it holds the file's write lock until rolled back."""
    other = sqlite3.connect(db, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    return other


def test_opening_a_set_up_history_takes_no_write_lock(db, monkeypatch):
    History(db).close()  # made and set up once
    monkeypatch.setattr(history_module, "BUSY_TIMEOUT_S", 0.2)  # waiting for the lock would fail fast
    other = hold_write_lock(db)
    try:
        with History(db, max_age_days=30, max_rows=10) as h:  # schema check and start-up prune: reads only
            assert h.prune() == 0
            assert h.query(None, 0) == []
    finally:
        other.rollback()
        other.close()


def test_a_history_made_before_the_schema_version_is_upgraded_in_place(db):
    with sqlite3.connect(db) as c:  # as an older lambdatui left it: the table, user_version 0
        c.executescript(history_module._SCHEMA)
        c.execute(
            "INSERT INTO invocations (time, function, request_id, source, status_code) VALUES (?, 'f', 'old', 'cli', 200)",
            (T0,),
        )
    with History(db, max_age_days=None) as h:
        h.record(result(1), "cli")
        assert [r.request_id for r in h.query("f", 0)] == ["old", "req-1"]
    with sqlite3.connect(db) as c:
        assert c.execute("PRAGMA user_version").fetchone()[0] == history_module.SCHEMA_VERSION


def test_pruning_beyond_max_rows_still_happens_when_ids_have_gaps(db):
    with History(db, max_age_days=None, max_rows=None) as h:
        for i in range(10):
            h.record(result(i), "cli")
    with sqlite3.connect(db) as c:  # gaps in the ids, as earlier prunes leave them
        c.execute("DELETE FROM invocations WHERE request_id IN ('req-2', 'req-5')")
    with History(db, max_age_days=None, max_rows=5) as h:
        kept = [r.request_id for r in h.query("f", 0)]  # pruned when the writer started
    assert kept == ["req-4", "req-6", "req-7", "req-8", "req-9"]
