"""`lambdatui serve`: run the executor headless behind the Lambda API and the configured triggers,
printing every function's log lines until ctrl+c.

Changes made through the Lambda API (UpdateFunctionConfiguration, concurrency) change the running
server only; `--persist-changes` writes them to the config file too."""

from __future__ import annotations

import argparse
import signal
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
    if getattr(args, "aws_services", False) and config.local.aws_services is None:
        from ..config import AwsServicesSettings

        config.local.aws_services = AwsServicesSettings()
    if not config.local.functions:
        raise UsageError("the configuration has no local functions to serve")
    if not is_loopback(args.host):
        print(
            f"lambdatui: warning: binding {args.host}: anyone who can reach it can invoke and reconfigure "
            "these functions (the default is 127.0.0.1)",
            file=sys.stderr,
        )
    for port in (args.port, args.http_port):
        if not 0 <= port <= 65535:
            raise UsageError(f"port {port} is not 0-65535")
    runner = ServeRunner(
        config, host=args.host, port=args.port, http_port=args.http_port,
        persist_changes=getattr(args, "persist_changes", False),
    )
    try:
        runner.start()
    except OSError as e:
        runner.stop()
        raise UsageError(f"cannot listen on {args.host}: {e.strerror or e}") from None
    lock = threading.Lock()

    def show(event: LogEvent) -> None:
        with lock:
            print(f"{event.function:<16} {event.message}", flush=True)

    assert runner.backend is not None  # start() made it
    runner.backend.logs.subscribe(show)
    for line in runner.describe():
        print(line, flush=True)
    if not runner.persist_changes:
        print("API changes to functions last until serve stops (--persist-changes writes them to the config file).", flush=True)
    print("Ready. ctrl+c stops.", flush=True)
    stop = threading.Event()
    # SIGTERM (systemd, docker stop, kill) stops as ctrl+c does: running invokes finish, pending
    # events stay in the store for the next start.
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        runner.stop()
    return 0
