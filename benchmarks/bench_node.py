"""Benchmark of the Node.js runtime against the Python runtime, measured side by side in one run.

Both functions are no-ops: `exports.handler = async () => null` on nodejs20.x and
`def handler(event, context): return None` on python3.11. Figures:

1. Warm invoke overhead: wall time around `Executor.invoke` on a warm environment, p50 and p99,
   over 2000 invokes, twice: the first 2000 after the cold start (Node's JIT is still compiling
   the runtime's and node:http's code, which shows in p99), then 2000 more after 4000 further
   warm-up invokes (steady state). The two runtimes alternate in blocks of 100 so that both see
   the same machine conditions.
2. Cold start: the Init Duration (spawn -> runtime's first GET /next) of forced cold invokes
   (`ex.retire` before each), alternating between the runtimes, p50 and p99; and, as the floor
   under it, the time from spawning the bare interpreter to the first byte of a one-line program
   (`node hello.mjs`, `python3.11 -S -c "import os; os.write(1, b'x')"`).

It prints a small table with the Node/Python ratio of each figure and exits 0: it is a report,
not a test.

    .venv/bin/python benchmarks/bench_node.py [--quick]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from lambdatui.executor import Executor, FunctionSpec, LogStore
from lambdatui.executor.executor import LAMBDA_PATH
from lambdatui.executor.runtimes import find_python

PY_RUNTIME = "python3.11"
NODE_RUNTIME = "nodejs20.x"
NODE_HANDLER = "exports.handler = async () => null;\n"
PY_HANDLER = "def handler(event, context):\n    return None\n"

FULL = dict(warm=2000, warmup=4000, block=100, cold=20)
QUICK = dict(warm=500, warmup=1000, block=50, cold=8)


def percentile(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


def warm_walls(ex: Executor, names: list[str], n: int, block: int) -> dict[str, list[float]]:
    """Wall times (ms) of n warm invokes of each function, alternating between them in blocks."""
    walls: dict[str, list[float]] = {name: [] for name in names}
    done = 0
    while done < n:
        size = min(block, n - done)
        for name in names:
            out = walls[name]
            for _ in range(size):
                t0 = time.perf_counter()
                r = ex.invoke(name, b"{}")
                out.append((time.perf_counter() - t0) * 1000)
                assert r.ok and not r.cold_start, r
        done += size
    return walls


def cold_inits(ex: Executor, names: list[str], n: int) -> dict[str, list[float]]:
    inits: dict[str, list[float]] = {name: [] for name in names}
    for _ in range(n):
        for name in names:
            ex.retire(name)
            r = ex.invoke(name, b"{}")
            assert r.ok and r.cold_start and r.init_duration_ms is not None, r
            inits[name].append(r.init_duration_ms)
    return inits


def bare_starts(argvs: dict[str, list[str]], n: int) -> dict[str, list[float]]:
    """Time (ms) from spawning each bare interpreter to the first byte its program writes, alternating.

    Like Init Duration (spawn -> first GET /next), it leaves out the process's exit.
    """
    times: dict[str, list[float]] = {name: [] for name in argvs}
    for _ in range(n):
        for name, argv in argvs.items():
            t0 = time.perf_counter()
            # Without the host's environment, as the executor starts runtimes (NODE_EXTRA_CA_CERTS
            # alone would add tens of milliseconds to Node's start).
            proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, env={"PATH": LAMBDA_PATH})
            proc.stdout.read(1)
            times[name].append((time.perf_counter() - t0) * 1000)
            proc.stdout.close()
            proc.wait()
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer iterations, for a shorter run")
    args = parser.parse_args()
    cfg = QUICK if args.quick else FULL
    node = shutil.which("node")
    if node is None:
        print("node is not on PATH: nothing to measure")
        return 0
    node_version = subprocess.run([node, "--version"], capture_output=True, text=True).stdout.strip()
    began = time.perf_counter()

    with tempfile.TemporaryDirectory(prefix="lambdatui-bench-node-") as d:
        tmp = Path(d)
        (tmp / "node").mkdir()
        (tmp / "node" / "index.js").write_text(NODE_HANDLER)
        (tmp / "py").mkdir()
        (tmp / "py" / "handler.py").write_text(PY_HANDLER)
        specs = [
            FunctionSpec(name="node-noop", runtime=NODE_RUNTIME, handler="index.handler", code=tmp / "node"),
            FunctionSpec(name="py-noop", runtime=PY_RUNTIME, handler="handler.handler", code=tmp / "py"),
        ]
        names = [s.name for s in specs]
        with Executor(specs, cache_dir=tmp / "cache", logs=LogStore()) as ex:
            warnings = {s.name: ex.invoke(s.name, b"{}").warnings for s in specs}
            early = warm_walls(ex, names, cfg["warm"], cfg["block"])
            warm_walls(ex, names, cfg["warmup"], cfg["block"])
            steady = warm_walls(ex, names, cfg["warm"], cfg["block"])
            inits = cold_inits(ex, names, cfg["cold"])
        (tmp / "hello.mjs").write_text("process.stdout.write('x');\n")
        py_exe, _ = find_python(PY_RUNTIME[len("python"):])  # the interpreter the Python runtime runs
        bare = bare_starts(
            {"node-noop": [node, str(tmp / "hello.mjs")], "py-noop": [py_exe, "-S", "-c", "import os; os.write(1, b'x')"]},
            cfg["cold"],
        )

    rows = [
        ("warm invoke p50, first after cold (ms)", percentile(early["node-noop"], 0.5), percentile(early["py-noop"], 0.5)),
        ("warm invoke p99, first after cold (ms)", percentile(early["node-noop"], 0.99), percentile(early["py-noop"], 0.99)),
        ("warm invoke p50, steady (ms)", percentile(steady["node-noop"], 0.5), percentile(steady["py-noop"], 0.5)),
        ("warm invoke p99, steady (ms)", percentile(steady["node-noop"], 0.99), percentile(steady["py-noop"], 0.99)),
        ("cold Init Duration p50 (ms)", percentile(inits["node-noop"], 0.5), percentile(inits["py-noop"], 0.5)),
        ("cold Init Duration p99 (ms)", percentile(inits["node-noop"], 0.99), percentile(inits["py-noop"], 0.99)),
        ("  bare interpreter spawn -> first byte p50 (ms)", percentile(bare["node-noop"], 0.5), percentile(bare["py-noop"], 0.5)),
    ]
    print(
        f"lambdatui Node.js runtime benchmark: {NODE_RUNTIME} on Node {node_version}, {PY_RUNTIME} "
        f"(host Python {platform.python_version()}), {os.cpu_count()} CPUs, run in {time.perf_counter() - began:.1f} s"
    )
    print(
        f"  warm: {cfg['warm']} invokes each right after the cold start, then {cfg['warm']} more after "
        f"{cfg['warmup']} further warm-up, alternating in blocks of {cfg['block']}; "
        f"cold: {cfg['cold']} forced cold starts each, alternating"
    )
    for name, found in warnings.items():
        for w in found:
            print(f"  warning ({name}): {w}")
    print()
    width = max(len(r[0]) for r in rows)
    print(f"{'figure':<{width}}  {'node':>9}  {'python':>9}  {'node/py':>8}")
    print("-" * (width + 34))
    for name, n_value, p_value in rows:
        print(f"{name:<{width}}  {n_value:>9.3f}  {p_value:>9.3f}  {n_value / p_value:>7.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
