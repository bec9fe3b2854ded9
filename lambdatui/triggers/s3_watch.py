"""S3 trigger: a local folder stands in for a bucket; files created, changed or removed in it invoke
the function with the event S3 sends to Lambda (one record per notification, as S3 does).

A created or changed file fires `ObjectCreated:Put`, a removed one `ObjectRemoved:Delete`. Keys are
paths relative to the folder with "/" separators, URL-encoded as S3 notifications encode them (form
encoding: a space becomes "+"). A file still being written fires once, when it is complete: every
path is held until its size and mtime have been stable for `settle_seconds`, so a slow copy, or an
editor's "write a temp file, rename it over" save, is one `Put` of the final content. A file that
appears and disappears before it settles never existed as far as the bucket is concerned.

Only regular files inside the folder are objects. Symbolic links are never followed and never fire
(to a file or a folder, inside or outside, there at start or made later); FIFOs, devices and
sockets are never opened. Each real folder is watched on its own, not recursively, so the watcher
never walks through a link (a link to `/` once made it walk the whole filesystem and block reading
/proc/kmsg). Hidden files and folders (a name starting with "."), editor backups and partial
downloads (`*~`, `*.swp`, `*.swx`, `*.tmp`, `*.part`, `*.crdownload`, `~$*`) are not objects.

Files already in the folder when the watcher starts are the bucket's existing objects: they fire
nothing until they change or are removed.

The function is invoked synchronously, one event at a time, by a dispatch thread, so a slow
function does not stop the watching. Invocation failures are logged to the `lambdatui.serve`
logger, never raised, and not retried. The watcher itself never stops on a failure (the folder
removed, the system out of inotify watches, anything): it says so as a line in the function's log
(`function_log`: `serve` prints it, the dashboard's tail shows it; without one, on that logger), and
watches again after a back-off, saying so once it does. What changed meanwhile, or what a watcher
missed, is found by comparing the folder with what it knew, at each start and every RESCAN_S.
"""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import json
import logging
import os
import queue
import secrets
import stat
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote_plus

from .sqs_queue import error_message

if TYPE_CHECKING:  # watchfiles is imported when watching starts
    import watchfiles

    from .base import Invoker

log = logging.getLogger("lambdatui.serve")  # the runners log as part of `serve`, whose logger users configure

DEFAULT_EVENTS = ("s3:ObjectCreated:*", "s3:ObjectRemoved:*")
PUT = "ObjectCreated:Put"
DELETE = "ObjectRemoved:Delete"
FIRED_EVENTS = (PUT, DELETE)  # what a folder can produce; Post, Copy, multipart uploads cannot happen

# Placeholders where S3 names the caller, the bucket owner and the request: the values' shapes.
PRINCIPAL_ID = "AWS:AIDALAMBDATUILOCAL01"
OWNER_ID = "A1LAMBDATUILOCAL"
SOURCE_IP = "127.0.0.1"

_IGNORED_SUFFIXES = ("~", ".swp", ".swx", ".tmp", ".part", ".crdownload")

# After a failure the watcher waits this long before watching again, doubling up to the maximum.
BACKOFF_FIRST_S = 0.5
BACKOFF_MAX_S = 30.0
RESCAN_S = 5.0  # the folder is compared with what the watcher knows at least this far apart

_seq_lock = threading.Lock()
_last_seq = 0


def next_sequencer() -> str:
    """A hex string that grows with every call (S3's sequencer orders events for one key)."""
    global _last_seq
    with _seq_lock:
        _last_seq = max(time.time_ns(), _last_seq + 1)
        return f"{_last_seq:018X}"


def encode_key(key: str) -> str:
    """The key as S3 notifications carry it: form-encoded, "/" kept, a space as "+"."""
    return quote_plus(key, safe="/")


