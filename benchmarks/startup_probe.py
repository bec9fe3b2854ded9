"""`python -m lambdatui` stopped where the dashboard's app would start: for bench_dashboard.py's
breakdown of the first frame into "before the app" (process start, imports, config, local backend
and executor start) and "the app" (compose, style, layout, first render).

Run by the benchmark as `python benchmarks/startup_probe.py --config CFG`: the real command line,
the real entry point (`lambdatui.__main__.main`); only `App.run` is replaced, by one frame holding `APP-START` and an exit.
"""

from __future__ import annotations

import os
import sys

import textual.app


def _stop_here(self: textual.app.App[object], *args: object, **kwargs: object) -> None:
    os.write(1, b"\x1b[?2026hAPP-START\x1b[?2026l")
    os.read(0, 1)  # until the benchmark closes the terminal: an exit now could beat its reader
    os._exit(0)


textual.app.App.run = _stop_here  # type: ignore[method-assign,assignment]

from lambdatui.__main__ import main  # noqa: E402  (the command's entry: it pauses the collector too)

sys.argv = ["lambdatui", *sys.argv[1:]]
raise SystemExit(main())
