"""One live picture of the state dir (issue 16): invocations made by other lambdatui processes on the
same state dir — an HTTP trigger through `lambdatui serve`, a `lambdatui invoke` — show in the
dashboard's Last column, its recent-invocations table and its log tail within a second or two; and a
dashboard started afterwards shows each function's last invocation, from the history."""

from __future__ import annotations

import os
import queue
import re
import subprocess
import sys
import threading
import time

import httpx

from lambdatui.backends import make_backend
from lambdatui.config import load_config
from lambdatui.tui.app import LambdaTUI
from lambdatui.tui.widgets.event_console import EventConsole
from lambdatui.tui.widgets.function_list import FunctionList
from lambdatui.tui.widgets.log_tail import LogTail

from .conftest import wait_for


def _serve(config, state_dir):
    env = dict(os.environ, LAMBDATUI_STATE_DIR=str(state_dir))
    proc = subprocess.Popen(
        [sys.executable, "-m", "lambdatui", "serve", "--config", str(config), "--port", "0", "--http-port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout], daemon=True).start()
    http_port = None
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            line = lines.get(timeout=0.2)
        except queue.Empty:
            assert proc.poll() is None, "serve exited"
            continue
        found = re.search(r"HTTP .*http://127\.0\.0\.1:(\d+)/items", line)
        if found:
            http_port = int(found.group(1))
        if "Ready." in line:
            assert http_port is not None
            return proc, http_port
    proc.kill()
    raise AssertionError("serve did not start")


def _cli_invoke(config, state_dir, name, payload="{}", status=0):
    env = dict(os.environ, LAMBDATUI_STATE_DIR=str(state_dir))
    done = subprocess.run(
        [sys.executable, "-m", "lambdatui", "invoke", name, "--config", str(config), "--event", "-"],
        input=payload, capture_output=True, text=True, env=env, timeout=60,
    )
    assert done.returncode == status, done.stderr  # 1: the function failed
    return done


def _starts(tail: LogTail) -> list[str]:
    return [line for line in tail.plain_lines() if "START RequestId:" in line]


async def test_invocations_by_serve_and_the_cli_show_in_the_dashboard_within_two_seconds(local_backend, sample_config, tmp_path):
    config, backend = local_backend()
    state = tmp_path / "state"
    app = LambdaTUI(backend, config, select="api-gateway")
    proc, http_port = _serve(sample_config, state)
    try:
        async with app.run_test(size=(160, 48)) as pilot:
            await wait_for(pilot, lambda: app._selected == "api-gateway")
            functions = app.query_one(FunctionList)
            recent = app.query_one("#ec-recent")
            tail = app.query_one(LogTail)
            assert recent.row_count == 0 and "api-gateway" not in functions._last
            await pilot.pause(0.5)  # the tail's follower has read to the end of the file

            # An HTTP trigger, through serve: another process.
            response = httpx.get(f"http://127.0.0.1:{http_port}/items", timeout=30)
            assert response.status_code == 200
            seen = time.monotonic()
            await wait_for(pilot, lambda: recent.row_count == 1 and len(_starts(tail)) == 1, timeout=2.0)
            assert time.monotonic() - seen <= 2.0
            last = functions._last["api-gateway"]
            assert last.status == "ok" and last.duration_ms is not None
            assert "ms" in str(functions.table.get_cell("api-gateway", "last"))
            # The serve process's REPORT is in the tail too, not only its START.
            await wait_for(pilot, lambda: any(line.startswith("REPORT") or "REPORT RequestId" in line for line in tail.plain_lines()), timeout=2.0)

            # A one-shot CLI invocation: a third process.
            done = _cli_invoke(sample_config, state, "api-gateway", '{"httpMethod": "GET", "path": "/items"}')
            seen = time.monotonic()
            await wait_for(pilot, lambda: recent.row_count == 2 and len(_starts(tail)) == 2, timeout=2.0)
            assert time.monotonic() - seen <= 2.0
            ids = {str(recent.get_row_at(i)[-1]) for i in range(recent.row_count)}
            assert len(ids) == 2 and all(i in "\n".join(_starts(tail)) for i in ids)
            assert done.returncode == 0

            # This dashboard's own invoke is listed once, not again when the history has it.
            await pilot.press("ctrl+r")
            await wait_for(pilot, lambda: recent.row_count == 3, timeout=10)
            await pilot.pause(1.5)
            assert recent.row_count == 3
            assert len(_starts(tail)) == 3
    finally:
        proc.terminate()
        proc.wait(timeout=15)


async def test_a_restarted_dashboard_shows_the_last_invocations_from_the_history(local_backend, sample_config, tmp_path):
    state = tmp_path / "state"
    _cli_invoke(sample_config, state, "hello-world", '{"name": "restart"}')
    _cli_invoke(sample_config, state, "failing", '{"action": "raise"}', status=1)
    config = load_config(sample_config)
    backend = make_backend(config, state_dir=state)
    try:
        app = LambdaTUI(backend, config, select="hello-world")
        async with app.run_test(size=(160, 48)) as pilot:
            functions = app.query_one(FunctionList)
            await wait_for(pilot, lambda: {"hello-world", "failing"} <= set(functions._last), timeout=5)
            assert functions._last["hello-world"].status == "ok"
            assert functions._last["failing"].status == "error"
            await wait_for(pilot, lambda: app.query_one("#ec-recent").row_count == 1, timeout=5)
            assert "api-gateway" not in functions._last
            assert app.query_one(EventConsole)._recent["hello-world"][-1].started_at > 0
    finally:
        backend.close()


def test_an_invocation_reported_while_the_list_is_torn_down_is_kept_not_raised():
    """The state watcher may report an invocation as the app exits and the list's table is already
    gone (seen in CI: NoMatches '#fl-table' took the test's app down): the figure is kept by name."""
    from lambdatui.backends.base import FunctionConfiguration, InvokeResult

    functions = FunctionList()  # never mounted: it has no table, as at teardown
    functions._functions = {"hello-world": FunctionConfiguration(name="hello-world", runtime="python3.11", handler="app.handler")}
    functions._order = ["hello-world"]
    result = InvokeResult(function="hello-world", request_id="r-1", status_code=200, payload=b"{}", duration_ms=2.5, has_figures=True)
    functions.record_invocation(result)
    assert functions._last["hello-world"].duration_ms == 2.5
