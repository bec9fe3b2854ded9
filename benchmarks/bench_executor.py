"""Benchmark of lambdatui's local executor, measured side by side with baselines in one run.

Figures (all with a no-op handler, `def handler(event, context): return None`):

1. Warm invoke overhead: wall time of `Executor.invoke` on a warm environment, p50 and p99,
   and p50 against a bare pipe round-trip to a child Python echo process.
2. Cold start: the executor's Init Duration (spawn -> runtime ready) against the wall time of
   `python -c "import handler"` run from the same parent process.
3. Throughput: invokes per second from two threads calling `Executor.invoke` in a loop.
4. CLI: `lambdatui invoke` one-shot wall time against python-lambda-local's CLI, and the
   per-invoke cost of repeated invokes against one python-lambda-local process per invoke.

It prints a table of figure, target, measured value and PASS/FAIL, and exits 0 whatever the
verdicts: it is a report, not a test.

    .venv/bin/python benchmarks/bench_executor.py [--quick] [--json FILE]
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
import threading
import time
from pathlib import Path

from lambdatui.executor import Executor, FunctionSpec, LogStore

BIN = Path(sys.executable).parent
RUNTIME = f"python{sys.version_info.major}.{sys.version_info.minor}"
HANDLER = "def handler(event, context):\n    return None\n"
ECHO = "import os\nwhile True:\n    d = os.read(0, 65536)\n    if not d:\n        break\n    os.write(1, d)\n"

FULL = dict(pipe=3000, warm=3000, warmup=300, cold=20, seconds=2.0, cli=10, repeat=200)
QUICK = dict(pipe=1000, warm=1000, warmup=100, cold=10, seconds=1.0, cli=5, repeat=200)


def percentile(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


def pipe_round_trip_ms(n: int, cpus: tuple[int, int] | None = None) -> float:
    """Median round-trip of a small message through a child Python echo loop (raw fds, unbuffered).

    `cpus` pins (parent, child) to given CPUs; None leaves placement to the scheduler.
    """
    saved = os.sched_getaffinity(0)
    if cpus:
        os.sched_setaffinity(0, {cpus[0]})
    child = subprocess.Popen([sys.executable, "-u", "-c", ECHO], stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0)
    if cpus:
        os.sched_setaffinity(child.pid, {cpus[1]})
    w, r, msg, times = child.stdin.fileno(), child.stdout.fileno(), b"ping 0123456789\n", []
    try:
        for i in range(n + n // 10):  # the first tenth is warm-up
            t0 = time.perf_counter()
            os.write(w, msg)
            got = b""
            while len(got) < len(msg):
                got += os.read(r, 65536)
            if i >= n // 10:
                times.append((time.perf_counter() - t0) * 1000)
    finally:
        child.stdin.close()
        child.wait()
        os.sched_setaffinity(0, saved)
    return statistics.median(times)


def warm_invokes(ex: Executor, n: int, warmup: int) -> tuple[list[float], list[float]]:
    """Wall times of `invoke` around the call, and the reported Duration, both in ms."""
    walls, durations = [], []
    for i in range(warmup + n):
        t0 = time.perf_counter()
        r = ex.invoke("noop", b"{}")
        wall = (time.perf_counter() - t0) * 1000
        assert r.ok and (i > 0 or r.cold_start), r
        if i >= warmup:
            walls.append(wall)
            durations.append(r.duration_ms)
    return walls, durations


def throughput(ex: Executor, seconds: float, threads: int = 2) -> float:
    counts = [0] * threads
    start = threading.Barrier(threads + 1)
    stop = threading.Event()

    def loop(k: int) -> None:
        start.wait()
        while not stop.is_set():
            assert ex.invoke("noop", b"{}").ok
            counts[k] += 1

    workers = [threading.Thread(target=loop, args=(k,)) for k in range(threads)]
    for t in workers:
        t.start()
    start.wait()
    t0 = time.perf_counter()
    time.sleep(seconds)
    stop.set()
    for t in workers:
        t.join()
    return sum(counts) / (time.perf_counter() - t0)


def cold_starts(ex: Executor, code: Path, n: int) -> tuple[list[float], list[float]]:
    """Init Duration of forced cold invokes, alternating with `python -c "import handler"` wall times."""
    inits, imports = [], []
    for _ in range(n):
        ex.retire("noop")
        r = ex.invoke("noop", b"{}")
        assert r.ok and r.cold_start and r.init_duration_ms is not None, r
        inits.append(r.init_duration_ms)
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import handler"], cwd=code, check=True)
        imports.append((time.perf_counter() - t0) * 1000)
    return inits, imports


def timed_run(argv: list[str], env: dict[str, str], cwd: Path) -> float:
    t0 = time.perf_counter()
    p = subprocess.run(argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = (time.perf_counter() - t0) * 1000
    if p.returncode != 0:
        raise RuntimeError(f"{argv[0]} exited {p.returncode}: {p.stderr.decode(errors='replace')}")
    return elapsed


def cli_runs(tmp: Path, code: Path, n: int, repeat: int) -> dict[str, float]:
    """Median one-shot wall times of both CLIs (alternating, after one warm-up each), and one --repeat run."""
    config, event = tmp / "lambdatui.yaml", tmp / "event.json"
    config.write_text(f"local:\n  functions:\n    noop: {{runtime: {RUNTIME}, handler: handler.handler, code: {code}}}\n")
    event.write_text("{}")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["LAMBDATUI_STATE_DIR"] = str(tmp / "state")
    ours = [str(BIN / "lambdatui"), "invoke", "noop", "--config", str(config)]
    theirs = [str(BIN / "python-lambda-local"), "-f", "handler", str(code / "handler.py"), str(event)]
    timed_run(ours, env, tmp)
    timed_run(theirs, env, tmp)
    ours_ms, theirs_ms = [], []
    for _ in range(n):
        ours_ms.append(timed_run(ours, env, tmp))
        theirs_ms.append(timed_run(theirs, env, tmp))
    repeat_ms = timed_run(ours + ["--repeat", str(repeat)], env, tmp)
    return {
        "lambdatui_oneshot_ms": statistics.median(ours_ms),
        "pll_oneshot_ms": statistics.median(theirs_ms),
        "lambdatui_repeat_per_invoke_ms": repeat_ms / repeat,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer iterations, for a shorter run")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    args = parser.parse_args()
    cfg = QUICK if args.quick else FULL
    began = time.perf_counter()

    with tempfile.TemporaryDirectory(prefix="lambdatui-bench-") as d:
        tmp = Path(d)
        code = tmp / "code"
        code.mkdir()
        (code / "handler.py").write_text(HANDLER)
        spec = FunctionSpec(name="noop", runtime=RUNTIME, handler="handler.handler", code=code)
        cpus = sorted(os.sched_getaffinity(0))
        pipe_ms = pipe_round_trip_ms(cfg["pipe"])
        same_ms = pipe_round_trip_ms(cfg["pipe"], (cpus[0], cpus[0]))
        cross_ms = pipe_round_trip_ms(cfg["pipe"], (cpus[0], cpus[1])) if len(cpus) > 1 else float("nan")
        with Executor([spec], cache_dir=tmp / "cache", logs=LogStore()) as ex:
            walls, durations = warm_invokes(ex, cfg["warm"], cfg["warmup"])
            per_s = throughput(ex, cfg["seconds"])
            inits, imports = cold_starts(ex, code, cfg["cold"])
        cli = cli_runs(tmp, code, cfg["cli"], cfg["repeat"])

    p50, p99 = percentile(walls, 0.5), percentile(walls, 0.99)
    init_ms, import_ms = statistics.median(inits), statistics.median(imports)
    pll = cli["pll_oneshot_ms"]
    # (figure, target, measured value, passed; None for information-only rows)
    rows = [
        ("warm invoke p50 (ms)", "<= 0.5", p50, p50 <= 0.5),
        ("warm invoke p99 (ms)", "<= 2", p99, p99 <= 2),
        ("  pipe round-trip p50, unpinned (ms)", "", pipe_ms, None),
        ("  pipe round-trip p50, same CPU (ms)", "", same_ms, None),
        ("  pipe round-trip p50, across CPUs (ms)", "", cross_ms, None),
        ("  warm p50 / pipe, same CPU", "<= 5x", p50 / same_ms, p50 / same_ms <= 5),
        ("  warm p50 / pipe, across CPUs", "<= 5x", p50 / cross_ms, p50 / cross_ms <= 5),
        ("  reported Duration p50 (ms)", "", statistics.median(durations), None),
        ("cold Init Duration p50 (ms)", "", init_ms, None),
        ("  `python -c 'import handler'` p50 (ms)", "", import_ms, None),
        ("  init / import ratio", "<= 1.3", init_ms / import_ms, init_ms / import_ms <= 1.3),
        ("throughput, concurrency 2 (invokes/s)", ">= 1500", per_s, per_s >= 1500),
        ("`lambdatui invoke` one-shot p50 (ms)", "", cli["lambdatui_oneshot_ms"], None),
        ("  python-lambda-local one-shot p50 (ms)", "", pll, None),
        ("  lambdatui / python-lambda-local", "<= 1.0", cli["lambdatui_oneshot_ms"] / pll, cli["lambdatui_oneshot_ms"] <= pll),
        ("per-invoke speedup, executor warm p50", ">= 100x", pll / p50, pll / p50 >= 100),
        (f"  `--repeat {cfg['repeat']}` wall / {cfg['repeat']} (ms)", "", cli["lambdatui_repeat_per_invoke_ms"], None),
        (f"  per-invoke speedup, CLI --repeat {cfg['repeat']}", ">= 100x", pll / cli["lambdatui_repeat_per_invoke_ms"],
         pll / cli["lambdatui_repeat_per_invoke_ms"] >= 100),
    ]

    print(f"lambdatui executor benchmark: Python {platform.python_version()}, {os.cpu_count()} CPUs, "
          f"{'quick' if args.quick else 'full'} run in {time.perf_counter() - began:.1f} s")
    print(f"  warm: {cfg['warm']} invokes after {cfg['warmup']} warm-up; pipe: {cfg['pipe']} round-trips; "
          f"cold: {cfg['cold']} each; throughput: {cfg['seconds']:g} s; CLIs: {cfg['cli']} runs each")
    print("  CLIs run with PYTHONDONTWRITEBYTECODE unset (bytecode writing enabled), after one warm-up run each")
    print()
    width = max(len(r[0]) for r in rows)
    print(f"{'figure':<{width}}  {'target':>8}  {'measured':>10}  result")
    print("-" * (width + 30))
    for name, target, value, passed in rows:
        verdict = "" if passed is None else ("PASS" if passed else "FAIL")
        print(f"{name:<{width}}  {target:>8}  {value:>10.3f}  {verdict}".rstrip())
    failed = sum(1 for r in rows if r[3] is False)
    print(f"\n{sum(1 for r in rows if r[3] is not None) - failed} passed, {failed} failed")

    if args.json:
        Path(args.json).write_text(json.dumps({
            "python": platform.python_version(), "cpus": os.cpu_count(), "quick": args.quick,
            "cli_env": "PYTHONDONTWRITEBYTECODE unset, one warm-up run each", "config": cfg,
            "figures": [{"figure": n.strip(), "target": t or None, "value": v, "pass": p} for n, t, v, p in rows],
        }, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
