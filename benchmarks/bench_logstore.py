"""Benchmark of the log store's persisted lines, safe across processes (`executor/logstore.py`).

Every line `LogStore.append` persists is one O_APPEND `write` under a shared `flock`, after a
`stat` that checks the file was not rotated by another process. This measures what that costs per
line against baselines taken in the same run, on the same machine, with the same lines (~110 bytes,
JSON-encoded as the store encodes them):

- memory: `LogStore()` without a directory (the ring and the subscribers only);
- bare O_APPEND write: `os.write` of the encoded line to a file opened with O_APPEND, nothing else
  (what any safe multi-process appender must do at least);
- buffered: the encoded line written to a buffered file, flushed every 3 lines (how the store wrote
  before: one flush per invocation, an invocation logging START, END and REPORT at least).

Then what it adds to a warm `LocalBackend.invoke` of a no-op function (START, END and REPORT: three
lines), against the same backend with `persist_logs=False`, rounds alternating. Then two processes
append at once with 1 MB files (many rotations), and the figure is their lines per second together;
every line is checked to be there exactly once.

It prints a table of figures; the only target is correctness (every line of the two processes there
exactly once), since the point of the design is safety, and the cost rows are information, each
against its baselines. It exits 0 whatever the verdict: it is a report, not a test.

    .venv/bin/python benchmarks/bench_logstore.py [--lines 200000] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from lambdatui.executor import logstore
from lambdatui.executor.logstore import LogStore, read_log_file

REPO = Path(__file__).resolve().parent.parent
MESSAGE = "[INFO]\t2026-01-01T00:00:00.000Z\t0f6a1d3c-0000-4000-8000-000000000000\tprocessed record 12345 ok"
STREAM = "2026/01/01/[$LATEST]0123456789abcdef0123456789abcdef"
REPEATS = 5  # each figure is the median of this many runs

WRITER = """
import sys, time
from pathlib import Path
from lambdatui.executor import logstore
directory, tag, n, go = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), Path(sys.argv[4])
logstore.ROTATE_BYTES, logstore.ROTATE_KEEP = 1 << 20, 10_000
store = logstore.LogStore(directory)
while not go.exists():
    time.sleep(0.001)
started = time.perf_counter()
for i in range(n):
    store.append("fn", "s", f"{tag} {i}")
