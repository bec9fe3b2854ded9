"""`lambdatui send-message QUEUE BODY`: put a message on a local SQS queue; prints its MessageId.

The queues live in `<state dir>/sqs.db` (`$LAMBDATUI_STATE_DIR` moves it), the store `serve`
polls, so a message sent while `serve` is down is delivered when it starts. BODY `-` reads the
body from standard input. When a configuration is found and no sqs trigger reads QUEUE, a warning
says so (the message is kept all the same).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from .main import UsageError

if TYPE_CHECKING:
    from ..config import Config


def queue_db_path() -> Path:
    """The SQLite file holding the local SQS queues (shared by `send-message` and `serve`)."""
    from ..backends.local import default_state_dir

    return default_state_dir() / "sqs.db"


def _configured_queues(config: Config) -> set[str]:
    from ..triggers.sqs import SqsTrigger

    names: set[str] = set()
    for f in config.local.functions.values():
        for t in f.triggers:
            if isinstance(t, SqsTrigger):
                names.update(t.queues)
    return names


def _warn_if_unread(queue: str, explicit_config: str | None) -> None:
    from ..assets import SAMPLE_CONFIG_NAME, user_sample_dir
    from ..config import ConfigError, load_config

    try:
        config = load_config(explicit_config)
    except ConfigError:
        if explicit_config:
            raise  # the user named it: a broken config is an error (exit 2)
        return  # no configuration around: nothing to check against
    if config.path is not None and Path(config.path).resolve() == (user_sample_dir() / SAMPLE_CONFIG_NAME).resolve():
        return  # only the sample project was found: the user has no configuration yet
    if queue not in _configured_queues(config):
        print(
            f"lambdatui: warning: no sqs trigger in {config.path or 'the configuration'} reads queue {queue!r}; "
            "the message waits until one does",
            file=sys.stderr,
        )


def run_send_message(args: argparse.Namespace) -> int:
    from ..triggers.sqs_queue import QueueStore, validate_queue_name

    queue = args.queue
    body = args.body
    if body == "-":
        body = sys.stdin.read()
    try:
        validate_queue_name(queue)
    except ValueError as e:
        raise UsageError(str(e)) from None
    _warn_if_unread(queue, getattr(args, "config", None))
    with QueueStore(queue_db_path()) as store:
        try:
            message_id = store.send(queue, body)
        except ValueError as e:
            raise UsageError(str(e)) from None
    print(message_id)
    return 0
