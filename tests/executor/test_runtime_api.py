"""The Runtime API as AWS documents it, proven with clients we did not write.

AWS's own runtime interface client (awslambdaric, from PyPI) and a shell bootstrap using curl, as
in AWS's custom-runtime tutorial, must run unchanged against the executor.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import sys
import textwrap
import time

import pytest

from lambdatui.executor.environment import Environment
from lambdatui.executor.runtimes import Launch
from lambdatui.executor.spec import FunctionSpec

pytest.importorskip("awslambdaric")


def _awslambdaric(spec, cache_dir):
    site = [p for p in sys.path if p.endswith("site-packages")]
    return Launch(
        [sys.executable, "-m", "awslambdaric", spec.handler],
        {"PYTHONPATH": os.pathsep.join([str(spec.code_dir), *site]), "AWS_EXECUTION_ENV": "AWS_Lambda_python3.11"},
    )


def test_aws_runtime_interface_client_runs_unchanged(make_function, executor_factory):
    spec = make_function(
        """
        import logging
        logging.getLogger().setLevel(logging.INFO)
        def handler(event, context):
            logging.info("via awslambdaric")
            if event.get("fail"):
                raise ValueError("ric failure")
            return {"echo": event, "fn": context.function_name, "arn": context.invoked_function_arn}
        """,
        name="ric-fn",
    )
    ex = executor_factory(spec, launcher=_awslambdaric)
    cold = ex.invoke("ric-fn", b'{"a": 1}')
    warm = ex.invoke("ric-fn", b'{"a": 2}')
    assert cold.function_error is None, cold.payload
    assert json.loads(cold.payload) == {"echo": {"a": 1}, "fn": "ric-fn", "arn": ex.arn("ric-fn")}
    assert cold.cold_start and not warm.cold_start
    assert "via awslambdaric" in warm.log_tail
    failed = ex.invoke("ric-fn", b'{"fail": true}')
    assert failed.function_error == "Unhandled"
    assert json.loads(failed.payload)["errorType"] == "ValueError"
    assert failed.error_type == "ValueError"


def test_aws_runtime_interface_client_framed_logs_are_one_event_each(make_function, executor_factory):
    # Given the telemetry descriptor, AWS's own client writes each log message and an unhandled error
    # as a frame (FramedTelemetryLogSink): the executor must read them as one event each, newlines kept.
    def framed(spec, cache_dir):
        launch = _awslambdaric(spec, cache_dir)
        launch.env["_LAMBDA_TELEMETRY_LOG_FD"] = "1"
        return launch

    spec = make_function(
        """
        import logging
        logging.getLogger().setLevel(logging.INFO)
        def handler(event, context):
            print("plain line")
            logging.info("two\\nlines")
            raise KeyError("action")
        """,
        name="ric-framed",
    )
    ex = executor_factory(spec, launcher=framed)
    result = ex.invoke("ric-framed", b"{}")
    assert result.error_type == "KeyError"
    events = [e.message for e in ex.logs.events("ric-framed")]
    start = events.index(f"START RequestId: {result.request_id} Version: $LATEST")
    plain, info, error, end = events[start + 1:start + 5]
    assert plain == "plain line"
    assert info.startswith("[INFO]\t") and info.endswith(f"\t{result.request_id}\ttwo\nlines")
    lines = error.split("\n")
    assert lines[:2] == ["[ERROR] KeyError: 'action'", "Traceback (most recent call last):"] and len(lines) == 4
    assert end == f"END RequestId: {result.request_id}"


CURL_BOOTSTRAP = r"""#!/bin/bash
# AWS's custom-runtime tutorial bootstrap, answering with a body over 1 KB (so curl sends
# Expect: 100-continue) that names the request.
set -euo pipefail
echo "bootstrap starting"
while true; do
  HEADERS="$(mktemp)"
  EVENT_DATA=$(curl -sS -LD "$HEADERS" "http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/invocation/next")
  REQUEST_ID=$(grep -Fi Lambda-Runtime-Aws-Request-Id "$HEADERS" | tr -d '[:space:]' | cut -d: -f2)
  if [ "$EVENT_DATA" = '"fail"' ]; then
    curl -sS -X POST -H "Lambda-Runtime-Function-Error-Type: Function.Custom" \
      "http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/invocation/$REQUEST_ID/error" \
      -d '{"errorMessage":"custom failure","errorType":"Function.Custom"}' > /dev/null
    continue
  fi
  RESPONSE="{\"echo\": \"$(printf '%0.sx' $(seq 1 1500))\", \"request\": \"$REQUEST_ID\"}"
  curl -sS -X POST "http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/invocation/$REQUEST_ID/response" -d "$RESPONSE" > /dev/null
