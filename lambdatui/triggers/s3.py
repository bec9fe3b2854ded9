"""`type: s3`: a local folder standing in for a bucket; `S3Watcher` (lambdatui.triggers.s3_watch)
invokes the function with S3's notification event for each file created, changed or removed.

With `services: true` the bucket is one of the embedded AWS services (`--aws-services`) instead,
and no `path` is given: its object notifications invoke the function (`BucketNotifications`,
lambdatui.triggers.services_sources); with the services off it is listed and not run."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from .base import Running, Trigger, TriggerHost, TriggerWhere
from .s3_watch import DEFAULT_EVENTS, S3Watcher

if TYPE_CHECKING:
    import yaml

    from ..yaml_nodes import NodeReader

S3_EVENTS = (
    "s3:ObjectCreated:*", "s3:ObjectCreated:Put", "s3:ObjectCreated:Post", "s3:ObjectCreated:Copy",
    "s3:ObjectCreated:CompleteMultipartUpload", "s3:ObjectRemoved:*", "s3:ObjectRemoved:Delete",
)


@dataclass(frozen=True)
class S3Trigger(Trigger):
    type: ClassVar[str] = "s3"
    keys: ClassVar[tuple[str, ...]] = ("type", "bucket", "path", "events", "prefix", "suffix", "services")

    bucket: str
    path: str  # the folder, absolute (resolved against the configuration file's folder)
    events: tuple[str, ...] = DEFAULT_EVENTS
    prefix: str = ""
    suffix: str = ""
    services: bool = False  # the bucket is in the embedded AWS services (then `path` is "")

    @classmethod
    def parse(cls, reader: NodeReader, mapping: dict[str, yaml.Node], node: yaml.Node, key: str, base_dir: Path) -> S3Trigger:
        m, v = mapping, reader
        services = v.boolean(m["services"], f"{key}.services") if "services" in m else False
        if services and "path" in m:
            v.fail(m["path"], f"{key}.path", "a bucket of the embedded AWS services (services: true) has no local folder")
        for required in ("bucket",) if services else ("bucket", "path"):
            if required not in m:
                v.fail(node, f"{key}.{required}", "is required" + ("" if services else " (or services: true for a bucket of the embedded AWS services)"))
        bucket = v.string(m["bucket"], f"{key}.bucket")
        path = "" if services else str((base_dir / v.string(m["path"], f"{key}.path")).resolve())
        if "events" in m:
            event_nodes = v.sequence(m["events"], f"{key}.events")
            events = [v.string(e, f"{key}.events") for e in event_nodes]
        else:
            events, event_nodes = list(DEFAULT_EVENTS), [node] * len(DEFAULT_EVENTS)
        for e, enode in zip(events, event_nodes):
            if e not in S3_EVENTS:
                v.fail(enode, f"{key}.events", f"{e!r} is not one of: {', '.join(S3_EVENTS)}")
        prefix = (v.optional_str(m["prefix"], f"{key}.prefix") or "") if "prefix" in m else ""
        suffix = (v.optional_str(m["suffix"], f"{key}.suffix") or "") if "suffix" in m else ""
        return cls(bucket=bucket, path=path, events=tuple(events), prefix=prefix, suffix=suffix, services=services)

    def describe(self, where: TriggerWhere) -> str:
        events = ", ".join(e.replace("s3:", "") for e in self.events)
        if self.services:
            return f"S3 bucket {self.bucket} in the embedded AWS services ({events})"
        return f"S3 s3://{self.bucket} = {self.path} ({events})"

    def serve_line(self, function: str, running: Running | None, where: TriggerWhere) -> str:
        if self.services:
            status = f" ({running.status()})" if running is not None else f": {NEEDS_SERVICES}"
            return f"S3           s3://{self.bucket} (embedded AWS services) → {function}{status}"
        return f"S3           s3://{self.bucket} = {self.path} → {function}"

    def start(self, function: str, host: TriggerHost) -> Running | None:
        if self.services:
            services = host.aws_services()
            if services is None:
                return None
            from .services_sources import BucketNotifications

            notifications = BucketNotifications(
                host, function, services, bucket=self.bucket, events=self.events, prefix=self.prefix,
                suffix=self.suffix, function_log=lambda message: host.function_log(function, message),
            )
            notifications.start()
            return notifications
        folder = Path(self.path)
        folder.mkdir(parents=True, exist_ok=True)
        watcher = S3Watcher(
            host, function, bucket=self.bucket, folder=folder, events=self.events,
            prefix=self.prefix, suffix=self.suffix, region=host.region,
            function_log=lambda message: host.function_log(function, message),
        )
        watcher.start()
        return watcher

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type, "bucket": self.bucket, "path": self.path}
        if self.services:
            out = {"type": self.type, "bucket": self.bucket, "services": True}
        out.update({"events": list(self.events), "prefix": self.prefix, "suffix": self.suffix})
        return out


NEEDS_SERVICES = "not run: the bucket is in the embedded AWS services (serve --aws-services, or local.aws_services: true)"
