"""Invocation history: every local invocation's figures in one SQLite file, for stats and metrics.

The local backend records each invocation it runs (`LocalBackend.invoke` is the single entry, so
the dashboard's, the CLI's and `serve`'s triggers' invocations all land here) with where it came
from (`source`: console, cli, http, schedule, s3, sqs, api, api-async, ...). From these rows,
`summary` answers `lambdatui stats` (counts, cold-start rate, duration percentiles, memory, cost and
a monthly projection) and `series` the monitor pane's `FunctionMetrics`, as CloudWatch would for AWS.

Storage: `<state dir>/history.db`, one table `invocations`, in WAL mode, so several processes (the
dashboard, `serve`, one-shot `lambdatui invoke`s) can write while others read. Every write is one
`BEGIN IMMEDIATE` transaction (the write lock taken up front, so two writers queue on busy_timeout
instead of one failing on a lock upgrade), and turning WAL on when a process opens the file is
retried while the file is locked, as two processes creating it at once collide there.

Cost on the invoke path: `record` only puts a tuple on a queue (a few microseconds). A writer thread
sleeps until something is queued, then lets records gather for `BATCH_WINDOW_S` and inserts them
all in one transaction: one wake-up and one commit per window rather than per invocation, which
kept the writer off the invoking threads' GIL and out of the WAL (a commit per row cost a no-op
invoke a fifth of its throughput). `flush` and `close` cut the window short and wait for what was
queued (`close` also runs at interpreter exit); readers flush first, so a process always sees its
own records. Opening is cheap for a one-shot process: the schema is created only when the file's
`user_version` says it is missing, and pruning (rows older than `max_age_days`, the oldest beyond
`max_rows`; when the writer starts and every `PRUNE_EVERY` records) first asks two index look-ups
whether there is anything to prune, taking the write lock only when there is.

Semantics, as CloudWatch's Lambda metrics: `invocations` counts invocations that ran (a throttle
is not an invocation, it counts in `throttles`); `errors` counts function errors (unhandled
exceptions, timeouts, crashes, init failures). Percentiles interpolate linearly between ranks (as
numpy's default); durations are the invoke phase in ms, without init.
"""

from __future__ import annotations

import atexit
import functools
import logging
import math
import queue
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from . import figures
from .model import FunctionMetrics, MetricSeries

if TYPE_CHECKING:  # the backends package is not needed to record or to summarise
    from .executor.spec import InvokeResult

log = logging.getLogger("lambdatui.history")

HISTORY_FILE_NAME = "history.db"
DEFAULT_SOURCE = "console"
DAY_S = 86400
PRUNE_EVERY = 1000  # records between two prunes
MAX_BUCKETS = 100_800  # as CloudWatch's GetMetricData: more data points in one answer is a mistake
# An invocation runs at most 900 s (plus a 10 s init): rows this much older than a window may still
# be running inside it, which matters for concurrency.
LONGEST_INVOCATION_S = 960
BUSY_TIMEOUT_S = 10.0
FLUSH_TIMEOUT_S = 10.0
# Rows per INSERT statement: 60 × 15 columns stays under 999, the fewest variables any SQLite allows.
ROWS_PER_INSERT = 60
# Records gather this long before the writer inserts them (flush and close do not wait for it).
BATCH_WINDOW_S = 0.05
# The file's `PRAGMA user_version` once the schema below is in place: opening a file that has it
# reads one header field instead of taking the write lock for CREATE ... IF NOT EXISTS.
SCHEMA_VERSION = 1