done
"""


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_shell_bootstrap_with_curl_from_aws_tutorial(executor_factory, tmp_path):
    code = tmp_path / "custom"
    code.mkdir()
    bootstrap = code / "bootstrap"
    bootstrap.write_text(CURL_BOOTSTRAP)
    bootstrap.chmod(0o755)
    spec = FunctionSpec(name="sh-fn", runtime="provided.al2023", handler="function.handler", code=code)
    ex = executor_factory(spec, launcher=lambda s, c: Launch([str(bootstrap)], {}))
    first = ex.invoke("sh-fn", b'{"x": 1}')
    assert first.function_error is None, first.payload
    body = json.loads(first.payload)
    assert body["request"] == first.request_id and len(body["echo"]) == 1500
    # Printed at start-up: in the log stream before START, not in the tail.
    events = [e.message for e in ex.logs.events("sh-fn")]
    assert events.index("bootstrap starting") < events.index(f"START RequestId: {first.request_id} Version: $LATEST")
    assert "bootstrap starting" not in first.log_tail
    second = ex.invoke("sh-fn", b'{"x": 2}')
    assert not second.cold_start and json.loads(second.payload)["request"] == second.request_id
    failed = ex.invoke("sh-fn", b'"fail"')
    assert failed.function_error == "Unhandled" and failed.error_type == "Function.Custom"
    assert json.loads(failed.payload) == {"errorMessage": "custom failure", "errorType": "Function.Custom"}


class _RawClient:
    def __init__(self, address: str) -> None:
        host, port = address.split(":")
        self.sock = socket.create_connection((host, int(port)), timeout=5)
        self.buf = b""

    def request(self, method: str, path: str, body: bytes = b"", headers: dict | None = None):
        head = f"{method} /2018-06-01/runtime{path} HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n"
        for k, v in (headers or {}).items():
            head += f"{k}: {v}\r\n"
        self.sock.sendall(head.encode() + b"\r\n" + body)
        while b"\r\n\r\n" not in self.buf:
            self.buf += self.sock.recv(65536)
        head, _, rest = self.buf.partition(b"\r\n\r\n")
        lines = head.decode().split("\r\n")
        headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
        length = int(headers.get("content-length", 0))
        while len(rest) < length:
            rest += self.sock.recv(65536)
        self.buf = rest[length:]
        return int(lines[0].split()[1]), headers, rest[:length]


def _raw_environment(tmp_path, script: str):
    """An environment whose 'runtime' is a Python script driving the Runtime API by hand."""
    code = tmp_path / "raw"
    code.mkdir(exist_ok=True)
    (code / "runtime.py").write_text(textwrap.dedent(script))
    spec = FunctionSpec(name="raw", runtime="provided.al2023", handler="x.y", code=code, timeout=5)
    # The script imports this module, and so lambdatui: both folders on PYTHONPATH, so that the
    # sandbox keeps them visible even where the checkout lives under /tmp (hidden by its private /tmp).
    here = os.path.dirname(os.path.abspath(__file__))
    path = os.pathsep.join([here, os.path.dirname(os.path.dirname(here))])
    env = Environment(spec, [sys.executable, str(code / "runtime.py")], {"PYTHONPATH": path}, emit=lambda s, m: None)
    return env


RAW_RUNTIME = """
import json, os, sys
from test_runtime_api import _RawClient
c = _RawClient(os.environ["AWS_LAMBDA_RUNTIME_API"])
status, headers, body = c.request("GET", "/invocation/next")
rid = headers["lambda-runtime-aws-request-id"]
checks = {
    "next_status": status,
    "content_type": headers.get("content-type"),
    "deadline_in_future": int(headers["lambda-runtime-deadline-ms"]) > 0,
    "arn": headers.get("lambda-runtime-invoked-function-arn"),
    "trace": headers.get("lambda-runtime-trace-id", "")[:7],
    "event": json.loads(body),
    "unknown_path": c.request("GET", "/nope")[0],
    "wrong_id": c.request("POST", "/invocation/not-the-id/response", b"{}")[0],
    "late_init_error": c.request("POST", "/init/error", b"{}")[0],
}
print("checks " + json.dumps(checks), flush=True)
status, _, _ = c.request("POST", f"/invocation/{rid}/error", b'{"errorMessage": "m", "errorType": "bad type"}',
                         {"Lambda-Runtime-Function-Error-Type": "not valid"})
