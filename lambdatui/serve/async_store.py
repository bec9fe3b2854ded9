"""The durable store of asynchronous (`Event`) invocations: `<state dir>/async.db`, one SQLite file.

Lambda answers an `Event` invoke with 202 once the event is in its queue; here the event is
committed to this file first (`add`), so an accepted event survives `kill -9`, a clean stop and a
restart. The file follows `triggers/sqs_queue.QueueStore`: WAL mode, `synchronous=FULL` for accepting, a
busy timeout, and every write a `BEGIN IMMEDIATE` transaction, so several lambdatui processes (the
dashboard with `--serve` and a `lambdatui serve`) can share it.

An event is worked on under a lease. `claim` takes the oldest due event in one transaction and
writes the claimant (`lease_owner`) and the lease's end into it; while leased, `next_attempt_at`
*is* the lease's end, so an event whose owner died (its lease not renewed) simply becomes due
again: at-least-once, and never run by two owners at the same time while the lease is kept
(`renew`, which the owner's heartbeat calls). A lease owner is `host:pid:nonce`: a process that
finds leases held by a dead pid of its own host gives them back at once (`reclaim_dead`) instead
of waiting for them to expire.

What happens after an attempt (retry when, give up how) is decided by `async_invoke`; the store
only records it: `finish` deletes, `retry` puts the event back with its new counters and due time,
`decide` records a final outcome whose delivery to the on-failure destination is still to be done
(so a failed delivery is tried again, not lost), `release` puts back what a stopping owner holds.

The size of the store is bounded by the disk only: events are rows, not memory.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FILE_NAME = "async.db"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    request_id TEXT NOT NULL UNIQUE,
    function TEXT NOT NULL,
    qualifier TEXT,
    payload BLOB NOT NULL,
    client_context TEXT,
    received_at REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    throttles INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL,
    lease_owner TEXT,
    last_error_type TEXT,
    last_response_context TEXT,
    last_response BLOB,
    condition TEXT
);
CREATE INDEX IF NOT EXISTS events_due ON events (next_attempt_at, id);
CREATE INDEX IF NOT EXISTS events_by_function ON events (function);
"""
# Columns, in the order `StoredEvent` takes them.
_COLUMNS = (
    "id, request_id, function, qualifier, payload, client_context, received_at, attempts, throttles,"
    " next_attempt_at, lease_owner, last_error_type, last_response_context, last_response, condition"
)


class StoreClosedError(RuntimeError):
    """The store was closed (its invoker stopped) while a worker still used it."""


@dataclass(frozen=True)
class StoredEvent:
    """One accepted event as the store holds it.

    `attempts` counts the invocations that reached the function (approximateInvokeCount);
    `throttles` the attempts refused before reaching it (throttles, system errors), which set the
    back-off. `last_*` keep the last function error, for the on-failure record. `condition`
    (RetriesExhausted, EventAgeExceeded) is set once the event failed for good and only its
    delivery to the destination remains."""

    id: int
    request_id: str
    function: str
    qualifier: str | None
    payload: bytes
    client_context: dict[str, Any] | None
    received_at: float
    attempts: int
    throttles: int
    next_attempt_at: float
    lease_owner: str | None
    last_error_type: str | None
    last_response_context: dict[str, Any] | None
    last_response: bytes | None
    condition: str | None

    @classmethod
    def _from_row(cls, row: tuple[Any, ...]) -> StoredEvent:
        values = list(row)
        values[4] = bytes(values[4])
        values[5] = json.loads(values[5]) if values[5] is not None else None
        values[12] = json.loads(values[12]) if values[12] is not None else None
        values[13] = bytes(values[13]) if values[13] is not None else None
        return cls(*values)


