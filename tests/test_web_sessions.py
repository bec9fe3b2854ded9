"""`lambdatui web` ends every session process when its browser goes away, at any stage, and on SIGTERM.

A real `lambdatui web` process on loopback and real websocket clients (aiohttp's, and a raw socket
that drops the TCP connection without a close frame, as a killed browser tab does). Processes are
read from /proc: a session is a child of the server, and it must be gone within a few seconds.
"""

from __future__ import annotations

import asyncio
import base64
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.polling import process_ended, wait_for

pytest.importorskip("textual_serve")
aiohttp = pytest.importorskip("aiohttp")
pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from /proc")

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "lambdatui" / "sample" / "lambdatui.yaml"
GONE_WITHIN = 10.0  # quit, then SIGTERM after 2 s, then SIGKILL after 2 more; slack for a busy 2-core machine


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] not in ("Z", "X"):
            found.append(int(entry))
    return found


def descendants(pid: int) -> set[int]:
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in children(todo.pop()):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def all_ended(pids) -> bool:
    return all(process_ended(p) for p in pids)


class WebServer:
    def __init__(self, tmp_path: Path) -> None:
        self.port = free_port()
        env = dict(os.environ, LAMBDATUI_STATE_DIR=str(tmp_path / "state"))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "lambdatui", "web", "--port", str(self.port), "--config", str(SAMPLE)],
            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"server did not start: {self.proc.communicate()[1].decode()}") from None
                time.sleep(0.1)

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws?width=100&height=30"

    def sessions(self) -> list[int]:
        """Every process below the server (a session, and whatever it started)."""
        return sorted(descendants(self.proc.pid))

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


@pytest.fixture
def server(tmp_path):
    s = WebServer(tmp_path)
    yield s
    s.stop()


def raw_websocket(port: int) -> socket.socket:
    """A websocket handshake on a plain socket, so the test can drop it without a close frame."""
    sock = socket.create_connection(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        f"GET /ws?width=100&height=30 HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
    )
    assert sock.recv(12) == b"HTTP/1.1 101"
    return sock


async def connect_then_close(server: WebServer, *, wait_for_app: bool) -> set[int]:
    """Open a session, close it at the splash or once the app has drawn; the session's processes."""
    async with aiohttp.ClientSession() as client:
        ws = await client.ws_connect(server.url)
        pids = await asyncio.to_thread(wait_for, server.sessions, 20)
        if wait_for_app:
            message = await asyncio.wait_for(ws.receive(), 60)  # the app's first screen bytes
            assert message.type == aiohttp.WSMsgType.BINARY
            group = descendants(server.proc.pid)
        else:
            group = set(pids)
            assert all(not process_ended(p) for p in pids)  # still starting: on the splash
        await ws.close()
    return group


def test_a_browser_gone_at_the_splash_leaves_no_session_process(server):
    pids = asyncio.run(connect_then_close(server, wait_for_app=False))
    assert pids
    wait_for(lambda: all_ended(pids), GONE_WITHIN, 0.1)
    assert server.proc.poll() is None  # the server carries on for the next browser


def test_a_dropped_connection_at_the_splash_leaves_no_session_process(server):
    sock = raw_websocket(server.port)
    pids = wait_for(server.sessions, 20)
    sock.close()  # no close frame: the tab was killed
    wait_for(lambda: all_ended(pids), GONE_WITHIN, 0.1)


def test_a_browser_gone_after_the_app_started_leaves_no_session_process(server):
    pids = asyncio.run(connect_then_close(server, wait_for_app=True))
    assert pids
    wait_for(lambda: all_ended(pids), GONE_WITHIN, 0.1)


def test_sigterm_to_the_server_ends_it_and_every_session(server):
    splash = raw_websocket(server.port)
    first = wait_for(server.sessions, 20)
    second = raw_websocket(server.port)
    pids = wait_for(lambda: (s := children(server.proc.pid)) and len(s) == 2 and s, 20)
    assert set(first) <= set(pids)
    time.sleep(1.5)  # one likely started, both certainly alive
    pids = descendants(server.proc.pid)
    server.proc.send_signal(signal.SIGTERM)
    assert server.proc.wait(timeout=GONE_WITHIN + 5) == 0
    wait_for(lambda: all_ended(pids), 5, 0.1)
    splash.close()
    second.close()


def test_a_killed_server_takes_its_sessions_with_it(server):
    sock = raw_websocket(server.port)
    wait_for(server.sessions, 20)
    time.sleep(1.0)  # the session under way, with whatever it starts
    pids = server.sessions()
    server.proc.kill()  # no chance to clean up: the sessions ask the kernel to follow their parent
    server.proc.wait(timeout=10)
    wait_for(lambda: all_ended(pids), GONE_WITHIN, 0.1)
    sock.close()


def test_a_second_server_on_the_same_port_exits_1_with_one_line(server, tmp_path):
    env = dict(os.environ, LAMBDATUI_STATE_DIR=str(tmp_path / "state2"))
    second = subprocess.run(
        [sys.executable, "-m", "lambdatui", "web", "--port", str(server.port), "--config", str(SAMPLE)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=30,
    )
    assert second.returncode == 1
    assert second.stdout == ""
    lines = second.stderr.strip().splitlines()
    assert len(lines) == 1, second.stderr
    assert f"port {server.port}" in lines[0] and "already in use" in lines[0]
    assert server.proc.poll() is None
