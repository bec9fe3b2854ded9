"""`lambdatui web`: the dashboard in a browser through textual-serve, each visitor getting a session.

Binds 127.0.0.1 unless told otherwise: the dashboard can invoke and edit functions, so exposing it
is the user's explicit choice. The sessions' lifetimes (ended on disconnect at any stage and on
SIGTERM) are web_sessions.py's.
"""

from __future__ import annotations

import argparse
import shlex
import sys

from .main import UsageError


def dashboard_argv(args: argparse.Namespace) -> list[str]:
    parts = [sys.executable, "-m", "lambdatui"]
    for flag in ("config", "backend", "profile", "region", "endpoint_url"):
        value = getattr(args, flag, None)
        if value:
            parts += [f"--{flag.replace('_', '-')}", str(value)]
    return parts


def dashboard_command(args: argparse.Namespace) -> str:
    return shlex.join(dashboard_argv(args))


def run_web(args: argparse.Namespace) -> int:
    try:
        from .web_sessions import PortInUse, WebServer, bind
    except ImportError:
        raise UsageError("lambdatui web needs textual-serve: .venv/bin/pip install textual-serve") from None
    try:
        sock = bind(args.host, args.port)
    except PortInUse as e:
        print(f"lambdatui: {e}", file=sys.stderr)
        return 1
    except OSError as e:
        print(f"lambdatui: cannot listen on {args.host}:{args.port}: {e.strerror or e}", file=sys.stderr)
        return 1
    print(f"Serving the dashboard on http://{args.host}:{args.port} (ctrl+c to stop)", flush=True)
    WebServer(dashboard_argv(args), host=args.host, port=args.port, title="lambdatui").serve_on(sock)
    return 0
