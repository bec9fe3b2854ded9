"""Benchmark of the dashboard's log tail pane under a busy function.

A headless Textual app (`App.run_test()`) follows a fake backend whose `tail_logs` delivers
5,000 lines per second for 5 s, in the shape a real tail has: every 10 ms the lines that came
due, a mix of START/END/REPORT, handler output, warnings and `\\r`-joined tracebacks. The pane
runs its real path: exclusive worker, inbox, 20 Hz flush, `max_lines=10,000`.

Meanwhile, every 200 ms the benchmark presses a key bound to a no-op app action and measures
the time from sending the key to the action running: what a user feels as responsiveness while
the tail is busy. Headless, the compositor still renders every frame (the widget's
`render_line` runs); only the bytes to the terminal are skipped.

Figures: key latency p50/p99/max (target <= 100 ms), RSS before and after the 25,000 lines
(target: growth < 50 MB), the lines kept (target: exactly `max_lines`), and information rows:
flushes, time per flush, event-loop lag, rows rendered.

It prints a table of figure, target, measured value and PASS/FAIL, and exits 0 whatever the
verdicts: it is a report, not a test.

    .venv/bin/python benchmarks/bench_log_tail.py [--rate 5000] [--seconds 5] [--json FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import platform
import resource
import statistics
import sys
import time
from pathlib import Path

from textual import __version__ as textual_version
from textual.app import App, ComposeResult
from textual.binding import Binding

from lambdatui.executor.logstore import LogEvent
from lambdatui.logformat import end_line, report_line, start_line
from lambdatui.tui.widgets.log_tail import LogTail

MAX_LINES = 10_000
KEY_EVERY = 0.2  # seconds between key presses
TICK = 0.01  # the fake backend delivers what came due every 10 ms


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def percentile(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


def invocation_lines(n: int) -> list[str]:
    """A repeating run of Lambda output: 10 lines, one a 4-line traceback."""
    rid = f"{n:08x}-1b2c-4d5e-8f90-{n:012x}"
    return [
        start_line(rid),
        f"processing order {n} for customer {n % 977}",
        f"[INFO]\t2026-01-01T00:00:00.000Z\t{rid}\tloaded {n % 50} items from the cache",
        f"[WARNING]\t2026-01-01T00:00:00.000Z\t{rid}\tretrying payment gateway call ({n % 3 + 1}/3)",
        f"[ERROR] KeyError: 'sku'\rTraceback (most recent call last):\r"
        f'  File "/var/task/app.py", line {n % 90 + 10}, in handler\r    sku = item["sku"]\n',
        f"order {n} done in {n % 400} ms",
        "x" * 120 + f" a long line {n}",
        end_line(rid),
        report_line(rid, 12.34 + n % 100, 13 + n % 100, 128, 64),
        f"idle {n}",
    ]


class FireHose:
    """A `Backend` stand-in whose tail delivers `rate` lines per second for `seconds`."""

    def __init__(self, rate: int, seconds: float) -> None:
        self.rate, self.seconds = rate, seconds
        self.delivered = 0
        self.last_message = ""
        self.elapsed = 0.0  # from the first event to the last
        self.done = asyncio.Event()

    async def tail_logs(self, name, *, since=None, follow=True, filter_pattern=None):
        ids = 0
        lines: list[str] = []
        started = time.perf_counter()
        while True:
            elapsed = time.perf_counter() - started
            due = min(int(elapsed * self.rate), int(self.seconds * self.rate))
            while self.delivered < due:
                if not lines:
                    lines = invocation_lines(ids // 10)
                ids += 1
                self.last_message = lines.pop(0)
                yield LogEvent(time.time(), name, "2026/01/01/[$LATEST]bench", self.last_message, ids)
                self.delivered += 1
            if self.delivered >= self.seconds * self.rate:
                self.elapsed = time.perf_counter() - started
                self.done.set()
                await asyncio.Event().wait()  # a live tail stays open, quiet
            await asyncio.sleep(TICK)


class BenchApp(App):
    BINDINGS = [Binding("f5", "ping", "Ping", id="bench.ping")]

    def __init__(self) -> None:
        super().__init__()
        self.pinged: list[float] = []

    def compose(self) -> ComposeResult:
        yield LogTail(max_lines=MAX_LINES)

    def action_ping(self) -> None:
        self.pinged.append(time.perf_counter())


async def run(rate: int, seconds: float) -> dict:
    app = BenchApp()
    backend = FireHose(rate, seconds)
    result: dict = {}
    async with app.run_test(size=(160, 48)) as pilot:
        tail = app.query_one(LogTail)
        tail.focus()
        await pilot.pause()

        # Count flushes and their cost, and rows rendered, by wrapping the view's methods.
        view = tail.view
        flush_ms: list[float] = []
        rows = [0]
        add_events, render_line = view.add_events, view.render_line

        def timed_add_events(batch, unseen=0):
            t0 = time.perf_counter()
            add_events(batch, unseen)
            flush_ms.append((time.perf_counter() - t0) * 1000)

        def counted_render_line(y):
            rows[0] += 1
            return render_line(y)

        view.add_events = timed_add_events
        view.render_line = counted_render_line

        gc.collect()
        rss_before = rss_mb()

        # Event-loop lag: how late a 5 ms sleep wakes up, sampled throughout.
        lags: list[float] = []
        sampling = True

        async def sample_lag() -> None:
            while sampling:
                t0 = time.perf_counter()
                await asyncio.sleep(0.005)
                lags.append((time.perf_counter() - t0 - 0.005) * 1000)

        sampler = asyncio.create_task(sample_lag())
        began = time.perf_counter()
        tail.follow(backend, "bench-fn")

        latencies: list[float] = []
        next_press = began + KEY_EVERY
        while not backend.done.is_set():
            await asyncio.sleep(max(0.0, next_press - time.perf_counter()))
            before = len(app.pinged)
            sent = time.perf_counter()
            await pilot.press("f5")
            if len(app.pinged) > before:
                latencies.append((app.pinged[-1] - sent) * 1000)
            next_press += KEY_EVERY
        feed_s = time.perf_counter() - began
        await pilot.pause(0.2)  # the last flush
        sampling = False
        await sampler

        gc.collect()
        rss_after = rss_mb()
        result = {
            "delivered": backend.delivered,
            "feed_seconds": feed_s,
            "kept": len(tail.lines),
            "delivery_seconds": backend.elapsed,
            # The last event delivered is the last one kept (its first line), and the view follows it.
            "up_to_date": bool(tail.lines) and tail.following and tail.lines[-1].message == backend.last_message
            and tail.view.scroll_offset.y == tail.view.max_scroll_y,
            "latencies_ms": latencies,
            "presses": len(latencies),
            "rss_before_mb": rss_before,
            "rss_after_mb": rss_after,
            "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "flushes": len(flush_ms),
            "flush_ms_p50": statistics.median(flush_ms) if flush_ms else float("nan"),
            "flush_ms_max": max(flush_ms, default=float("nan")),
            "loop_lag_ms_p99": percentile(lags, 0.99) if lags else float("nan"),
            "loop_lag_ms_max": max(lags, default=float("nan")),
            "rows_rendered": rows[0],
        }
        tail.stop()
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=int, default=5000, help="log lines per second (default 5000)")
    parser.add_argument("--seconds", type=float, default=5.0, help="how long to feed (default 5)")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    args = parser.parse_args()

    r = asyncio.run(run(args.rate, args.seconds))
    lat = r["latencies_ms"]
    p50, p99, worst = percentile(lat, 0.5), percentile(lat, 0.99), max(lat)
    growth = r["rss_after_mb"] - r["rss_before_mb"]
    delivered_rate = r["delivered"] / r["delivery_seconds"]
    rows = [
        ("log lines (events) delivered", "", r["delivered"], None),
        ("  delivery rate (lines/s)", f">= {int(args.rate * 0.95)}", delivered_rate, delivered_rate >= args.rate * 0.95),
        ("display lines kept (max_lines)", f"== {MAX_LINES}", r["kept"], r["kept"] == MAX_LINES),
        ("view at the newest line after the feed (1=yes)", "== 1", int(r["up_to_date"]), r["up_to_date"]),
        (f"key latency p50 (ms), {r['presses']} presses", "<= 100", p50, p50 <= 100),
        ("key latency p99 (ms)", "<= 100", p99, p99 <= 100),
        ("key latency max (ms)", "<= 100", worst, worst <= 100),
        ("RSS before (MB)", "", r["rss_before_mb"], None),
        ("RSS after (MB)", "", r["rss_after_mb"], None),
        ("RSS growth (MB)", "< 50", growth, growth < 50),
        ("  peak RSS (MB)", "", r["max_rss_mb"], None),
        ("  flushes into the view", "", r["flushes"], None),
        ("  flush p50 (ms)", "", r["flush_ms_p50"], None),
        ("  flush max (ms)", "", r["flush_ms_max"], None),
        ("  event-loop lag p99 (ms)", "", r["loop_lag_ms_p99"], None),
        ("  event-loop lag max (ms)", "", r["loop_lag_ms_max"], None),
        ("  rows rendered", "", r["rows_rendered"], None),
    ]

    print(f"lambdatui log tail benchmark: Python {platform.python_version()}, Textual {textual_version}, "
          f"{os.cpu_count()} CPUs")
    print(f"  {args.rate:,} lines/s for {args.seconds:g} s into LogTail(max_lines={MAX_LINES:,}), headless 160x48; "
          f"a key every {KEY_EVERY * 1000:.0f} ms")
    print()
    width = max(len(row[0]) for row in rows)
    print(f"{'figure':<{width}}  {'target':>9}  {'measured':>10}  result")
    print("-" * (width + 31))
    for name, target, value, passed in rows:
        verdict = "" if passed is None else ("PASS" if passed else "FAIL")
        shown = f"{value:>10.3f}" if isinstance(value, float) else f"{value:>10,}"
        print(f"{name:<{width}}  {target:>9}  {shown}  {verdict}".rstrip())
    failed = sum(1 for row in rows if row[3] is False)
    print(f"\n{sum(1 for row in rows if row[3] is not None) - failed} passed, {failed} failed")

    if args.json:
        Path(args.json).write_text(json.dumps({
            "python": platform.python_version(), "textual": textual_version, "cpus": os.cpu_count(),
            "rate": args.rate, "seconds": args.seconds, "max_lines": MAX_LINES,
            "figures": [{"figure": n.strip(), "target": t or None, "value": v, "pass": p} for n, t, v, p in rows],
            "latencies_ms": lat,
        }, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
