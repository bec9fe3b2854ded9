"""`lambdatui` with no command: open the dashboard on the configured backend."""

from __future__ import annotations

import argparse

from ..backends.local import LocalBackend
from .main import UsageError, open_backend, wants_aws_services


def run_dashboard(args: argparse.Namespace) -> int:
    from ..config import load_config
    from ..tui.app import LambdaTUI

    config = load_config(args.config)
    local = (args.backend or config.backend) == "local"
    services = wants_aws_services(args, config, local)
    backend = open_backend(args, config, aws_services=services)  # the dashboard watches code and provisions every function
    if services and isinstance(backend, LocalBackend) and backend.aws_services is not None:
        backend.aws_services.preload()  # in the background; the header shows the URL (describe())
    runner = None
    try:
        if getattr(args, "serve", False):
            if not local:
                raise UsageError("--serve runs local functions: it needs the local backend")
            from ..serve.runner import ServeRunner

            assert isinstance(backend, LocalBackend)  # `local` says so

            # The triggers invoke through the dashboard's own backend, so what they fire shows in its log tail.
            runner = ServeRunner(config, backend=backend)
            try:
                runner.start()
            except OSError as e:
                raise UsageError(f"cannot listen: {e.strerror or e}") from None
        first = next(iter(config.local.functions), None) if local else None
        LambdaTUI(backend, config, select=first).run()
    finally:
        if runner is not None:
            runner.backend = None  # closed below, once
            runner.stop()
        backend.close()
    return 0
