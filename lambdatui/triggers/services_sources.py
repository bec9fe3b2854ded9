"""S3 buckets and SQS queues of the embedded AWS services as event sources (`type: s3` and
`type: sqs` with `services: true`), read through the services' own API as AWS wires them.

`BucketNotifications`: the bucket gets an object notification (PutBucketNotificationConfiguration,
the trigger's events and prefix/suffix as S3's filter rules) to a queue of the services that this
runner makes (`lambdatui-s3-<bucket>-<id>`); S3 puts one event per object change there, in the order
the changes happened, and the runner invokes the function with each, one at a time, then deletes
it. Events are S3's notification shape field for field (`lambdatui.triggers.s3_watch.s3_event`:
what moto's notification leaves out, userIdentity, requestParameters, responseElements, the
owner and the sequencer, is filled in; its key, size, eTag, event name and time are kept).
Notifications rather than polling ListObjectsV2: a listing cannot see an overwrite with the same
size and time, a delete, or the order of changes between two polls; notifications carry all of it.
Uploads made while `serve` is down wait in the queue and are delivered at the next start. As S3's
own asynchronous invocations, a failed one is logged and not retried here.

`QueuePoller`: a queue of the services, read with ReceiveMessage (up to `batch_size`, gathering for
`maximum_batching_window`, messages hidden for `visibility_timeout`) and fed to the function with
Lambda's SQS event; messages are deleted after success, those named in a `batchItemFailures`
response are left to come back after their visibility timeout, as the local queue's poller does.
Redrive is the queue's own (its RedrivePolicy in the services).

A failing setup or poll (the bucket or queue missing, the services down) is told in one line of the
function's log, again only when it changes, and once when it works again.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_plus

from .poll_report import PollReporter, log
from .poll_report import describe_error as _describe_error
from .s3_watch import event_matches, s3_event
from .sqs_queue import BatchResponseError, failed_item_ids, normalize_attributes

if TYPE_CHECKING:
    from .base import AwsServices, Invoker

WAIT_S = 1  # ReceiveMessage's long poll: short enough for a prompt stop


def describe_error(e: Exception, what: str) -> str:
    return _describe_error(e, what, ("NoSuchBucket", "AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"))


def _outcome(result: Any) -> str | None:
    """Why an invocation failed, or None when it succeeded."""
    if result.status_code == 429 or result.error:
        return "throttled (" + str((result.error or {}).get("reason") or (result.error or {}).get("type") or "429") + ")"
    if result.function_error:
        try:
            body = json.loads(result.payload)
            message = body.get("errorMessage", "") if isinstance(body, dict) else str(body)
        except ValueError:
            message = result.payload.decode("utf-8", "replace")
        return f"function error {result.error_type or result.function_error}: {str(message)[:200]}"
    if result.status_code >= 300:
        return f"status {result.status_code}"
    return None


class _Runner:
    """A polling thread with a stop event."""

    name = "services"

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _loop(self) -> None:
        raise NotImplementedError


class BucketNotifications(_Runner):
    """Invokes `function` with S3's event for each matching change to `bucket` in the services."""

    def __init__(
        self, backend: Invoker, function: str, services: AwsServices, *, bucket: str, events: Iterable[str],
        prefix: str = "", suffix: str = "", function_log: Callable[[str], None] | None = None,
    ) -> None:
        super().__init__()
        self.name = f"s3-services-{bucket}"
        self.backend = backend
        self.function = function
        self.services = services
        self.bucket = bucket
        self.events = tuple(events)
        self.prefix = prefix
        self.suffix = suffix
        digest = hashlib.sha1(f"{bucket}\0{function}".encode()).hexdigest()[:8]
        self.configuration_id = f"lambdatui-{function}"[:60] + f"-{digest}"
        self.queue = f"lambdatui-s3-{bucket[:50]}-{digest}"
        self.fired = 0
        self.errors = 0
        self.report = PollReporter(f"S3 trigger s3://{bucket}", function, function_log)
        self._url: str | None = None
        self._s3: Any = None
        self._sqs: Any = None

    def status(self) -> str:
        failing = f"; failing: {self.report.failing}" if self.report.failing else ""
        return f"{self.fired} fired, {self.errors} failed{failing}"

    def _setup(self) -> str:
        if self._s3 is None:
            self._s3 = self.services.client("s3")
            self._sqs = self.services.client("sqs")
        url = self._sqs.create_queue(QueueName=self.queue)["QueueUrl"]
        arn = self._sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        config = self._s3.get_bucket_notification_configuration(Bucket=self.bucket)
        config.pop("ResponseMetadata", None)
        queues = [q for q in config.get("QueueConfigurations", []) if q.get("Id") != self.configuration_id]
        entry: dict[str, Any] = {"Id": self.configuration_id, "QueueArn": arn, "Events": list(self.events)}
        rules = [{"Name": n, "Value": v} for n, v in (("prefix", self.prefix), ("suffix", self.suffix)) if v]
        if rules:
            entry["Filter"] = {"Key": {"FilterRules": rules}}
        config["QueueConfigurations"] = [*queues, entry]
        self._s3.put_bucket_notification_configuration(Bucket=self.bucket, NotificationConfiguration=config)
        return str(url)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                if self._url is None:
                    self._url = self._setup()
                out = self._sqs.receive_message(QueueUrl=self._url, MaxNumberOfMessages=10, WaitTimeSeconds=WAIT_S)
                self.report.worked()
            except Exception as e:
                self.report.failed(describe_error(e, f"bucket {self.bucket}"))
                self._url = None  # set up again: a reset of the services drops the queue and the notification
                self._stop.wait(1.0)
                continue
            for message in out.get("Messages", []):
                self._handle(message["Body"])
                try:
                    self._sqs.delete_message(QueueUrl=self._url, ReceiptHandle=message["ReceiptHandle"])
                except Exception as e:
                    log.warning("S3 trigger s3://%s: deleting a delivered notification failed: %s", self.bucket, e)

    def _handle(self, body: str) -> None:
        try:
            records = json.loads(body).get("Records", [])
        except (ValueError, AttributeError):
            return  # s3:TestEvent and the like: not for the function
        for r in records:
            name = r.get("eventName", "")
            if not event_matches(name, self.events):
                continue
            obj = r.get("s3", {}).get("object", {})
            event = s3_event(
                self.bucket, unquote_plus(obj.get("key", "")), name, size=obj.get("size"), etag=obj.get("eTag"),
                region=r.get("awsRegion") or self.services.region, configuration_id=self.configuration_id,
            )
            if r.get("eventTime"):
                event["Records"][0]["eventTime"] = r["eventTime"]
            self._invoke(name, obj.get("key", ""), event)

    def _invoke(self, name: str, key: str, event: dict[str, Any]) -> None:
        where = f"S3 trigger s3://{self.bucket}/{unquote_plus(key)} ({name}) → {self.function}"
        try:
            problem = _outcome(self.backend.invoke(self.function, json.dumps(event).encode(), source="s3"))
        except Exception as e:
            problem = str(e)
        if problem:
            self.errors += 1
            log.warning("%s: %s", where, problem)
        else:
            log.info("%s: ok", where)
        self.fired += 1  # last: a reader that sees it go up sees the outcome counted too