print("error_status", status, flush=True)
c.request("GET", "/invocation/next")
"""


def test_runtime_api_headers_status_codes_and_error_type_validation(tmp_path):
    lines = []
    env = _raw_environment(tmp_path, RAW_RUNTIME)
    env.emit = lambda stream, message: lines.append(message)
    env.spawn()
    try:
        assert env.wait_ready(10).kind == "ready"
        deadline = int(time.time() * 1000) + 5000
        outcome = env.invoke("req-1", b'{"k": "v"}', deadline, 5, {"Lambda-Runtime-Invoked-Function-Arn": "arn:x", "Lambda-Runtime-Trace-Id": "Root=1-abc"})
        # The script prints the error post's status, asks for the next event and exits.
        assert env.invoke("req-2", b"{}", deadline, 5, {}).kind == "exit"
    finally:
        env.close()
    assert outcome.kind == "error"
    # A declared type not of the form (Runtime|Function).Name becomes Runtime.Unknown.
    assert outcome.error_type == "Runtime.Unknown"
    checks = json.loads(next(line for line in lines if line.startswith("checks "))[len("checks "):])
    assert checks == {
        "next_status": 200,
        "content_type": "application/json",
        "deadline_in_future": True,
        "arn": "arn:x",
        "trace": "Root=1-",
        "event": {"k": "v"},
        "unknown_path": 404,
        "wrong_id": 400,
        "late_init_error": 403,
    }
    assert "error_status 202" in lines


def test_init_error_endpoint_reports_the_runtimes_error(tmp_path):
    env = _raw_environment(
        tmp_path,
        """
        import os
        from test_runtime_api import _RawClient
        c = _RawClient(os.environ["AWS_LAMBDA_RUNTIME_API"])
        c.request("POST", "/init/error", b'{"errorMessage": "cannot start", "errorType": "Runtime.Custom"}',
                  {"Lambda-Runtime-Function-Error-Type": "Runtime.Custom"})
        raise SystemExit(1)
        """,
    )
    env.spawn()
    outcome = env.wait_ready(10)
    assert outcome.kind == "init_error" and outcome.error_type == "Runtime.Custom"
    assert json.loads(outcome.body)["errorMessage"] == "cannot start"
    assert env.dead


def test_chunked_response_bodies_are_accepted(tmp_path):
    env = _raw_environment(
        tmp_path,
        """
        import os
        from test_runtime_api import _RawClient
        c = _RawClient(os.environ["AWS_LAMBDA_RUNTIME_API"])
        _, headers, _ = c.request("GET", "/invocation/next")
        rid = headers["lambda-runtime-aws-request-id"]
        head = f"POST /2018-06-01/runtime/invocation/{rid}/response HTTP/1.1\\r\\nHost: x\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n"
        c.sock.sendall(head.encode() + b"5\\r\\n{\\"a\\":\\r\\n2\\r\\n1}\\r\\n0\\r\\n\\r\\n")
        c.sock.recv(1000)
        c.request("GET", "/invocation/next")
        """,
    )
    env.spawn()
    try:
        assert env.wait_ready(10).kind == "ready"
        outcome = env.invoke("req-2", b"{}", int(time.time() * 1000) + 5000, 5, {})
    finally:
        env.close()
    assert outcome.kind == "response" and outcome.body == b'{"a":1}'