def _event_time(when: float | None = None) -> str:
    when = time.time() if when is None else when
    ms = int(when * 1000)
    return datetime.fromtimestamp(ms // 1000, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S") + f".{ms % 1000:03d}Z"


def s3_event(
    bucket: str,
    key: str,
    event_name: str = PUT,
    *,
    size: int | None = None,
    etag: str | None = None,
    sequencer: str | None = None,
    region: str = "us-east-1",
    event_time: float | None = None,
    configuration_id: str | None = None,
) -> dict[str, Any]:
    """The event S3 sends to Lambda for one notification: {"Records": [one record]}.

    `key` is the object's key as stored (unencoded); it is encoded here as S3 encodes it.
    `event_name` is without the "s3:" prefix (`ObjectCreated:Put`, `ObjectRemoved:Delete`).
    `size` and `etag` (the MD5 hex of the content) belong to created objects only.
    """
    if event_name.startswith("s3:"):
        event_name = event_name[3:]
    obj: dict[str, Any] = {"key": encode_key(key)}
    if event_name.startswith("ObjectCreated"):
        obj["size"] = int(size or 0)
        obj["eTag"] = etag or hashlib.md5(b"").hexdigest()
    obj["sequencer"] = sequencer or next_sequencer()
    record = {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": region,
        "eventTime": _event_time(event_time),
        "eventName": event_name,
        "userIdentity": {"principalId": PRINCIPAL_ID},
        "requestParameters": {"sourceIPAddress": SOURCE_IP},
        "responseElements": {
            "x-amz-request-id": secrets.token_hex(8).upper(),
            "x-amz-id-2": base64.b64encode(secrets.token_bytes(56)).decode("ascii"),
        },
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": configuration_id or str(uuid.uuid5(uuid.NAMESPACE_URL, f"s3://{bucket}")),
            "bucket": {
                "name": bucket,
                "ownerIdentity": {"principalId": OWNER_ID},
                "arn": f"arn:aws:s3:::{bucket}",
            },
            "object": obj,
        },
    }
    return {"Records": [record]}


def normalize_events(events: Iterable[str] | str | None) -> tuple[str, ...]:
    """The event filter as `s3:`-prefixed patterns; raises ValueError for one that is not S3's."""
    if events is None:
        return DEFAULT_EVENTS
    if isinstance(events, str):
        events = [events]
    out = []
    for e in events:
        e = str(e).strip()
        if not e.startswith("s3:"):
            e = "s3:" + e
        kind, _, detail = e[3:].partition(":")
        if kind not in ("ObjectCreated", "ObjectRemoved") or not detail:
            raise ValueError(f"{e!r} is not an S3 event a folder can produce (s3:ObjectCreated:*, s3:ObjectRemoved:*, …)")
        out.append(e)
    return tuple(out)


def event_matches(event_name: str, patterns: Iterable[str]) -> bool:
    """Whether `ObjectCreated:Put` (with or without "s3:") is selected by patterns like `s3:ObjectCreated:*`."""
    name = event_name if event_name.startswith("s3:") else "s3:" + event_name
    return any(fnmatch.fnmatchcase(name, p) for p in patterns)


def is_ignored(rel: str) -> bool:
    """Hidden files and folders, editor swap/backup files and partial downloads are not objects."""
    parts = rel.replace(os.sep, "/").split("/")
    if any(p.startswith(".") for p in parts if p):
        return True
    name = parts[-1]
    return name.startswith("~$") or name.endswith(_IGNORED_SUFFIXES)


# -- the folder, without following links ---------------------------------------------------------
#
# Only regular files inside the folder are objects. Symbolic links are never followed (a link to
# /etc/hostname is not an object; a link to / must not be walked), and nothing but a regular file is
# ever opened (opening a FIFO for reading blocks until a writer comes). Every check uses lstat, and
# a file is opened through its folders' descriptors with O_NOFOLLOW, then checked again with fstat,
# so a link swapped in between the check and the open is not followed either.

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def _lstat_inside(folder: Path, key: str) -> os.stat_result | None:
    """lstat of `folder/key` when every folder on the way is a real folder (not a link); else None."""
    parts = key.split("/")
    path = folder
    try:
        for part in parts[:-1]:
            path = path / part
            if not stat.S_ISDIR(os.lstat(path).st_mode):
                return None
        return os.lstat(path / parts[-1])
    except OSError:
        return None


