"""`lambdatui show NAME [--json] [--qualifier Q] [--reveal]`: the whole function, from either backend.

Text for people (sections as the console groups them), or `--json`: one object with the keys of
`backends.detail.DETAIL_KEYS` (a contract for scripts). Environment values that look like secrets
are masked unless `--reveal`. Exit status 0, 1 when the backend fails (an unknown function or
qualifier), 2 for bad usage.
"""

from __future__ import annotations

import argparse
import json

from ..backends.detail import render_text
from .main import UsageError, open_backend


def run_show(args: argparse.Namespace) -> int:
    if args.qualifier is not None and not args.qualifier.strip():
        raise UsageError("--qualifier: empty; give $LATEST, a version or an alias")
    backend = open_backend(args, start=False, watch_code=False, persist_logs=False, record_history=False)
    try:
        detail = backend.function_detail(args.name, args.qualifier)
    finally:
        backend.close()
    if args.json:
        print(json.dumps(detail.to_json(reveal=args.reveal), indent=2, ensure_ascii=False))
    else:
        print(render_text(detail, reveal=args.reveal))
    return 0
