"""The log tail under a busy function (issue 16): bounded from the source to the screen, coalesced,
and light on the garbage collector — through the real local backend and executor.

Timing is left to benchmarks/bench_log_tail.py; these count lines, flushes, wake-ups and objects.
"""

from __future__ import annotations

import asyncio
import gc
import json
import sys
import textwrap
import threading
from pathlib import Path

from rich.segment import Segment
from textual.app import App, ComposeResult

from lambdatui.backends import make_backend
from lambdatui.config import parse_config
from lambdatui.executor.logstore import LogEvent, LogFollower, LogStore
from lambdatui.tui.widgets.log_tail import LineKind, LogTail

from .conftest import wait_for

PY = f"python{sys.version_info[0]}.{sys.version_info[1]}"
LINES = 6000  # printed by the handler: more than MAX_LINES, in one burst
MAX_LINES = 500


class TailApp(App):
    def compose(self) -> ComposeResult:
        yield LogTail(max_lines=MAX_LINES, id="tail")


def busy_backend(tmp_path: Path):
    """A local backend with `chatty`, whose handler prints LINES lines at once, every 10th a
    `\\r`-joined two-line traceback (one event, two display lines), then `chatty done`."""
    code = tmp_path / "chatty"
    code.mkdir()
    (code / "app.py").write_text(textwrap.dedent(f"""
        import sys

        def handler(event, context):
            out = []
            for n in range({LINES}):
                out.append(f"[ERROR] line {{n}}\\rTraceback line {{n}}\\n" if n % 10 == 9 else f"line {{n}}\\n")
            sys.stdout.write("".join(out))
            print("chatty done")
            return {{"ok": True}}
        """))
    config = tmp_path / "lambdatui.yaml"
    config.write_text(textwrap.dedent(f"""
        backend: local
        local:
          functions:
            chatty: {{runtime: {PY}, handler: app.handler, code: chatty, timeout: 30}}
        """))
    return make_backend(parse_config(config.read_text(), config), state_dir=tmp_path / "state")


def live_log_events(function: str) -> list[LogEvent]:
    gc.collect()
    return [o for o in gc.get_objects() if isinstance(o, LogEvent) and o.function == function]


async def test_a_burst_through_the_real_executor_keeps_max_lines_in_few_flushes(tmp_path):
    backend = busy_backend(tmp_path)
    try:
        app = TailApp()
        async with app.run_test(size=(100, 20)) as pilot:
            tail = app.query_one(LogTail)
            flushes: list[int] = []
            real = tail.view.add_events

            def counting(batch, unseen=0):
                batch = list(batch)
                flushes.append(len(batch))
                real(batch, unseen)

            tail.view.add_events = counting  # type: ignore[method-assign]
            tail.follow(backend, "chatty")
            await pilot.pause()
            result = await asyncio.to_thread(backend.invoke, "chatty", b"{}")
            assert result.error is None
            await wait_for(pilot, lambda: any(line.text.startswith("REPORT") for line in tail.lines))
            texts = [line.text for line in tail.lines]
            # At most max_lines, the newest: the burst's last lines, then the platform lines.
            assert len(texts) == MAX_LINES
            assert "chatty done" in texts and texts[-1].startswith("REPORT RequestId:")
            assert f"line {LINES - 2}" in texts and "line 0" not in texts
            # The burst (6,000+ events) came in a few flushes, none larger than the inbox's bound.
            assert len(flushes) <= 20, flushes
            assert max(flushes) <= MAX_LINES
            # Coloured as before: a traceback's continuation takes its [ERROR] line's colour.
            error = next(line for line in tail.lines if line.text.startswith("[ERROR]"))
            assert tail.lines[tail.lines.index(error) + 1].kind == LineKind.ERROR
            # No LogEvent of the burst outlives its delivery: kept lines and queues hold plain
            # tuples, which the garbage collector stops tracking (no full collections from them).
            # What is left: the last event the tail's reader and the backend's generator each still
            # name while they wait. (The log store's writer thread lets go of its batch once it is
            # written, within its write delay.)
            await wait_for(pilot, lambda: len(live_log_events("chatty")) <= 2, timeout=5, step=0.1)
    finally:
        backend.close()


