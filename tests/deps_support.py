"""Local packages for dependency-install tests: wheels written by hand (a wheel is a zip with a
dist-info folder), found by pip through PIP_NO_INDEX/PIP_FIND_LINKS, and npm `file:` packages, so
no install reaches a network."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest

needs_npm = pytest.mark.skipif(shutil.which("npm") is None or shutil.which("node") is None, reason="needs npm and node")


def write_wheel(folder: Path, name: str, version: str, source: str, *, module: bool = False) -> Path:
    """A pure-Python wheel of a package `name/__init__.py` (or, `module`, a single `name.py`)."""
    folder.mkdir(parents=True, exist_ok=True)
    dist = f"{name}-{version}"
    path = folder / f"{dist}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(f"{name}.py" if module else f"{name}/__init__.py", source)
        z.writestr(f"{dist}.dist-info/METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
        z.writestr(f"{dist}.dist-info/WHEEL", "Wheel-Version: 1.0\nGenerator: lambdatui-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        z.writestr(f"{dist}.dist-info/RECORD", "")
    return path


def offline_env(wheels: Path) -> dict[str, str]:
    """pip and npm settings (read from the environment) that keep installs on this machine."""
    return {
        "PIP_NO_INDEX": "1",
        "PIP_FIND_LINKS": str(wheels),
        "PIP_CONFIG_FILE": "/dev/null",  # no site-wide index or find-links
        "npm_config_offline": "true",
    }


def write_node_package(folder: Path, name: str, body: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "package.json").write_text(json.dumps({"name": name, "version": "1.0.0", "main": "index.js"}))
    (folder / "index.js").write_text(body)
    return folder
