"""Regenerate the README's screenshots from real runs of the sample functions.

Run: .venv/bin/python docs/make_screenshots.py

Each picture is the app's own SVG export of a dashboard on a copy of the sample project, after
real invocations through the local executor: the figures, request ids and log lines are what that
run measured (not the fixed ones of the deterministic mode the snapshot tests use), so they differ
from run to run and never go stale. Sizes: 80×24 and 120×40, written into each file's name.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lambdatui.backends import make_backend  # noqa: E402
from lambdatui.config import load_config  # noqa: E402
from lambdatui.tui.app import LambdaTUI  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
PY = f"python{sys.version_info[0]}.{sys.version_info[1]}"
Steps = Callable[[object], Awaitable[None]]


def project(root: Path) -> Path:
    """The sample project copied into `root`, its runtimes set to this interpreter (so it runs here)."""
    shutil.copytree(ROOT / "lambdatui" / "sample" / "examples", root / "examples")
    text = (ROOT / "lambdatui" / "sample" / "lambdatui.yaml").read_text(encoding="utf-8")
    path = root / "lambdatui.yaml"
    path.write_text(re.sub(r"runtime: python3\.\d+", f"runtime: {PY}", text), encoding="utf-8")
    return path


async def until(pilot, predicate, timeout: float = 20.0) -> None:
    for _ in range(int(timeout / 0.05)):
        if predicate():
            return
        await pilot.pause(0.05)
    raise TimeoutError("the dashboard did not get there in time")


async def select(pilot, name: str) -> None:
    """Wait for `name` (the dashboard opens on it: `select=` of `SHOTS`) to fill the panes."""
    await until(pilot, lambda: pilot.app._selected == name)


async def invoke(pilot, times: int = 1) -> None:
    """Press ctrl+r `times` times, each after the previous result (cold first, then warm)."""
    app = pilot.app
    recent = app.query_one("#ec-recent")
    for _ in range(times):
        rows = recent.row_count
        await pilot.press("ctrl+r")
        await until(pilot, lambda rows=rows: recent.row_count > rows)
    await until(pilot, lambda: sum("REPORT" in line for line in app.query_one("LogTail").plain_lines()) >= times)


async def dashboard(pilot) -> None:
    await select(pilot, "hello-world")
    await invoke(pilot, 3)
    await pilot.press("f4")


async def heavy_init(pilot) -> None:
    await select(pilot, "heavy-init")
    await invoke(pilot, 2)
    await pilot.press("f2")


async def editor(pilot) -> None:
    await select(pilot, "api-gateway")
    await pilot.press("f3")


async def monitor(pilot) -> None:
    await select(pilot, "hello-world")
    await invoke(pilot, 4)
    await pilot.press("f6")
    await pilot.pause(1.0)  # the monitor's first fetch


async def projector(pilot) -> None:
    await dashboard(pilot)
    pilot.app.theme = "projector"


async def shoot(name: str, size: tuple[int, int], function: str, steps: Steps) -> Path:
    filename = f"{name}-{size[0]}x{size[1]}.svg"
    with tempfile.TemporaryDirectory() as tmp:
        path = project(Path(tmp) / "project")
        os.chdir(path.parent)  # the header names the config as a user in that folder would see it
        config = load_config(Path(path.name))
        backend = make_backend(config, state_dir=Path(tmp) / "state", watch_code=False)
        app = LambdaTUI(backend, config, select=function)
        try:
            async with app.run_test(size=size) as pilot:
                await steps(pilot)
                await pilot.pause(0.5)  # the log tail's last flush, the tables' column widths
                app.clear_notifications()
                await pilot.pause(0.3)
                app.save_screenshot(filename=filename, path=str(OUT))
        finally:
            backend.close()
            os.chdir(ROOT)
    return OUT / filename


SHOTS: list[tuple[str, tuple[int, int], str, Steps]] = [
    ("dashboard", (120, 40), "hello-world", dashboard),
    ("dashboard", (80, 24), "hello-world", dashboard),
    ("cold-and-warm", (120, 40), "heavy-init", heavy_init),
    ("configuration", (120, 40), "api-gateway", editor),
    ("configuration", (80, 24), "api-gateway", editor),
    ("monitor", (120, 40), "hello-world", monitor),
    ("projector", (120, 40), "hello-world", projector),
]


async def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("*.svg"):
        old.unlink()  # nothing staged or stale left behind
    for name, size, function, steps in SHOTS:
        print(await shoot(name, size, function, steps))


if __name__ == "__main__":
    asyncio.run(main())
