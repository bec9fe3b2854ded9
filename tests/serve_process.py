"""A `lambdatui serve` process for the tests that run one: started on free ports (port 0; serve
prints the ones it took), its output read line by line on a thread (and kept, for failures),
waited on for a line. It gets SIGINT as a terminal's ctrl+c sends it: a suite started in the
background (`.ci/run &`) passes SIGINT on ignored, and Python then never raises KeyboardInterrupt."""

from __future__ import annotations

import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence


class ServeProcess:
    wait_timeout = 30.0

    def __init__(self, args: Sequence[str], env: dict[str, str], cwd: str | None = None) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "lambdatui", "serve", *args],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=cwd,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
        self.output: list[str] = []
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.output.append(line.rstrip("\n"))
            self.lines.put(line.rstrip("\n"))

    def wait_for(self, text: str, timeout: float | None = None) -> str:
        """The next line containing `text`; AssertionError if serve exits or it does not come."""
        deadline = time.time() + (self.wait_timeout if timeout is None else timeout)
        while time.time() < deadline:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                if self.proc.poll() is not None:
                    raise AssertionError(f"serve exited with {self.proc.returncode}: {self.output[-20:]}") from None
                continue
            if text in line:
                return line
        raise AssertionError(f"{text!r} did not appear")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=15)