class QueuePoller(_Runner):
    """Feeds a queue of the services to `function` in batches, as Lambda's SQS event source mapping."""

    def __init__(
        self, backend: Invoker, function: str, services: AwsServices, *, queue: str, batch_size: int = 10,
        maximum_batching_window: float = 0.0, visibility_timeout: float = 30.0,
        function_log: Callable[[str], None] | None = None,
    ) -> None:
        super().__init__()
        self.name = f"sqs-services-{queue}"
        self.backend = backend
        self.function = function
        self.services = services
        self.queue = queue
        self.batch_size = max(1, int(batch_size))
        self.maximum_batching_window = max(0.0, float(maximum_batching_window))
        self.visibility_timeout = max(0, int(round(visibility_timeout)))
        self.batches = 0
        self.deleted = 0
        self.failed = 0
        self.report = PollReporter(f"SQS queue {queue} (embedded services)", function, function_log)
        self._url: str | None = None
        self._arn = ""
        self._sqs: Any = None

    def status(self) -> str:
        failing = f"; failing: {self.report.failing}" if self.report.failing else ""
        return f"{self.deleted} delivered, {self.failed} failed batches{failing}"

    def _receive(self, n: int, wait: int) -> list[dict[str, Any]]:
        out = self._sqs.receive_message(
            QueueUrl=self._url, MaxNumberOfMessages=max(1, min(10, n)), WaitTimeSeconds=wait,
            VisibilityTimeout=self.visibility_timeout, AttributeNames=["All"], MessageAttributeNames=["All"],
        )
        return list(out.get("Messages", []))

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                if self._url is None:
                    if self._sqs is None:
                        self._sqs = self.services.client("sqs")
                    self._url = self._sqs.get_queue_url(QueueName=self.queue)["QueueUrl"]
                    attrs = self._sqs.get_queue_attributes(QueueUrl=self._url, AttributeNames=["QueueArn"])
                    self._arn = attrs["Attributes"]["QueueArn"]
                batch = self._receive(self.batch_size, WAIT_S)
                deadline = time.monotonic() + self.maximum_batching_window
                while batch and len(batch) < self.batch_size and not self._stop.is_set():
                    more = self._receive(self.batch_size - len(batch), 0)
                    batch += more
                    if not more:
                        if time.monotonic() >= deadline:
                            break
                        self._stop.wait(min(0.2, max(0.0, deadline - time.monotonic())))
                self.report.worked()
            except Exception as e:
                self.report.failed(describe_error(e, f"queue {self.queue}"))
                self._url = None
                self._stop.wait(1.0)
                continue
            if batch:
                self._deliver(batch)

    def record(self, m: dict[str, Any]) -> dict[str, Any]:
        """One record of Lambda's SQS event, from a ReceiveMessage message."""
        a = m.get("Attributes", {})
        record: dict[str, Any] = {
            "messageId": m["MessageId"],
            "receiptHandle": m["ReceiptHandle"],
            "body": m["Body"],
            "attributes": {
                "ApproximateReceiveCount": a.get("ApproximateReceiveCount", "1"),
                "SentTimestamp": a.get("SentTimestamp", ""),
                "SenderId": a.get("SenderId", ""),
                "ApproximateFirstReceiveTimestamp": a.get("ApproximateFirstReceiveTimestamp", ""),
            },
            "messageAttributes": normalize_attributes(m.get("MessageAttributes")),
        }
        if m.get("MD5OfMessageAttributes"):
            record["md5OfMessageAttributes"] = m["MD5OfMessageAttributes"]
        record.update({
            "md5OfBody": m.get("MD5OfBody", ""),
            "eventSource": "aws:sqs",
            "eventSourceARN": self._arn,
            "awsRegion": self.services.region,
        })
        return record

    def _deliver(self, batch: list[dict[str, Any]]) -> None:
        where = f"SQS {self.queue} (embedded services) → {self.function} ({len(batch)} message{'s' if len(batch) != 1 else ''})"
        self.batches += 1
        payload = json.dumps({"Records": [self.record(m) for m in batch]}).encode()
        try:
            result = self.backend.invoke(self.function, payload, source="sqs")
            problem = _outcome(result)
        except Exception as e:
            problem, result = str(e), None
        failed: set[str] = set()
        if problem is None and result is not None:
            try:
                response = json.loads(result.payload) if result.payload.strip() else None
            except ValueError:
                response = None
            try:
                failed = failed_item_ids(response, {m["MessageId"] for m in batch}, strict=False) or set()
            except BatchResponseError as e:
                problem = f"{e}; the whole batch failed"
        if problem is not None:
            self.failed += 1
            log.warning("%s: %s; the messages return after the visibility timeout (%d s)", where, problem, self.visibility_timeout)
            return
        done = [m for m in batch if m["MessageId"] not in failed]
        for i in range(0, len(done), 10):
            entries = [{"Id": str(j), "ReceiptHandle": m["ReceiptHandle"]} for j, m in enumerate(done[i:i + 10])]
            try:
                self._sqs.delete_message_batch(QueueUrl=self._url, Entries=entries)
            except Exception as e:
                log.warning("%s: deleting failed (%s); they will be delivered again", where, e)
                continue
            self.deleted += len(entries)
        if failed:
            log.warning("%s: %d reported as failed; they return after the visibility timeout", where, len(failed))
        else:
            log.info("%s: ok", where)
