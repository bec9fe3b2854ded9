"""The log tail under a busy function, through the real dashboard: key→frame and RSS, in a real pty.

Run:

    .venv/bin/python benchmarks/bench_log_tail.py [--rate 5000] [--seconds 60] [--size 120x40] [--json FILE]

Everything runs on the real path (issue 16): `python -m lambdatui --config CFG` on a pseudo-terminal
(`benchmarks/ptyterm.py`: process start, config, local backend, executor, app), with a configuration
holding one function, `firehose`, whose handler prints `--rate` lines a second for `--seconds`
(paced every 5 ms; mostly plain lines, every 20th a `[WARNING]`, every 50th a `[ERROR]` with a
`\\r`-joined traceback). The benchmark presses ctrl+r in the dashboard, so the real executor runs
the handler and the dashboard's log tail follows its lines as they are written.

Key→frame: every 200 ms the benchmark types into the event editor (F2 puts the focus there) a
Cyrillic letter (a different one each time, a character no log line or label holds) and times it
from writing it to the end of the first frame that holds it; then a Backspace, timed to the first
frame whose editor line starts with `{` again. (The Backspace's frame is awaited before the next
letter: Textual 8.2's TextArea loses a Backspace and a letter that arrive in one read.) Measured three times in the same run:

- bare: a bare Textual app on the same pty, a `TextArea` holding `{}` and nothing else, the same keys;
- idle: the dashboard before the invocation (tail following, nothing written);
- busy: the dashboard while the function prints.

RSS: the dashboard's VmRSS (/proc/PID/status) every second from the start of the invocation: at
10 s, at the end, the range of the samples after 10 s (target: flat within 10 MB) and the slope of
a least-squares line through them. Delivery: the lines the function wrote (counted in the state
dir's log file, which the dashboard's log store writes) over the feed's duration, and whether the
last one reached the screen.

It prints a table of figure, target, measured value and PASS/FAIL and exits 0 whatever the
verdicts: it is a report, not a test. On a shared 2-core machine the figures move with whatever
else runs; repeat a run before trusting a verdict.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ptyterm import Term  # noqa: E402

KEY_EVERY = 0.2  # seconds between key presses
IDLE_SECONDS = 5.0  # key presses on the dashboard before the invocation
BARE_SECONDS = 10.0  # key presses on the bare app
KEY_TIMEOUT = 10.0  # a key whose frame takes longer is counted at this
RSS_SETTLE_S = 10.0  # RSS must be flat after this (issue 16)
BACKSPACE = b"\x7f"
CTRL_R = b"\x12"
F2 = b"\x1bOQ"
# Letters the dashboard never shows by itself: each key types the next one.
LETTERS = "БГДЖЗИЙЛПФЦЧШЩЪЫЬЭЮЯ"
# The editor's first line holding `{` right after its line number (SGR codes between): the
# Backspace has taken the letter away.
EDITOR_EMPTY = re.compile(rb"1  (?:\x1b\[[0-9;]*m)+\{")

HANDLER = '''
import os
import sys
import time


def handler(event, context):
    """Print RATE lines a second for SECONDS, paced every 5 ms."""
    rate, seconds = int(os.environ["RATE"]), float(os.environ["SECONDS"])
    total = int(rate * seconds)
    out = sys.stdout
    started = time.monotonic()
    n = 0
    while n < total:
        due = min(total, int((time.monotonic() - started) * rate) + 1)
        chunk = []
        while n < due:
            if n % 50 == 49:
                chunk.append(f"[ERROR] KeyError: 'sku' in order {n}\\rTraceback (most recent call last):\\r"
                             f'  File "/var/task/app.py", line {n % 90 + 10}, in handler\\r    sku = item["sku"]\\n')
            elif n % 20 == 19:
                chunk.append(f"[WARNING] retrying payment gateway call for order {n} ({n % 3 + 1}/3)\\n")
            else:
                chunk.append(f"processing order {n} for customer {n % 977}: {n % 50} items, total {n % 400}.{n % 100:02d} USD\\n")
            n += 1
        out.write("".join(chunk))
        out.flush()
        time.sleep(0.005)
    print(f"firehose done: {total} lines")
    return {"lines": total}
'''

BARE = """
from textual.app import App
from textual.widgets import TextArea


class Bare(App):
    def compose(self):
        yield TextArea.code_editor("{}\\n", language="json", theme="css")


Bare().run()
"""


def percentile(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))] if s else float("nan")


def slope(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of (t, y)."""
    if len(points) < 2:
        return float("nan")
    mt = statistics.fmean(t for t, _ in points)
    my = statistics.fmean(y for _, y in points)
    den = sum((t - mt) ** 2 for t, _ in points)
    return sum((t - mt) * (y - my) for t, y in points) / den if den else float("nan")


