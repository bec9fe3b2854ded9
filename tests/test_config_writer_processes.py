"""Several processes saving edits to one configuration file at once (the dashboard and another
dashboard, or a `serve` whose Lambda API takes UpdateFunctionConfiguration): each read → modify →
replace runs under a cross-process lock, so no process overwrites another's edit with a stale copy."""

from __future__ import annotations

import fcntl
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lambdatui import config_writer
from lambdatui.config import ConfigError, load_config
from lambdatui.config_writer import update_function_in_file

REPO = Path(__file__).resolve().parent.parent
FUNCTIONS = 12

# argv: config, field, first value, go-file. Sets `field` on every function in turn, one save each.
EDITOR = """
import sys, time
from pathlib import Path
from lambdatui.config_writer import update_function_in_file

path, field, first, go = sys.argv[1], sys.argv[2], int(sys.argv[3]), Path(sys.argv[4])
give_up = time.monotonic() + 60  # never outlive a failed test
while not go.exists():
    assert time.monotonic() < give_up
    time.sleep(0.001)
for i in range(int(sys.argv[5])):
    update_function_in_file(Path(path), f"fn{i}", {field: first + i})
"""


def write_config(path: Path, code: Path) -> None:
    lines = ["# the project's functions", "backend: local", "local:", "  functions:"]
    for i in range(FUNCTIONS):
        lines += [
            f"    fn{i}:  # function number {i}",
            "      runtime: python3.12",
            "      handler: app.handler",
            f"      code: {code}",
            "      memory_size: 128  # the default",
            "      timeout: 3",
        ]
    path.write_text("\n".join(lines) + "\n")


def test_two_processes_editing_different_fields_both_land_and_comments_stay(tmp_path):
    code = tmp_path / "code"
    code.mkdir()
    (code / "app.py").write_text("def handler(event, context):\n    return 1\n")
    path = tmp_path / "lambdatui.yaml"
    write_config(path, code)
    go = tmp_path / "go"
    editors = [
        subprocess.Popen([sys.executable, "-c", EDITOR, str(path), field, str(first), str(go), str(FUNCTIONS)], cwd=REPO)
        for field, first in (("memory_size", 256), ("timeout", 10))
    ]
    try:
        time.sleep(0.5)  # both interpreters up and waiting
        go.touch()
        for e in editors:
            assert e.wait(120) == 0
    finally:
        for e in editors:
            e.kill()  # the other one, when one failed (a no-op on an ended process)
    config = load_config(path)
    got = {name: (f.memory_size, f.timeout) for name, f in config.local.functions.items()}
    assert got == {f"fn{i}": (256 + i, 10 + i) for i in range(FUNCTIONS)}
    text = path.read_text()
    assert text.startswith("# the project's functions\n")
    for i in range(FUNCTIONS):
        assert f"    fn{i}:  # function number {i}\n" in text
    assert text.count("  # the default") == FUNCTIONS
    assert not [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_a_save_waits_for_the_lock_and_says_so_when_it_is_held_too_long(tmp_path, monkeypatch):
    code = tmp_path / "code"
    code.mkdir()
    path = tmp_path / "lambdatui.yaml"
    write_config(path, code)
    before = path.read_bytes()
    monkeypatch.setattr(config_writer, "LOCK_TIMEOUT_S", 0.3)
    # Held as another process holds it: through a descriptor of its own.
    with open(path, "rb") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        started = time.monotonic()
        with pytest.raises(ConfigError, match=r"another process has been saving it for over 0\.3 s; try again"):
            update_function_in_file(path, "fn0", {"memory_size": 512})
        assert time.monotonic() - started >= 0.3
    assert path.read_bytes() == before
    update_function_in_file(path, "fn0", {"memory_size": 512})  # released: it goes through
    assert load_config(path).local.functions["fn0"].memory_size == 512
