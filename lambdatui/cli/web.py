"""`lambdatui web`: the dashboard in a browser through textual-serve, each visitor getting a session.

Binds 127.0.0.1 unless told otherwise: the dashboard can invoke and edit functions, so exposing it
is the user's explicit choice.
"""

from __future__ import annotations

import argparse
import shlex
import sys

from .main import UsageError


def dashboard_command(args: argparse.Namespace) -> str:
    parts = [sys.executable, "-m", "lambdatui"]
    for flag in ("config", "backend", "profile", "region", "endpoint_url"):
        value = getattr(args, flag, None)
        if value:
            parts += [f"--{flag.replace('_', '-')}", str(value)]
    return shlex.join(parts)


def run_web(args: argparse.Namespace) -> int:
    try:
        from textual_serve.server import Server
    except ImportError:
        raise UsageError("lambdatui web needs textual-serve: .venv/bin/pip install textual-serve") from None
    print(f"Serving the dashboard on http://{args.host}:{args.port} (ctrl+c to stop)", flush=True)
    Server(dashboard_command(args), host=args.host, port=args.port, title="lambdatui").serve()
    return 0
