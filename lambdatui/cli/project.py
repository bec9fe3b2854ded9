"""`lambdatui init [DIR]` (a starter project) and `lambdatui new NAME` (one more function)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from .main import UsageError


def run_init(args: argparse.Namespace) -> int:
    from ..starter import StarterError, init_project

    folder = Path(args.dir or ".").resolve()
    try:
        written = init_project(folder, runtime=args.runtime, force=args.force)
    except StarterError as e:
        raise UsageError(str(e)) from None
    except OSError as e:
        raise UsageError(f"cannot write in {folder}: {e.strerror or e}") from None
    for w in written:
        print(f"{w.what:>8}  {os.path.relpath(w.path)}")
    where = os.path.relpath(folder)
    go = "" if where == "." else f"cd {where} && "
    print(f"\nNext: {go}lambdatui invoke hello-world   (or just `lambdatui` for the dashboard)")
    return 0


def run_new(args: argparse.Namespace) -> int:
    from ..config import find_config
    from ..starter import StarterError, new_function

    path = find_config(getattr(args, "config", None))
    try:
        written = new_function(path, args.name, args.runtime, args.template)
    except StarterError as e:
        raise UsageError(str(e)) from None
    except OSError as e:
        raise UsageError(f"cannot write beside {path}: {e.strerror or e}") from None
    for w in written:
        print(f"{w.what:>8}  {os.path.relpath(w.path)}")
    print(f"\nNext: lambdatui invoke {args.name} --event {os.path.relpath(written[1].path)}")
    return 0