_COLUMNS = (
    "time",
    "function",
    "request_id",
    "source",
    "status_code",
    "duration_ms",
    "billed_duration_ms",
    "init_duration_ms",
    "memory_size_mb",
    "max_memory_used_mb",
    "cold",
    "error_type",
    "function_error",
    "cost_usd",
    "architecture",
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS invocations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    time REAL NOT NULL,              -- epoch seconds: when the invoke started
    function TEXT NOT NULL,
    request_id TEXT NOT NULL,
    source TEXT,                     -- console, cli, http, schedule, s3, sqs, api, api-async, ...
    status_code INTEGER NOT NULL,    -- 429: throttled
    duration_ms REAL,                -- NULL when the figures are unknown (no REPORT line)
    billed_duration_ms INTEGER,
    init_duration_ms REAL,           -- cold starts only
    memory_size_mb INTEGER,
    max_memory_used_mb INTEGER,
    cold INTEGER NOT NULL DEFAULT 0,
    error_type TEXT,
    function_error TEXT,             -- "Unhandled" when the function failed
    cost_usd REAL NOT NULL DEFAULT 0,
    architecture TEXT
);
CREATE INDEX IF NOT EXISTS invocations_function_time ON invocations (function, time);
CREATE INDEX IF NOT EXISTS invocations_time ON invocations (time);
"""


@dataclass(frozen=True)
class Row:
    """One recorded invocation."""

    time: float
    function: str
    request_id: str
    source: str | None
    status_code: int
    duration_ms: float | None
    billed_duration_ms: int | None
    init_duration_ms: float | None
    memory_size_mb: int | None
    max_memory_used_mb: int | None
    cold: bool
    error_type: str | None
    function_error: str | None
    cost_usd: float
    architecture: str | None

    @property
    def throttled(self) -> bool:
        return self.status_code == 429

    @property
    def error(self) -> bool:
        """A function error (Lambda's Errors metric); a throttle is not one."""
        return not self.throttled and self.function_error is not None

    @property
    def end(self) -> float:
        """When the invocation finished (epoch s): its start plus init and duration."""
        return self.time + ((self.init_duration_ms or 0.0) + (self.duration_ms or 0.0)) / 1000.0


def row_values(result: InvokeResult, source: str | None, architecture: str = "x86_64", at: float | None = None) -> tuple[Any, ...]:
    """The `invocations` columns of one result, in `_COLUMNS` order."""
    throttled = result.status_code == 429
    error_type = result.error_type or ((result.error or {}).get("type") if result.error else None)
    started = at if at is not None else (result.started_at or time.time())
    known = result.has_figures and not throttled
    return (
        float(started),
        result.function,
        result.request_id or "",
        source,
        int(result.status_code),
        float(result.duration_ms) if known else None,
        int(result.billed_duration_ms) if known else None,
        float(result.init_duration_ms) if known and result.init_duration_ms is not None else None,
        int(result.memory_size_mb) if result.memory_size_mb else None,
        int(result.max_memory_used_mb) if known else None,
        1 if (result.cold_start and not throttled) else 0,
        error_type,
        result.function_error,
        float(result.cost_usd or 0.0) if known else 0.0,
        architecture,
    )


def max_concurrency(intervals: Iterable[tuple[float, float]]) -> int:
    """The largest number of [start, end) intervals open at one instant (touching ones do not overlap)."""
    peak = 0
    for _, count, _ in _segments(intervals):
        peak = max(peak, count)
    return peak


def _segments(intervals: Iterable[tuple[float, float]]) -> Iterator[tuple[float, int, float]]:
    """(from, count, to): the number of open intervals over each stretch between two events."""
    events: list[tuple[float, int]] = []
    for start, end in intervals:
        end = max(end, start + 1e-6)  # a run of no known length still ran, for an instant
        events.append((start, 1))
        events.append((end, -1))
    events.sort()  # at equal times, ends (-1) before starts (+1)
    count = 0
    previous: float | None = None
    for t, delta in events:
        if previous is not None and t > previous and count > 0:
            yield previous, count, t
        count += delta
        previous = t


class History:
    """The invocations recorded in `db_path`; safe to share between threads and processes."""

    def __init__(self, db_path: Path, *, max_age_days: float | None = 30, max_rows: int | None = 200_000) -> None:
        self.db_path = Path(db_path)
        self.max_age_days = max_age_days
        self.max_rows = max_rows
        self.db_path.parent.mkdir(parents=True, exist_ok=True)
        # Rows to insert, flush markers (set once what came before is written), None to stop.
        self._queue: queue.SimpleQueue[tuple[Any, ...] | threading.Event | None] = queue.SimpleQueue()
        self._hurry = threading.Event()  # set: someone waits (flush, close), write without gathering more
        self._closed = False
        self._close_lock = threading.Lock()
        self._read_lock = threading.Lock()
        self._reader: sqlite3.Connection | None = None
        self._since_prune = 0
        # Opened here, not in the writer, so a file that is not a database fails the constructor.
        self._writer = self._connect()
        try:
            self._create_schema()
        except BaseException:
            self._writer.close()
            raise
        self._thread = threading.Thread(target=self._write_loop, name="lambdatui-history", daemon=True)
        self._thread.start()
        ref = weakref.ref(self)

        def at_exit() -> None:  # holds a weak reference only: the history may still be collected
            h = ref()
            if h is not None:
                h.close()

        self._at_exit = at_exit
        atexit.register(self._at_exit)

    # -- writing -----------------------------------------------------------------------------

    def record(self, result: InvokeResult, source: str | None, architecture: str = "x86_64") -> None:
        """Queue one invocation for writing (returns at once; see `flush`). Dropped after `close`."""
        if self._closed:
            return
        self._queue.put(row_values(result, source, architecture))

    def flush(self, timeout: float = FLUSH_TIMEOUT_S) -> bool:
        """Wait until everything queued so far is written; False if that took over `timeout`."""
        if not self._thread.is_alive():
            return True
        done = threading.Event()
        self._queue.put(done)
        self._hurry.set()  # after the put: the writer clears it before it drains (see _write_loop)
        return done.wait(timeout)

    def close(self) -> None:
        """Write what is queued, stop the writer and close the file. Idempotent."""
        with self._close_lock:
            if self._closed:
                return
            self._closed = True
        self._queue.put(None)
        self._hurry.set()
        self._thread.join(FLUSH_TIMEOUT_S)
        with self._read_lock:
            if self._reader is not None:
                self._reader.close()
                self._reader = None
        try:
            atexit.unregister(self._at_exit)
        except Exception:  # pragma: no cover - interpreter shutting down
            pass

    def __enter__(self) -> History:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def prune(self, now: float | None = None) -> int:
        """Delete rows older than `max_age_days`, then the oldest beyond `max_rows`: how many went."""
        self.flush()
        with self._read_lock:
            connection = self._reader_connection()
            return self._prune(connection, now)

    def _prune(self, connection: sqlite3.Connection, now: float | None = None) -> int:
        now = time.time() if now is None else now
        cutoff = None if self.max_age_days is None else now - self.max_age_days * DAY_S
        if not self._may_need_pruning(connection, cutoff):
            return 0
        deleted = 0
        with self._tx(connection) as c:
            if cutoff is not None:
                deleted += c.execute("DELETE FROM invocations WHERE time < ?", (cutoff,)).rowcount
            if self.max_rows is not None:
                (count,) = c.execute("SELECT count(*) FROM invocations").fetchone()
                excess = count - self.max_rows
                if excess > 0:
                    deleted += c.execute(
                        "DELETE FROM invocations WHERE id IN "
                        "(SELECT id FROM invocations ORDER BY time, id LIMIT ?)",
                        (excess,),
                    ).rowcount
        return deleted

    def _may_need_pruning(self, connection: sqlite3.Connection, cutoff: float | None) -> bool:
        """Whether a row may be older than `cutoff` or beyond `max_rows`, from two index look-ups
        (no count, no write lock): ids only grow, so max(id) - min(id) + 1 bounds the row count."""
        oldest, lowest, highest = connection.execute(
            "SELECT (SELECT min(time) FROM invocations), (SELECT min(id) FROM invocations), (SELECT max(id) FROM invocations)"
        ).fetchone()
        if oldest is None:
            return False  # empty
        if cutoff is not None and oldest < cutoff:
            return True
        return self.max_rows is not None and highest - lowest + 1 > self.max_rows

    def _create_schema(self) -> None:
        (version,) = self._writer.execute("PRAGMA user_version").fetchone()
        if version >= SCHEMA_VERSION:
            return
        with self._write_tx() as c:
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    c.execute(statement)
            c.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _connect(self) -> sqlite3.Connection:
        connection = sqlite3.connect(
            str(self.db_path), timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
        )
        try:
            connection.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
            _while_locked(lambda: connection.execute("PRAGMA journal_mode = WAL"))
            connection.execute("PRAGMA synchronous = NORMAL")  # WAL: durable across a crash of the process
        except BaseException:
            connection.close()
            raise
        return connection

    def _write_tx(self) -> _Transaction:
        return self._tx(self._writer)

    @staticmethod
    def _tx(connection: sqlite3.Connection) -> _Transaction:
        return _Transaction(connection)

    def _write_loop(self) -> None:
        try:
            self._prune(self._writer)
        except sqlite3.Error as e:
            log.warning("history: pruning %s failed: %s", self.db_path, e)
        stop = False
        while not stop:
            item = self._queue.get()  # asleep until something is queued
            if isinstance(item, tuple):
                # A record: let the ones that follow it gather for one transaction, unless a
                # flush or close is waiting.
                self._hurry.wait(BATCH_WINDOW_S)
            # Cleared before draining: a flush that put its marker before this line is drained now;
            # one that puts it after sets the flag again, and the next round does not wait.
            self._hurry.clear()
            rows: list[tuple[Any, ...]] = []
            markers: list[threading.Event] = []
            while True:
                if item is None:
                    stop = True
                elif isinstance(item, threading.Event):
                    markers.append(item)
                else:
                    rows.append(item)
                if stop:
                    break
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
            if rows:
                self._insert(rows)
            for marker in markers:
                marker.set()
        self._writer.close()

    def _insert(self, rows: list[tuple[Any, ...]]) -> None:
        try:
            with self._write_tx() as c:
                for k in range(0, len(rows), ROWS_PER_INSERT):
                    chunk = rows[k : k + ROWS_PER_INSERT]
                    c.execute(_insert_statement(len(chunk)), [v for row in chunk for v in row])
        except sqlite3.Error as e:  # history is a convenience: it never fails an invocation
            log.warning("history: %d invocation(s) not recorded in %s: %s", len(rows), self.db_path, e)
            return
        self._since_prune += len(rows)
        if self._since_prune >= PRUNE_EVERY:
            self._since_prune = 0
            try:
                self._prune(self._writer)
            except sqlite3.Error as e:
                log.warning("history: pruning %s failed: %s", self.db_path, e)

    # -- reading -----------------------------------------------------------------------------

    def _reader_connection(self) -> sqlite3.Connection:
        if self._reader is None:
            if self._closed:
                raise sqlite3.ProgrammingError("the history is closed")
            self._reader = self._connect()
        return self._reader

    def _select(self, where: str, params: tuple[Any, ...]) -> list[Row]:
        self.flush()
        with self._read_lock:
            cursor = self._reader_connection().execute(
                f"SELECT {', '.join(_COLUMNS)} FROM invocations WHERE {where} ORDER BY time, id", params
            )
            return [_row(values) for values in cursor.fetchall()]

    def query(self, function: str | None, since: float, until: float | None = None) -> list[Row]:
        """Rows of `function` (None: every function) started in [since, until), oldest first."""
        clauses: list[str] = ["time >= ?"]
        params: list[float | str] = [float(since)]
        if until is not None:
            clauses.append("time < ?")
            params.append(float(until))
        if function is not None:
            clauses.append("function = ?")
            params.append(function)
        return self._select(" AND ".join(clauses), tuple(params))

    def latest_id(self) -> int:
        """The id of the newest recorded row (0 when there is none), whichever process wrote it:
        one index lookup, cheap enough to poll (the dashboard does, twice a second)."""
        with self._read_lock:
            # Not flushed first: this asks what is on disk, and our own queued rows are known to us.
            value = self._reader_connection().execute("SELECT MAX(id) FROM invocations").fetchone()[0]
        return int(value or 0)

    def rows_after(self, row_id: int, limit: int = 500) -> tuple[int, list[Row]]:
        """Rows recorded after `row_id` by any process (oldest first, at most `limit`), and the id
        to ask after next time."""
        with self._read_lock:
            cursor = self._reader_connection().execute(
                f"SELECT id, {', '.join(_COLUMNS)} FROM invocations WHERE id > ? ORDER BY id LIMIT ?", (row_id, limit)
            )
            fetched = cursor.fetchall()
        if not fetched:
            return row_id, []
        return int(fetched[-1][0]), [_row(values[1:]) for values in fetched]

    def latest_per_function(self) -> list[Row]:
        """Each function's most recent invocation (the dashboard's Last column after a restart)."""
        with self._read_lock:
            cursor = self._reader_connection().execute(
                f"SELECT {', '.join(_COLUMNS)} FROM invocations WHERE id IN (SELECT MAX(id) FROM invocations GROUP BY function)"
            )
            return [_row(values) for values in cursor.fetchall()]

    def functions(self) -> list[str]:
        """The names of the functions with recorded invocations."""
        self.flush()
        with self._read_lock:
            return [r[0] for r in self._reader_connection().execute("SELECT DISTINCT function FROM invocations ORDER BY 1")]

    def summary(
        self,
        function: str,
        since: float,
        until: float | None = None,
        memory_size: int | None = None,
        architecture: str | None = None,
    ) -> dict[str, Any]:
        """Figures of `function` over [since, until) (until: now); see the module docstring.

        `memory_size` / `architecture` (the function's current settings) price the projection;
        without them, those of the latest invocation in the window are used.
        """
        until_t = time.time() if until is None else float(until)
        rows = self.query(function, since, until_t)
        window = max(0.0, until_t - float(since))
        ran = [r for r in rows if not r.throttled]
        with_figures = [r for r in ran if r.duration_ms is not None]
        durations = [r.duration_ms for r in ran if r.duration_ms is not None]  # those of with_figures
        cold = [r for r in ran if r.cold]
        inits = [r.init_duration_ms for r in cold if r.init_duration_ms is not None]
        used = [r.max_memory_used_mb for r in with_figures if r.max_memory_used_mb]
        latest = rows[-1] if rows else None
        size = memory_size if memory_size is not None else (latest.memory_size_mb if latest else None)
        arch = architecture or (latest.architecture if latest and latest.architecture else "x86_64")
        invocations = len(ran)
        projected = projected_free = None
        if window > 0:
            billed = [r.billed_duration_ms for r in with_figures if r.billed_duration_ms is not None]
            average_billed = sum(billed) / len(billed) if billed else 0.0
            projected, projected_free = figures.monthly_projection(invocations, window, average_billed, size or 0, arch)
        by_source: dict[str, int] = {}
        for r in rows:
            by_source[r.source or "unknown"] = by_source.get(r.source or "unknown", 0) + 1
        return {
            "invocations": invocations,
            "errors": sum(1 for r in ran if r.error),
            "throttles": len(rows) - invocations,
            "cold_starts": len(cold),
            "cold_start_rate": len(cold) / invocations if invocations else None,
            "avg_init_ms": sum(inits) / len(inits) if inits else None,
            "duration_p50": figures.percentile(durations, 50),
            "duration_p90": figures.percentile(durations, 90),
            "duration_p99": figures.percentile(durations, 99),
            "memory_max_mb": max(used) if used else None,
            "memory_avg_mb": sum(used) / len(used) if used else None,
            "memory_size_mb": size,
            "concurrent_executions": max_concurrency((r.time, r.end) for r in ran),
            "cost_usd": sum(r.cost_usd for r in rows),
            "projected_monthly_usd": projected,
            "projected_monthly_usd_no_free_tier": projected_free,
            "by_source": dict(sorted(by_source.items())),
            "window_seconds": window,
        }

    def series(self, function: str, start: float, end: float, period: int = 60) -> FunctionMetrics:
        """`function`'s metrics over [start, end) in buckets of `period` s, as CloudWatch's.

        The window is aligned to the period (start rounded down, end up). Every bucket has a point for
        invocations, errors, throttles (sums, by start time) and concurrent executions (the most
        invocations running at one instant in the bucket, from their start and init + duration);
        the duration percentiles have points only for buckets with durations.
        """

        if not isinstance(period, int) or isinstance(period, bool) or period < 1:
            raise ValueError(f"the metrics period must be a whole number of seconds, not {period!r}")
        if not end > start:
            raise ValueError("the end of the metrics window must be after its start")
        lo = math.floor(start / period) * period
        hi = max(math.ceil(end / period) * period, lo + period)
        n = (hi - lo) // period
        if n > MAX_BUCKETS:
            raise ValueError(f"{n} buckets of {period} s is more than {MAX_BUCKETS}: choose a longer period")
        rows = self.query(function, lo - LONGEST_INVOCATION_S, hi)
        invocations, errors, throttles, concurrency = [0.0] * n, [0.0] * n, [0.0] * n, [0.0] * n
        durations: list[list[float]] = [[] for _ in range(n)]
        window_durations: list[float] = []
        for r in rows:
            if r.time < lo:
                continue
            k = min(n - 1, int((r.time - lo) // period))
            if r.throttled:
                throttles[k] += 1
                continue
            invocations[k] += 1
            if r.error:
                errors[k] += 1
            if r.duration_ms is not None:
                durations[k].append(r.duration_ms)
                window_durations.append(r.duration_ms)
        for a, count, b in _segments((r.time, r.end) for r in rows if not r.throttled):
            a, b = max(a, lo), min(b, hi)
            if b <= a:
                continue
            first = int((a - lo) // period)
            last = min(n - 1, math.ceil((b - lo) / period) - 1)
            for k in range(first, last + 1):
                if count > concurrency[k]:
                    concurrency[k] = float(count)
        stamps = [float(lo + k * period) for k in range(n)]

        def full(values: list[float]) -> MetricSeries:
            return MetricSeries(timestamps=list(stamps), values=values)

        def percentiles(p: float) -> MetricSeries:
            points = [(stamps[k], v) for k, d in enumerate(durations) if d and (v := figures.percentile(d, p)) is not None]
            return MetricSeries(timestamps=[t for t, _ in points], values=[v for _, v in points])

        return FunctionMetrics(
            function=function,
            start=float(lo),
            end=float(hi),
            period=period,
            invocations=full(invocations),
            errors=full(errors),
            throttles=full(throttles),
            duration_p50=percentiles(50),
            duration_p99=percentiles(99),
            concurrent_executions=full(concurrency),
            duration_p50_window=figures.percentile(window_durations, 50),
            duration_p99_window=figures.percentile(window_durations, 99),
        )


@functools.lru_cache(maxsize=ROWS_PER_INSERT)
def _insert_statement(rows: int) -> str:
    """INSERT of `rows` rows in one statement: SQLite lets go of the GIL around each step, and a
    step per row handed it to the invoking threads and back hundreds of times per batch."""
    one = "(" + ", ".join("?" * len(_COLUMNS)) + ")"
    return f"INSERT INTO invocations ({', '.join(_COLUMNS)}) VALUES {', '.join([one] * rows)}"


def _while_locked(statement: Callable[[], object], timeout: float = BUSY_TIMEOUT_S) -> None:
    """Run `statement`, again while SQLite says the database is locked, for up to `timeout` s.

    Turning WAL on needs an exclusive lock, and SQLite answers SQLITE_BUSY at once, without waiting
    out busy_timeout, when two connections that both read the file try to take it (it would
    otherwise deadlock): two processes opening a new history at the same moment did that.
    """
    deadline = time.monotonic() + timeout
    delay = 0.005
    while True:
        try:
            statement()
            return
        except sqlite3.OperationalError as e:
            if "locked" not in str(e) and "busy" not in str(e) or time.monotonic() > deadline:
                raise
        time.sleep(delay)
        delay = min(delay * 2, 0.2)


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT (ROLLBACK on an exception): a write lock taken up front."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection

    def __enter__(self) -> sqlite3.Connection:
        self.connection.execute("BEGIN IMMEDIATE")
        return self.connection

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None) -> None:
        self.connection.execute("ROLLBACK" if kind is not None else "COMMIT")


def _row(values: tuple[Any, ...]) -> Row:
    d = dict(zip(_COLUMNS, values))
    d["cold"] = bool(d["cold"])
    return Row(**d)


__all__ = [
    "DEFAULT_SOURCE",
    "HISTORY_FILE_NAME",
    "History",
    "Row",
    "max_concurrency",
    "row_values",
]