async def test_the_local_tail_wakes_its_reader_once_per_batch(tmp_path):
    """Lines written from another thread (the executor's) while the event loop is busy wake the
    tail's reader once, not once per line, and all of them arrive in order."""
    backend = busy_backend(tmp_path)
    try:
        loop = asyncio.get_running_loop()
        wakeups: list[object] = []
        real = loop.call_soon_threadsafe

        def counting(callback, *args, **kwargs):
            # Not counted: a worker thread's result coming back to the loop (the tail polls other
            # processes' lines in one, `asyncio.to_thread`).
            if getattr(callback, "__name__", "") != "_set_state":
                wakeups.append(callback)
            return real(callback, *args, **kwargs)

        loop.call_soon_threadsafe = counting  # type: ignore[method-assign]
        try:
            stream = backend.tail_logs("chatty", since=0)
            first = asyncio.ensure_future(stream.__anext__())
            await asyncio.sleep(0.05)  # the reader waits for lines
            wakeups.clear()

            def write() -> None:
                for n in range(1000):
                    backend.logs.append("chatty", "2026/01/01/[$LATEST]t", f"written {n}")

            # Blocking the loop while the thread writes: every line is written before the reader runs.
            thread = threading.Thread(target=write)
            thread.start()
            thread.join()
            got = [(await first).message]
            while len(got) < 1000:
                got.append((await stream.__anext__()).message)
            assert got == [f"written {n}" for n in range(1000)]
            assert 1 <= len(wakeups) <= 2, len(wakeups)
            await stream.aclose()
        finally:
            loop.call_soon_threadsafe = real  # type: ignore[method-assign]
    finally:
        backend.close()


def _line(stream: str, message: str, t: int = 1_767_225_600_000) -> bytes:
    return (json.dumps({"t": t, "s": stream, "m": message}) + "\n").encode()


def test_a_follower_passes_over_the_streams_it_is_told_to_skip(tmp_path):
    """The dashboard's own lines come from its store: following other processes' lines, it skips
    them unparsed. Only whole-stream matches are skipped: a message quoting the skipped stream, or
    a stream name JSON escapes, is read as usual."""
    logs = tmp_path / "logs"
    logs.mkdir()
    path = logs / "fn.jsonl"
    path.write_bytes(_line("old", "before the follower started"))
    own: set[str] = set()
    follower = LogFollower(logs, "fn", skip_streams=own)
    follower.skip_to_end()
    own.add("2026/01/01/[$LATEST]own")  # added later, as the tail learns its streams
    with path.open("ab") as f:
        f.write(_line("2026/01/01/[$LATEST]own", "mine"))
        f.write(_line("other", 'quoting , "s": "2026/01/01/[$LATEST]own", "m": here'))
        f.write(_line('we"ird', "escaped stream"))
        f.write(_line("2026/01/01/[$LATEST]own", "mine again"))
    try:
        got = [(e.log_stream, e.message) for e in follower.poll()]
    finally:
        follower.close()
    assert got == [("other", 'quoting , "s": "2026/01/01/[$LATEST]own", "m": here'), ('we"ird', "escaped stream")]


def test_the_store_ring_stays_bounded_and_hands_out_events(tmp_path):
    store = LogStore(max_events_per_function=100)
    for n in range(250):
        store.append("fn", "s1" if n % 2 else "s2", f"m {n}", timestamp=1000.0 + n)
    events = store.events("fn")
    assert len(events) == 100 and [e.message for e in events] == [f"m {n}" for n in range(150, 250)]
    assert all(isinstance(e, LogEvent) and e.function == "fn" for e in events)
    assert [e.message for e in store.events("fn", since=1240.0, log_stream="s1")] == ["m 241", "m 243", "m 245", "m 247", "m 249"]
    assert store.log_streams("fn") == ["s2", "s1"]
    del events
    assert live_log_events("fn") == []  # the ring itself holds none


async def test_line_styles_follow_a_theme_change():
    """Row styles are worked out once per repaint; a theme change still recolours every row."""
    app = TailApp()
    async with app.run_test(size=(100, 20)) as pilot:
        tail = app.query_one(LogTail)
        tail.append([LogEvent(1_767_225_600.0, "fn", "s", "[ERROR] boom", 1)])
        await pilot.pause()
        view = tail.view

        def error_style():
            strip = view.render_line(0)
            segment: Segment = list(strip)[2]
            assert segment.text.startswith("[ERROR] boom")
            assert segment.style is not None
            return (segment.style.color, segment.style.bgcolor)

        def expected():
            style = view.rich_style + view.get_component_rich_style("logtail--error")
            return (style.color, style.bgcolor)

        before = error_style()
        assert before == expected()
        app.theme = "textual-light" if app.theme != "textual-light" else "nord"
        await pilot.pause()
        after = error_style()
        assert after == expected()
        assert after != before
