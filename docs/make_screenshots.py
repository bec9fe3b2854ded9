"""Regenerate the README's screenshots: the app's own SVG export, in deterministic mode.

Run: .venv/bin/python docs/make_screenshots.py
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["LAMBDATUI_DETERMINISTIC"] = "1"

from lambdatui.backends import make_backend  # noqa: E402
from lambdatui.config import load_config  # noqa: E402
from lambdatui.tui.app import LambdaTUI  # noqa: E402

OUT = ROOT / "docs" / "screenshots"


async def shoot(name: str, size: tuple[int, int], steps) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "project"
        shutil.copytree(ROOT / "lambdatui" / "sample" / "examples", project / "examples")
        shutil.copy(ROOT / "lambdatui" / "sample" / "lambdatui.yaml", project / "lambdatui.yaml")
        config = load_config(project / "lambdatui.yaml")
        backend = make_backend(config, state_dir=Path(tmp) / "state", watch_code=False)
        app = LambdaTUI(backend, config, select="hello-world")
        try:
            async with app.run_test(size=size) as pilot:
                await steps(pilot)
                app.clear_notifications()
                await pilot.pause(0.3)
                app.save_screenshot(filename=f"{name}.svg", path=str(OUT))
        finally:
            backend.close()
    print(OUT / f"{name}.svg")


async def until(pilot, predicate, timeout=10.0):
    for _ in range(int(timeout / 0.05)):
        if predicate():
            return
        await pilot.pause(0.05)
    raise TimeoutError


async def invoked(pilot, function: str = "hello-world"):
    app = pilot.app
    await until(pilot, lambda: app._selected == "hello-world")
    if function != "hello-world":
        app.query_one("FunctionList").select(function)
        app.query_one("FunctionList")._set_selected(function)
        await until(pilot, lambda: app._selected == function)
    await pilot.press("ctrl+r")
    await until(pilot, lambda: "OK" in str(app.query_one("#ec-summary").render()) or "ERROR" in str(app.query_one("#ec-summary").render()))
    await until(pilot, lambda: any("REPORT" in line for line in app.query_one("LogTail").plain_lines()))


async def editor(pilot):
    await until(pilot, lambda: pilot.app._selected == "hello-world")
    await pilot.press("f3")


async def projector(pilot):
    await invoked(pilot)
    pilot.app.theme = "projector"


async def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    await shoot("dashboard", (140, 40), invoked)
    await shoot("dashboard-80x24", (80, 24), invoked)
    await shoot("configuration", (140, 40), editor)
    await shoot("projector", (140, 40), projector)


if __name__ == "__main__":
    asyncio.run(main())
