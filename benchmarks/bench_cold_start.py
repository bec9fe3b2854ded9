"""Benchmark of the runtimes' cold starts against bare interpreters, measured side by side in one run.

For a tiny handler on each runtime, the Init Duration of forced cold invokes (`ex.retire` before
each: spawn -> the runtime's first GET /next) against a bare baseline started from the same parent
with the same clean environment (`PATH` only, as the executor gives its runtimes no host variables):

- python: `python -S -c "import handler"` in the handler's folder (the environment runs with `-S`
  too), wall time to exit. Information: the Init Duration with the bootstrap run as a `__main__`
  script, as it was started before (compiled on every start, not imported from cached bytecode).
- node: `node -e ''`, wall time to exit.

Runtime, baseline and (for Python) the script variant alternate, `--runs` each; the figures are
medians. It prints a table of figure, target, measured value and PASS/FAIL, and exits 0 whatever
the verdicts: it is a report, not a test.

    .venv/bin/python benchmarks/bench_cold_start.py            # 30 runs each, about 15 s
    .venv/bin/python benchmarks/bench_cold_start.py --quick    # 10 runs each
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from lambdatui.executor import Executor, FunctionSpec, LogStore
from lambdatui.executor.executor import LAMBDA_PATH
from lambdatui.executor.runtimes import PYTHON_BOOTSTRAP, Launch, find_node, find_python, launch_for

PY_RUNTIME = f"python{sys.version_info.major}.{sys.version_info.minor}"
PY_HANDLER = "def handler(event, context):\n    return None\n"
NODE_HANDLER = "exports.handler = async () => null;\n"
CLEAN_ENV = {"PATH": LAMBDA_PATH}


def bare_ms(argv: list[str], cwd: Path) -> float:
    t0 = time.perf_counter()
    subprocess.run(argv, cwd=cwd, env=CLEAN_ENV, check=True, stdin=subprocess.DEVNULL)
    return (time.perf_counter() - t0) * 1000


WALLS: dict[str, list[float]] = {}


def init_ms(ex: Executor, name: str) -> float:
    """A forced cold invoke's Init Duration (from the runtime's start, as Lambda's), keeping the
    invoke's whole wall time too: the sandbox's set-up (cgroup, namespace, /tmp) is in that one."""
    ex.retire(name)
    t0 = time.perf_counter()
    r = ex.invoke(name, b"{}")
    WALLS.setdefault(name, []).append((time.perf_counter() - t0) * 1000)
    assert r.ok and r.cold_start and r.init_duration_ms is not None, r
    return r.init_duration_ms


def as_script(spec: FunctionSpec, cache_dir: Path) -> Launch:
    """The Python runtime started as before: the bootstrap run as a `__main__` script."""
    launch = launch_for(spec, cache_dir)
    return Launch([launch.argv[0], "-S", str(PYTHON_BOOTSTRAP)], launch.env, launch.warnings)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="10 runs of each instead of 30")
    parser.add_argument("--runs", type=int, help="runs of each (default 30, or 10 with --quick)")
    args = parser.parse_args()
    runs = args.runs or (10 if args.quick else 30)
    began = time.perf_counter()
    python, _ = find_python(PY_RUNTIME[len("python"):])
    node = shutil.which("node")
    node_runtime = None
    if node:
        major = subprocess.run([node, "--version"], capture_output=True, text=True).stdout.strip().lstrip("v").split(".")[0]
        node_runtime = f"nodejs{major}.x"
        node, _ = find_node(major)

    with tempfile.TemporaryDirectory(prefix="lambdatui-bench-cold-") as d:
        tmp = Path(d)
        (tmp / "py").mkdir()
        (tmp / "py" / "handler.py").write_text(PY_HANDLER)
        (tmp / "node").mkdir()
        (tmp / "node" / "index.js").write_text(NODE_HANDLER)
        specs = [FunctionSpec(name="py", runtime=PY_RUNTIME, handler="handler.handler", code=tmp / "py")]
        if node_runtime:
            specs.append(FunctionSpec(name="node", runtime=node_runtime, handler="index.handler", code=tmp / "node"))
        script_spec = FunctionSpec(name="py-script", runtime=PY_RUNTIME, handler="handler.handler", code=tmp / "py")
        times: dict[str, list[float]] = {k: [] for k in ("py", "py-bare", "py-script", "node", "node-bare")}
        with Executor(specs, cache_dir=tmp / "cache", logs=LogStore()) as ex, \
                Executor([script_spec], cache_dir=tmp / "cache", logs=LogStore(), launcher=as_script) as script_ex:
            # One of each first: bytecode compiled and cached, files in the page cache.
            init_ms(ex, "py")
            init_ms(script_ex, "py-script")
            bare_ms([python, "-S", "-c", "import handler"], tmp / "py")
            if node_runtime:
                init_ms(ex, "node")
                bare_ms([node, "-e", ""], tmp / "node")
            for _ in range(runs):
                times["py"].append(init_ms(ex, "py"))
                times["py-bare"].append(bare_ms([python, "-S", "-c", "import handler"], tmp / "py"))
                times["py-script"].append(init_ms(script_ex, "py-script"))
                if node_runtime:
                    times["node"].append(init_ms(ex, "node"))
                    times["node-bare"].append(bare_ms([node, "-e", ""], tmp / "node"))

    m = {k: statistics.median(v) for k, v in times.items() if v}
    rows: list[tuple[str, str, float, bool | None]] = [
        (f"{PY_RUNTIME} Init Duration p50 (ms)", "", m["py"], None),
        ("  `python -S -c 'import handler'` p50 (ms)", "", m["py-bare"], None),
        ("  Init Duration / import", "<= 1.25", m["py"] / m["py-bare"], m["py"] / m["py-bare"] <= 1.25),
        ("  cold invoke wall, sandbox set-up included (ms)", "", statistics.median(WALLS["py"][1:]), None),
        ("  cold invoke wall / import", "", statistics.median(WALLS["py"][1:]) / m["py-bare"], None),
        ("  bootstrap run as __main__ (before), Init p50 (ms)", "", m["py-script"], None),
        ("  as __main__ / import", "", m["py-script"] / m["py-bare"], None),
    ]
    if node_runtime:
        rows += [
            (f"{node_runtime} Init Duration p50 (ms)", "", m["node"], None),
            ("  `node -e ''` p50 (ms)", "", m["node-bare"], None),
            ("  Init Duration / node -e ''", "<= 1.3", m["node"] / m["node-bare"], m["node"] / m["node-bare"] <= 1.3),
            ("  cold invoke wall / node -e ''", "", statistics.median(WALLS["node"][1:]) / m["node-bare"], None),
        ]

    node_version = subprocess.run([node, "--version"], capture_output=True, text=True).stdout.strip() if node else "absent"
    print(f"lambdatui cold-start benchmark: Python {platform.python_version()}, Node {node_version}, "
          f"{os.cpu_count()} CPUs, {runs} runs each, run in {time.perf_counter() - began:.1f} s")
    print(f"  load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print()
    width = max(len(r[0]) for r in rows)
    print(f"{'figure':<{width}}  {'target':>8}  {'measured':>10}  result")
    print("-" * (width + 30))
    for name, target, value, passed in rows:
        verdict = "" if passed is None else ("PASS" if passed else "FAIL")
        print(f"{name:<{width}}  {target:>8}  {value:>10.3f}  {verdict}".rstrip())
    failed = sum(1 for r in rows if r[3] is False)
    print(f"\n{sum(1 for r in rows if r[3] is not None) - failed} passed, {failed} failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
