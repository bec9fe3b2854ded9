"""CloudWatch Logs filter patterns for unstructured log events, so `--filter` means the same locally.

Supported, as CloudWatch documents them: terms that must all appear (`ERROR timeout`), a quoted
phrase (`"Task timed out"`), terms of which any may appear (`?ERROR ?WARN`) and excluded terms
(`ERROR -heartbeat`). Matching is case-sensitive, as in CloudWatch. JSON and space-delimited
patterns (`{ $.x = 1 }`, `[ip, user, ...]`) are not interpreted: they match as literal text.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable


def compile_filter(pattern: str | None) -> Callable[[str], bool]:
    if not pattern or not pattern.strip():
        return lambda message: True
    text = pattern.strip()
    if text[0] in "{[":
        return lambda message: text in message
    try:
        terms = shlex.split(text)
    except ValueError:
        terms = text.split()
    required = [t for t in terms if not t.startswith(("?", "-")) or len(t) == 1]
    optional = [t[1:] for t in terms if t.startswith("?") and len(t) > 1]
    excluded = [t[1:] for t in terms if t.startswith("-") and len(t) > 1]

    def match(message: str) -> bool:
        if any(t in message for t in excluded):
            return False
        if not all(t in message for t in required):
            return False
        return not optional or any(t in message for t in optional)

    return match
