"""The question `lambdatui invoke` asks before running a function on AWS when `aws.confirm_invoke` is
set (by default with `aws.read_only`): on the terminal, or refused in one line without one unless
`--yes` was given.

The question goes to the controlling terminal (`/dev/tty`), not stdin, which may be carrying the
event (`--event -`): as sudo and ssh ask.
"""

from __future__ import annotations

import argparse
import os

from ..backends.base import Backend
from .main import UsageError


class NotConfirmed(Exception):
    """The user answered no: nothing was invoked."""


def confirm_invoke(backend: Backend, args: argparse.Namespace, *, tty: str = "/dev/tty") -> None:
    """Return when the invoke may go ahead; raise UsageError (no terminal, no --yes) or NotConfirmed."""
    if not _needs_confirmation(backend) or getattr(args, "yes", False):
        return
    count = getattr(args, "repeat", 1) or 1
    what = f"{args.name} {count} times" if count > 1 else args.name
    question = f"Invoke {what} on {backend.describe()}? [y/N] "
    try:
        fd = os.open(tty, os.O_RDWR | os.O_NOCTTY)
    except OSError:
        raise UsageError(
            f"not invoking {args.name}: aws.confirm_invoke is set for {backend.describe()} and there is no "
            "terminal to ask on: pass --yes"
        ) from None
    try:
        os.write(fd, question.encode())
        answer = _read_line(fd)
    finally:
        os.close(fd)
    if answer.strip().lower() not in ("y", "yes"):
        raise NotConfirmed(f"not invoking {args.name}: not confirmed")


def _read_line(fd: int) -> str:
    """One line from the terminal (a tty is not seekable: no text-mode "r+" file on it)."""
    data = b""
    while not data.endswith(b"\n"):
        chunk = os.read(fd, 1)
        if not chunk:  # the terminal closed: no answer is a no
            break
        data += chunk
    return data.decode("utf-8", "replace")


def _needs_confirmation(backend: Backend) -> bool:
    if backend.name != "aws":
        return False
    from ..backends.aws import AwsBackend  # loaded: the backend is one

    return isinstance(backend, AwsBackend) and backend.confirm_invoke