def new_owner() -> str:
    """A lease owner id: this host and process, and a nonce telling apart two invokers of one process."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _owner_is_dead(owner: str, host: str) -> bool:
    """True when `owner` was a process of this host that no longer exists."""
    owner_host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if owner_host != host or not pid_text.isdigit():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except OSError:  # EPERM: it exists, as another user's
        return False
    return False


class AsyncEventStore:
    """Every accepted asynchronous event, in one SQLite file shared by the processes that use it."""

    def __init__(self, db_path: Path, *, timeout: float = 10.0) -> None:
        self.db_path = Path(db_path)
        self.db_path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._closed = False
        self._conn = sqlite3.connect(
            str(self.db_path), timeout=timeout, isolation_level=None, check_same_thread=False
        )
        self._conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
        self._conn.execute("PRAGMA journal_mode = WAL")
        self._synchronous = ""
        with self._tx() as c:
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    c.execute(statement)

    @contextmanager
    def _tx(self, *, durable: bool = True) -> Iterator[sqlite3.Connection]:
        """One write transaction, taken at once (BEGIN IMMEDIATE) so it never fails half-way on a lock.

        `durable` (synchronous=FULL): the commit is on disk before this returns, as accepting an
        event needs (the 202 promises it). The workers' bookkeeping (claims, leases, outcomes) uses
        synchronous=NORMAL, which in WAL mode survives a crash of the process but may lose the last
        commits to a power cut: an event then runs again (at least once), never goes missing, and
        the next durable commit syncs those before it anyway. It halves the disk flushes per event."""
        with self._lock:
            if self._closed:
                raise StoreClosedError(f"{self.db_path} is closed")
            wanted = "FULL" if durable else "NORMAL"
            if self._synchronous != wanted:  # a connection setting, changed between transactions
                self._conn.execute(f"PRAGMA synchronous = {wanted}")
                self._synchronous = wanted
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            else:
                self._conn.execute("COMMIT")

    def _read(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            if self._closed:
                raise StoreClosedError(f"{self.db_path} is closed")
            return self._conn.execute(sql, params).fetchall()

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                self._conn.close()

    def __enter__(self) -> AsyncEventStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- accepting ---------------------------------------------------------------------------

    def add(
        self,
        function: str,
        payload: bytes,
        *,
        request_id: str | None = None,
        qualifier: str | None = None,
        client_context: dict[str, Any] | None = None,
        received_at: float | None = None,
    ) -> str:
        """Store an event, committed before this returns; its request id (a new UUID unless given)."""
        request_id = request_id or str(uuid.uuid4())
        now = time.time()
        received = now if received_at is None else received_at
        with self._tx() as c:
            c.execute(
                "INSERT INTO events (request_id, function, qualifier, payload, client_context, received_at, next_attempt_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    request_id, function, qualifier, sqlite3.Binary(payload),
                    json.dumps(client_context) if client_context is not None else None, received, now,
                ),
            )
        return request_id

    # -- counting ----------------------------------------------------------------------------

    def count(self, function: str | None = None) -> int:
        """Events not finished (waiting, due later, or running), of `function` or of all."""
        if function is None:
            return int(self._read("SELECT COUNT(*) FROM events")[0][0])
        return int(self._read("SELECT COUNT(*) FROM events WHERE function = ?", (function,))[0][0])

    def counts(self) -> dict[str, int]:
        """Events not finished, by function."""
        return {name: int(n) for name, n in self._read("SELECT function, COUNT(*) FROM events GROUP BY function")}

    def next_due(self) -> float | None:
        """When the earliest event falls due (a lease's end for a running one); None when empty."""
        row = self._read("SELECT MIN(next_attempt_at) FROM events")[0]
        return float(row[0]) if row[0] is not None else None

    def get(self, request_id: str) -> StoredEvent | None:
        rows = self._read(f"SELECT {_COLUMNS} FROM events WHERE request_id = ?", (request_id,))
        return StoredEvent._from_row(rows[0]) if rows else None

    # -- leases ------------------------------------------------------------------------------

    def claim(self, owner: str, lease_seconds: float, limit: int = 1) -> list[StoredEvent]:
        """Up to `limit` due events, oldest first, leased to `owner` for `lease_seconds`."""
        now = time.time()
        with self._tx(durable=False) as c:
            rows = c.execute(
                f"SELECT {_COLUMNS} FROM events WHERE next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?",
                (now, max(1, int(limit))),
            ).fetchall()
            c.executemany(
                "UPDATE events SET lease_owner = ?, next_attempt_at = ? WHERE id = ?",
                [(owner, now + lease_seconds, row[0]) for row in rows],
            )
        return [StoredEvent._from_row(row) for row in rows]

    def renew(self, owner: str, lease_seconds: float) -> int:
        """Extend every lease `owner` holds; how many it holds."""
        with self._tx(durable=False) as c:
            return c.execute(
                "UPDATE events SET next_attempt_at = ? WHERE lease_owner = ?", (time.time() + lease_seconds, owner)
            ).rowcount

    def release(self, owner: str) -> int:
        """Give back every event `owner` holds, due at once; how many."""
        with self._tx(durable=False) as c:
            return c.execute(
                "UPDATE events SET lease_owner = NULL, next_attempt_at = ? WHERE lease_owner = ?", (time.time(), owner)
            ).rowcount

    def reclaim_dead(self) -> int:
        """Give back the events held by processes of this host that no longer exist; how many."""
        host = socket.gethostname()
        owners = [o for (o,) in self._read("SELECT DISTINCT lease_owner FROM events WHERE lease_owner IS NOT NULL")]
        return sum(self.release(owner) for owner in owners if _owner_is_dead(owner, host))

    # -- outcomes (each only while `owner` still holds the lease: False otherwise) ----------

    def finish(self, event: StoredEvent, owner: str) -> bool:
        """The event is done (it succeeded, or its failure was delivered or dropped): delete it."""
        with self._tx(durable=False) as c:
            return c.execute("DELETE FROM events WHERE id = ? AND lease_owner = ?", (event.id, owner)).rowcount > 0

    def retry(
        self,
        event: StoredEvent,
        owner: str,
        *,
        at: float,
        attempts: int,
        throttles: int,
        error_type: str | None,
        response_context: dict[str, Any] | None = None,
        response: bytes | None = None,
    ) -> bool:
        """Put the event back, due `at` (epoch seconds), with its counters and its last error."""
        keep_response = response_context is not None
        with self._tx(durable=False) as c:
            return c.execute(
                "UPDATE events SET lease_owner = NULL, next_attempt_at = ?, attempts = ?, throttles = ?,"
                " last_error_type = COALESCE(?, last_error_type),"
                " last_response_context = CASE WHEN ? THEN ? ELSE last_response_context END,"
                " last_response = CASE WHEN ? THEN ? ELSE last_response END"
                " WHERE id = ? AND lease_owner = ?",
                (
                    at, attempts, throttles, error_type,
                    keep_response, json.dumps(response_context) if keep_response else None,
                    keep_response, sqlite3.Binary(response) if keep_response and response is not None else None,
                    event.id, owner,
                ),
            ).rowcount > 0

    def decide(
        self,
        event: StoredEvent,
        owner: str,
        condition: str,
        *,
        attempts: int,
        error_type: str | None,
        response_context: dict[str, Any] | None = None,
        response: bytes | None = None,
    ) -> bool:
        """Record that the event failed for good (`condition`); it stays leased to `owner`, who
        delivers it and then calls `finish`."""
        keep_response = response_context is not None
        with self._tx(durable=False) as c:
            return c.execute(
                "UPDATE events SET condition = ?, attempts = ?, last_error_type = COALESCE(?, last_error_type),"
                " last_response_context = CASE WHEN ? THEN ? ELSE last_response_context END,"
                " last_response = CASE WHEN ? THEN ? ELSE last_response END"
                " WHERE id = ? AND lease_owner = ?",
                (
                    condition, attempts, error_type,
                    keep_response, json.dumps(response_context) if keep_response else None,
                    keep_response, sqlite3.Binary(response) if keep_response and response is not None else None,
                    event.id, owner,
                ),
            ).rowcount > 0


def pending_counts(state_dir: Path) -> dict[str, int]:
    """Asynchronous events not finished, by function, in `state_dir`'s store ({} when there is none).

    Opens the file only if it exists (never creates it) and starts nothing: for the dashboard.
    A damaged or foreign file raises sqlite3.Error."""
    return counts_in(Path(state_dir) / FILE_NAME)


def counts_in(path: Path) -> dict[str, int]:
    """`pending_counts` of the store file at `path`."""
    if not path.is_file():
        return {}
    conn = sqlite3.connect(f"file:{path}?mode=rw", uri=True, timeout=2.0)
    try:
        return {name: int(n) for name, n in conn.execute("SELECT function, COUNT(*) FROM events GROUP BY function")}
    except sqlite3.OperationalError as e:
        if "no such table" in str(e):
            return {}  # created by another process a moment ago, its schema not yet written
        raise
    finally:
        conn.close()
