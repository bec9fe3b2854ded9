"""`lambdatui` with no command: open the dashboard on the configured backend."""

from __future__ import annotations

from .main import open_backend


def run_dashboard(args) -> int:
    from ..config import load_config
    from ..tui.app import LambdaTUI

    config = load_config(args.config)
    backend = open_backend(args, config)  # the dashboard watches code and provisions every function
    try:
        first = next(iter(config.local.functions), None) if (args.backend or config.backend) == "local" else None
        LambdaTUI(backend, config, select=first).run()
    finally:
        backend.close()
    return 0