def _signature(folder: Path, key: str) -> tuple[int, int] | None:
    """(size, mtime_ns) of a regular file at `key`; None for anything else (removed, a folder, a
    link, a FIFO, a device, a socket)."""
    st = _lstat_inside(folder, key)
    if st is None or not stat.S_ISREG(st.st_mode):
        return None
    return (st.st_size, st.st_mtime_ns)


def _digest(folder: Path, key: str) -> tuple[int, str] | None:
    """(size, MD5 hex) of the regular file at `key`, opened without following any link; None if it
    is not one (any more)."""
    parts = key.split("/")
    try:
        fd = os.open(folder, _DIR_FLAGS)
    except OSError:
        return None
    try:
        for part in parts[:-1]:
            inner = os.open(part, _DIR_FLAGS, dir_fd=fd)
            os.close(fd)
            fd = inner
        # O_NONBLOCK: were it a FIFO after all (swapped in since the lstat), the open returns at once.
        file_fd = os.open(parts[-1], os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=fd)
    except OSError:
        os.close(fd)
        return None
    os.close(fd)
    h = hashlib.md5()
    size = 0
    try:
        with os.fdopen(file_fd, "rb") as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                return None
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
                size += len(chunk)
    except OSError:
        return None
    return size, h.hexdigest()


def _walk(folder: Path, under: str = "") -> tuple[dict[str, tuple[int, int]], list[Path]]:
    """The objects below `folder/under` (key → signature: regular files, not ignored) and the real
    folders there, `under` itself included; links are neither followed nor listed, hidden folders
    are skipped, folders that cannot be read are left out."""
    files: dict[str, tuple[int, int]] = {}
    dirs: list[Path] = []
    if under:
        st = _lstat_inside(folder, under)
        if st is None or not stat.S_ISDIR(st.st_mode):
            return files, dirs
    todo = [under]
    while todo:
        prefix = todo.pop()
        path = folder / prefix if prefix else folder
        try:
            entries = list(os.scandir(path))
        except OSError:
            continue
        dirs.append(path)
        for entry in entries:
            key = f"{prefix}/{entry.name}" if prefix else entry.name
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if stat.S_ISDIR(st.st_mode):
                if not entry.name.startswith("."):
                    todo.append(key)
            elif stat.S_ISREG(st.st_mode) and not is_ignored(key):
                files[key] = (st.st_size, st.st_mtime_ns)
    return files, dirs


class _FolderGone(OSError):
    """The watched folder was removed (or replaced by something that is not a folder)."""


class _Pending:
    __slots__ = ("signature", "stable_since", "last_change")

    def __init__(self, signature: tuple[int, int] | None, now: float) -> None:
        self.signature = signature
        self.stable_since = now
        self.last_change = now


