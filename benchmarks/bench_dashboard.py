"""Dashboard start-up with 1,000 functions: time to the first frame that shows the full list.

Run: .venv/bin/python benchmarks/bench_dashboard.py
Target (issue 3): first frame with 1,000 functions within 1.0 s. Measured from the moment the app
is started (backend already built, as `lambdatui` builds it before the app) to the first refresh
after the list holds every function; also reported: building the backend itself, and moving the
cursor on the full list, against the same move on a bare 1,000-row DataTable measured in the same
run (the pilot's own press-and-settle overhead dominates both).
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lambdatui.backends import make_backend  # noqa: E402
from lambdatui.config import parse_config  # noqa: E402
from lambdatui.tui.app import LambdaTUI  # noqa: E402
from lambdatui.tui.widgets.function_list import FunctionList  # noqa: E402

N = 1000


def config_text(code: Path) -> str:
    lines = ["local:", "  functions:"]
    for i in range(N):
        lines.append(f"    fn-{i:04d}: {{runtime: python3.12, handler: app.handler, code: {code}, memory_size: {128 + i % 64 * 16}}}")
    return "\n".join(lines) + "\n"


async def one_run(tmp: Path) -> tuple[float, float, float]:
    code = tmp / "code"
    code.mkdir(exist_ok=True)
    (code / "app.py").write_text("def handler(e, c):\n    return 1\n")
    path = tmp / "lambdatui.yaml"
    path.write_text(config_text(code))
    t0 = time.perf_counter()
    config = parse_config(path.read_text(), path)
    backend = make_backend(config, state_dir=tmp / "state", watch_code=False)
    built = time.perf_counter() - t0
    app = LambdaTUI(backend, config, select="fn-0000")
    started = time.perf_counter()
    try:
        async with app.run_test(size=(160, 48)) as pilot:
            while app.query_one(FunctionList).table.row_count < N:
                await asyncio.sleep(0.005)
            await pilot.pause()  # the refresh that paints the filled list
            first_frame = time.perf_counter() - started
            app.query_one(FunctionList).table.focus()
            await pilot.pause(0.2)
            key = await press_latency(pilot)
    finally:
        backend.close()
    return built, first_frame, key


async def press_latency(pilot, presses: int = 10) -> float:
    """Median time for the pilot to press down and the app to settle (pilot overhead included)."""
    times = []
    for _ in range(presses):
        t = time.perf_counter()
        await pilot.press("down")
        await pilot.pause()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


async def bare_table_latency() -> float:
    """The same measure on a bare DataTable of 1,000 rows: the floor set by Textual and the pilot."""
    from textual.app import App
    from textual.widgets import DataTable

    class Bare(App):
        def compose(self):
            table = DataTable(cursor_type="row")
            table.add_columns("Name", "Runtime", "Mem", "Tmo", "Last")
            for i in range(N):
                table.add_row(f"fn-{i:04d}", "python3.12", "128", "3s", "–")
            yield table

    app = Bare()
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause(0.2)
        return await press_latency(pilot)


def main() -> int:
    runs = []
    for _ in range(3):
        with tempfile.TemporaryDirectory() as d:
            runs.append(asyncio.run(one_run(Path(d))))
    built = statistics.median(r[0] for r in runs)
    frame = statistics.median(r[1] for r in runs)
    key = statistics.median(r[2] for r in runs)
    bare = asyncio.run(bare_table_latency())
    print(f"lambdatui dashboard benchmark: {N} functions, 160x48 headless, median of {len(runs)} runs")
    print(f"{'figure':<44}{'target':>10}{'measured':>12}  result")
    print("-" * 74)
    print(f"{'first frame with the full list (s)':<44}{'<= 1.0':>10}{frame:>12.3f}  {'PASS' if frame <= 1.0 else 'FAIL'}")
    print(f"{'  config parse + backend (s)':<44}{'':>10}{built:>12.3f}")
    print(f"{'cursor move on the full list (ms)':<44}{'':>10}{key * 1000:>12.1f}")
    print(f"{'  same on a bare 1,000-row DataTable (ms)':<44}{'':>10}{bare * 1000:>12.1f}")
    print(f"{'  lambdatui / bare DataTable':<44}{'<= 2x':>10}{key / bare:>12.2f}  {'PASS' if key <= 2 * bare else 'FAIL'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
