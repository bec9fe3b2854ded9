"""SQS trigger: a durable local queue in SQLite, and a poller that feeds it to a function as Lambda's
SQS event source mapping does.

`QueueStore` keeps every queue in one SQLite file (WAL mode, `synchronous=FULL`), so a message sent
with `lambdatui send-message` while `serve` is down waits for it, and several processes may use the
file at once (one writer at a time; readers never block). Receiving is one transaction: the
messages become invisible until now + visibility timeout, their receive count goes up, and each
receive hands out a new receipt handle; only the current handle deletes a message.

`SqsPoller` receives up to `batch_size` messages (waiting up to `maximum_batching_window` seconds
to fill the batch), invokes the function with SQS's event shape and then:
- success: deletes the batch. When the response is `{"batchItemFailures": [{"itemIdentifier":
  messageId}, ...]}` (`ReportBatchItemFailures`) only the messages not listed are deleted; an empty
  or null list means all succeeded, a malformed one (not a list, an item without a known
  `itemIdentifier`) fails the whole batch, as Lambda does;
- function error, throttle or backend failure: deletes nothing; the messages come back once their
  visibility timeout ends, with `ApproximateReceiveCount` one higher.
A message is deleted only after the function succeeded, so a crash mid-batch loses nothing.
With `max_receive_count`, a message that has been received that many times is moved to
`dead_letter_queue` (another queue in the same store) instead of being delivered again, as SQS's
redrive policy does; its receive count starts again from 0 there.

One batch at a time per poller (Lambda scales pollers out; locally, order and logs stay readable).
Messages are kept until deleted (no retention period).
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
import secrets
import sqlite3
import struct
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..model import QUEUE_NAME_PATTERN as QUEUE_NAME_PATTERN  # re-exported: the sqs trigger checks names with it

if TYPE_CHECKING:
    from .base import Invoker

log = logging.getLogger("lambdatui.serve")  # the runners log as part of `serve`, whose logger users configure

MAX_BODY_BYTES = 1024 * 1024  # SQS's message size limit (1 MiB since 2025; it was 256 KiB)
MAX_ATTRIBUTES = 10
MAX_INVOKE_PAYLOAD = 6 * 1024 * 1024  # Lambda's synchronous request limit: a batch is cut to fit
SENDER_ID = "AIDAIENQZJOLO23YVJ4VO"  # who sent it: the shape of an IAM user id, as SQS reports it
# The characters SQS accepts in a body: #x9 #xA #xD #x20-#xD7FF #xE000-#xFFFD #x10000-#x10FFFF
_INVALID_BODY_CHARS = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_ATTRIBUTE_NAME = re.compile(r"[A-Za-z0-9_.-]{1,256}")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    queue TEXT NOT NULL,
    message_id TEXT NOT NULL UNIQUE,
    body TEXT NOT NULL,
    attributes TEXT NOT NULL DEFAULT '{}',
    md5_of_body TEXT NOT NULL,
    sender_id TEXT NOT NULL,
    sent_timestamp INTEGER NOT NULL,
    visible_at INTEGER NOT NULL,
    receive_count INTEGER NOT NULL DEFAULT 0,
    first_receive_timestamp INTEGER,
    receipt_handle TEXT
);
CREATE INDEX IF NOT EXISTS messages_by_queue ON messages (queue, visible_at, id);
CREATE INDEX IF NOT EXISTS messages_by_handle ON messages (receipt_handle);
"""


def _now_ms() -> int:
    return int(time.time() * 1000)


def _md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def validate_queue_name(queue: str) -> str:
    if not isinstance(queue, str) or not QUEUE_NAME_PATTERN.fullmatch(queue):
        raise ValueError(f"queue name {queue!r}: 1-80 letters, digits, hyphens or underscores")
    return queue