class S3Watcher:
    """Watches `folder` as bucket `bucket`, invoking `function` once per matching notification."""

    def __init__(
        self,
        backend: Invoker,
        function: str,
        *,
        bucket: str,
        folder: Path,
        events: Iterable[str] = DEFAULT_EVENTS,
        prefix: str = "",
        suffix: str = "",
        region: str = "us-east-1",
        settle_seconds: float = 0.3,
        force_polling: bool | None = None,
        function_log: Callable[[str], None] | None = None,
    ) -> None:
        self.backend = backend
        self.function = function
        self.bucket = bucket
        self.folder = Path(folder).resolve()  # watchers report real paths (macOS: /tmp is /private/tmp)
        self.events = normalize_events(events)
        self.prefix = prefix or ""
        self.suffix = suffix or ""
        self.region = region
        self.settle_seconds = max(0.0, float(settle_seconds))
        self.force_polling = force_polling
        # Where the watcher's own failures are told, as lines of the function's log (the tail pane,
        # `lambdatui logs`): that is where the user is looking when a trigger stops firing.
        self.function_log = function_log
        self.configuration_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"lambdatui:s3:{bucket}:{function}"))
        self.fired = 0  # events handed to the function (invoked, whatever the outcome)
        self.errors = 0  # of those, the ones that failed or were throttled
        # The objects in the "bucket": key (relative path, "/") → (size, mtime_ns) when last seen.
        self._known: dict[str, tuple[int, int]] = {}
        self._pending: dict[str, _Pending] = {}
        self._watched: set[Path] = set()  # the folders the current watch covers
        self._folder_id: tuple[int, int] | None = None
        self._rewatch = False  # the folders changed: watch again
        self._failing = False  # the last watch failed; the next one that starts says it is back
        self._delay = BACKOFF_FIRST_S
        self._stop = threading.Event()
        self._ready = threading.Event()
        # (event name, key, event) to invoke with; None wakes the dispatcher to check for a stop.
        self._outbox: queue.Queue[tuple[str, str, dict[str, Any]] | None] = queue.Queue()
        self._threads: list[threading.Thread] = []
        self._idle = threading.Condition()
        self._queued = 0  # events queued for dispatch and not yet invoked

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self, timeout: float = 10.0) -> None:
        """Start watching; returns once the folder is being watched (changes from then on fire)."""
        if self._threads:
            return
        if not any(event_matches(e, self.events) for e in FIRED_EVENTS):
            log.warning(
                "S3 trigger s3://%s → %s: events %s never happen to a local folder (only %s do)",
                self.bucket, self.function, ", ".join(self.events), ", ".join(FIRED_EVENTS),
            )
        quiet = logging.getLogger("watchfiles.main")
        if quiet.level == logging.NOTSET:
            quiet.setLevel(logging.WARNING)  # not "N changes detected" on every batch
        self.folder.mkdir(parents=True, exist_ok=True)
        self._known, _ = _walk(self.folder)
        self._stop.clear()
        self._ready.clear()
        watcher = threading.Thread(target=self._watch_loop, name=f"s3-watch-{self.bucket}", daemon=True)
        dispatcher = threading.Thread(target=self._dispatch_loop, name=f"s3-dispatch-{self.bucket}", daemon=True)
        self._threads = [watcher, dispatcher]
        dispatcher.start()
        watcher.start()
        if not self._ready.wait(timeout):
            log.warning("S3 trigger s3://%s: watching %s took longer than %.0f s to start", self.bucket, self.folder, timeout)

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._outbox.put(None)
        for t in self._threads:
            t.join(timeout)
        self._threads = []

    def status(self) -> str:
        failing = "; the watcher failed, retrying" if self._failing else ""
        return f"watching {self.folder}: {self.fired} fired, {self.errors} failed{failing}"

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait until nothing is pending or queued for dispatch (for tests and orderly shutdown)."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._pending or self._queued:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(min(left, 0.05))
        return True

    # -- watching ----------------------------------------------------------------------------

    def _rel(self, path: Path) -> str | None:
        try:
            rel = path.relative_to(self.folder)
        except ValueError:
            return None
        key = rel.as_posix()
        return None if key in ("", ".") else key

    def _watch_filter(self, change: watchfiles.Change, path: str) -> bool:
        key = self._rel(Path(path))
        return key is not None and not is_ignored(key)

    def _report(self, level: int, message: str, exc_info: bool = False) -> None:
        """Tell the function's log when there is one (`serve` prints those lines, the dashboard's
        tail shows them), else the `lambdatui.serve` logger; the traceback goes to the logger, at
        DEBUG when the function's log has the message."""
        if self.function_log is None:
            log.log(level, message, exc_info=exc_info)
            return
        log.debug(message, exc_info=exc_info)
        try:
            self.function_log(f"[{logging.getLevelName(level)}] {message}")
        except Exception:
            log.exception("S3 trigger s3://%s: writing to the log of %s failed", self.bucket, self.function)
            log.log(level, message)

    def _watch_loop(self) -> None:
        """Watch until stopped. A failure is reported and the watch starts again after a back-off
        (doubling from BACKOFF_FIRST_S to BACKOFF_MAX_S, reset once watching works again)."""
        while not self._stop.is_set():
            try:
                self._watch_once()
            except Exception as e:
                if self._stop.is_set():
                    break
                self._ready.set()  # start() does not wait for a watcher that cannot start
                self._failing = True
                reason = str(e) if isinstance(e, _FolderGone) else f"{type(e).__name__}: {e}"
                self._report(
                    logging.ERROR,
                    f"S3 trigger s3://{self.bucket} → {self.function}: watching {self.folder} failed: {reason}; "
                    f"retrying in {self._delay:g} s",
                    exc_info=not isinstance(e, _FolderGone),
                )
                if self._stop.wait(self._delay):
                    break
                self._delay = min(self._delay * 2, BACKOFF_MAX_S)
                try:
                    self.folder.mkdir(parents=True, exist_ok=True)
                except OSError:
                    pass  # the next attempt fails, and says why

    def _watch_once(self) -> None:
        """One watch of the folder and its real subfolders, each watched on its own (not
        recursively, so the watcher never follows a link into another folder); returns when the
        set of folders changed (to watch again) or on stop; raises on failure."""
        import watchfiles

        st = self._folder_stat()
        self._folder_id = (st.st_dev, st.st_ino)
        _, dirs = _walk(self.folder)
        if not dirs:
            raise _FolderGone("the folder cannot be read")
        self._watched = set(dirs)
        self._rewatch = False
        tick_ms = max(20, min(100, int(self.settle_seconds * 1000 / 3) or 20))
        changes_seen = watchfiles.watch(
            *dirs,
            watch_filter=self._watch_filter,
            debounce=tick_ms * 2,
            step=min(50, tick_ms),
            stop_event=self._stop,
            rust_timeout=tick_ms,
            yield_on_timeout=True,
            raise_interrupt=False,
            force_polling=self.force_polling,
            recursive=False,
            ignore_permission_denied=True,
        )
        first = True
        next_scan = 0.0
        try:
            for changes in changes_seen:
                if first or time.monotonic() >= next_scan:
                    # Watching now: what changed before (since the first scan, or while the last
                    # watch was down) is found by comparing the folder with what is known. Again
                    # now and then, for what a watcher can miss (a polling one does not see a file
                    # replaced by a link; inotify drops events when its queue overflows); spaced
                    # out by how long a scan of this folder takes.
                    started = time.monotonic()
                    self._catch_up()
                    next_scan = time.monotonic() + max(RESCAN_S, 20 * (time.monotonic() - started))
                if first:
                    first = False
                    self._ready.set()
                    if self._failing:
                        self._failing = False
                        self._delay = BACKOFF_FIRST_S
                        self._report(logging.INFO, f"S3 trigger s3://{self.bucket} → {self.function}: watching {self.folder} again")
                self._on_changes(changes)
                self._settle()
                st = self._folder_stat()
                if (st.st_dev, st.st_ino) != self._folder_id:
                    return  # replaced by another folder: watch that one
                if self._rewatch or self._stop.is_set():
                    return
        finally:
            changes_seen.close()

    def _folder_stat(self) -> os.stat_result:
        try:
            st = os.lstat(self.folder)
        except FileNotFoundError:
            raise _FolderGone("the folder was removed") from None
        if not stat.S_ISDIR(st.st_mode):
            raise _FolderGone("the folder was replaced by something that is not a folder")
        return st

    def _catch_up(self) -> None:
        files, dirs = _walk(self.folder)
        now = time.monotonic()
        for key, signature in files.items():
            if self._known.get(key) != signature:
                self._mark(key, now)
        for key in [k for k in self._known if k not in files]:
            self._mark(key, now)
        if set(dirs) != self._watched:
            self._rewatch = True

    def _mark(self, key: str, now: float) -> None:
        with self._idle:
            p = self._pending.get(key)
            if p is None:
                self._pending[key] = _Pending(_signature(self.folder, key), now)
            else:
                p.last_change = now

    def _on_changes(self, changes: set[tuple[watchfiles.Change, str]]) -> None:
        if not changes:
            return
        import watchfiles

        now = time.monotonic()
        for change, raw in changes:
            path = Path(raw)
            key = self._rel(path)
            if key is None or is_ignored(key):
                continue
            if change == watchfiles.Change.deleted:
                if path in self._watched:
                    self._rewatch = True  # a watched folder went: watch without it
                if key not in self._known and key not in self._pending:
                    # Not an object: a folder removed or moved away (its files are gone too, and
                    # moving reports only the folder), a link, or a file that never settled.
                    for k in [k for k in self._known if k.startswith(key + "/")]:
                        self._mark(k, now)
                    continue
            else:
                st = _lstat_inside(self.folder, key)
                if st is not None and stat.S_ISDIR(st.st_mode) and path not in self._watched:
                    self._rewatch = True  # a new real folder (never a link to one): watch it too
            self._mark(key, now)

    def _settle(self) -> None:
        """Fire every pending path whose state has stopped changing for settle_seconds."""
        if not self._pending:
            return
        now = time.monotonic()
        for key in list(self._pending):
            p = self._pending[key]
            sig = _signature(self.folder, key)
            if sig != p.signature:
                p.signature = sig
                p.stable_since = now
            if now - max(p.stable_since, p.last_change) < self.settle_seconds:
                continue
            with self._idle:
                del self._pending[key]
            if sig is None:
                st = _lstat_inside(self.folder, key)
                if st is not None and stat.S_ISDIR(st.st_mode):
                    # A folder created or moved in: its files are objects (each settles on its own).
                    for k, signature in _walk(self.folder, key)[0].items():
                        if self._known.get(k) != signature:
                            self._mark(k, now)
                    continue
                # Removed, or not a regular file (any more): not an object.
                if key in self._known:
                    del self._known[key]
                    self._emit(DELETE, key, None, None)
                continue
            digest = _digest(self.folder, key)
            if digest is None:
                continue  # unreadable or gone between the stat and the read; a later event decides
            if _signature(self.folder, key) != sig:
                self._mark(key, now)  # changed while it was read: not complete yet
                continue
            self._known[key] = sig
            self._emit(PUT, key, digest[0], digest[1])

    def _emit(self, event_name: str, key: str, size: int | None, etag: str | None) -> None:
        if not event_matches(event_name, self.events):
            return
        if not key.startswith(self.prefix) or not key.endswith(self.suffix):
            return
        event = s3_event(
            self.bucket, key, event_name, size=size, etag=etag, region=self.region,
            configuration_id=self.configuration_id,
        )
        with self._idle:
            self._queued += 1
        self._outbox.put((event_name, key, event))

    # -- invoking ----------------------------------------------------------------------------

    def _dispatch_loop(self) -> None:
        while True:
            item = self._outbox.get()
            if item is None:
                if self._stop.is_set():
                    return
                continue
            event_name, key, event = item
            try:
                self._invoke(event_name, key, event)
            finally:
                with self._idle:
                    self._queued -= 1
                    self._idle.notify_all()

    def _invoke(self, event_name: str, key: str, event: dict[str, Any]) -> None:
        where = f"S3 trigger s3://{self.bucket}/{key} ({event_name}) → {self.function}"
        try:
            self._log_outcome(where, self.backend.invoke(self.function, json.dumps(event).encode(), source="s3"))
        except Exception as e:
            log.error("%s: %s", where, e)
            self.errors += 1
        finally:
            # Counted last, once its outcome is logged and counted: a reader that sees `fired` go up
            # also sees the error and the log line.
            self.fired += 1

    def _log_outcome(self, where: str, result: Any) -> None:
        if result.status_code == 429 or result.error:
            reason = (result.error or {}).get("reason") or (result.error or {}).get("type") or "throttled"
            log.warning("%s: throttled (%s)", where, reason)
            self.errors += 1
        elif result.function_error:
            log.warning("%s: function error %s: %s", where, result.error_type or result.function_error, error_message(result.payload))
            self.errors += 1
        elif result.status_code >= 300:
            log.warning("%s: status %s", where, result.status_code)
            self.errors += 1
        else:
            log.info("%s: ok", where)
