"""`lambdatui list`: the functions of the configured backend, as a table or JSON."""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from typing import Any

from ..masking import looks_secret, mask
from .main import open_backend


def run_list(args: argparse.Namespace) -> int:
    backend = open_backend(args, start=False, watch_code=False, persist_logs=False)
    isolation: dict[str, dict[str, Any]] = {}
    dependencies: dict[str, Any] = {}
    try:
        functions = backend.list_functions()
        if args.json and not backend.capabilities.lists_reserved_concurrency:
            # ListFunctions leaves reserved concurrency out: GetFunctionConcurrency for each function,
            # on the backend's bounded thread pool (0 stays 0: every invoke throttled; None: unreserved).
            reserved = backend.reserved_concurrencies([f.name for f in functions])
            functions = [replace(f, reserved_concurrency=reserved[f.name]) for f in functions]
        if args.json:
            # Which of Lambda's sandbox guarantees hold where the backend runs each function
            # (absent for AWS, where Lambda's own sandbox runs it).
            for f in functions:
                found = backend.isolation(f.name)
                if found is not None:
                    isolation[f.name] = found
            dependencies = _dependencies(backend, functions)
    finally:
        backend.close()
    if args.json:
        rows = [f.to_dict() for f in functions]
        for row in rows:
            if row["name"] in isolation:
                row["isolation"] = isolation[row["name"]]
            if row["name"] in dependencies:
                row["dependencies"] = dependencies[row["name"]]
        if not args.reveal:
            # Listings get pasted into tickets and chats: secrets stay masked unless asked for.
            for row in rows:
                row["environment"] = {k: mask(v) if looks_secret(k, v) else v for k, v in row["environment"].items()}
        print(json.dumps(rows, indent=2))
        return 0
    table = [("NAME", "RUNTIME", "MEMORY", "TIMEOUT", "HANDLER", "LAST MODIFIED")]
    for f in functions:
        table.append((f.name, f.runtime, f"{f.memory_size} MB", f"{f.timeout} s", f.handler, f.last_modified or "-"))
    widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
    for r in table:
        print("  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip())
    return 0


def _dependencies(backend: Any, functions: list[Any]) -> dict[str, Any]:
    """Local functions' requirements.txt / package.json: {manifest, installed, cache}, or None."""
    from ..backends.local import LocalBackend

    if not isinstance(backend, LocalBackend):
        return {}
    from ..executor.dependencies import status

    return {f.name: status(f, backend.executor.cache_dir) for f in functions}
