"""`lambdatui list`: the functions of the configured backend, as a table or JSON."""

from __future__ import annotations

import json

from ..masking import looks_secret, mask
from .main import open_backend


def run_list(args) -> int:
    backend = open_backend(args, start=False, watch_code=False, persist_logs=False)
    try:
        functions = backend.list_functions()
    finally:
        backend.close()
    if args.json:
        rows = [f.to_dict() for f in functions]
        if not args.reveal:
            # Listings get pasted into tickets and chats: secrets stay masked unless asked for.
            for row in rows:
                row["environment"] = {k: mask(v) if looks_secret(k, v) else v for k, v in row["environment"].items()}
        print(json.dumps(rows, indent=2))
        return 0
    rows = [("NAME", "RUNTIME", "MEMORY", "TIMEOUT", "HANDLER", "LAST MODIFIED")]
    for f in functions:
        rows.append((f.name, f.runtime, f"{f.memory_size} MB", f"{f.timeout} s", f.handler, f.last_modified or "-"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip())
    return 0
