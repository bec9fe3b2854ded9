"""`lambdatui build [NAME…]`: install local functions' dependencies ahead of their first invoke.

The same install an invoke would make (`lambdatui.executor.dependencies`), into the same cache, so
a later invoke, `serve` or the dashboard starts without installing. Progress goes to stderr; one
line per function goes to stdout: `NAME  installed|up to date|no dependencies  [MANIFEST -> CACHE]`.
Exit status 1 if any install failed (each failure is one line on stderr), 2 for an unknown name.
"""

from __future__ import annotations

import argparse
import os
import sys

from .main import UsageError


def run_build(args: argparse.Namespace) -> int:
    from ..backends.local import LocalBackend
    from ..config import load_config
    from ..executor.dependencies import DependencyError, cache_path, manifest_for, prepare

    config = load_config(getattr(args, "config", None))
    functions = config.local.functions
    names = list(args.names) or list(functions)
    unknown = [n for n in names if n not in functions]
    if unknown:
        known = ", ".join(functions) or "none"
        raise UsageError(f"no local function named {', '.join(unknown)} (functions: {known})")
    # The backend's cache folder, which invokes read (under the state dir).
    backend = LocalBackend(config, start=False, watch_code=False, persist_logs=False, record_history=False)
    cache_dir = backend.executor.cache_dir
    backend.close()
    failed = 0
    for name in names:
        spec = functions[name]
        manifest = manifest_for(spec)
        if manifest is None:
            print(f"{name}  no dependencies")
            continue
        already = cache_path(spec, manifest, cache_dir).is_dir() and not args.force
        try:
            folder = prepare(spec, cache_dir, force=args.force)
        except DependencyError as e:
            print(f"lambdatui: {e}", file=sys.stderr)
            failed += 1
            continue
        state = "up to date" if already else "installed"
        print(f"{name}  {state}  {os.path.relpath(manifest.path)} -> {folder}")
    return 1 if failed else 0

