"""`lambdatui` with no command: until the dashboard lands, a listing of what it would show."""

from __future__ import annotations

from .listing import run_list


def run_dashboard(args) -> int:
    args.json = False
    code = run_list(args)
    print("\nInvoke one with: lambdatui invoke NAME [--event FILE] (see lambdatui --help)")
    return code
