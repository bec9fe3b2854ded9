"""The log store with a write delay (`LogStore(write_delay_s=...)`, what the local backend uses): lines
queued by the invoking thread and written by a writer thread, whole and in order, safe with other
processes writing and rotating the same files; `flush` and `close` write what waits at once."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from polling import wait_for

from lambdatui.backends.local import LocalBackend
from lambdatui.config import parse_config
from lambdatui.executor import logstore
from lambdatui.executor.logstore import LogStore, read_log_file

REPO = Path(__file__).resolve().parent.parent
PY = f"python{sys.version_info.major}.{sys.version_info.minor}"
STREAM = "2026/01/01/[$LATEST]abc"


def messages(directory: Path, function: str = "fn") -> list[str]:
    return [e.message for e in read_log_file(directory, function)]


def test_queued_lines_are_written_by_the_writer_in_order(tmp_path):
    store = LogStore(tmp_path, write_delay_s=0.05)
    try:
        for i in range(5):
            store.append("fn", STREAM, f"line {i}")
        store.append("other", STREAM, "elsewhere")
        wait_for(lambda: len(messages(tmp_path)) == 5)  # no flush: the writer's delay passes
        assert messages(tmp_path) == [f"line {i}" for i in range(5)]
        wait_for(lambda: messages(tmp_path, "other") == ["elsewhere"])
        # in memory (the tail pane, `logs` of this process) at once, as before
        assert [e.message for e in store.events("fn")] == [f"line {i}" for i in range(5)]
    finally:
        store.close()


def test_flush_and_close_write_what_waits_without_waiting_for_the_delay(tmp_path):
    store = LogStore(tmp_path, write_delay_s=3600.0)  # a delay no test would outwait
    store.append("fn", STREAM, "first")
    store.flush()
    assert messages(tmp_path) == ["first"]
    store.append("fn", STREAM, "second")
    store.close()
    assert messages(tmp_path) == ["first", "second"]
    store.append("fn", STREAM, "after close")  # written as it comes, as a store without a delay does
    assert messages(tmp_path) == ["first", "second", "after close"]
    store.close()


def test_a_large_batch_is_written_in_pieces_that_keep_rotation_bounded(tmp_path, monkeypatch):
    monkeypatch.setattr(logstore, "ROTATE_BYTES", 4096)
    monkeypatch.setattr(logstore, "ROTATE_KEEP", 100)
    monkeypatch.setattr(logstore, "WRITE_CHUNK_BYTES", 1024)
    store = LogStore(tmp_path, write_delay_s=3600.0)
    for i in range(400):  # ~60-byte lines, all in one batch
        store.append("fn", STREAM, f"line {i:04d}")
    store.close()
    files = sorted(tmp_path.glob("fn.jsonl*"))
    assert len(files) > 5
    assert all(f.stat().st_size <= 4096 + 1024 for f in files)  # over the limit by one piece at most
    assert messages(tmp_path) == [f"line {i:04d}" for i in range(400)]


# argv: directory, tag, rotate_bytes, keep, lines. Appends through a store with a write delay,
# sometimes flushing, as a backend's invocations and a dashboard's reads would.
WRITER = """
import sys
from pathlib import Path
from lambdatui.executor import logstore

directory, tag, rotate, keep, n = sys.argv[1:6]
logstore.ROTATE_BYTES, logstore.ROTATE_KEEP = int(rotate), int(keep)
store = logstore.LogStore(Path(directory), write_delay_s=0.002)
for i in range(int(n)):
    store.append("fn", "2026/01/01/[$LATEST]" + tag, f"{tag} {i:06d} " + "x" * (i % 97))
    if i % 250 == 0:
        store.flush()
store.close()
"""


def test_two_processes_with_write_delays_lose_and_repeat_nothing_across_rotations(tmp_path):
    directory = tmp_path / "logs"
    n = 3000
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(directory), tag, "8192", "500", str(n)], cwd=REPO)
        for tag in ("a", "b")
    ]
    try:
        for w in writers:
            assert w.wait(120) == 0
    finally:
        for w in writers:
            w.kill()
    assert len(list(directory.glob("fn.jsonl.*"))) >= 20, "the test must rotate many times"
    for path in directory.glob("fn.jsonl*"):
        for line in path.read_text().splitlines():
            json.loads(line)  # whole lines only: no torn or interleaved writes
    events = list(read_log_file(directory, "fn"))
    assert len(events) == 2 * n
    for tag in ("a", "b"):
        order = [int(e.message.split(" ")[1]) for e in events if e.message.startswith(tag + " ")]
        assert order == list(range(n)), f"writer {tag}: lines lost, repeated or out of order"


def test_the_local_backend_persists_an_invocations_lines_while_it_runs_on(tmp_path):
    # No flush per invocation any more: the lines reach the state dir's file within the delay,
    # for `lambdatui logs` in another process, while the backend (serve, the dashboard) goes on.
    code = tmp_path / "fn"
    code.mkdir()
    (code / "app.py").write_text("def handler(event, context):\n    print('hello from the handler')\n")
    path = tmp_path / "lambdatui.yaml"
    path.write_text(textwrap.dedent(f"""\
        local:
          functions:
            talker: {{runtime: {PY}, handler: app.handler, code: fn}}
        """))
    backend = LocalBackend(parse_config(path.read_text(), path), state_dir=tmp_path / "state", watch_code=False)
    try:
        rid = backend.invoke("talker", b"{}").request_id
        logs = tmp_path / "state" / "logs"
        wanted = [f"START RequestId: {rid}", "hello from the handler", f"END RequestId: {rid}", f"REPORT RequestId: {rid}"]

        def persisted() -> bool:
            lines = messages(logs, "talker")
            return all(any(line.startswith(w) for line in lines) for w in wanted)

        wait_for(persisted, timeout=10)
    finally:
        backend.close()
