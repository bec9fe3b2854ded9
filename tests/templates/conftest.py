"""Fixtures for the template tests: the sample projects (modelled on what `sam init` and `cdk
synth` write) copied into a temporary folder, and the command line run in one."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PROJECTS = Path(__file__).resolve().parent / "projects"


@pytest.fixture
def project(tmp_path):
    """Copy a sample project into tmp_path/NAME and return its folder."""

    def copy(name: str) -> Path:
        target = tmp_path / name
        shutil.copytree(PROJECTS / name, target)
        return target

    return copy


@pytest.fixture(autouse=True)
def _fresh_template_options():
    # --parameter-overrides and --env-vars are per process: a test that sets them must not leak.
    from lambdatui.templates import TemplateOptions, set_options

    set_options(TemplateOptions())
    yield
    set_options(TemplateOptions())


@pytest.fixture
def lambdatui(tmp_path):
    """Run `python -m lambdatui ARGS` in `cwd` with a temporary state dir; returns the finished process."""
    env = {k: v for k, v in os.environ.items() if k != "LAMBDATUI_CONFIG"}
    env["LAMBDATUI_STATE_DIR"] = str(tmp_path / "state")

    def run(*args: str, cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "lambdatui", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)

    return run
