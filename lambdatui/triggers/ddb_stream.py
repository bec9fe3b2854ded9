"""DynamoDB stream trigger: reads a table's stream in the embedded AWS services and invokes a
function with batches of its records, as Lambda's DynamoDB event source mapping does.

The reading is the Streams API's: DescribeTable gives the table's LatestStreamArn, DescribeStream
its shards, GetShardIterator starts each shard at `starting_position` (LATEST / TRIM_HORIZON) or,
once a batch was handled, AFTER_SEQUENCE_NUMBER of the checkpoint, and GetRecords reads on. Shards
are read four times a second when idle (Lambda's documented base rate), each in order; a batch is
up to `batch_size` records, gathered for up to `maximum_batching_window_seconds`, and cut to
Lambda's 6 MB request limit.

The function is invoked synchronously (`source="dynamodb"`, so the history records it) with the
event Lambda sends: `{"Records": [...]}`, each record `eventID`, `eventName` (INSERT / MODIFY /
REMOVE), `eventVersion` "1.1", `eventSource` "aws:dynamodb", `awsRegion`, `dynamodb`
(ApproximateCreationDateTime in epoch seconds, Keys, NewImage / OldImage as the stream's
StreamViewType gives them, SequenceNumber, SizeBytes, StreamViewType) and `eventSourceARN`, the
stream's ARN.

After an invocation, as Lambda does:
- success: the shard's checkpoint moves past the batch. A `{"batchItemFailures": [{"itemIdentifier":
  SequenceNumber}]}` response (ReportBatchItemFailures) checkpoints the records before the lowest
  failed sequence number and retries from it; a malformed one fails the whole batch;
- function error, throttle, failed invoke: the batch is retried, with a growing delay, until
  `maximum_retry_attempts` (-1: for ever; the records would expire after 24 h in AWS, never here).
  With `bisect_batch_on_function_error` a failed batch is split in two and each half retried
  (splitting does not use up retries, as AWS documents). Once retries are exhausted the batch is
  skipped and, with `on_failure` (a queue of the embedded services), the invocation record Lambda
  sends to an on-failure destination (`DDBStreamBatchInfo`, `condition: RetryAttemptsExhausted`)
  is sent there; the skipped records are told in the function's log either way.
Records that match none of `filter_patterns` are dropped and never retried (Lambda's filtering).

Checkpoints are kept in `<state dir>/dynamodb-streams/<function>--<table>.json`, by stream ARN and
shard, written whole under a file lock, so a restarted `serve` resumes after the last record
handled (a table made again, e.g. by `aws-services reset`, has a new stream: it starts at
`starting_position`). Delivery is at least once: a batch interrupted by a stop is delivered again.

A failed poll (the table missing, no stream on it, the services down) is told in one line of the
function's log, not again while it keeps failing the same way, and once more when reading works.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..filelock import lock_file, temp_file
from .event_filter import EventFilter
from .poll_report import PollReporter, describe_error
from .sqs_queue import MAX_INVOKE_PAYLOAD, BatchResponseError, error_message, failed_item_ids

if TYPE_CHECKING:
    from .base import AwsServices, Invoker

log = logging.getLogger("lambdatui.serve")  # the runners log as part of `serve`, whose logger users configure

EVENT_VERSION = "1.1"  # what Lambda's DynamoDB events carry (GetRecords itself says 1.0 or 1.1)
POLL_INTERVAL_S = 0.25  # Lambda reads each shard four times a second
DESCRIBE_EVERY_S = 5.0  # shards and the stream itself are looked up again this often
RETRY_FIRST_S = 0.5  # a failed batch is retried after this, doubling up to RETRY_MAX_S
RETRY_MAX_S = 10.0
GET_RECORDS_LIMIT = 1000  # the Streams API's GetRecords maximum


def _attribute_value(value: dict[str, Any]) -> dict[str, Any]:
    """An attribute value as JSON carries it: boto3 decodes binary (B, BS) to bytes; the event has base64."""
    (kind, inner), = value.items()
    if kind == "B":
        return {"B": base64.b64encode(inner).decode("ascii")}
    if kind == "BS":
        return {"BS": [base64.b64encode(b).decode("ascii") for b in inner]}
    if kind == "M":
        return {"M": {k: _attribute_value(v) for k, v in inner.items()}}
    if kind == "L":
        return {"L": [_attribute_value(v) for v in inner]}
    return {kind: inner}


def _image(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _attribute_value(v) for k, v in item.items()}


def _epoch(value: Any) -> int:
    if isinstance(value, datetime):
        return int(value.timestamp())
    return int(float(value))


def stream_record(raw: dict[str, Any], *, stream_arn: str, region: str) -> dict[str, Any]:
    """One record of Lambda's DynamoDB event, from a GetRecords record (as boto3 returns it)."""
    d = raw["dynamodb"]
    body: dict[str, Any] = {}
    if "ApproximateCreationDateTime" in d:
        body["ApproximateCreationDateTime"] = _epoch(d["ApproximateCreationDateTime"])
    body["Keys"] = _image(d.get("Keys", {}))
    if "NewImage" in d:
        body["NewImage"] = _image(d["NewImage"])
    if "OldImage" in d:
        body["OldImage"] = _image(d["OldImage"])
    body["SequenceNumber"] = d["SequenceNumber"]
    body["SizeBytes"] = d.get("SizeBytes", 0)
    body["StreamViewType"] = d.get("StreamViewType", "")
    record: dict[str, Any] = {
        "eventID": raw.get("eventID") or uuid.uuid4().hex,
        "eventName": raw["eventName"],
        "eventVersion": EVENT_VERSION,
        "eventSource": "aws:dynamodb",
        "awsRegion": region,
        "dynamodb": body,
        "eventSourceARN": stream_arn,
    }
    if raw.get("userIdentity"):  # TTL deletions carry who removed the item
        ui = raw["userIdentity"]
        record["userIdentity"] = {"type": ui.get("Type"), "principalId": ui.get("PrincipalId")}
    return record


