"""The garbage collector paused while the `lambdatui` command starts, and the start-up's objects
kept out of its sight afterwards.

Starting the dashboard with 1,000 functions makes ~95,000 long-lived objects (modules, the
configuration, widgets, styles) and almost no garbage; the collector, finding them new, ran ~290
times over them before the first frame (two full collections among them): ~170 ms of a ~0.9 s
start on the shared 2-core machine, against ~60 ms for a bare Textual app (timed with
`gc.callbacks`; the effect on the first frame is in benchmarks/README.md, "Dashboard"). So the command's entry point pauses it (`pause`), and `resume`
moves what exists then into the permanent generation (`gc.freeze`) before collecting again, so no
later collection scans them either. The price is the start-up's few cyclic leftovers, kept for
good. `freeze_late` does the same for what the dashboard makes just after (the panes it mounts
once the list is painted).

Only the command pauses: code importing lambdatui as a library (the tests) never does, and
`resume` without a `pause` does nothing.
"""

from __future__ import annotations

import gc

_paused = False


def pause() -> None:
    global _paused
    if gc.isenabled():
        gc.disable()
        _paused = True


def resume() -> None:
    """Collect again (once the command is under way: the dashboard's first frame is on screen,
    another command is about to run). Idempotent."""
    global _paused
    if _paused:
        _paused = False
        gc.freeze()
        gc.enable()


def freeze_late() -> None:
    """Move the objects made so far out of the collector's sight (`gc.freeze`), the dashboard's
    late panes among them: every full collection scanned the app's 100,000-odd long-lived objects
    (widgets, styles, the stylesheet), taking ~200 ms on the shared 2-core machine while keys
    waited, every ~20 s while the log tail follows a function printing 5,000 lines/s
    (benchmarks/bench_log_tail.py); after it, full collections scan only what was made since. No
    collection first: that would be a pause of its own (170 ms there) at a moment a user may be
    typing; the price is the garbage not yet collected (~13,000 objects, a few MB), kept for good."""
    gc.freeze()
