"""Benchmark of how the executor takes a function's output, measured side by side in one run.

Figures:

1. Output without newlines: the Duration of a warm invoke whose handler writes 20 MB to stdout in
   1 KB writes and never a newline, over the Duration of one writing the same 20 MB as 1 KB lines
   (the baseline). The two alternate, medians of `--rounds` each. Before, the partial line was
   concatenated piece by piece (quadratic: 5.9 s for 20 MB) and never split (one 78 MB event);
   now it is 256 KB events.
2. Memory of a chatty invocation: the executor process's resident memory (VmRSS) while one
   invocation prints 5,000 lines/s for 60 s (`--quick`: 15 s), sampled every 0.25 s; after a
   warm-up (the log store's in-memory ring of 20,000 events per function fills in 4 s) it must
   stay flat within 10 MB. Before, every line of the running invocation was kept for its log tail.

It prints a table of figure, target, measured value and PASS/FAIL, and exits 0 whatever the
verdicts: it is a report, not a test.

    .venv/bin/python benchmarks/bench_output.py            # about 90 s
    .venv/bin/python benchmarks/bench_output.py --quick    # about 30 s
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from lambdatui.executor import Executor, FunctionSpec, LogStore

RUNTIME = f"python{sys.version_info.major}.{sys.version_info.minor}"
MB = 1024 * 1024

WRITER = """
import sys
def handler(event, context):
    mb, newline = event["mb"], event["newline"]
    piece = "x" * 1023 + ("\\n" if newline else "x")
    write = sys.stdout.write
    for _ in range(mb * 1024):
        write(piece)
    return None
"""

CHATTY = """
import sys, time
def handler(event, context):
    seconds, per_second = event["seconds"], event["per_second"]
    batch = per_second // 100  # a batch every 10 ms
    line = "chatty line %08d " + "y" * 60 + "\\n"
    start = time.monotonic()
    n = 0
    while True:
        elapsed = time.monotonic() - start
        if elapsed >= seconds:
            return n
        while n < per_second * elapsed + batch:
            sys.stdout.write(line % n)
            n += 1
        time.sleep(0.01)
"""

FULL = dict(mb=20, rounds=5, seconds=60, warmup=10)
QUICK = dict(mb=20, rounds=3, seconds=15, warmup=6)


def rss_kb() -> int:
    with open("/proc/self/status", "rb") as f:
        for line in f:
            if line.startswith(b"VmRSS:"):
                return int(line.split()[1])
    return 0


def output_durations(ex: Executor, mb: int, rounds: int) -> tuple[list[float], list[float], int, int]:
    """Durations (ms) of writing `mb` MB with and without newlines, alternating; and the event counts of one each."""
    with_nl, without_nl = [], []
    counts = {}
    seen = [0]

    def count(event: object) -> None:
        seen[0] += 1

    unsubscribe = ex.logs.subscribe(count)
    try:
        for _ in range(rounds + 1):  # the first round warms up (and starts the environment)
            for newline, out in ((True, with_nl), (False, without_nl)):
                seen[0] = 0
                r = ex.invoke("writer", f'{{"mb": {mb}, "newline": {"true" if newline else "false"}}}')
                assert r.ok, r.payload
                out.append(r.duration_ms)
                counts[newline] = seen[0] - 3  # less START, END and REPORT
    finally:
        unsubscribe()
    return with_nl[1:], without_nl[1:], counts[True], counts[False]


def chatty_rss(ex: Executor, seconds: int, per_second: int) -> tuple[list[tuple[float, int]], int]:
    """(seconds since start, VmRSS kB) samples while one invocation prints per_second lines/s; and its line count."""
    ex.invoke("chatty", b'{"seconds": 0.2, "per_second": 1000}')  # cold start out of the way
    samples: list[tuple[float, int]] = []
    result = {}

    def run() -> None:
        result["r"] = ex.invoke("chatty", f'{{"seconds": {seconds}, "per_second": {per_second}}}')

    worker = threading.Thread(target=run)
    t0 = time.monotonic()
    worker.start()
    while worker.is_alive():
        samples.append((time.monotonic() - t0, rss_kb()))
        worker.join(0.25)
    r = result["r"]
    assert r.ok, r.payload
    return samples, int(r.payload)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a 15 s chatty invocation and 3 rounds, for a shorter run")
    args = parser.parse_args()
    cfg = QUICK if args.quick else FULL
    began = time.perf_counter()

    with tempfile.TemporaryDirectory(prefix="lambdatui-bench-output-") as d:
        tmp = Path(d)
        for name, source in (("writer", WRITER), ("chatty", CHATTY)):
            (tmp / name).mkdir()
            (tmp / name / "app.py").write_text(source)
        specs = [
            FunctionSpec(name="writer", runtime=RUNTIME, handler="app.handler", code=tmp / "writer", timeout=120, memory_size=1024),
            FunctionSpec(name="chatty", runtime=RUNTIME, handler="app.handler", code=tmp / "chatty", timeout=cfg["seconds"] + 30),
        ]
        with Executor(specs, cache_dir=tmp / "cache", logs=LogStore()) as ex:
            with_nl, without_nl, events_nl, events_no_nl = output_durations(ex, cfg["mb"], cfg["rounds"])
            samples, lines = chatty_rss(ex, cfg["seconds"], 5000)

    nl_ms, no_nl_ms = statistics.median(with_nl), statistics.median(without_nl)
    after = [kb for t, kb in samples if t >= cfg["warmup"]]
    growth_mb = (max(after) - min(after)) / 1024 if after else float("nan")
    rows = [
        (f"{cfg['mb']} MB without newlines, Duration p50 (ms)", "", no_nl_ms, None),
        (f"  {cfg['mb']} MB as 1 KB lines, Duration p50 (ms)", "", nl_ms, None),
        ("  log events: without newlines / as lines", "", f"{events_no_nl} / {events_nl}", None),
        ("  without / with newlines", "<= 2x", no_nl_ms / nl_ms, no_nl_ms / nl_ms <= 2),
        (f"chatty invocation: lines printed in {cfg['seconds']} s", "", lines, None),
        ("  executor VmRSS at start / after warm-up / at end (MB)", "",
         f"{samples[0][1] / 1024:.1f} / {after[0] / 1024:.1f} / {samples[-1][1] / 1024:.1f}", None),
        (f"  VmRSS range after {cfg['warmup']} s of warm-up (MB)", "<= 10", growth_mb, growth_mb <= 10),
    ]

    print(f"lambdatui output benchmark: {RUNTIME} on Python {platform.python_version()}, {os.cpu_count()} CPUs, "
          f"{'quick' if args.quick else 'full'} run in {time.perf_counter() - began:.1f} s")
    print(f"  {cfg['rounds']} rounds of each writer, alternating, after one warm-up round; one chatty invocation "
          f"of {cfg['seconds']} s at 5,000 lines/s, RSS sampled every 0.25 s")
    print()
    width = max(len(r[0]) for r in rows)
    print(f"{'figure':<{width}}  {'target':>8}  {'measured':>18}  result")
    print("-" * (width + 38))
    for name, target, value, passed in rows:
        shown = f"{value:.2f}" if isinstance(value, float) else str(value)
        verdict = "" if passed is None else ("PASS" if passed else "FAIL")
        print(f"{name:<{width}}  {target:>8}  {shown:>18}  {verdict}".rstrip())
    failed = sum(1 for r in rows if r[3] is False)
    print(f"\n{sum(1 for r in rows if r[3] is not None) - failed} passed, {failed} failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
