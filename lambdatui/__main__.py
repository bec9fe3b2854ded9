"""`python -m lambdatui` and the `lambdatui` command (pyproject's `[project.scripts]`): the
garbage collector paused while the program starts (`startup_gc`), then the command line."""

from __future__ import annotations


def main() -> int:
    from lambdatui import startup_gc

    startup_gc.pause()  # before the imports: they are a third of the objects made at start-up
    from lambdatui.cli.main import main as run

    return run()


if __name__ == "__main__":
    raise SystemExit(main())
