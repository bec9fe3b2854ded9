"""Benchmark of the `lambdatui` command line's speed, with baselines measured in the same run.

Figures (medians of interleaved runs: the two sides of each ratio alternate, so a change in the
machine's load falls on both):

1. `lambdatui invoke noop --repeat N --concurrency 2` against `--concurrency 1`: the invokes/s the
   command itself prints, of a no-op Python handler, run as a user runs it (a subprocess, its
   output read through a pipe). Also the executor API alone (`Executor.invoke` in a loop from 1 and
   2 threads) in this process, which bounds what the command can reach.
2. One-shot `lambdatui invoke hello-world --event hello.json` on the sample project (the user's copy,
   found with no --config, state and config dirs through platformdirs) against python-lambda-local
   on the same handler, layer, environment variable and event, and against `python -c pass`.
   Also the same one-shot with a full invocation history (200,000 rows) in the state dir.
3. `LocalBackend.invoke` of the no-op function with and without the invocation history (one
   backend, `record_history` switched between alternating rounds), as `lambdatui serve` calls it:
   p50 of each call, the mean time per invoke of a loop (which includes the history writer's work
   on its own thread), and invokes/s from 2 threads.

It prints a table of figure, target, measured value and PASS/FAIL, and exits 0 whatever the
verdicts: it is a report, not a test.

    .venv/bin/python benchmarks/bench_cli.py [--quick] [--json FILE]

python-lambda-local is not a dependency of lambdatui: `pip install python-lambda-local` into the
same virtualenv first (its row is left out, and said so, when it is missing).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

BIN = Path(sys.executable).parent
RUNTIME = f"python{sys.version_info.major}.{sys.version_info.minor}"
HANDLER = "def handler(event, context):\n    return None\n"

FULL = dict(repeat=4000, cli_runs=5, oneshot=15, rounds=16, round_invokes=300, api_seconds=1.0, history_rows=200_000)
QUICK = dict(repeat=4000, cli_runs=3, oneshot=7, rounds=6, round_invokes=300, api_seconds=0.5, history_rows=200_000)

RATE = re.compile(r"^(\d+) invocations in ([\d.]+) s \(([\d.]+)/s\)", re.M)


def median(values: list[float]) -> float:
    return statistics.median(values)


def cli_env(tmp: Path) -> dict[str, str]:
    """A user's environment, moved into `tmp`: platformdirs' folders, no LAMBDATUI_* overrides,
    bytecode writing on (as after a pip install, which compiles it)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAMBDATUI_") and k != "PYTHONDONTWRITEBYTECODE"}
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        env[var] = str(tmp / "xdg" / var.lower())
    return env


def timed_run(argv: list[str], env: dict[str, str], cwd: Path) -> tuple[float, str]:
    t0 = time.perf_counter()
    p = subprocess.run(argv, env=env, cwd=cwd, capture_output=True)
    elapsed = (time.perf_counter() - t0) * 1000
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {p.returncode}: {p.stderr.decode(errors='replace')}")
    return elapsed, p.stdout.decode(errors="replace")


# -- 1. --repeat / --concurrency ----------------------------------------------------------------


def cli_concurrency(tmp: Path, config: Path, cfg: dict[str, Any]) -> dict[str, float]:
    env = cli_env(tmp)
    env["LAMBDATUI_STATE_DIR"] = str(tmp / "state-cli")
    base = [str(BIN / "lambdatui"), "invoke", "noop", "--config", str(config), "--repeat", str(cfg["repeat"])]
    rates: dict[int, list[float]] = {1: [], 2: []}
    timed_run(base[:-2] + ["--repeat", "200"], env, tmp)  # warm-up: bytecode, the history file
    for _ in range(cfg["cli_runs"]):
        for c in (1, 2):
            _, out = timed_run(base + ["--concurrency", str(c)], env, tmp)
            m = RATE.search(out)
            if m is None or int(m.group(1)) != cfg["repeat"]:
                raise RuntimeError(f"no summary line in the output of --concurrency {c}:\n{out[-500:]}")
            rates[c].append(float(m.group(3)))
    return {"c1": median(rates[1]), "c2": median(rates[2]),
            "pairs": median([b / a for a, b in zip(rates[1], rates[2])])}


