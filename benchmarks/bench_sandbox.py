"""What the sandbox costs a cold start, measured side by side in one run.

Three ways of starting the same tiny Python function, interleaved round by round so machine noise
hits all of them alike:

* `sandbox`: the default path (fork server, own cgroup, mount namespace, private /tmp, masked /proc,
  hidden home, rlimits) where this machine allows it;
* `plain`: `LAMBDATUI_SANDBOX=off`, the runtime started by subprocess.Popen as before the sandbox;
* `bare`: `python -S -c "import handler"` run by the same process: the floor any executor pays.

For each it reports the median Init Duration (spawn to the runtime's first `GET /next`, what REPORT
shows) and the median wall time of the whole cold invoke, then the ratios sandbox/plain and
sandbox/bare. The one-time start of the fork server (once per process) is reported on its own.
Also the warm invoke (its memory figures come from the cgroup), and the one-shot CLI,
`lambdatui invoke` in a new process each time, with the sandbox on and off (interleaved), which
pays the fork server's start-up (begun when the executor is made, in parallel with the rest).

    .venv/bin/python benchmarks/bench_sandbox.py [--rounds N] [--cli N] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from lambdatui.executor import Executor, FunctionSpec, LogStore
from lambdatui.executor.sandbox import Sandboxes, _the_zygote, capabilities

RUNTIME = f"python{sys.version_info.major}.{sys.version_info.minor}"
HANDLER = "def handler(event, context):\n    return None\n"


def cold(ex: Executor, name: str) -> tuple[float, float]:
    ex.retire(name)  # the next invoke starts a new environment
    t0 = time.perf_counter()
    r = ex.invoke(name)
    wall = (time.perf_counter() - t0) * 1000
    assert r.ok and r.cold_start and r.init_duration_ms is not None, r
    return r.init_duration_ms, wall


def bare(code: Path) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-S", "-c", "import handler"], cwd=code, check=True)
    return (time.perf_counter() - t0) * 1000


def cli_runs(tmp: Path, n: int) -> dict[str, float]:
    """Median wall time of `python -m lambdatui invoke noop` with the sandbox on and off."""
    config = tmp / "lambdatui.yaml"
    config.write_text(f"local:\n  functions:\n    noop: {{runtime: {RUNTIME}, handler: handler.handler, code: code}}\n")
    times: dict[str, list[float]] = {"on": [], "off": []}
    for i in range(n + 1):
        for key in ("on", "off"):
            env = dict(os.environ, LAMBDATUI_STATE_DIR=str(tmp / f"state-{key}"), LAMBDATUI_SANDBOX=key)
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-m", "lambdatui", "invoke", "noop", "--config", str(config)],
                           env=env, check=True, capture_output=True)
            if i:  # the first run of each fills caches (bytecode, sdk-site)
                times[key].append((time.perf_counter() - t0) * 1000)
    return {k: statistics.median(v) for k, v in times.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--cli", type=int, default=15, help="one-shot CLI runs of each kind (0: skip)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-sandbox-") as tmp:
        code = Path(tmp) / "code"
        code.mkdir()
        (code / "handler.py").write_text(HANDLER)
        spec = FunctionSpec(name="noop", handler="handler.handler", code=code, runtime=RUNTIME)

        t0 = time.perf_counter()
        client = _the_zygote()
        started = client.ensure()
        zygote_ms = (time.perf_counter() - t0) * 1000
        iso = capabilities()

        boxed = Executor([spec], cache_dir=Path(tmp) / "cache-boxed", logs=LogStore())
        plain = Executor([spec], cache_dir=Path(tmp) / "cache-plain", logs=LogStore())
        plain.sandboxes = Sandboxes(plain.cache_dir, enabled=False)
        results: dict[str, dict[str, list[float]]] = {k: {"init": [], "wall": []} for k in ("sandbox", "plain")}
        bare_ms: list[float] = []
        try:
            for ex in (boxed, plain):  # warm the caches (bytecode, sdk-site) outside the figures
                cold(ex, "noop")
            for _ in range(args.rounds):
                for key, ex in (("sandbox", boxed), ("plain", plain)):
                    init, wall = cold(ex, "noop")
                    results[key]["init"].append(init)
                    results[key]["wall"].append(wall)
                bare_ms.append(bare(code))
            warm = {}
            for key, ex in (("sandbox", boxed), ("plain", plain)):
                ex.invoke("noop")
                times = []
                for _ in range(500):
                    t0 = time.perf_counter()
                    ex.invoke("noop")
                    times.append((time.perf_counter() - t0) * 1000)
                warm[key] = statistics.median(times)
        finally:
            boxed.close()
            plain.close()
        cli = cli_runs(Path(tmp), args.cli) if args.cli else {}

    med = {k: {m: statistics.median(v) for m, v in d.items()} for k, d in results.items()}
    bare_med = statistics.median(bare_ms)
    rows = [
        ("fork server start, once per process (ms)", zygote_ms if started else float("nan")),
        ("bare `python -S -c 'import handler'` (ms)", bare_med),
        ("plain (LAMBDATUI_SANDBOX=off): Init Duration p50 (ms)", med["plain"]["init"]),
        ("sandbox: Init Duration p50 (ms)", med["sandbox"]["init"]),
        ("plain: cold invoke wall p50 (ms)", med["plain"]["wall"]),
        ("sandbox: cold invoke wall p50 (ms)", med["sandbox"]["wall"]),
        ("sandbox / plain, Init Duration", med["sandbox"]["init"] / med["plain"]["init"]),
        ("sandbox / plain, cold invoke wall", med["sandbox"]["wall"] / med["plain"]["wall"]),
        ("sandbox - plain, Init Duration (ms)", med["sandbox"]["init"] - med["plain"]["init"]),
        ("sandbox Init / bare", med["sandbox"]["init"] / bare_med),
        ("plain Init / bare", med["plain"]["init"] / bare_med),
        ("warm invoke wall p50, sandbox (ms)", warm["sandbox"]),
        ("warm invoke wall p50, plain (ms)", warm["plain"]),
    ]
    if cli:
        rows += [
            ("one-shot `lambdatui invoke`, sandbox on (ms)", cli["on"]),
            ("one-shot `lambdatui invoke`, LAMBDATUI_SANDBOX=off (ms)", cli["off"]),
            ("one-shot CLI, on / off", cli["on"] / cli["off"]),
        ]
    print(f"{args.rounds} interleaved rounds on {os.cpu_count()} CPUs; {iso.summary()} here:")
    for name, g in iso.items():
        print(f"  {'yes' if g.holds else 'no ':3} {name}")
    width = max(len(r[0]) for r in rows)
    for name, value in rows:
        print(f"{name.ljust(width)}  {value:8.2f}")
    if args.json:
        args.json.write_text(json.dumps({"rows": dict(rows), "isolation": iso.to_dict(), "raw": results, "bare": bare_ms}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
