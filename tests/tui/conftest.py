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
