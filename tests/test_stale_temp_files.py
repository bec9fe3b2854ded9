"""Atomic writes (a temp file beside the target, then os.replace) killed in between leave their
temp file behind; the next save in that folder removes such leftovers — only old ones no live
process holds, so another process's write in progress is never disturbed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from polling import process_ended

from lambdatui.config import load_config
from lambdatui.config_writer import update_function_in_file
from lambdatui.eventstore import EventStore
from lambdatui.filelock import STALE_TEMP_S

REPO = Path(__file__).resolve().parent.parent

# A process that saves, and stops just before os.replace (the temp file written, not yet renamed)
# until the file `release` appears: it is then either killed there or let go. argv: kind, path,
# release file; kind "config" edits a config file, "event" saves an event under a store.
STUCK = """
import os, sys, time
from pathlib import Path

kind, path, release = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
real_replace = os.replace

def replace(src, dst):
    print("WRITTEN", flush=True)
    while not release.exists():
        time.sleep(0.01)
    real_replace(src, dst)

os.replace = replace
if kind == "config":
    from lambdatui.config_writer import update_function_in_file
    update_function_in_file(path, "fn", {"memory_size": 512})
else:
    from lambdatui.eventstore import EventStore
    EventStore(path).save("fn", "from-child", '{"child": true}')
"""

CONFIG = """# keep me
backend: local
local:
  functions:
    fn:  # the function
      runtime: python3.12
      handler: app.handler
      code: {code}
      memory_size: 128
"""


def stuck_writer(kind: str, path: Path, release: Path) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-c", STUCK, kind, str(path), str(release)], cwd=REPO, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "WRITTEN"
    return proc


def age(path: Path, seconds: float) -> None:
    """Make `path` look `seconds` old (as if the machine had run on since)."""
    then = time.time() - seconds
    os.utime(path, (then, then))


def temp_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.name.endswith(".tmp"))


@pytest.fixture
def config_file(tmp_path) -> Path:
    code = tmp_path / "code"
    code.mkdir()
    path = tmp_path / "lambdatui.yaml"
    path.write_text(CONFIG.format(code=code))
    return path


def test_config_temp_file_left_by_a_killed_save_is_removed_by_the_next_save(config_file, tmp_path):
    proc = stuck_writer("config", config_file, tmp_path / "never")
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    (left,) = temp_files(tmp_path)
    assert left.name.startswith(".lambdatui.yaml.")
    update_function_in_file(config_file, "fn", {"timeout": 9})
    assert temp_files(tmp_path) == [left]  # young: it might be a save in progress, so it stays
    age(left, STALE_TEMP_S + 5)
    update_function_in_file(config_file, "fn", {"timeout": 10})
    assert temp_files(tmp_path) == []
    fn = load_config(config_file).local.functions["fn"]
    assert (fn.memory_size, fn.timeout) == (128, 10)  # the killed save never happened
    assert config_file.read_text().startswith("# keep me\n")


def test_event_temp_file_left_by_a_killed_save_is_removed_by_the_next_save(tmp_path):
    store = EventStore(tmp_path / "events")
    proc = stuck_writer("event", store.base, tmp_path / "never")
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    folder = store.base / "fn"
    (left,) = temp_files(folder)
    age(left, STALE_TEMP_S + 5)
    store.save("fn", "mine", "{}")
    assert temp_files(folder) == []
    assert store.names("fn") == ["mine"]


def test_a_live_save_in_another_process_keeps_its_temp_file_however_old(tmp_path):
    store = EventStore(tmp_path / "events")
    release = tmp_path / "release"
    proc = stuck_writer("event", store.base, release)
    try:
        folder = store.base / "fn"
        (live,) = temp_files(folder)
        age(live, STALE_TEMP_S + 5)  # old, but its writer is alive and holds it
        store.save("fn", "mine", "{}")
        assert temp_files(folder) == [live]
        release.touch()
        assert proc.wait(10) == 0
    finally:
        if not process_ended(proc.pid):
            proc.kill()
    assert store.load("fn", "from-child") == '{"child": true}\n'
    assert temp_files(folder) == []


def test_only_this_targets_leftovers_are_touched(config_file, tmp_path):
    others = [tmp_path / ".other.yaml.abc.tmp", tmp_path / "notes.tmp", tmp_path / ".lambdatui.yaml.swp"]
    ours = tmp_path / ".lambdatui.yaml.k2j3h4.tmp"
    for p in [*others, ours]:
        p.write_text("x")
        age(p, STALE_TEMP_S + 5)
    link = tmp_path / ".lambdatui.yaml.link.tmp"
    link.symlink_to(tmp_path / "notes.tmp")  # not a temp file this module made: left alone
    then = time.time() - STALE_TEMP_S - 5
    os.utime(link, (then, then), follow_symlinks=False)
    update_function_in_file(config_file, "fn", {"timeout": 4})
    assert not ours.exists()
    assert all(p.exists() for p in others)
    assert link.is_symlink()
