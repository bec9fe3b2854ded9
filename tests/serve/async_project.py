"""A project for the asynchronous-invocation tests: one handler that records every attempt it sees
(its aws_request_id, pid, invoked ARN, client context and event) to a file, and fails, sleeps or
blocks as the event asks."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

PY = f"python{sys.version_info[0]}.{sys.version_info[1]}"

RECORDER = """
import json, os, time

def handler(event, context):
    out = os.environ["OUT"]
    seen = {
        "id": context.aws_request_id,
        "pid": os.getpid(),
        "who": os.environ.get("WHO"),
        "arn": context.invoked_function_arn,
        "custom": context.client_context.custom if context.client_context else None,
        "event": event,
        "at": time.time(),
    }
    with open(out, "a") as f:
        f.write(json.dumps(seen) + "\\n")
    time.sleep(event.get("sleep", 0))
    if event.get("wait_for"):
        while not os.path.exists(event["wait_for"]):
            time.sleep(0.01)
    if event.get("fail") == "always":
        raise ValueError("always fails")
    if event.get("fail") == "once":
        marker = out + "." + context.aws_request_id
        if not os.path.exists(marker):
            open(marker, "w").close()
            raise RuntimeError("the first attempt fails")
    with open(out + ".done", "a") as f:
        f.write(json.dumps({"id": context.aws_request_id, "who": os.environ.get("WHO"), "at": time.time()}) + "\\n")
    return {"ok": True}
"""


def write_project(root: Path, functions: dict[str, str]) -> Path:
    """`functions`: name -> extra YAML settings (one flow mapping's inner text, may be empty).
    Each function records to `root/NAME.out`. Returns the config file."""
    code = root / "code"
    code.mkdir(parents=True, exist_ok=True)
    (code / "app.py").write_text(textwrap.dedent(RECORDER))
    lines = ["local:", "  keep_warm_seconds: 600", "  functions:"]
    for name, extra in functions.items():
        settings = f"runtime: {PY}, handler: app.handler, code: code, timeout: 60, environment: {{OUT: '{root / (name + '.out')}'}}"
        if extra:
            settings += ", " + extra
        lines.append(f"    {name}: {{{settings}}}")
    path = root / "lambdatui.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def attempts(root: Path, name: str) -> list[dict]:
    """Every attempt `name` recorded, in order."""
    path = root / f"{name}.out"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def completed(root: Path, name: str) -> list[dict]:
    """The attempts of `name` that succeeded."""
    path = root / f"{name}.out.done"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
