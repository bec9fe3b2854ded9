"""Benchmark of durable asynchronous invokes (`lambdatui.serve.async_invoke`), each figure against a
baseline measured in the same run, on the same disk.

- accept rate: `AsyncInvoker.submit` (one committed SQLite transaction per event, WAL,
  synchronous=FULL: durable before the 202) from one thread, against the bare floor of the same
  work: an INSERT of the same row in its own `BEGIN IMMEDIATE` transaction on a connection with the
  same pragmas. Target: >= 0.7x the bare rate.
- backlog memory: RSS growth while 10,000 events are accepted and left pending (they are rows on
  disk, not objects in memory). Target: < 20 MB.
- drain rate: a no-op Python function, 2 workers claiming from the store, against 2 threads
  calling `LocalBackend.invoke` directly for the same number of events (the executor's own rate).
  Target: >= 0.5x (each event costs a claim and a delete, two more commits, on top of the invoke).

It prints a table of figure, target, measured value and PASS/FAIL, and exits 0 whatever the
verdicts: it is a report, not a test.

    .venv/bin/python benchmarks/bench_async.py [--events 5000] [--drain 2000] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

from lambdatui.backends.local import LocalBackend
from lambdatui.config import parse_config
from lambdatui.serve.async_invoke import AsyncInvoker

PAYLOAD = json.dumps({"order": 12345, "items": ["a", "b", "c"], "note": "x" * 64}).encode()


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def bare_inserts(path: Path, n: int) -> float:
    """Events/s for the floor: one INSERT per committed transaction, the store's pragmas."""
    conn = sqlite3.connect(str(path), timeout=10, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA busy_timeout = 10000")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute(
        "CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, request_id TEXT UNIQUE, function TEXT,"
        " payload BLOB, received_at REAL, next_attempt_at REAL)"
    )
    lock = threading.Lock()
    start = time.perf_counter()
    for _ in range(n):
        with lock:  # the store holds a lock around each transaction too
            conn.execute("BEGIN IMMEDIATE")
            now = time.time()
            conn.execute(
                "INSERT INTO t (request_id, function, payload, received_at, next_attempt_at) VALUES (?, ?, ?, ?, ?)",
                (str(uuid.uuid4()), "noop", PAYLOAD, now, now),
            )
            conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    return n / elapsed


def make_backend(root: Path) -> LocalBackend:
    code = root / "code"
    code.mkdir()
    (code / "app.py").write_text("def handler(event, context):\n    return None\n")
    py = f"python{sys.version_info[0]}.{sys.version_info[1]}"
    text = f"local:\n  functions:\n    noop: {{runtime: {py}, handler: app.handler, code: code}}\n"
    return LocalBackend(parse_config(text, root / "lambdatui.yaml"), state_dir=root / "state", watch_code=False)


def direct_rate(backend: LocalBackend, n: int, threads: int = 2) -> float:
    """Events/s when `threads` threads invoke the function directly (the executor's rate)."""
    per = n // threads

    def run() -> None:
        for _ in range(per):
            backend.invoke("noop", PAYLOAD, source="bench")

    workers = [threading.Thread(target=run) for _ in range(threads)]
    start = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return per * threads / (time.perf_counter() - start)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5000, help="events accepted for the accept-rate figure")
    parser.add_argument("--drain", type=int, default=2000, help="events run for the drain-rate figure")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()

    rows: list[tuple[str, str, str, str]] = []
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="bench-async-") as tmp:
        root = Path(tmp)
        backend = make_backend(root)
        try:
            # Accept rate: the invoker not started, so only submit runs (as while workers are busy).
            bare = bare_inserts(root / "bare.db", args.events)
            invoker = AsyncInvoker(backend, root / "accept" / "async.db")
            start = time.perf_counter()
            for _ in range(args.events):
                invoker.submit("noop", PAYLOAD)
            accept = args.events / (time.perf_counter() - start)
            invoker.stop()
            figures.update(bare_insert_per_s=bare, submit_per_s=accept, submit_ratio=accept / bare)
            rows.append(("  bare INSERT + COMMIT, same pragmas", "", f"{bare:,.0f}/s", ""))
            rows.append(("  submit (durable accept)", "", f"{accept:,.0f}/s", ""))
            rows.append(("submit / bare insert", ">= 0.7x", f"{accept / bare:.2f}x", "PASS" if accept / bare >= 0.7 else "FAIL"))

            # Backlog memory: 10,000 pending events.
            invoker = AsyncInvoker(backend, root / "backlog" / "async.db")
            before = rss_mb()
            for _ in range(10_000):
                invoker.submit("noop", PAYLOAD)
            growth = rss_mb() - before
            pending = invoker.pending()
            invoker.stop()
            figures.update(backlog_rss_growth_mb=growth, backlog_pending=pending)
            rows.append(("RSS growth, 10,000 pending events", "< 20 MB", f"{growth:.1f} MB ({pending:,} pending)",
                         "PASS" if growth < 20 and pending == 10_000 else "FAIL"))

            # Drain rate against direct invokes.
            for _ in range(50):
                backend.invoke("noop", PAYLOAD, source="bench")  # warm environments
            direct = direct_rate(backend, args.drain)
            invoker = AsyncInvoker(backend, root / "drain" / "async.db", workers=2)
            for _ in range(args.drain):
                invoker.submit("noop", PAYLOAD)
            start = time.perf_counter()
            invoker.start()
            drained = invoker.wait_idle(300)
            drain = args.drain / (time.perf_counter() - start)
            invoker.stop()
            figures.update(direct_invoke_per_s=direct, drain_per_s=drain, drain_ratio=drain / direct)
            rows.append(("  direct invokes, 2 threads", "", f"{direct:,.0f}/s", ""))
            rows.append(("  async drain, 2 workers", "", f"{drain:,.0f}/s", ""))
            rows.append(("drain / direct", ">= 0.5x", f"{drain / direct:.2f}x",
                         "PASS" if drained and drain / direct >= 0.5 else "FAIL"))
        finally:
            backend.close()

    width = max(len(r[0]) for r in rows)
    print(f"{'figure':<{width}}  {'target':<8}  {'measured':<28}  verdict")
    for name, target, value, verdict in rows:
        print(f"{name:<{width}}  {target:<8}  {value:<28}  {verdict}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
