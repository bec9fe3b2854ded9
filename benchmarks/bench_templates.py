"""Benchmark: invoking a SAM project's function with lambdatui, against SAM CLI's published cost.

SAM CLI runs a template's functions in Docker, which this machine does not have, so its side is the
figures its maintainers published (cited below); lambdatui's side is measured here, driving the
path a user runs: `lambdatui invoke HelloWorldFunction --event events/event.json` in a copy of a
`sam init` hello-world project (a subprocess: Python start-up, template detection, the SAM
transform, the executor, the function's cold start), and `--repeat` for the warm per-invoke time.
Baselines in the same run, interleaved: `python -c pass`, and the same function declared in a
`lambdatui.yaml` (what the template costs over lambdatui's own format).

SAM CLI's published per-invoke cost (aws/aws-sam-cli pull request #1305, "Warm invoke containers
for start-api and start-lambda", 2019, by a SAM CLI maintainer): "4.1s to 1.9s for the full
command" (a container created per invoke, then a stopped container reused), and issue #362
"Requests are slow": "requests consistently take around 1 second" through `sam local start-api`.

    .venv/bin/python benchmarks/bench_templates.py [--runs 7] [--repeat 300]

It prints a table and exits 0 whatever the figures: a report, not a test.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PROJECT = REPO / "tests" / "templates" / "projects" / "python-hello"
SAM_FULL_COMMAND_S = 4.1  # PR #1305: a container per invoke
SAM_WARM_CONTAINER_S = 1.9  # PR #1305: a stopped container reused
SAM_START_API_S = 1.0  # issue #362: per request through start-api


def run(argv: list[str], cwd: Path, env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    r = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - t0
    if r.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({r.returncode}): {r.stderr.strip()[-500:]}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7, help="one-shot runs of each (default 7)")
    parser.add_argument("--repeat", type=int, default=300, help="warm invokes in the --repeat run (default 300)")
    args = parser.parse_args()
    lambdatui = [sys.executable, "-m", "lambdatui"]
    with tempfile.TemporaryDirectory(prefix="lambdatui-bench-sam-") as d:
        project = Path(d) / "sam-app"
        shutil.copytree(PROJECT, project)
        own = Path(d) / "own"
        own.mkdir()
        shutil.copytree(PROJECT / "hello_world", own / "hello_world")
        shutil.copytree(PROJECT / "events", own / "events")
        (own / "lambdatui.yaml").write_text(
            "local:\n  functions:\n    HelloWorldFunction:\n      code: hello_world\n"
            "      handler: app.lambda_handler\n      runtime: python3.12\n      timeout: 3\n"
        )
        env = {k: v for k, v in os.environ.items() if k not in ("LAMBDATUI_CONFIG",)}
        env["LAMBDATUI_STATE_DIR"] = str(Path(d) / "state")
        invoke = [*lambdatui, "invoke", "HelloWorldFunction", "--event", "events/event.json"]
        # One of each first: bytecode written, files cached, the sample copy made.
        run(invoke, project, env)
        run(invoke, own, env)
        times: dict[str, list[float]] = {"template": [], "own": [], "bare": []}
        for _ in range(args.runs):
            times["template"].append(run(invoke, project, env))
            times["own"].append(run(invoke, own, env))
            times["bare"].append(run([sys.executable, "-c", "pass"], project, env))
        r = subprocess.run([*invoke, "--repeat", str(args.repeat)], cwd=project, env=env, capture_output=True, text=True)
        found = re.search(r"\(([\d,.]+)/s\)", r.stdout + r.stderr)
        rate = float(found.group(1).replace(",", "")) if found else None
    m = {k: statistics.median(v) for k, v in times.items()}
    print(f"lambdatui on a SAM project: Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, {args.runs} runs each, "
          f"load average {os.getloadavg()[0]:.2f}")
    rows = [
        ("one-shot `lambdatui invoke HelloWorldFunction` on template.yaml (s)", f"{m['template']:.3f}"),
        ("  the same function in a lambdatui.yaml (s)", f"{m['own']:.3f}"),
        ("  template / lambdatui.yaml", f"{m['template'] / m['own']:.2f}x"),
        ("  `python -c pass` (s)", f"{m['bare']:.3f}"),
        ("  template one-shot / python -c pass", f"{m['template'] / m['bare']:.1f}x"),
        ("  SAM CLI, full command, container per invoke (published, s)", f"{SAM_FULL_COMMAND_S:.1f}"),
        ("  lambdatui one-shot / SAM CLI full command", f"{m['template'] / SAM_FULL_COMMAND_S:.3f}x"),
        ("  SAM CLI, warm container (published, s)", f"{SAM_WARM_CONTAINER_S:.1f}"),
        ("  lambdatui one-shot / SAM CLI warm container", f"{m['template'] / SAM_WARM_CONTAINER_S:.3f}x"),
    ]
    if rate:
        per_invoke = 1.0 / rate
        rows += [
            (f"warm invokes, `--repeat {args.repeat}` (invokes/s)", f"{rate:,.0f}"),
            ("  per warm invoke (ms)", f"{per_invoke * 1000:.2f}"),
            ("  SAM CLI start-api per request (published, s)", f"{SAM_START_API_S:.1f}"),
            ("  lambdatui warm / SAM CLI start-api", f"{per_invoke / SAM_START_API_S:.5f}x"),
        ]
    else:
        rows.append(("warm invokes: --repeat printed no rate", (r.stdout + r.stderr).strip()[-200:]))
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value:>12}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
