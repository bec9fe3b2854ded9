"""Dashboard start-up and cursor moves with 1,000 functions, against a bare Textual app, in a real pty.

Run: .venv/bin/python benchmarks/bench_dashboard.py [--runs 5] [--size 120x40]

Both sides are real processes on a pseudo-terminal of the same size (benchmarks/ptyterm.py),
started alternately, run by run, so a change in the machine's load falls on both:

- lambdatui: `python -m lambdatui --config CFG` on a 1,000-function configuration (process start,
  imports, config load, local backend and executor start, app) until the first frame shows the
  filled list (`fn-0001` on screen);
- bare: `python bare.py`, a Textual app whose only widget is a 1,000-row `DataTable` with the same
  five columns, until the same first frame.

Breakdown: `python benchmarks/startup_probe.py --config CFG`, the same command stopped where the
app would start (process start, imports, config, backend and executor start), measured in the same
interleaved runs: what the first frame costs before Textual draws anything.

Cursor move: after the app settles, Down is written to the pty and timed to the end of the first
frame that redraws the newly highlighted row; 10 moves a run, the run's median kept.

Targets (issue 16): first frame ≤ 1.5× bare; cursor move ≤ 1.3× bare. Figures are medians over
runs; the ratio is of the medians, with the median of per-run ratios beside it. It exits 0 whatever
the verdicts: it is a report, not a test.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ptyterm import Term  # noqa: E402

N = 1000
MOVES = 10

BARE = """
from textual.app import App
from textual.widgets import DataTable


class Bare(App):
    def compose(self):
        table = DataTable(cursor_type="row", zebra_stripes=True)
        table.add_columns("Name", "Runtime", "Mem", "Tmo", "Last")
        for i in range(%d):
            table.add_row(f"fn-{i:04d}", "python3.12", str(128 + i %% 64 * 16), "3s", "")
        yield table


Bare().run()
""" % N


def config_text(code: Path) -> str:
    lines = ["local:", "  functions:"]
    for i in range(N):
        lines.append(f"    fn-{i:04d}: {{runtime: python3.12, handler: app.handler, code: {code}, memory_size: {128 + i % 64 * 16}}}")
    return "\n".join(lines) + "\n"


def one(argv: list[str], size: tuple[int, int], env: dict[str, str], cwd: str) -> tuple[float, float]:
    term = Term(argv, size=size, env=env, cwd=cwd)
    try:
        first = term.wait_frame_with(b"fn-0001") - term.started
        term.quiet(0.4)
        moves = []
        for k in range(1, MOVES + 1):
            moves.append(term.key(b"\x1b[B", b"fn-%04d" % (k + 0)))
            term.quiet(0.4)  # the dashboard fills its panes once the cursor rests
        return first, statistics.median(moves)
    finally:
        term.close()


def until_app(argv: list[str], size: tuple[int, int], env: dict[str, str], cwd: str) -> float:
    term = Term(argv, size=size, env=env, cwd=cwd)
    try:
        return term.wait_frame_with(b"APP-START") - term.started
    finally:
        term.close()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--size", default="120x40")
    args = parser.parse_args()
    cols, rows = (int(x) for x in args.size.split("x"))
    size = (cols, rows)
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        code = tmp / "code"
        code.mkdir()
        (code / "app.py").write_text("def handler(e, c):\n    return 1\n")
        cfg = tmp / "lambdatui.yaml"
        cfg.write_text(config_text(code))
        bare = tmp / "bare.py"
        bare.write_text(BARE)
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["LAMBDATUI_STATE_DIR"] = str(tmp / "state")
        ours_argv = [sys.executable, "-m", "lambdatui", "--config", str(cfg)]
        bare_argv = [sys.executable, str(bare)]
        probe_argv = [sys.executable, str(Path(__file__).resolve().parent / "startup_probe.py"), "--config", str(cfg)]
        # Warm-up: bytecode written, file caches filled, for both.
        one(ours_argv, size, env, d)
        one(bare_argv, size, env, d)
        ours, base, before_app = [], [], []
        for _ in range(args.runs):
            ours.append(one(ours_argv, size, env, d))
            base.append(one(bare_argv, size, env, d))
            before_app.append(until_app(probe_argv, size, env, d))
            time.sleep(0.2)

    def med(values: list[float]) -> float:
        return statistics.median(values)

    first_o, first_b = med([r[0] for r in ours]), med([r[0] for r in base])
    move_o, move_b = med([r[1] for r in ours]), med([r[1] for r in base])
    first_pairs = med([o[0] / b[0] for o, b in zip(ours, base)])
    move_pairs = med([o[1] / b[1] for o, b in zip(ours, base)])
    print(f"lambdatui dashboard benchmark: {N} functions, {cols}x{rows} pty, medians of {args.runs} interleaved runs")
    print(f"{'figure':<46}{'target':>10}{'measured':>12}  result")
    print("-" * 76)
    print(f"{'first frame, lambdatui (s)':<46}{'':>10}{first_o:>12.3f}")
    print(f"{'first frame, bare 1,000-row DataTable (s)':<46}{'':>10}{first_b:>12.3f}")
    verdict = "PASS" if first_o <= 1.5 * first_b else "FAIL"
    print(f"{'  lambdatui / bare (per-run median)':<46}{'<= 1.5x':>10}{first_o / first_b:>12.2f}  {verdict} ({first_pairs:.2f})")
    print(f"{'  of which before the app starts (s)':<46}{'':>10}{med(before_app):>12.3f}  ({med(before_app) / first_b:.2f}x bare's whole first frame)")
    print(f"{'cursor move, lambdatui (ms)':<46}{'':>10}{move_o * 1000:>12.1f}")
    print(f"{'cursor move, bare (ms)':<46}{'':>10}{move_b * 1000:>12.1f}")
    verdict = "PASS" if move_o <= 1.3 * move_b else "FAIL"
    print(f"{'  lambdatui / bare (per-run median)':<46}{'<= 1.3x':>10}{move_o / move_b:>12.2f}  {verdict} ({move_pairs:.2f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
