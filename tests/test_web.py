"""`lambdatui web` serves the dashboard page over loopback (checked with a real HTTP client)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

pytest.importorskip("textual_serve")
REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_web_serves_the_dashboard_page_on_loopback(tmp_path):
    port = free_port()
    env = dict(os.environ, LAMBDATUI_STATE_DIR=str(tmp_path / "state"))
    proc = subprocess.Popen(
        [sys.executable, "-m", "lambdatui", "web", "--port", str(port), "--config", str(REPO / "lambdatui" / "sample" / "lambdatui.yaml")],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.time() + 20
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/", timeout=2)
                break
            except httpx.TransportError:
                if time.time() > deadline or proc.poll() is not None:
                    raise AssertionError(proc.stdout.read().decode() if proc.poll() is not None else "server did not start") from None
                time.sleep(0.2)
        assert response.status_code == 200
        assert "lambdatui" in response.text
        assert "ws://" in response.text or "websocket" in response.text.lower()
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_web_command_passes_the_options_on():
    from argparse import Namespace

    from lambdatui.cli.web import dashboard_command

    cmd = dashboard_command(Namespace(config="/x/y.yaml", backend="local", profile=None, region=None, endpoint_url=None))
    assert cmd.endswith("-m lambdatui --config /x/y.yaml --backend local")
