"""Saved test events: one plain JSON file per event, per function, in a folder beside the config.

Layout: `<config dir>/events/<function-name>/<event-name>.json`. Each file holds exactly the text
the user wrote (a final newline added if missing), so the folder diffs cleanly in git and any file
works as `sam local invoke -e FILE`. Writes are atomic (temp file in the same folder, then
os.replace), so a crash never leaves a half-written event; the temp file stays locked until it is
renamed, and each save first removes the temp files that killed saves left in that folder (old,
unlocked ones: `filelock.remove_stale_temp_files`). Every failure is an EventStoreError whose
message can be shown to the user as is.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import NoReturn

from .filelock import remove_stale_temp_files, temp_file

EVENTS_DIR_NAME = "events"
EVENT_NAME_MAX = 100
_EVENT_NAME = re.compile(r"[A-Za-z0-9_\-. ]+")
_FUNCTION_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")  # Lambda's own rule, as in config.py
_SUFFIX = ".json"
_TEMP_PREFIX = "."  # temp files are hidden, and never listed as events


class EventStoreError(Exception):
    """A saved-event operation failed; the message is fit for a user."""


def check_event_name(name: str) -> None:
    """Raise EventStoreError unless `name` is usable as a file stem on every platform."""
    if not name:
        raise EventStoreError("An event name cannot be empty.")
    if len(name) > EVENT_NAME_MAX:
        raise EventStoreError(f"An event name can be at most {EVENT_NAME_MAX} characters (this one has {len(name)}).")
    if "/" in name or "\\" in name:
        raise EventStoreError(f"Event name {name!r} cannot contain a path separator.")
    if not _EVENT_NAME.fullmatch(name):
        raise EventStoreError(f"Event name {name!r} may only use letters, digits, '-', '_', '.' and spaces.")
    if name.startswith("."):
        raise EventStoreError(f"Event name {name!r} cannot start with '.'.")
    if name != name.strip():
        raise EventStoreError(f"Event name {name!r} cannot start or end with a space.")


def check_function_name(function: str) -> None:
    if not _FUNCTION_NAME.fullmatch(function or ""):
        raise EventStoreError(
            f"{function!r} is not a Lambda function name (1-64 letters, digits, hyphens or underscores)."
        )


def check_json(text: str) -> None:
    """Raise EventStoreError naming the line and column unless `text` is one JSON value."""

    def no_constant(value: str) -> NoReturn:
        raise ValueError(value)  # NaN / Infinity: Python accepts them, JSON (and other runtimes) do not

    try:
        json.loads(text, parse_constant=no_constant)
    except RecursionError:  # valid JSON, nested deeper than the parser goes: not an error with a position
        raise EventStoreError("The event is not valid JSON: nesting too deep.") from None
    except json.JSONDecodeError as e:
        raise EventStoreError(f"The event is not valid JSON: {e.msg} at line {e.lineno}, column {e.colno}.") from None
    except ValueError as e:
        line, col = _position(text, str(e))
        raise EventStoreError(f"The event is not valid JSON: {e} is not a JSON value at line {line}, column {col}.") from None


def _position(text: str, token: str) -> tuple[int, int]:
    index = max(text.find(token), 0)
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


class EventStore:
    """Saved events under `base`: `base/<function>/<name>.json`."""

    def __init__(self, base: Path) -> None:
        self.base = Path(base)

    @classmethod
    def beside(cls, config_path: Path | None) -> EventStore:
        """The store next to the config file (`<config dir>/events`); `./events` without a config."""
        folder = Path(config_path).resolve().parent if config_path is not None else Path.cwd()
        return cls(folder / EVENTS_DIR_NAME)

    def path(self, function: str, name: str) -> Path:
        check_function_name(function)
        check_event_name(name)
        return self.base / function / f"{name}{_SUFFIX}"

    def names(self, function: str) -> list[str]:
        """The function's saved event names, sorted case-insensitively; [] if it has none."""
        check_function_name(function)
        folder = self.base / function
        try:
            entries = list(folder.iterdir())
        except FileNotFoundError:
            return []
        except OSError as e:
            raise EventStoreError(f"Cannot list saved events in {folder}: {e.strerror or e}.") from None
        found = []
        for entry in entries:
            if entry.suffix != _SUFFIX or not entry.is_file():
                continue
            try:
                check_event_name(entry.stem)
            except EventStoreError:
                continue  # temp files and files a user dropped in by hand with odd names
            found.append(entry.stem)
        return sorted(found, key=lambda n: (n.casefold(), n))

    def load(self, function: str, name: str) -> str:
        """The saved event's text, exactly as stored."""
        path = self.path(function, name)
        try:
            with open(path, encoding="utf-8", newline="") as f:
                return f.read()
        except FileNotFoundError:
            raise EventStoreError(f"No saved event {name!r} for {function}.") from None
        except UnicodeDecodeError:
            raise EventStoreError(f"Saved event {path} is not UTF-8 text.") from None
        except OSError as e:
            raise EventStoreError(f"Cannot read {path}: {e.strerror or e}.") from None

    def save(self, function: str, name: str, text: str) -> Path:
        """Write `text` (which must be JSON) as the event, atomically; returns the file's path.

        The text is kept exactly as written, plus a final newline if it lacks one.
        """
        path = self.path(function, name)
        check_json(text)
        if not text.endswith("\n"):
            text += "\n"
        data = text.encode("utf-8")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise EventStoreError(f"Cannot create {path.parent}: {e.strerror or e}.") from None
        # Leftovers of saves that were killed between writing the temp file and renaming it.
        remove_stale_temp_files(path.parent, _TEMP_PREFIX)
        try:
            fd, tmp = temp_file(path.parent, prefix=f"{_TEMP_PREFIX}{name}.")
        except OSError as e:
            raise EventStoreError(f"Cannot save {path}: {e.strerror or e}.") from None
        try:
            try:  # mkstemp makes the file 0600; keep the old file's mode, or use the usual 0644
                os.fchmod(fd, path.stat().st_mode & 0o777 if path.exists() else 0o644)
            except OSError:
                pass
            # Through the descriptor, kept open (and so locked) until the file is in place: a live
            # save's temp file is never taken for a leftover.
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
            os.replace(tmp, path)
        except OSError as e:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise EventStoreError(f"Cannot save {path}: {e.strerror or e}.") from None
        finally:
            os.close(fd)
        return path

    def delete(self, function: str, name: str) -> None:
        """Remove the saved event (and the function's folder once it is empty)."""
        path = self.path(function, name)
        try:
            path.unlink()
        except FileNotFoundError:
            raise EventStoreError(f"No saved event {name!r} for {function}.") from None
        except OSError as e:
            raise EventStoreError(f"Cannot delete {path}: {e.strerror or e}.") from None
        try:
            path.parent.rmdir()
        except OSError:
            pass  # not empty, or already gone
