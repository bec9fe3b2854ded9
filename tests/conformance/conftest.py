"""One harness per backend: the same functions, deployed where that backend runs them.

Every test in this folder runs against each backend listed in BACKENDS, so the dashboard can rely
on the behaviour the `Backend` interface promises whichever one it talks to.
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from lambdatui.backends import make_backend
from lambdatui.config import parse_config

PY = f"python{sys.version_info[0]}.{sys.version_info[1]}"

HANDLERS = {
    "echo": """
        import os
        def handler(event, context):
            print("echo called with", event)
            return {"event": event, "function": context.function_name, "greeting": os.environ.get("GREETING")}
        """,
    "fails": """
        def handler(event, context):
            return event["action"]
        """,
}


def write_local_config(root: Path) -> Path:
    lines = ["backend: local", "local:", "  keep_warm_seconds: 600", "  functions:"]
    for name, source in HANDLERS.items():
        folder = root / name
        folder.mkdir(parents=True)
        (folder / "app.py").write_text(textwrap.dedent(source))
        lines += [
            f"    conf-{name}:",
            f"      runtime: {PY}",
            "      handler: app.handler",
            f"      code: {name}",
            "      memory_size: 128",
            "      timeout: 3",
            "      environment: {GREETING: Hello}",
        ]
    path = root / "lambdatui.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def _local(tmp_path):
    path = write_local_config(tmp_path)
    return make_backend(parse_config(path.read_text(), path), state_dir=tmp_path / "state")


BACKENDS = {"local": _local}


@pytest.fixture(params=sorted(BACKENDS))
def backend(request, tmp_path):
    b = BACKENDS[request.param](tmp_path)
    yield b
    b.close()
