"""Several processes saving edits to one configuration file at once (the dashboard and another
dashboard, or a `serve` whose Lambda API takes UpdateFunctionConfiguration): each read → modify →
replace runs under a cross-process lock, so no process overwrites another's edit with a stale copy."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from lambdatui.config import load_config

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