def _seq(record: dict[str, Any]) -> int:
    return int(record["dynamodb"]["SequenceNumber"])


# -- checkpoints -----------------------------------------------------------------------------


class Checkpoints:
    """The last sequence number handled per stream and shard, in one JSON file that several
    processes may share (read-modify-write under `lock_file`, replaced whole)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def _ensure(self) -> None:
        if self.path.exists():
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return
        with os.fdopen(fd, "w") as f:
            f.write("{}")

    def _read(self) -> dict[str, dict[str, str]]:
        try:
            data = json.loads(self.path.read_text() or "{}")
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def get(self, stream_arn: str, shard_id: str) -> str | None:
        value = self._read().get(stream_arn, {}).get(shard_id)
        return value if isinstance(value, str) else None

    def set(self, stream_arn: str, shard_id: str, sequence_number: str) -> None:
        self._ensure()
        with lock_file(self.path):
            data = self._read()
            shards = data.setdefault(stream_arn, {})
            old = shards.get(shard_id)
            if old is not None and int(old) >= int(sequence_number):
                return  # another process already went further: never go back
            shards[shard_id] = sequence_number
            fd, name = temp_file(self.path.parent, f".{self.path.name}.")
            try:
                with os.fdopen(fd, "w") as f:
                    json.dump(data, f, indent=1, sort_keys=True)
                    f.flush()
                    os.fsync(f.fileno())
                os.replace(name, self.path)
            except BaseException:
                if os.path.exists(name):
                    os.unlink(name)
                raise


def checkpoint_path(state_dir: Path, function: str, table: str) -> Path:
    return Path(state_dir) / "dynamodb-streams" / f"{function}--{table}.json"


# -- the event source mapping ----------------------------------------------------------------


class _Stopped(Exception):
    """Raised inside a delivery when the poller stops: the batch is not checkpointed."""


@dataclass
class _Shard:
    shard_id: str
    iterator: str | None = None
    pending: list[dict[str, Any]] = field(default_factory=list)  # event records read, not yet delivered
    first_pending_at: float = 0.0  # when the oldest pending record was read (the batching window)
    read_to: str | None = None  # the last sequence number read (filtered-out records included)
    closed: bool = False  # no NextShardIterator: the shard has ended


@dataclass
class Outcome:
    ok: bool
    failed_from: int = 0  # with not ok: the index of the first record to retry (batch item failures)
    reason: str = ""
    function_error: str | None = None
    status_code: int = 200


class StreamPoller:
    """Reads the stream of `table` and invokes `function` with its records (see the module docstring)."""

    def __init__(
        self,
        backend: Invoker,
        function: str,
        services: AwsServices,
        *,
        table: str,
        checkpoints: Checkpoints,
        starting_position: str = "LATEST",
        batch_size: int = 100,
        maximum_batching_window: float = 0.0,
        filter_patterns: Sequence[dict[str, Any]] = (),
        bisect_batch_on_function_error: bool = False,
        maximum_retry_attempts: int = -1,
        on_failure: str | None = None,
        region: str | None = None,
        account: str = "123456789012",
        function_log: Callable[[str], None] | None = None,
        poll_interval: float = POLL_INTERVAL_S,
        retry_first: float = RETRY_FIRST_S,
    ) -> None:
        self.backend = backend
        self.function = function
        self.services = services
        self.table = table
        self.checkpoints = checkpoints
        self.starting_position = starting_position
        self.batch_size = max(1, int(batch_size))
        self.maximum_batching_window = max(0.0, float(maximum_batching_window))
        self.filter = EventFilter(filter_patterns)
        self.bisect = bisect_batch_on_function_error
        self.maximum_retry_attempts = int(maximum_retry_attempts)
        self.on_failure = on_failure
        self.region = region or services.region
        self.account = str(account)
        self.poll_interval = max(0.01, float(poll_interval))
        self.retry_first = max(0.0, float(retry_first))
        # Counters, for the serve line and tests.
        self.delivered = 0  # records the function handled (not counting those skipped after retries)
        self.invocations = 0
        self.skipped = 0  # records given up on after maximum_retry_attempts
        self.filtered = 0  # records that matched no filter pattern
        self.position: str | None = None  # the last sequence number checkpointed
        self.stream_arn: str | None = None
        self._shards: dict[str, _Shard] = {}
        self._described_at = 0.0
        self.report = PollReporter(
            f"DynamoDB stream of {table}", function, function_log,
            retrying=f"trying again every {self.poll_interval:g} s", recovered="reading the stream again",
        )
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._ddb: Any = None
        self._streams: Any = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name=f"ddb-stream-{self.table}", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop reading; a batch being invoked finishes first (up to `timeout`), one waiting for a
        retry is left for the next start."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def status(self) -> str:
        n = self.delivered
        at = f", at {self.position}" if self.position else ""
        failing = f"; failing: {self.report.failing}" if self.report.failing else ""
        return f"{n} record{'s' if n != 1 else ''} delivered{at}{failing}"

    # -- telling of failures -----------------------------------------------------------------

    # -- reading -----------------------------------------------------------------------------

    def _clients(self) -> tuple[Any, Any]:
        if self._ddb is None:
            self._ddb = self.services.client("dynamodb")
            self._streams = self.services.client("dynamodbstreams")
        return self._ddb, self._streams

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                busy = self.poll_once()
            except _Stopped:
                return
            except Exception as e:
                self.report.failed(_describe_error(e, self.table))
                self._forget_iterators()
                busy = False
            if not busy:
                self._stop.wait(self.poll_interval)

    def _forget_iterators(self) -> None:
        """After a failed read: start each shard again from its checkpoint (what was read and not
        delivered is read again)."""
        for shard in self._shards.values():
            shard.iterator = None
            shard.pending.clear()
            shard.read_to = None
        self._described_at = 0.0

    def _describe(self) -> None:
        ddb, streams = self._clients()
        table = ddb.describe_table(TableName=self.table)["Table"]
        arn = table.get("LatestStreamArn")
        spec = table.get("StreamSpecification") or {}
        if not arn or spec.get("StreamEnabled") is False:
            raise _NoStream(f"table {self.table} has no stream (StreamSpecification: StreamEnabled, StreamViewType)")
        if arn != self.stream_arn:
            if self.stream_arn is not None:
                self.report.tell(logging.INFO, f"the table has a new stream ({arn}); reading it from {self.starting_position}")
            self.stream_arn = arn
            self._shards = {}
            self.position = None
        shards = streams.describe_stream(StreamArn=arn)["StreamDescription"].get("Shards", [])
        for s in shards:
            if s["ShardId"] not in self._shards:
                self._shards[s["ShardId"]] = _Shard(s["ShardId"])
        self._described_at = time.monotonic()

    def _iterator(self, shard: _Shard) -> str:
        _, streams = self._clients()
        assert self.stream_arn is not None
        done = self.checkpoints.get(self.stream_arn, shard.shard_id)
        if done is not None:
            self.position = self.position or done
            kw = {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": done}
        else:
            kw = {"ShardIteratorType": self.starting_position}
        out = streams.get_shard_iterator(StreamArn=self.stream_arn, ShardId=shard.shard_id, **kw)
        return str(out["ShardIterator"])

    def _read(self, shard: _Shard) -> None:
        """Read what the shard has, up to a batch beyond what is pending."""
        _, streams = self._clients()
        if shard.iterator is None:
            shard.iterator = self._iterator(shard)
        want = max(1, min(GET_RECORDS_LIMIT, self.batch_size - len(shard.pending)))
        out = streams.get_records(ShardIterator=shard.iterator, Limit=want)
        shard.iterator = out.get("NextShardIterator")
        if shard.iterator is None:
            shard.closed = True
        assert self.stream_arn is not None
        for raw in out.get("Records", []):
            record = stream_record(raw, stream_arn=self.stream_arn, region=self.region)
            shard.read_to = record["dynamodb"]["SequenceNumber"]
            if not self.filter.matches(record):
                self.filtered += 1
                continue
            if not shard.pending:
                shard.first_pending_at = time.monotonic()
            shard.pending.append(record)

    def poll_once(self) -> bool:
        """Read every shard once and deliver the batches that are ready; True when something was
        delivered (the next poll comes at once)."""
        if self.stream_arn is None or time.monotonic() - self._described_at > DESCRIBE_EVERY_S:
            self._describe()
        busy = False
        for shard in list(self._shards.values()):
            if self._stop.is_set():
                raise _Stopped
            if shard.closed and not shard.pending:
                continue
            if len(shard.pending) < self.batch_size and not shard.closed:
                self._read(shard)
            self.report.worked()
            if not shard.pending:
                if shard.read_to is not None:
                    self._checkpoint(shard, shard.read_to)  # only filtered-out records: moved past
                    shard.read_to = None
                continue
            waited = time.monotonic() - shard.first_pending_at
            if len(shard.pending) < self.batch_size and waited < self.maximum_batching_window and not shard.closed:
                continue
            batch = self._fit(shard.pending[: self.batch_size])
            self._deliver(shard, batch, 0)
            del shard.pending[: len(batch)]
            if shard.pending:
                shard.first_pending_at = time.monotonic()
            busy = True
        return busy

    def _fit(self, batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The batch, cut to Lambda's 6 MB request limit (at least one record)."""
        while len(batch) > 1 and len(json.dumps({"Records": batch})) > MAX_INVOKE_PAYLOAD:
            batch = batch[: max(1, len(batch) // 2)]
        return batch

    def _checkpoint(self, shard: _Shard, sequence_number: str) -> None:
        assert self.stream_arn is not None
        self.checkpoints.set(self.stream_arn, shard.shard_id, sequence_number)
        if self.position is None or int(sequence_number) > int(self.position):
            self.position = sequence_number

    # -- delivering --------------------------------------------------------------------------

    def _deliver(self, shard: _Shard, records: list[dict[str, Any]], retries: int) -> None:
        """Invoke until `records` are handled or given up on; checkpoints as it goes."""
        while True:
            if self._stop.is_set():
                raise _Stopped
            outcome = self._invoke(records)
            if outcome.ok:
                # Checkpointed before counted: whoever sees `delivered` go up sees the position too.
                self._checkpoint(shard, records[-1]["dynamodb"]["SequenceNumber"])
                self.delivered += len(records)
                return
            if outcome.failed_from > 0:  # batch item failures: what came before is done
                done, records = records[: outcome.failed_from], records[outcome.failed_from:]
                self._checkpoint(shard, done[-1]["dynamodb"]["SequenceNumber"])
                self.delivered += len(done)
            if self.bisect and outcome.function_error and len(records) > 1:
                # Split in two, each half tried on its own; splitting uses up no retry (AWS), so a
                # bad record is found even with maximum_retry_attempts: 0.
                half = len(records) // 2
                log.warning("DynamoDB stream of %s → %s: %s; splitting the batch of %d in two", self.table, self.function, outcome.reason, len(records))
                self._deliver(shard, records[:half], retries)
                self._deliver(shard, records[half:], retries)
                return
            if 0 <= self.maximum_retry_attempts <= retries:
                self._give_up(shard, records, outcome, retries)
                return
            delay = min(RETRY_MAX_S, self.retry_first * (2 ** retries))
            retries += 1
            log.warning("DynamoDB stream of %s → %s: %s; retry %d in %g s", self.table, self.function, outcome.reason, retries, delay)
            if self._stop.wait(delay):
                raise _Stopped

    def _invoke(self, records: list[dict[str, Any]]) -> Outcome:
        n = len(records)
        where = f"{n} record{'s' if n != 1 else ''} ({records[0]['dynamodb']['SequenceNumber']}…)"
        payload = json.dumps({"Records": records}).encode()
        self.invocations += 1
        try:
            result = self.backend.invoke(self.function, payload, source="dynamodb")
        except Exception as e:
            return Outcome(False, reason=f"{where}: {e}", status_code=500)
        if result.status_code == 429 or result.error:
            reason = (result.error or {}).get("reason") or (result.error or {}).get("type") or "throttled"
            return Outcome(False, reason=f"{where}: throttled ({reason})", status_code=result.status_code)
        if result.function_error:
            return Outcome(
                False, reason=f"{where}: function error {result.error_type or result.function_error}: {error_message(result.payload)}",
                function_error=result.function_error, status_code=result.status_code,
            )
        if result.status_code >= 300:
            return Outcome(False, reason=f"{where}: status {result.status_code}", status_code=result.status_code)
        try:
            response = json.loads(result.payload) if result.payload.strip() else None
        except ValueError:
            response = None
        ids = {r["dynamodb"]["SequenceNumber"] for r in records}
        try:
            failed = failed_item_ids(response, ids, strict=False)
        except BatchResponseError as e:
            return Outcome(False, reason=f"{where}: {e}; the whole batch failed", function_error="BatchItemFailures")
        if not failed:
            log.info("DynamoDB stream of %s → %s: %s: ok", self.table, self.function, where)
            return Outcome(True)
        lowest = min(failed, key=int)
        index = next(i for i, r in enumerate(records) if r["dynamodb"]["SequenceNumber"] == lowest)
        return Outcome(False, failed_from=index, reason=f"{where}: {len(failed)} reported as failed, from {lowest}")

    def _give_up(self, shard: _Shard, records: list[dict[str, Any]], outcome: Outcome, retries: int) -> None:
        first, last = records[0]["dynamodb"]["SequenceNumber"], records[-1]["dynamodb"]["SequenceNumber"]
        sent = ""
        if self.on_failure:
            try:
                self._send_on_failure(shard, records, outcome, retries)
                sent = f"; its invocation record went to queue {self.on_failure}"
            except Exception as e:
                sent = f"; sending its invocation record to queue {self.on_failure} failed: {_describe_error(e, self.table)}"
        self.report.tell(
            logging.ERROR,
            f"gave up on {len(records)} record{'s' if len(records) != 1 else ''} {first}–{last} after "
            f"{retries} retr{'ies' if retries != 1 else 'y'} ({outcome.reason}){sent}",
        )
        self._checkpoint(shard, last)
        self.skipped += len(records)

    def on_failure_record(self, shard_id: str, records: list[dict[str, Any]], outcome: Outcome, retries: int) -> dict[str, Any]:
        """What Lambda sends to a stream's on-failure destination (an SQS message's body)."""

        def when(r: dict[str, Any]) -> str:
            t = r["dynamodb"].get("ApproximateCreationDateTime") or time.time()
            return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")

        response: dict[str, Any] = {"statusCode": outcome.status_code, "executedVersion": "$LATEST"}
        if outcome.function_error:
            response["functionError"] = outcome.function_error
        return {
            "requestContext": {
                "requestId": str(uuid.uuid4()),
                "functionArn": f"arn:aws:lambda:{self.region}:{self.account}:function:{self.function}",
                "condition": "RetryAttemptsExhausted",
                "approximateInvokeCount": retries + 1,
            },
            "responseContext": response,
            "version": "1.0",
            "timestamp": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
            "DDBStreamBatchInfo": {
                "shardId": shard_id,
                "startSequenceNumber": records[0]["dynamodb"]["SequenceNumber"],
                "endSequenceNumber": records[-1]["dynamodb"]["SequenceNumber"],
                "approximateArrivalOfFirstRecord": when(records[0]),
                "approximateArrivalOfLastRecord": when(records[-1]),
                "batchSize": len(records),
                "streamArn": self.stream_arn,
            },
        }

    def _send_on_failure(self, shard: _Shard, records: list[dict[str, Any]], outcome: Outcome, retries: int) -> None:
        assert self.on_failure is not None
        sqs = self.services.client("sqs")
        name = self.on_failure.rsplit(":", 1)[-1]  # a queue name or its ARN
        try:
            url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
        except Exception:
            url = sqs.create_queue(QueueName=name)["QueueUrl"]
            self.report.tell(logging.INFO, f"made queue {name} in the embedded services for on_failure")
        body = self.on_failure_record(shard.shard_id, records, outcome, retries)
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps(body))


class _NoStream(Exception):
    pass


def _describe_error(e: Exception, table: str) -> str:
    """One short line for a failed call: the services' error code and message, or what went wrong."""
    if isinstance(e, _NoStream):
        return str(e)
    return describe_error(e, f"table {table}", ("ResourceNotFoundException",))
