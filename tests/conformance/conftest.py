"""One harness per backend: the same functions, deployed where that backend runs them.

Every test in this folder runs against each backend listed in BACKENDS, so the dashboard can rely
on the behaviour the `Backend` interface promises whichever one it talks to.
"""

from __future__ import annotations

import json
import sys
import textwrap
import time
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


class Harness:
    """A backend under test, and what its test double can and cannot do."""

    def __init__(self, backend, runs_handlers: bool, produce_log) -> None:
        self.backend = backend
        self.runs_handlers = runs_handlers  # moto answers Invoke by echoing; it runs no code
        self._produce_log = produce_log

    def produce_log(self, function: str, marker: str) -> None:
        """Make the function log a line containing `marker`, the way its platform would."""
        self._produce_log(function, marker)


def _local(request, tmp_path) -> Harness:
    path = write_local_config(tmp_path)
    backend = make_backend(parse_config(path.read_text(), path), state_dir=tmp_path / "state")

    def produce(function: str, marker: str) -> None:
        backend.invoke(function, json.dumps({"marker": marker}).encode())

    return Harness(backend, True, produce)


def _aws(request, tmp_path) -> Harness:
    moto = request.getfixturevalue("aws_env")
    for name, source in HANDLERS.items():
        moto.create_function(f"conf-{name}", source, environment={"GREETING": "Hello"})
    config = parse_config(f"backend: aws\naws: {{region: us-east-1, endpoint_url: '{moto.endpoint}'}}\n")
    backend = make_backend(config)
    logs = moto.client("logs")

    def produce(function: str, marker: str) -> None:
        # What Lambda does for a print(): an event in the function's log group.
        group = f"/aws/lambda/{function}"
        try:
            logs.create_log_group(logGroupName=group)
        except logs.exceptions.ResourceAlreadyExistsException:
            pass
        try:
            logs.create_log_stream(logGroupName=group, logStreamName="2026/11/27/[$LATEST]0")
        except logs.exceptions.ResourceAlreadyExistsException:
            pass
        logs.put_log_events(
            logGroupName=group,
            logStreamName="2026/11/27/[$LATEST]0",
            logEvents=[{"timestamp": int(time.time() * 1000), "message": f"echo called with {{'marker': '{marker}'}}"}],
        )

    return Harness(backend, False, produce)


BACKENDS = {"local": _local, "aws": _aws}


@pytest.fixture(params=sorted(BACKENDS))
def harness(request, tmp_path):
    h = BACKENDS[request.param](request, tmp_path)
    yield h
    h.backend.close()


@pytest.fixture
def backend(harness):
    return harness.backend
