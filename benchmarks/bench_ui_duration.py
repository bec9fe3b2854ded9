"""The dashboard's warm no-op Duration against the CLI's, same function, same minute (issue 16).

Runs the real dashboard (LambdaTUI over the local backend, in Textual's headless pilot) on a no-op
function while its log tail follows it and, with --busy (the default), while the UI thread burns
the CPU 30 ms of every 35 (a stand-in for heavy rendering); then `lambdatui invoke --repeat` in a
subprocess on the same config and state dir. Prints both warm medians, the ratio and the
difference; the target is dashboard ≤ 1.5 × CLI + 0.3 ms.

    .venv/bin/python benchmarks/bench_ui_duration.py            # 40 warm invokes each, about 60 s
    .venv/bin/python benchmarks/bench_ui_duration.py --n 15 --idle
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _project(root: Path) -> Path:
    code = root / "noop"
    code.mkdir(parents=True)
    (code / "app.py").write_text("def handler(event, context):\n    return None\n")
    config = root / "lambdatui.yaml"
    py = f"python{sys.version_info[0]}.{sys.version_info[1]}"
    config.write_text(f"local:\n  functions:\n    noop: {{runtime: {py}, handler: app.handler, code: noop}}\n")
    return config


async def _dashboard(config_path: Path, state: Path, n: int, busy: bool) -> list[float]:
    from lambdatui.backends import make_backend
    from lambdatui.config import load_config
    from lambdatui.tui.app import LambdaTUI
    from lambdatui.tui.widgets.event_console import EventConsole

    config = load_config(config_path)
    backend = make_backend(config, state_dir=state)
    durations: list[float] = []
    try:
        app = LambdaTUI(backend, config, select="noop")
        async with app.run_test(size=(120, 40)) as pilot:
            while app._selected != "noop":
                await pilot.pause(0.05)
            console = app.query_one(EventConsole)
            if busy:
                def burn() -> None:
                    started = time.perf_counter()
                    while time.perf_counter() - started < 0.03:
                        pass

                app.set_interval(0.005, burn)
            for i in range(n + 1):
                before = console._shown
                await pilot.press("ctrl+r")
                while console._shown is before or console._shown is None:
                    await pilot.pause(0.01)
                if i > 0 and not console._shown.cold_start:
                    durations.append(console._shown.duration_ms)
    finally:
        backend.close()
    return durations


def _cli(config: Path, state: Path, n: int) -> list[float]:
    env = dict(os.environ, LAMBDATUI_STATE_DIR=str(state))
    done = subprocess.run(
        [sys.executable, "-m", "lambdatui", "invoke", "noop", "--config", str(config), "--repeat", str(n + 1), "--json"],
        capture_output=True, text=True, env=env, check=True,
    )
    rows = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    return [r["duration_ms"] for r in rows if not r["cold_start"]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=40, help="warm invokes in each front end (default 40)")
    parser.add_argument("--idle", action="store_true", help="no CPU burning on the UI thread")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        config = _project(root)
        state = root / "state"
        dash = asyncio.run(_dashboard(config, state, args.n, busy=not args.idle))
        cli = _cli(config, state, args.n)
    d, c = statistics.median(dash), statistics.median(cli)
    verdict = "PASS" if d <= 1.5 * c + 0.3 else "FAIL"
    print(f"UI {'busy' if not args.idle else 'idle'}, log tail following, {args.n} warm no-op invokes each")
    print(f"  dashboard warm median   {d:8.3f} ms   (p90 {sorted(dash)[int(len(dash) * 0.9) - 1]:.3f})")
    print(f"  CLI warm median         {c:8.3f} ms   (p90 {sorted(cli)[int(len(cli) * 0.9) - 1]:.3f})")
    print(f"  ratio {d / c:.2f}x   difference {d - c:+.3f} ms   target <= 1.5x + 0.3 ms   {verdict}")


if __name__ == "__main__":
    main()