def normalize_attributes(attributes: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    """Message attributes in the form Lambda's SQS event carries them (`messageAttributes`).

    Accepts plain values (str → String, int/float → Number, bytes → Binary), SQS API entries
    (`{"DataType": "String", "StringValue": "high"}`) or event entries (`{"dataType": ..., "stringValue": ...}`).
    """
    out: dict[str, dict[str, Any]] = {}
    if not attributes:
        return out
    if len(attributes) > MAX_ATTRIBUTES:
        raise ValueError(f"{len(attributes)} message attributes: SQS allows at most {MAX_ATTRIBUTES}")
    for name, value in attributes.items():
        if not _ATTRIBUTE_NAME.fullmatch(str(name)) or str(name).lower().startswith(("aws.", "amazon.")) \
                or ".." in name or name.startswith(".") or name.endswith("."):
            raise ValueError(f"message attribute name {name!r} is not valid in SQS")
        if isinstance(value, dict):
            lower = {k[:1].lower() + k[1:]: v for k, v in value.items()}
            data_type = lower.get("dataType")
            if not isinstance(data_type, str) or data_type.split(".", 1)[0] not in ("String", "Number", "Binary"):
                raise ValueError(f"message attribute {name!r}: dataType must be String, Number or Binary")
            if data_type.startswith("Binary"):
                raw = lower.get("binaryValue")
                if isinstance(raw, str):
                    raw = base64.b64decode(raw)
                if not isinstance(raw, (bytes, bytearray)):
                    raise ValueError(f"message attribute {name!r}: a Binary attribute needs binaryValue")
                out[name] = _binary_entry(bytes(raw), data_type)
            else:
                text = lower.get("stringValue")
                if text is None:
                    raise ValueError(f"message attribute {name!r}: a {data_type} attribute needs stringValue")
                out[name] = _string_entry(str(text), data_type)
        elif isinstance(value, bool):
            out[name] = _string_entry("true" if value else "false", "String")
        elif isinstance(value, (int, float)):
            out[name] = _string_entry(repr(value) if isinstance(value, float) else str(value), "Number")
        elif isinstance(value, (bytes, bytearray)):
            out[name] = _binary_entry(bytes(value), "Binary")
        else:
            out[name] = _string_entry(str(value), "String")
    return out


def _string_entry(text: str, data_type: str) -> dict[str, Any]:
    return {"stringValue": text, "stringListValues": [], "binaryListValues": [], "dataType": data_type}


def _binary_entry(data: bytes, data_type: str) -> dict[str, Any]:
    return {
        "binaryValue": base64.b64encode(data).decode("ascii"),
        "stringListValues": [],
        "binaryListValues": [],
        "dataType": data_type,
    }


def md5_of_message_attributes(attributes: dict[str, dict[str, Any]]) -> str | None:
    """SQS's digest of message attributes (names sorted; each length-prefixed field, 1 = string
    transport, 2 = binary); None when there are none."""
    if not attributes:
        return None

    def field_(data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + data

    buf = bytearray()
    for name in sorted(attributes):
        entry = attributes[name]
        buf += field_(name.encode("utf-8")) + field_(entry["dataType"].encode("utf-8"))
        if "binaryValue" in entry:
            buf += b"\x02" + field_(base64.b64decode(entry["binaryValue"]))
        else:
            buf += b"\x01" + field_(entry["stringValue"].encode("utf-8"))
    return _md5(bytes(buf))


def _receipt_handle(message_id: str) -> str:
    return "AQEB" + base64.b64encode(message_id.encode() + b"#" + secrets.token_bytes(96)).decode("ascii")


@dataclass
class Message:
    message_id: str
    receipt_handle: str
    body: str
    attributes: dict[str, Any] = field(default_factory=dict)  # message attributes, as the event's messageAttributes
    receive_count: int = 0
    sent_timestamp: int = 0  # epoch ms
    first_receive_timestamp: int | None = None  # epoch ms
    md5_of_body: str = ""
    queue: str = ""
    sender_id: str = SENDER_ID

    @property
    def md5_of_message_attributes(self) -> str | None:
        return md5_of_message_attributes(self.attributes)


class QueueStore:
    """Every local queue, in one SQLite file shared by the processes that send and receive."""

    def __init__(self, db_path: Path, *, timeout: float = 10.0) -> None:
        self.db_path = Path(db_path)
        self.db_path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(
            str(self.db_path), timeout=timeout, isolation_level=None, check_same_thread=False
        )
        self._conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
        self._conn.execute("PRAGMA journal_mode = WAL")
        self._conn.execute("PRAGMA synchronous = FULL")
        with self._tx() as c:
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    c.execute(statement)

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, taken at once (BEGIN IMMEDIATE) so it never fails half-way on a lock."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            else:
                self._conn.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> QueueStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- SQS operations ----------------------------------------------------------------------

    def send(
        self, queue: str, body: str, attributes: dict[str, Any] | None = None, *, sender_id: str = SENDER_ID
    ) -> str:
        """Enqueue a message; returns its MessageId (a UUID, as SQS's)."""
        validate_queue_name(queue)
        if not isinstance(body, str):
            raise ValueError("a message body is text")
        if not body:
            raise ValueError("a message body must not be empty")
        bad = _INVALID_BODY_CHARS.search(body)
        if bad:
            raise ValueError(f"the message body holds a character SQS refuses: {bad.group()!r}")
        data = body.encode("utf-8")
        attrs = normalize_attributes(attributes)
        size = len(data) + sum(len(n) + len(json.dumps(v)) for n, v in attrs.items())
        if size > MAX_BODY_BYTES:
            raise ValueError(f"the message is {size} bytes; SQS allows at most {MAX_BODY_BYTES}")
        message_id = str(uuid.uuid4())
        now = _now_ms()
        with self._tx() as c:
            c.execute(
                "INSERT INTO messages (queue, message_id, body, attributes, md5_of_body, sender_id, sent_timestamp, visible_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (queue, message_id, body, json.dumps(attrs), _md5(data), sender_id, now, now),
            )
        return message_id

    def receive(
        self,
        queue: str,
        max_messages: int = 1,
        visibility_timeout: float = 30.0,
        *,
        max_receive_count: int | None = None,
        dead_letter_queue: str | None = None,
        moved: list[str] | None = None,
    ) -> list[Message]:
        """Up to `max_messages` visible messages, oldest first, made invisible for `visibility_timeout`
        seconds. With `max_receive_count` and `dead_letter_queue`, visible messages already received
        that many times move to the dead-letter queue first (their ids appended to `moved`)."""
        if max_messages <= 0:
            return []
        now = _now_ms()
        until = now + int(round(max(0.0, visibility_timeout) * 1000))
        with self._tx() as c:
            if max_receive_count is not None and dead_letter_queue:
                rows = c.execute(
                    "SELECT id, message_id FROM messages WHERE queue = ? AND visible_at <= ? AND receive_count >= ?",
                    (queue, now, max_receive_count),
                ).fetchall()
                for row_id, message_id in rows:
                    self._redrive(c, row_id, dead_letter_queue, now)
                    if moved is not None:
                        moved.append(message_id)
            rows = c.execute(
                "SELECT id, message_id, body, attributes, md5_of_body, sender_id, sent_timestamp, receive_count,"
                " first_receive_timestamp FROM messages WHERE queue = ? AND visible_at <= ? ORDER BY id LIMIT ?",
                (queue, now, int(max_messages)),
            ).fetchall()
            out = []
            for row_id, message_id, body, attrs, md5, sender, sent, count, first in rows:
                handle = _receipt_handle(message_id)
                first = first if first is not None else now
                c.execute(
                    "UPDATE messages SET receipt_handle = ?, visible_at = ?, receive_count = ?,"
                    " first_receive_timestamp = ? WHERE id = ?",
                    (handle, until, count + 1, first, row_id),
                )
                out.append(Message(
                    message_id=message_id, receipt_handle=handle, body=body, attributes=json.loads(attrs),
                    receive_count=count + 1, sent_timestamp=sent, first_receive_timestamp=first,
                    md5_of_body=md5, queue=queue, sender_id=sender,
                ))
        return out

    def delete(self, queue: str, receipt_handle: str) -> bool:
        """Delete the message this receipt handle was issued for; False when the handle is not the
        message's current one (it was received again after its visibility timeout) or it is gone."""
        with self._tx() as c:
            cur = c.execute("DELETE FROM messages WHERE queue = ? AND receipt_handle = ?", (queue, receipt_handle))
            return cur.rowcount > 0

    def change_visibility(self, queue: str, receipt_handle: str, visibility_timeout: float) -> bool:
        """Make a received message visible again after `visibility_timeout` seconds from now (0: at once)."""
        until = _now_ms() + int(round(max(0.0, visibility_timeout) * 1000))
        with self._tx() as c:
            cur = c.execute(
                "UPDATE messages SET visible_at = ? WHERE queue = ? AND receipt_handle = ?",
                (until, queue, receipt_handle),
            )
            return cur.rowcount > 0

    def move_to_dlq(self, queue: str, receipt_handle: str, dead_letter_queue: str) -> bool:
        """Move a received message to `dead_letter_queue`, visible there at once with its receive
        count reset; keeps its MessageId, body, attributes and SentTimestamp."""
        validate_queue_name(dead_letter_queue)
        with self._tx() as c:
            row = c.execute(
                "SELECT id FROM messages WHERE queue = ? AND receipt_handle = ?", (queue, receipt_handle)
            ).fetchone()
            if row is None:
                return False
            self._redrive(c, row[0], dead_letter_queue, _now_ms())
            return True

    @staticmethod
    def _redrive(c: sqlite3.Connection, row_id: int, dead_letter_queue: str, now: int) -> None:
        c.execute(
            "UPDATE messages SET queue = ?, visible_at = ?, receive_count = 0, first_receive_timestamp = NULL,"
            " receipt_handle = NULL WHERE id = ?",
            (dead_letter_queue, now, row_id),
        )

    def depth(self, queue: str) -> tuple[int, int]:
        """(visible, in flight): messages waiting to be received, and received but not yet deleted."""
        now = _now_ms()
        with self._lock:
            row = self._conn.execute(
                "SELECT COALESCE(SUM(visible_at <= ?), 0), COALESCE(SUM(visible_at > ?), 0) FROM messages WHERE queue = ?",
                (now, now, queue),
            ).fetchone()
        return int(row[0]), int(row[1])

    def queues(self) -> list[str]:
        """The names of the queues holding messages."""
        with self._lock:
            return [r[0] for r in self._conn.execute("SELECT DISTINCT queue FROM messages ORDER BY queue")]

    def purge(self, queue: str) -> int:
        """Delete every message of `queue`; returns how many."""
        with self._tx() as c:
            return c.execute("DELETE FROM messages WHERE queue = ?", (queue,)).rowcount


# -- the event source mapping ----------------------------------------------------------------


def sqs_record(message: Message, *, queue: str, region: str = "us-east-1", account: str = "123456789012") -> dict[str, Any]:
    """One record of Lambda's SQS event, field for field."""
    record: dict[str, Any] = {
        "messageId": message.message_id,
        "receiptHandle": message.receipt_handle,
        "body": message.body,
        "attributes": {
            "ApproximateReceiveCount": str(message.receive_count),
            "SentTimestamp": str(message.sent_timestamp),
            "SenderId": message.sender_id,
            "ApproximateFirstReceiveTimestamp": str(message.first_receive_timestamp or message.sent_timestamp),
        },
        "messageAttributes": message.attributes,
    }
    md5_attrs = message.md5_of_message_attributes
    if md5_attrs:
        record["md5OfMessageAttributes"] = md5_attrs
    record.update({
        "md5OfBody": message.md5_of_body,
        "eventSource": "aws:sqs",
        "eventSourceARN": f"arn:aws:sqs:{region}:{account}:{queue}",
        "awsRegion": region,
    })
    return record


class BatchResponseError(ValueError):
    """A `batchItemFailures` response Lambda would not accept: the whole batch failed."""


def failed_item_ids(response: Any, batch_ids: set[str], *, strict: bool) -> set[str] | None:
    """The message ids a function reported as failed (ReportBatchItemFailures), or None when it
    reported none. Raises BatchResponseError for a malformed report.

    `strict` (ReportBatchItemFailures turned on): a response that is not null or an object is
    malformed. Otherwise only an object with a `batchItemFailures` key is read as a report."""
    if response is None:
        return None
    if not isinstance(response, dict):
        if strict:
            raise BatchResponseError(f"the response is not a batch item failures object: {str(response)[:100]}")
        return None
    if "batchItemFailures" not in response:
        return None
    items = response["batchItemFailures"]
    if items is None:
        return None
    if not isinstance(items, list):
        raise BatchResponseError("batchItemFailures is not a list")
    failed = set()
    for item in items:
        ident = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not isinstance(ident, str) or not ident:
            raise BatchResponseError(f"batchItemFailures item {item!r} has no itemIdentifier")
        if ident not in batch_ids:
            raise BatchResponseError(f"batchItemFailures names {ident!r}, not a message of the batch")
        failed.add(ident)
    return failed


class SqsPoller:
    """Polls one queue of a `QueueStore` and invokes `function` with batches, as Lambda's SQS
    event source mapping does.

    `report_batch_item_failures`: None (default) reads a `{"batchItemFailures": [...]}` response
    whenever the function returns one; True is Lambda's `ReportBatchItemFailures` (a response that
    is neither null nor an object fails the batch); False ignores the response.
    """

    def __init__(
        self,
        backend: Invoker,
        function: str,
        store: QueueStore,
        *,
        queue: str,
        batch_size: int = 10,
        maximum_batching_window: float = 0.0,
        visibility_timeout: float = 30.0,
        max_receive_count: int | None = None,
        dead_letter_queue: str | None = None,
        region: str = "us-east-1",
        account: str = "123456789012",
        poll_interval: float = 0.2,
        report_batch_item_failures: bool | None = None,
    ) -> None:
        self.backend = backend
        self.function = function
        self.store = store
        self.queue = validate_queue_name(queue)
        self.batch_size = max(1, int(batch_size))
        self.maximum_batching_window = max(0.0, float(maximum_batching_window or 0))
        self.visibility_timeout = max(0.0, float(visibility_timeout))
        self.max_receive_count = max_receive_count
        if max_receive_count is not None and not dead_letter_queue:
            # SQS's redrive policy always names a target; rather than drop messages, use QUEUE-dlq.
            dead_letter_queue = f"{queue}-dlq"
        self.dead_letter_queue = validate_queue_name(dead_letter_queue) if dead_letter_queue else None
        self.region = region
        self.account = str(account)
        self.poll_interval = max(0.01, float(poll_interval))
        self.report_batch_item_failures = report_batch_item_failures
        self.arn = f"arn:aws:sqs:{region}:{self.account}:{queue}"
        # Counters, for the console and tests.
        self.batches = 0  # invocations made
        self.deleted = 0  # messages deleted after success
        self.failed = 0  # batches that failed (function error, throttle, backend error, bad report)
        self.retried = 0  # messages left for redelivery
        self.dead_lettered = 0  # messages moved to the dead-letter queue
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        if self.max_receive_count is not None:
            log.info("SQS %s: after %d receives a message moves to %s", self.queue, self.max_receive_count, self.dead_letter_queue)
        self._thread = threading.Thread(target=self._loop, name=f"sqs-{self.queue}", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop polling; a batch being invoked finishes first (up to `timeout`). Undeleted messages
        stay in the store and return after their visibility timeout."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def status(self) -> str:
        visible, in_flight = self.store.depth(self.queue)
        return f"{visible} waiting, {in_flight} in flight"

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                delivered = self.poll_once()
            except Exception:
                log.exception("SQS %s → %s: polling failed", self.queue, self.function)
                delivered = False
            if not delivered:
                self._stop.wait(self.poll_interval)

    def _receive(self, n: int) -> list[Message]:
        moved: list[str] = []
        batch = self.store.receive(
            self.queue, n, self.visibility_timeout,
            max_receive_count=self.max_receive_count, dead_letter_queue=self.dead_letter_queue, moved=moved,
        )
        for message_id in moved:
            self.dead_lettered += 1
            log.warning(
                "SQS %s: message %s was received %d times; moved to %s",
                self.queue, message_id, self.max_receive_count, self.dead_letter_queue,
            )
        return batch

    def poll_once(self) -> bool:
        """One receive → invoke → delete cycle; False when the queue had nothing to deliver."""
        batch = self._receive(self.batch_size)
        if not batch:
            return False
        if self.maximum_batching_window > 0 and len(batch) < self.batch_size:
            deadline = time.monotonic() + self.maximum_batching_window
            while len(batch) < self.batch_size and not self._stop.is_set():
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._stop.wait(min(self.poll_interval, left))
                batch += self._receive(self.batch_size - len(batch))
        records = [sqs_record(m, queue=self.queue, region=self.region, account=self.account) for m in batch]
        batch, payload = self._fit(batch, records)
        self._deliver(batch, payload)
        return True

    def _fit(self, batch: list[Message], records: list[dict[str, Any]]) -> tuple[list[Message], bytes]:
        """Cut the batch to Lambda's 6 MB request limit; the messages cut are made visible again."""
        payload = json.dumps({"Records": records}).encode()
        while len(payload) > MAX_INVOKE_PAYLOAD and len(records) > 1:
            records.pop()
            extra = batch.pop()
            self.store.change_visibility(self.queue, extra.receipt_handle, 0)
            payload = json.dumps({"Records": records}).encode()
        return batch, payload

    def _deliver(self, batch: list[Message], payload: bytes) -> None:
        where = f"SQS {self.queue} → {self.function} ({len(batch)} message{'s' if len(batch) != 1 else ''})"
        self.batches += 1
        try:
            result = self.backend.invoke(self.function, payload, source="sqs")
        except Exception as e:
            return self._failed(batch, f"{where}: {e}")
        if result.status_code == 429 or result.error:
            reason = (result.error or {}).get("reason") or (result.error or {}).get("type") or "throttled"
            return self._failed(batch, f"{where}: throttled ({reason})")
        if result.function_error:
            return self._failed(batch, f"{where}: function error {result.error_type or result.function_error}: {error_message(result.payload)}")
        if result.status_code >= 300:
            return self._failed(batch, f"{where}: status {result.status_code}")
        failed: set[str] = set()
        if self.report_batch_item_failures is not False:
            strict = bool(self.report_batch_item_failures)
            try:
                response = json.loads(result.payload) if result.payload.strip() else None
            except ValueError:
                if strict:
                    return self._failed(batch, f"{where}: the response is not JSON; the whole batch failed")
                response = None
            try:
                failed = failed_item_ids(response, {m.message_id for m in batch}, strict=strict) or set()
            except BatchResponseError as e:
                return self._failed(batch, f"{where}: {e}; the whole batch failed")
        for m in batch:
            if m.message_id in failed:
                continue
            if self.store.delete(self.queue, m.receipt_handle):
                self.deleted += 1
            else:
                log.warning(
                    "SQS %s: message %s outlived its visibility timeout (%.0f s) and was received again; "
                    "it will be delivered again", self.queue, m.message_id, self.visibility_timeout,
                )
        if failed:
            self.retried += len(failed)
            log.warning("%s: %d reported as failed; they return after the visibility timeout", where, len(failed))
        else:
            log.info("%s: ok", where)

    def _failed(self, batch: list[Message], message: str) -> None:
        self.failed += 1
        self.retried += len(batch)
        log.warning("%s; the messages return after the visibility timeout (%g s)", message, self.visibility_timeout)


def error_message(payload: bytes) -> str:
    """A failed invocation's errorMessage (or its payload), cut to one short line's 200 characters."""
    try:
        body = json.loads(payload)
    except ValueError:
        return payload.decode("utf-8", "replace")[:200]
    if isinstance(body, dict) and "errorMessage" in body:
        return str(body["errorMessage"])[:200]
    return str(body)[:200]
