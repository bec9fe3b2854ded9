"""`lambdatui serve`: run the executor headless behind the Lambda API and the configured triggers,
printing every function's log lines until ctrl+c."""

from __future__ import annotations

import argparse
import sys
import threading
from typing import TYPE_CHECKING

from .main import UsageError

if TYPE_CHECKING:
    from ..executor.logstore import LogEvent


def run_serve(args: argparse.Namespace) -> int:
    from ..config import load_config
    from ..serve.runner import ServeRunner, is_loopback

    config = load_config(args.config)
    if not config.local.functions:
        raise UsageError("the configuration has no local functions to serve")
    if not is_loopback(args.host):
        print(
            f"lambdatui: warning: binding {args.host}: anyone who can reach it can invoke and reconfigure "
            "these functions (the default is 127.0.0.1)",
            file=sys.stderr,
        )
    runner = ServeRunner(config, host=args.host, port=args.port, http_port=args.http_port)
    try:
        runner.start()
    except OSError as e:
        runner.stop()
        raise UsageError(f"cannot listen: {e.strerror or e}") from None
    lock = threading.Lock()

    def show(event: LogEvent) -> None:
        with lock:
            print(f"{event.function:<16} {event.message}", flush=True)

    assert runner.backend is not None  # start() made it
    runner.backend.logs.subscribe(show)
    for line in runner.describe():
        print(line, flush=True)
    print("Ready. ctrl+c stops.", flush=True)
    stop = threading.Event()
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        runner.stop()
    return 0
