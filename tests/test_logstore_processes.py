"""The log store's files shared by several processes (the dashboard, `serve`, CLI runs on one state
dir): real writer processes appending while rotation happens many times; every line ends up in
exactly one file, in order, and a follower in another process reads each exactly once."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

from lambdatui.executor import logstore
from lambdatui.executor.logstore import LogFollower, LogStore, read_log_file

REPO = Path(__file__).resolve().parent.parent

# argv: directory, tag, rotate_bytes, keep, lines, go-file. Waits for the go-file so that the
# writers really run at the same time, then appends its lines (flushing after each, as the local
# backend does after every invocation).
WRITER = """
import sys, time
from pathlib import Path
from lambdatui.executor import logstore

directory, tag, rotate, keep, n, go = sys.argv[1:7]
logstore.ROTATE_BYTES, logstore.ROTATE_KEEP = int(rotate), int(keep)
store = logstore.LogStore(Path(directory))
give_up = time.monotonic() + 60  # never outlive a failed test
while not Path(go).exists():
    assert time.monotonic() < give_up
    time.sleep(0.001)
for i in range(int(n)):
    store.append("fn", "2026/01/01/[$LATEST]" + tag, f"{tag} {i:06d} " + "x" * (i % 97))
    store.flush()
store.close()
"""


def start_writers(directory: Path, tags: list[str], *, rotate: int, keep: int, lines: int, go: Path) -> list[subprocess.Popen]:
    return [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(directory), tag, str(rotate), str(keep), str(lines), str(go)], cwd=REPO
        )
        for tag in tags
    ]


def run_together(writers: list[subprocess.Popen], go: Path) -> None:
    """Let the writers go at once; each must succeed."""
    try:
        time.sleep(0.5)  # every interpreter up and waiting
        go.touch()
        for w in writers:
            assert w.wait(120) == 0
    finally:
        for w in writers:
            w.kill()  # the others, when one failed (a no-op on an ended process)


def raw_lines(directory: Path) -> list[str]:
    """Every message in `fn.jsonl` and its rotated generations, read straight from the files."""
    out = []
    for path in sorted(directory.glob("fn.jsonl*")):
        for line in path.read_text().splitlines():
            out.append(json.loads(line)["m"])  # every line whole: no torn or interleaved writes
    return out


def test_two_processes_appending_through_many_rotations_lose_and_repeat_nothing(tmp_path):
    directory = tmp_path / "logs"
    go = tmp_path / "go"
    n = 2000
    # ~100-byte lines, 8 KB files: about 50 rotations while both write; enough generations kept
    # for all of it, so every line must still be somewhere.
    writers = start_writers(directory, ["a", "b"], rotate=8192, keep=200, lines=n, go=go)
    run_together(writers, go)
    rotated = sorted(directory.glob("fn.jsonl.*"))
    assert len(rotated) >= 20, "the test must rotate many times"
    messages = raw_lines(directory)
    for tag in ("a", "b"):
        mine = [m.split(" ")[1] for m in messages if m.startswith(tag + " ")]
        assert sorted(mine) == [f"{i:06d}" for i in range(n)], f"writer {tag}: lines lost or repeated"
    # read_log_file reads the generations oldest first: each writer's lines come back in order.
    events = list(read_log_file(directory, "fn"))
    assert len(events) == 2 * n
    for tag in ("a", "b"):
        order = [int(e.message.split(" ")[1]) for e in events if e.message.startswith(tag + " ")]
        assert order == list(range(n))


def test_a_follower_reads_every_line_once_across_rotations_by_other_processes(tmp_path):
    directory = tmp_path / "logs"
    directory.mkdir()
    go = tmp_path / "go"
    n = 1500
    got: list[str] = []
    done = threading.Event()
    follower = LogFollower(directory, "fn", interval=0.001)

    def follow() -> None:
        for event in follower.events():
            got.append(event.message)
            if len(got) >= 2 * n or done.is_set():
                break

    reader = threading.Thread(target=follow, daemon=True)
    reader.start()
    writers = start_writers(directory, ["a", "b"], rotate=2048, keep=1000, lines=n, go=go)
    run_together(writers, go)
    reader.join(30)
    done.set()
    assert len(list(directory.glob("fn.jsonl.*"))) >= 10
    assert len(got) == 2 * n
    for tag in ("a", "b"):
        order = [int(m.split(" ")[1]) for m in got if m.startswith(tag + " ")]
        assert order == list(range(n)), f"writer {tag}: the follower lost, repeated or reordered lines"


def test_rotated_generations_are_bounded(tmp_path, monkeypatch):
    monkeypatch.setattr(logstore, "ROTATE_BYTES", 1000)
    monkeypatch.setattr(logstore, "ROTATE_KEEP", 3)
    store = LogStore(tmp_path)
    for i in range(500):
        store.append("fn", "s", f"line {i:04d} " + "y" * 50)
        store.flush()
    store.close()
    names = sorted(p.name for p in tmp_path.glob("fn.jsonl*"))
    assert names == ["fn.jsonl", "fn.jsonl.1", "fn.jsonl.2", "fn.jsonl.3"]
    # The newest lines survive, oldest first and contiguous up to the last one written.
    kept = [int(e.message.split(" ")[1]) for e in read_log_file(tmp_path, "fn")]
    assert kept == list(range(kept[0], 500)) and kept[0] > 0
    assert all(p.stat().st_size <= 1000 + 100 for p in tmp_path.glob("fn.jsonl.*"))


def test_a_writer_whose_file_another_rotated_reopens_and_never_writes_to_the_rotated_one(tmp_path, monkeypatch):
    # Two stores on one folder have their own descriptors, as two processes do.
    monkeypatch.setattr(logstore, "ROTATE_BYTES", 300)
    first, second = LogStore(tmp_path), LogStore(tmp_path)
    first.append("fn", "s", "first, before")  # `first` now holds fn.jsonl open
    while not (tmp_path / "fn.jsonl.1").exists():
        second.append("fn", "s", "second " + "z" * 40)  # until `second` rotates it
    rotated = (tmp_path / "fn.jsonl.1").read_bytes()
    first.append("fn", "s", "first, after the rotation")
    assert (tmp_path / "fn.jsonl.1").read_bytes() == rotated  # a rotated file never changes
    assert "first, after the rotation" in (tmp_path / "fn.jsonl").read_text()
    first.close()
    second.close()


def test_a_removed_log_folder_is_made_again_and_invocations_never_fail(tmp_path):
    import shutil

    directory = tmp_path / "logs"
    store = LogStore(directory)
    store.append("fn", "s", "before")
    shutil.rmtree(directory)  # a user cleaning the state folder while the dashboard runs
    store.append("fn", "s", "after")
    store.close()
    assert [e.message for e in read_log_file(directory, "fn")] == ["after"]
    assert [e.message for e in store.events("fn")] == ["before", "after"]


def test_a_log_folder_that_cannot_be_written_never_fails_an_invocation(tmp_path, caplog):
    blocker = tmp_path / "logs"
    store = LogStore(blocker)
    blocker.rmdir()
    blocker.write_text("a file where the folder was")  # mkdir and open both fail
    with caplog.at_level("WARNING", logger="lambdatui.executor.logstore"):
        store.append("fn", "s", "one")
        store.append("fn", "s", "two")
    assert [e.message for e in store.events("fn")] == ["one", "two"]  # still in memory, for the tail
    assert caplog.text.count("not written") == 1