print(time.perf_counter() - started)
store.close()
"""


def per_line_us(run, lines: int) -> float:
    times = []
    for _ in range(REPEATS):
        with tempfile.TemporaryDirectory() as tmp:
            started = time.perf_counter()
            run(Path(tmp), lines)
            times.append((time.perf_counter() - started) / lines * 1e6)
    return statistics.median(times)


def memory_store(_: Path, lines: int) -> None:
    store = LogStore(None)
    for _ in range(lines):
        store.append("fn", STREAM, MESSAGE)


def persisted_store(tmp: Path, lines: int) -> None:
    store = LogStore(tmp)
    for _ in range(lines):
        store.append("fn", STREAM, MESSAGE)
    store.close()


def encoded() -> bytes:
    return (json.dumps({"t": int(time.time() * 1000), "s": STREAM, "m": MESSAGE}) + "\n").encode()


def bare_append(tmp: Path, lines: int) -> None:
    fd = os.open(tmp / "bare.jsonl", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    for _ in range(lines):
        os.write(fd, encoded())
    os.close(fd)


def buffered(tmp: Path, lines: int) -> None:
    with open(tmp / "buffered.jsonl", "a", encoding="utf-8") as f:
        for i in range(lines):
            f.write(json.dumps({"t": int(time.time() * 1000), "s": STREAM, "m": MESSAGE}) + "\n")
            if i % 3 == 2:
                f.flush()


def two_processes(lines: int) -> tuple[float, int, bool]:
    """(lines/s of both together, rotations, every line there exactly once)."""
    with tempfile.TemporaryDirectory() as tmp:
        directory, go = Path(tmp) / "logs", Path(tmp) / "go"
        procs = [
            subprocess.Popen([sys.executable, "-c", WRITER, str(directory), tag, str(lines), str(go)],
                             cwd=REPO, stdout=subprocess.PIPE, text=True)
            for tag in ("a", "b")
        ]
        time.sleep(1.0)
        go.touch()
        elapsed = [float(p.communicate(timeout=600)[0]) for p in procs]
        messages = [e.message for e in read_log_file(directory, "fn")]
        exact = all(
            sorted(int(m.split()[1]) for m in messages if m.startswith(tag + " ")) == list(range(lines))
            for tag in ("a", "b")
        ) and len(messages) == 2 * lines
        rotations = len(list(directory.glob("fn.jsonl.*")))
        return 2 * lines / max(elapsed), rotations, exact


NOOP = "def handler(event, context):\n    return None\n"


def backend_invokes(rounds: int = 5, per_round: int = 400) -> tuple[float, float]:
    """Median warm `LocalBackend.invoke` (ms) of a no-op function with the log lines persisted and
    without (`persist_logs=False`), rounds alternating, in one run. Each invoke logs START, END
    and REPORT."""
    from lambdatui.backends.local import LocalBackend
    from lambdatui.config import load_config

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "fn").mkdir()
        (root / "fn" / "app.py").write_text(NOOP)
        config = root / "lambdatui.yaml"
        config.write_text(
            f"local:\n  functions:\n    noop:\n      runtime: python{sys.version_info[0]}.{sys.version_info[1]}\n"
            "      handler: app.handler\n      code: fn\n"
        )
        times: dict[bool, list[float]] = {True: [], False: []}
        backends = {
            persist: LocalBackend(load_config(config), state_dir=root / f"state-{persist}", watch_code=False,
                                  persist_logs=persist, record_history=False)
            for persist in (True, False)
        }
        try:
            for backend in backends.values():
                for _ in range(50):
                    backend.invoke("noop", b"{}")  # cold start and warm-up
            for _ in range(rounds):
                for persist, backend in backends.items():
                    for _ in range(per_round):
                        started = time.perf_counter()
                        backend.invoke("noop", b"{}")
                        times[persist].append((time.perf_counter() - started) * 1000)
        finally:
            for backend in backends.values():
                backend.close()
        return statistics.median(times[True]), statistics.median(times[False])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=200_000)
    parser.add_argument("--json", metavar="FILE")
    args = parser.parse_args()
    n = args.lines
    assert logstore.ROTATE_BYTES >= 16 << 20  # the single-process figures rotate at most once or twice

    memory = per_line_us(memory_store, n)
    bare = per_line_us(bare_append, n)
    old = per_line_us(buffered, n)
    persisted = per_line_us(persisted_store, n)
    rate, rotations, exact = two_processes(n // 2)
    invoke_persisted, invoke_memory = backend_invokes()

    rows = [
        ("memory only (baseline)", "", f"{memory:.2f} µs/line", None),
        ("bare O_APPEND write (baseline)", "", f"{bare:.2f} µs/line", None),
        ("buffered, flush per 3 lines (baseline: the old writer)", "", f"{old:.2f} µs/line", None),
        ("persisted append", "", f"{persisted:.2f} µs/line", None),
        ("persisted − memory (the file's cost)", "", f"{persisted - memory:.2f} µs/line", None),
        ("  over bare O_APPEND write", "", f"{(persisted - memory) / bare:.2f}×", None),
        ("persisted / memory", "", f"{persisted / memory:.2f}×", None),
        ("persisted / buffered", "", f"{persisted / old:.2f}×", None),
        ("LocalBackend.invoke p50, lines persisted", "", f"{invoke_persisted * 1000:.0f} µs", None),
        ("  without persisting (persist_logs=False)", "", f"{invoke_memory * 1000:.0f} µs", None),
        ("  difference per invoke (START, END, REPORT)", "", f"{(invoke_persisted - invoke_memory) * 1000:+.0f} µs", None),
        ("two processes at once, 1 MB files", "", f"{rate:,.0f} lines/s, {rotations} rotations", None),
        ("  every line exactly once", "yes", "yes" if exact else "NO", exact),
    ]
    print(f"lambdatui log store, {n:,} lines per run, median of {REPEATS} — Python {platform.python_version()}, "
          f"{platform.system()} {platform.release()}, {os.cpu_count()} CPUs")
    width = max(len(r[0]) for r in rows)
    print(f"{'figure':<{width}}  {'target':<6}  {'measured':<28}  verdict")
    for name, target, value, ok in rows:
        verdict = "" if ok is None else ("PASS" if ok else "FAIL")
        print(f"{name:<{width}}  {target:<6}  {value:<28}  {verdict}")
    if args.json:
        Path(args.json).write_text(json.dumps({
            "lines": n, "memory_us": memory, "bare_append_us": bare, "buffered_us": old, "persisted_us": persisted,
            "invoke_p50_persisted_ms": invoke_persisted, "invoke_p50_memory_ms": invoke_memory,
            "two_process_lines_per_s": rate, "rotations": rotations, "exact": exact,
        }, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
