"""The browser sessions of `lambdatui web`: one dashboard process per websocket, and its whole lifetime.

textual-serve's `AppService` starts each session through `/bin/sh -c`, never kills it, and its
`Server` keeps waiting for open websockets on SIGTERM. A browser that went away while the app was
still on the splash, or a server stopped with SIGTERM, left a `python -m lambdatui` behind: the
Textual web driver does not exit when its stdin closes, and SIGTERM to the shell does not reach it.
This module owns that lifetime instead (subclassing, not patching, the installed package):

- each session is exec'd directly in its own process group, so a signal reaches all it started;
- stopping asks the app to quit, then SIGTERMs the group, then SIGKILLs it, each after a grace period;
- the server tracks its sessions and stops them all, and closes their websockets, on shutdown;
- the session process itself (run through this module as `__main__`) asks Linux to SIGKILL it
  when the server dies (PR_SET_PDEATHSIG), so even a SIGKILLed server leaves nothing behind;
- the listening socket is bound before anything is printed, so a taken port is one clear line.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import signal
import socket
import sys
from typing import Any

from aiohttp import web
from textual_serve.app_service import AppService
from textual_serve.server import Server, to_int

log = logging.getLogger("textual-serve")

QUIT_GRACE = 2.0  # seconds for the app to leave after the "quit" message (Textual's own exit path)
TERM_GRACE = 2.0  # then SIGTERM to the group, then SIGKILL


class PortInUse(Exception):
    """The port is already taken (by another `lambdatui web`, or anything else)."""


def bind(host: str, port: int) -> socket.socket:
    """The listening socket, bound now so a taken port is reported before the server says anything."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as e:
        raise OSError(f"cannot resolve {host}: {e.strerror}") from None
    family, type_, proto, _name, address = infos[0]
    sock = socket.socket(family, type_, proto)
    # As aiohttp does: a restarted server may take a port still in TIME_WAIT, never one that listens.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
        sock.listen(128)
    except OSError as e:
        sock.close()
        if e.errno == errno.EADDRINUSE:
            raise PortInUse(f"port {port} on {host} is already in use (is another `lambdatui web` running?)") from None
        raise
    sock.setblocking(False)
    return sock


class SessionService(AppService):
    """One dashboard process: started in its own process group, always ended by `stop`."""

    def __init__(self, argv: list[str], **kwargs: Any) -> None:
        super().__init__(" ".join(argv), **kwargs)
        self.argv = argv
        self._stopped = False

    async def _open_app_process(self, width: int = 80, height: int = 24) -> asyncio.subprocess.Process:
        # exec, not `sh -c`: the pid is the app's own, and its group is everything it starts.
        self._process = process = await asyncio.create_subprocess_exec(
            *self.argv,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=self._build_environment(width=width, height=height),
            start_new_session=True,
        )
        assert process.stdin is not None
        self._stdin = process.stdin
        return process

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def _signal_group(self, signum: int) -> None:
        if self._process is None or self._process.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self._process.pid, signum)

    async def _exited_within(self, seconds: float) -> bool:
        assert self._process is not None
        try:
            await asyncio.wait_for(asyncio.shield(self._process.wait()), seconds)
        except asyncio.TimeoutError:
            return False
        return True

    async def stop(self) -> None:
        """Quit, then SIGTERM, then SIGKILL: the process is gone when this returns. Idempotent."""
        if self._stopped:
            return
        self._stopped = True
        with contextlib.suppress(Exception):
            await self._download_manager.cancel_app_downloads(app_service_id=self.app_service_id)
        if self._process is not None:
            # A session still importing (the browser on the splash) reads "quit" only once its
            # driver starts; the grace periods bound that wait.
            if self._stdin is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(self.send_meta({"type": "quit"}), 0.5)
            if not await self._exited_within(QUIT_GRACE):
                self._signal_group(signal.SIGTERM)
                if not await self._exited_within(TERM_GRACE):
                    self._signal_group(signal.SIGKILL)
                    await self._process.wait()
            # Whatever the app started in its group goes with it.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self._process.pid, signal.SIGKILL)
        if self._task is not None:
            task, self._task = self._task, None
            if not task.done():
                task.cancel()
            with contextlib.suppress(BaseException):
                await task


class WebServer(Server):
    """textual-serve's server with sessions it tracks, ends on disconnect and ends on shutdown."""

    def __init__(self, argv: list[str], **kwargs: Any) -> None:
        super().__init__(" ".join(argv), **kwargs)
        self.argv = argv
        self.sessions: set[SessionService] = set()
        self.websockets: set[web.WebSocketResponse] = set()

    async def on_shutdown(self, app: web.Application) -> None:
        # aiohttp waits for open websocket handlers on shutdown: close them, and end their processes.
        await asyncio.gather(*(ws.close() for ws in list(self.websockets)), return_exceptions=True)
        await asyncio.gather(*(s.stop() for s in list(self.sessions)), return_exceptions=True)

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        websocket = web.WebSocketResponse(heartbeat=15)
        width = to_int(request.query.get("width", "80"), 80)
        height = to_int(request.query.get("height", "24"), 24)
        session = SessionService(
            session_argv(self.argv),
            write_bytes=websocket.send_bytes,
            write_str=websocket.send_str,
            close=websocket.close,
            download_manager=self.download_manager,
            debug=self.debug,
        )
        self.websockets.add(websocket)
        self.sessions.add(session)
        try:
            await websocket.prepare(request)
            await session.start(width, height)
            await self._process_messages(websocket, session)
        except asyncio.CancelledError:
            pass
        except Exception as error:  # a malformed message: the session ends, the server carries on
            log.warning("session ended: %s", error)
        finally:
            # Shielded: a cancelled handler (the browser gone, the server stopping) still ends its process.
            await asyncio.shield(session.stop())
            self.sessions.discard(session)
            self.websockets.discard(websocket)
            with contextlib.suppress(Exception):
                await websocket.close()
        return websocket

    def serve_on(self, sock: socket.socket) -> None:
        """`Server.serve`, on a socket bound beforehand, stopping its sessions on SIGINT/SIGTERM."""
        self.initialize_logging()
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(signum, self.request_exit)
        try:
            web.run_app(
                self._make_app(), sock=sock, handle_signals=False, loop=loop, print=lambda *args: None, shutdown_timeout=5
            )
        finally:
            # Belt and braces: anything still tracked is killed outright.
            for session in list(self.sessions):
                session._signal_group(signal.SIGKILL)


def session_argv(dashboard_argv: list[str]) -> list[str]:
    """Run the dashboard through this module, which ties the session's life to the server's."""
    python, *rest = dashboard_argv
    assert rest[:2] == ["-m", "lambdatui"], rest
    return [python, "-m", __name__, *rest[2:]]


def _die_with_parent() -> None:
    """Linux: SIGKILL this process when the server that started it dies, however it dies."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    parent = os.getppid()
    with contextlib.suppress(Exception):
        PR_SET_PDEATHSIG = 1
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent or parent == 1:  # the server died before prctl took hold
        os._exit(1)


if __name__ == "__main__":
    _die_with_parent()
    from .. import startup_gc

    startup_gc.pause()  # as `python -m lambdatui` does: the dashboard resumes it after its first frame
    from .main import main

    raise SystemExit(main(sys.argv[1:]))
