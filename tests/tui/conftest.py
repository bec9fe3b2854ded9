"""Fixtures for dashboard tests: a local backend over a copy of the sample functions."""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

import pytest

from lambdatui.backends import make_backend
from lambdatui.config import load_config

REPO = Path(__file__).resolve().parents[2]
PY = f"python{sys.version_info[0]}.{sys.version_info[1]}"


def copy_sample(root: Path) -> Path:
    """The sample config and examples copied into `root`, with runtimes set to this interpreter."""
    shutil.copytree(REPO / "lambdatui" / "sample" / "examples", root / "examples")
    text = (REPO / "lambdatui" / "sample" / "lambdatui.yaml").read_text()
    text = re.sub(r"runtime: python3\.\d+", f"runtime: {PY}", text)
    path = root / "lambdatui.yaml"
    path.write_text(text)
    return path


@pytest.fixture
def sample_config(tmp_path) -> Path:
    return copy_sample(tmp_path / "project")


@pytest.fixture
def local_backend(sample_config, tmp_path):
    backends = []

    def make(**options):
        config = load_config(sample_config)
        backend = make_backend(config, state_dir=tmp_path / "state", **options)
        backends.append(backend)
        return config, backend

    yield make
    for b in backends:
        b.close()


async def wait_for(pilot, predicate, timeout: float = 10.0, step: float = 0.05) -> None:
    import time

    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await pilot.pause(step)


async def settled(pilot, quiet: float = 0.1, timeout: float = 10.0) -> None:
    """Wait until the screen renders the same before and after `quiet` seconds: tables re-measure
    their columns and panes re-lay out a few refreshes after the data changed, later under load."""
    import time

    from textual.widgets import DataTable

    deadline = time.monotonic() + timeout
    previous = None
    while True:
        # A DataTable re-measures its columns when idle; prompt that, in case nothing else does.
        for table in pilot.app.screen.query(DataTable):
            table.check_idle()
        await pilot.pause()
        current = pilot.app.export_screenshot()
        # A table with widths still to re-measure changes on its next idle, which a loaded machine
        # may not reach within `quiet` (seen in CI: `✔ 1.` for `✔ 1.00ms`): not settled yet.
        pending = any(t._require_update_dimensions or t._updated_cells for t in pilot.app.screen.query(DataTable))
        if current == previous and not pending:
            return
        if time.monotonic() > deadline:
            raise AssertionError("the screen kept changing")
        previous = current
        await pilot.pause(quiet)


async def wait_for_screen(pilot, screen_type: type, *selectors: str, timeout: float = 10.0):
    """The active screen once it is a `screen_type`, mounted, with a widget laid out for each of
    `selectors` (a pushed screen composes its children a moment after it becomes `app.screen`)."""

    def ready() -> bool:
        screen = pilot.app.screen
        if not isinstance(screen, screen_type) or not screen.is_mounted:
            return False
        for selector in selectors:
            found = screen.query(selector)
            if not found or not found.first().region:
                return False
        return True

    await wait_for(pilot, ready, timeout)
    return pilot.app.screen