class Typist:
    """Types a letter into the focused editor, then takes it away with Backspace, timing each key to
    the frame that shows its effect. The Backspace's frame is awaited before the next letter goes:
    a Backspace and a letter read together are lost (Textual 8.2's TextArea; see the module docstring)."""

    def __init__(self, term: Term) -> None:
        self.term = term
        self.n = 0

    def press(self) -> tuple[float, float]:
        """(letter ms, Backspace ms); a key whose frame never came counts as KEY_TIMEOUT."""
        letter = LETTERS[self.n % len(LETTERS)].encode()
        self.n += 1
        timed = []
        for data, marker in ((letter, letter), (BACKSPACE, EDITOR_EMPTY)):
            try:
                timed.append(self.term.key(data, marker, timeout=KEY_TIMEOUT) * 1000)
            except TimeoutError:
                timed.append(KEY_TIMEOUT * 1000)
        return timed[0], timed[1]

    def for_seconds(self, seconds: float) -> list[float]:
        """Key→frame times (ms) of a letter and its Backspace every KEY_EVERY seconds, for `seconds`."""
        latencies: list[float] = []
        began = time.perf_counter()
        next_press = began
        while time.perf_counter() - began < seconds:
            time.sleep(max(0.0, next_press - time.perf_counter()))
            latencies.extend(self.press())
            next_press += KEY_EVERY
        return latencies


class RssSampler(threading.Thread):
    def __init__(self, term: Term) -> None:
        super().__init__(daemon=True)
        self.term = term
        self.began = time.perf_counter()
        self.samples: list[tuple[float, float]] = []
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                self.samples.append((time.perf_counter() - self.began, self.term.rss_mb()))
            except OSError:
                return
            self.stop.wait(1.0)


def bare_run(tmp: Path, size: tuple[int, int], env: dict[str, str]) -> dict:
    script = tmp / "bare.py"
    script.write_text(BARE)
    term = Term([sys.executable, str(script)], size=size, env=env, cwd=str(tmp))
    try:
        term.wait_frame_with(b"}", timeout=60)
        term.quiet(0.5)
        lat = Typist(term).for_seconds(BARE_SECONDS)
        return {"latencies_ms": lat, "rss_mb": term.rss_mb()}
    finally:
        term.close()


def dashboard_run(tmp: Path, rate: int, seconds: float, size: tuple[int, int], env: dict[str, str]) -> dict:
    code = tmp / "firehose"
    code.mkdir(exist_ok=True)
    (code / "app.py").write_text(HANDLER)
    cfg = tmp / "lambdatui.yaml"
    cfg.write_text(
        "local:\n  functions:\n"
        f"    firehose: {{runtime: python3.12, handler: app.handler, code: {code}, timeout: {min(900, int(seconds) + 60)},"
        f" environment: {{RATE: '{rate}', SECONDS: '{seconds:g}'}}}}\n"
    )
    state = Path(env["LAMBDATUI_STATE_DIR"])
    term = Term([sys.executable, "-m", "lambdatui", "--config", str(cfg)], size=size, env=env, cwd=str(tmp))
    result: dict = {}
    try:
        started = term.started
        first = term.wait_frame_with(b"firehose", timeout=60) - started
        term.quiet(0.5)
        term.write(F2)  # the event editor
        term.quiet(0.5)
        typist = Typist(term)
        idle = typist.for_seconds(IDLE_SECONDS)
        rss_idle = term.rss_mb()
        term.quiet(0.5)

        since = term.offset
        term.write(CTRL_R)
        term.wait_frame_with(b"processing order", since, timeout=60)  # the first lines are on screen
        sampler = RssSampler(term)
        sampler.start()
        feed_began = time.perf_counter()
        busy = typist.for_seconds(seconds)
        feed_s = time.perf_counter() - feed_began
        # The last line reaches the screen (or not) once the function is done.
        last = f"firehose done: {int(rate * seconds)} lines".encode()
        try:
            caught_up = term.wait_frame_with(last, since, timeout=30) - feed_began
        except TimeoutError:
            caught_up = float("nan")
        sampler.stop.set()
        sampler.join()
        result = {
            "first_frame_s": first, "idle_ms": idle, "busy_ms": busy, "rss_idle_mb": rss_idle,
            "rss": sampler.samples, "feed_s": feed_s, "caught_up_s": caught_up,
            "written": _lines_written(state / "logs", "firehose"),
        }
    finally:
        term.close()
    return result