def loop_rate(call: Callable[[], object], threads: int, seconds: float) -> float:
    """Calls per second of `call` from `threads` threads for `seconds`."""
    stop = threading.Event()
    counts = [0] * threads

    def loop(k: int) -> None:
        n = 0
        while not stop.is_set():
            call()
            n += 1
        counts[k] = n

    workers = [threading.Thread(target=loop, args=(k,)) for k in range(threads)]
    t0 = time.perf_counter()
    for w in workers:
        w.start()
    time.sleep(seconds)
    stop.set()
    for w in workers:
        w.join()
    return sum(counts) / (time.perf_counter() - t0)


# -- 2. one-shot --------------------------------------------------------------------------------


def fill_history(db: Path, rows: int) -> None:
    """`rows` recent invocations in a history file, as a busy month leaves it (the cap is 200,000)."""
    from lambdatui.history import History

    History(db).close()  # the schema, as lambdatui makes it
    now = time.time()
    with sqlite3.connect(db) as c:
        c.executemany(
            "INSERT INTO invocations (time, function, request_id, source, status_code, duration_ms, "
            "billed_duration_ms, memory_size_mb, max_memory_used_mb, cold, cost_usd, architecture) "
            "VALUES (?, 'hello-world', ?, 'cli', 200, 1.0, 1, 128, 40, 0, 2.1e-9, 'x86_64')",
            ((now - 86400 + i * 0.4, f"r{i}") for i in range(rows)),
        )


def oneshot(tmp: Path, cfg: dict[str, Any]) -> dict[str, Any]:
    env = cli_env(tmp)
    sample = tmp / "sample"
    env["LAMBDATUI_SAMPLE_DIR"] = str(sample)  # where assets.py copies the sample project on first use
    cwd = tmp / "cwd"
    cwd.mkdir()
    event = sample / "events" / "hello-world" / "hello.json"
    ours = [str(BIN / "lambdatui"), "invoke", "hello-world", "--event", str(event)]
    timed_run(ours[:3], env, cwd)  # makes the user's copy of the sample (first use), and the bytecode
    app = sample / "examples" / "hello_world"
    (tmp / "env.json").write_text(json.dumps({"GREETING": "Hello"}))  # the sample's environment
    theirs = [str(BIN / "python-lambda-local"), "-f", "lambda_handler", "-l", str(sample / "examples" / "layers" / "common" / "python"),
              "-e", str(tmp / "env.json"), "-t", "3", str(app / "app.py"), str(event)]
    have_pll = (BIN / "python-lambda-local").exists()
    bare = [sys.executable, "-c", "pass"]
    # Where a one-shot's time goes: importing what it imports, step by step (each cumulative).
    steps = {
        "main": "import lambdatui.cli.main",
        "executor": "import lambdatui.cli.main, lambdatui.backends.base",
        "config": "import lambdatui.cli.main, lambdatui.backends.base, lambdatui.config",
        "local": "import lambdatui.cli.main, lambdatui.backends.base, lambdatui.config, lambdatui.backends.local",
    }

    full_env = dict(env)
    full_env["XDG_STATE_HOME"] = str(tmp / "xdg-full-state")
    fill_history(tmp / "xdg-full-state" / "lambdatui" / "history.db", cfg["history_rows"])
    timed_run(ours, full_env, cwd)

    if have_pll:
        timed_run(theirs, env, cwd)
    timed_run(bare, env, cwd)
    runs: dict[str, list[float]] = {"ours": [], "theirs": [], "bare": [], "full": [], "init": [], **{k: [] for k in steps}}
    for _ in range(cfg["oneshot"]):
        ms, out = timed_run(ours, env, cwd)
        runs["ours"].append(ms)
        init = re.search(r"Init: ([\d.]+) ms", out)
        if init is None:
            raise RuntimeError(f"a one-shot printed no Init Duration (not a cold start?):\n{out}")
        runs["init"].append(float(init.group(1)))
        for step, code in steps.items():
            runs[step].append(timed_run([sys.executable, "-c", code], env, cwd)[0])
        if have_pll:
            runs["theirs"].append(timed_run(theirs, env, cwd)[0])
        runs["bare"].append(timed_run(bare, env, cwd)[0])
        runs["full"].append(timed_run(ours, full_env, cwd)[0])
    with sqlite3.connect(tmp / "xdg" / "xdg_state_home" / "lambdatui" / "history.db") as c:
        recorded = c.execute("SELECT count(*) FROM invocations WHERE function = 'hello-world'").fetchone()[0]
    if recorded != 1 + cfg["oneshot"]:
        raise RuntimeError(f"the history holds {recorded} one-shot invocations, not {1 + cfg['oneshot']}")
    return {
        "ours": median(runs["ours"]),
        "theirs": median(runs["theirs"]) if have_pll else None,
        "pairs": median([a / b for a, b in zip(runs["ours"], runs["theirs"])]) if have_pll else None,
        "bare": median(runs["bare"]),
        "full": median(runs["full"]),
        **{k: median(runs[k]) for k in (*steps, "init")},
    }