def _lines_written(logs: Path, function: str) -> tuple[int, float]:
    """Lines the function printed, and the seconds from the first to the last (its log file)."""
    times = []
    for path in sorted(logs.glob(f"{function}.jsonl*")):
        for line in path.read_text().splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            message = record.get("m", "")
            if message.startswith(("processing order", "[WARNING]", "[ERROR]")):
                times.append(record["t"] / 1000)
    return len(times), (max(times) - min(times)) if times else 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=int, default=5000, help="log lines per second (default 5000)")
    parser.add_argument("--seconds", type=float, default=60.0, help="how long the function prints (default 60)")
    parser.add_argument("--size", default="120x40", help="terminal size, COLSxROWS (default 120x40)")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    args = parser.parse_args()
    if args.rate <= 0 or args.seconds <= RSS_SETTLE_S:
        parser.error(f"--rate must be positive and --seconds more than {RSS_SETTLE_S:g}")
    try:
        cols, rows = (int(x) for x in args.size.lower().split("x"))
    except ValueError:
        parser.error(f"--size must be COLSxROWS, like 120x40, not {args.size!r}")
    size = (cols, rows)

    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["LAMBDATUI_STATE_DIR"] = str(tmp / "state")
        bare = bare_run(tmp, size, env)
        dash = dashboard_run(tmp, args.rate, args.seconds, size, env)

    b, idle, busy = bare["latencies_ms"], dash["idle_ms"], dash["busy_ms"]
    samples = dash["rss"]
    at10 = next((mb for t, mb in samples if t >= RSS_SETTLE_S), float("nan"))
    later = [(t, mb) for t, mb in samples if t >= RSS_SETTLE_S]
    end = samples[-1][1] if samples else float("nan")
    spread = (max(mb for _, mb in later) - min(mb for _, mb in later)) if later else float("nan")
    mb_per_min = slope(later) * 60
    written, span = dash["written"]
    wanted = int(args.rate * args.seconds)
    rate = written / span if span else float("nan")
    p99 = percentile(busy, 0.99)
    rows_ = [
        ("bare TextArea: key→frame p50 (ms)", "", percentile(b, 0.5), None),
        ("bare TextArea: key→frame p99 (ms)", "", percentile(b, 0.99), None),
        ("bare TextArea: key→frame max (ms)", "", max(b), None),
        ("dashboard idle: key→frame p50 (ms)", "", percentile(idle, 0.5), None),
        ("dashboard idle: key→frame p99 (ms)", "", percentile(idle, 0.99), None),
        (f"busy tail: key→frame p50 (ms), {len(busy)} keys", "", percentile(busy, 0.5), None),
        ("busy tail: key→frame p99 (ms)", "< 100", p99, p99 < 100),
        ("busy tail: key→frame max (ms)", "", max(busy), None),
        ("  busy p50 / bare p50", "", percentile(busy, 0.5) / percentile(b, 0.5), None),
        ("RSS before the invocation (MB)", "", dash["rss_idle_mb"], None),
        (f"RSS at {RSS_SETTLE_S:g} s (MB)", "", at10, None),
        ("RSS at the end (MB)", "", end, None),
        (f"RSS range after {RSS_SETTLE_S:g} s (MB)", "<= 10", spread, spread <= 10),
        (f"  RSS slope after {RSS_SETTLE_S:g} s (MB/min)", "", mb_per_min, None),
        ("lines written by the function", f"== {wanted:,}", written, written == wanted),
        ("  written rate (lines/s)", f">= {int(args.rate * 0.95):,}", rate, rate >= args.rate * 0.95),
        ("last line on screen, s after the start", "", dash["caught_up_s"], None),
        ("  bare RSS (MB)", "", bare["rss_mb"], None),
        ("  dashboard first frame (s)", "", dash["first_frame_s"], None),
    ]

    print(f"lambdatui log tail benchmark: Python {platform.python_version()}, {os.cpu_count()} CPUs, {cols}x{rows} pty")
    print(f"  firehose prints {args.rate:,} lines/s for {args.seconds:g} s (ctrl+r in the dashboard); "
          f"a key every {KEY_EVERY * 1000:.0f} ms into the event editor")
    print()
    width = max(len(r[0]) for r in rows_)
    print(f"{'figure':<{width}}  {'target':>9}  {'measured':>10}  result")
    print("-" * (width + 31))
    for name, target, value, passed in rows_:
        verdict = "" if passed is None else ("PASS" if passed else "FAIL")
        shown = f"{value:>10.2f}" if isinstance(value, float) else f"{value:>10,}"
        print(f"{name:<{width}}  {target:>9}  {shown}  {verdict}".rstrip())
    failed = sum(1 for r in rows_ if r[3] is False)
    print(f"\n{sum(1 for r in rows_ if r[3] is not None) - failed} passed, {failed} failed")

    if args.json:
        Path(args.json).write_text(json.dumps({
            "python": platform.python_version(), "cpus": os.cpu_count(), "size": args.size,
            "rate": args.rate, "seconds": args.seconds,
            "figures": [{"figure": n.strip(), "target": t or None, "value": v, "pass": p} for n, t, v, p in rows_],
            "latencies_ms": {"bare": b, "idle": idle, "busy": busy}, "rss_mb": samples,
        }, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