# -- 3. LocalBackend.invoke with and without history --------------------------------------------


def backend_history(tmp: Path, config: Path, cfg: dict[str, Any]) -> dict[str, float]:
    """One LocalBackend, its history recording switched on and off between alternating rounds
    (`record_history`, read on every invoke): the same process, environment and log store on both
    sides, so the difference is the history's."""
    from lambdatui.backends.local import LocalBackend
    from lambdatui.config import load_config

    backend = LocalBackend(load_config(config), state_dir=tmp / "state-backend", watch_code=False)
    try:
        for _ in range(300):
            backend.invoke("noop", b"{}", source="bench")

        def invoke() -> None:
            backend.invoke("noop", b"{}", source="bench")

        calls: dict[bool, list[float]] = {True: [], False: []}
        means: dict[bool, list[float]] = {True: [], False: []}
        rates: dict[bool, list[float]] = {True: [], False: []}
        for k in range(cfg["rounds"]):
            for on in ((True, False) if k % 2 == 0 else (False, True)):
                backend.record_history = on
                n = cfg["round_invokes"]
                t0 = time.perf_counter()
                for _ in range(n):
                    t = time.perf_counter()
                    invoke()
                    calls[on].append(time.perf_counter() - t)
                means[on].append((time.perf_counter() - t0) / n)
        for k in range(max(2, cfg["rounds"] // 2)):
            for on in ((True, False) if k % 2 == 0 else (False, True)):
                backend.record_history = on
                rates[on].append(loop_rate(invoke, 2, cfg["api_seconds"]))
        ex = backend.executor
        api: dict[int, list[float]] = {1: [], 2: []}
        for _ in range(max(2, cfg["rounds"] // 2)):
            for threads in (1, 2):
                api[threads].append(loop_rate(lambda: ex.invoke("noop", b"{}"), threads, cfg["api_seconds"]))
        history = backend.history
        assert history is not None
        history.flush()
        recorded = len(history.query("noop", 0))
    finally:
        backend.close()
    at_least = 300 + len(calls[True])  # the warm-up and the timed calls with history on (plus the 2-thread loops')
    if recorded < at_least:
        raise RuntimeError(f"the history holds {recorded} invocations, fewer than the {at_least} recorded")
    return {
        "p50_with": median(calls[True]) * 1e6,
        "p50_without": median(calls[False]) * 1e6,
        "mean_with": median(means[True]) * 1e6,
        "mean_without": median(means[False]) * 1e6,
        # each round against the other side's round next to it in time
        "mean_pairs": median([a / b for a, b in zip(means[True], means[False])]),
        "rate2_with": median(rates[True]),
        "rate2_without": median(rates[False]),
        "api1": median(api[1]),
        "api2": median(api[2]),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer runs, for a shorter run")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    parser.add_argument("--only", choices=("repeat", "oneshot", "backend"), help="measure one part only")
    args = parser.parse_args()
    cfg = QUICK if args.quick else FULL
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="lambdatui-bench-cli-") as d:
        tmp = Path(d)
        code = tmp / "code"
        code.mkdir()
        (code / "handler.py").write_text(HANDLER)
        config = tmp / "noop.yaml"
        config.write_text(f"local:\n  functions:\n    noop: {{runtime: {RUNTIME}, handler: handler.handler, code: {code}}}\n")
        part = args.only
        backend = backend_history(tmp, config, cfg) if part in (None, "backend") else None
        conc = cli_concurrency(tmp, config, cfg) if part in (None, "repeat") else None
        one = oneshot(tmp, cfg) if part in (None, "oneshot") else None
        shutil.rmtree(tmp / "xdg", ignore_errors=True)

    rows: list[tuple[str, str, float | None, bool | None]] = []
    if conc is not None:
        ratio = conc["c2"] / conc["c1"]
        rows += [
            (f"`invoke --repeat {cfg['repeat']} --concurrency 1` (invokes/s)", "", conc["c1"], None),
            (f"`invoke --repeat {cfg['repeat']} --concurrency 2` (invokes/s)", "", conc["c2"], None),
            ("  concurrency 2 / 1, of medians", ">= 1.3x", ratio, ratio >= 1.3),
            ("  concurrency 2 / 1, median of run pairs", "", conc["pairs"], None),
        ]
    if backend is not None:
        rows += [
            ("  executor API, 1 thread (invokes/s)", "", backend["api1"], None),
            ("  executor API, 2 threads (invokes/s)", ">= 4000", backend["api2"], backend["api2"] >= 4000),
            ("  executor API, 2 / 1 threads", "", backend["api2"] / backend["api1"], None),
        ]
    if one is not None:
        rows.append(("one-shot `lambdatui invoke hello-world` (ms)", "", one["ours"], None))
        if one["theirs"] is not None:
            rows += [
                ("  python-lambda-local, same handler and event (ms)", "", one["theirs"], None),
                ("  lambdatui / python-lambda-local", "<= 0.7x", one["ours"] / one["theirs"], one["ours"] / one["theirs"] <= 0.7),
                ("  lambdatui / python-lambda-local, median of run pairs", "", one["pairs"], None),
            ]
        rows += [
            ("  `python -c pass` (ms)", "", one["bare"], None),
            ("  lambdatui / python -c pass", "", one["ours"] / one["bare"], None),
            (f"  one-shot with a {cfg['history_rows']:,}-row history (ms)", "", one["full"], None),
            ("  where it goes: `import lambdatui.cli.main` (ms)", "", one["main"], None),
            ("    + lambdatui.backends.base, the executor (ms)", "", one["executor"], None),
            ("    + lambdatui.config, PyYAML (ms)", "", one["config"], None),
            ("    + lambdatui.backends.local, history (ms)", "", one["local"], None),
            ("    the function's cold start, Init Duration (ms)", "", one["init"], None),
        ]
    if backend is not None:
        cost_mean = backend["mean_pairs"] - 1
        cost_p50 = backend["p50_with"] / backend["p50_without"] - 1
        rows += [
            ("LocalBackend.invoke p50, history on (us)", "", backend["p50_with"], None),
            ("  p50, history off (us)", "", backend["p50_without"], None),
            ("  history's share of the p50 (%)", "", cost_p50 * 100, None),
            ("  mean per invoke of a loop, history on (us)", "", backend["mean_with"], None),
            ("  mean per invoke of a loop, history off (us)", "", backend["mean_without"], None),
            ("  history's cost, % of a no-op invoke (median of round pairs)", "<= 10", cost_mean * 100, cost_mean <= 0.10),
            ("  2 threads, history on / off (invokes/s)", "", backend["rate2_with"] / backend["rate2_without"], None),
        ]

    print(f"lambdatui CLI benchmark: Python {platform.python_version()}, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.2f}, {'quick' if args.quick else 'full'} run in {time.perf_counter() - began:.1f} s")
    print(f"  --repeat runs: {cfg['cli_runs']} each, alternating; one-shots: {cfg['oneshot']} each, alternating; "
          f"LocalBackend: {cfg['rounds']} alternating rounds of {cfg['round_invokes']} invokes")
    print("  subprocesses run with PYTHONDONTWRITEBYTECODE unset (bytecode writing enabled), after a warm-up run each")
    if one is not None and one["theirs"] is None:
        print("  python-lambda-local is not installed in this virtualenv: its rows are left out")
    print()
    width = max(len(r[0]) for r in rows)
    print(f"{'figure':<{width}}  {'target':>8}  {'measured':>10}  result")
    print("-" * (width + 32))
    for name, target, value, passed in rows:
        verdict = "" if passed is None else ("PASS" if passed else "FAIL")
        shown = f"{value:>10.2f}" if value is not None else f"{'-':>10}"
        print(f"{name:<{width}}  {target:>8}  {shown}  {verdict}".rstrip())
    failed = sum(1 for r in rows if r[3] is False)
    print(f"\n{sum(1 for r in rows if r[3] is not None) - failed} passed, {failed} failed")
    if args.json:
        Path(args.json).write_text(json.dumps({
            "python": platform.python_version(), "cpus": os.cpu_count(), "quick": args.quick, "config": cfg,
            "figures": [{"figure": n.strip(), "target": t or None, "value": v, "pass": p} for n, t, v, p in rows],
        }, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
