"""A template's event sources as lambdatui's triggers (lambdatui.triggers): SAM's `Events`
(`Api`, `HttpApi`, `Schedule`, `ScheduleV2`, `SQS`, `S3`, `DynamoDB`) and, in plain CloudFormation
(what the CDK synthesises), `AWS::Lambda::EventSourceMapping` of SQS queues and DynamoDB tables and
`AWS::Events::Rule` schedules that target a function.

A DynamoDB event becomes a `dynamodb` trigger of the table (by its TableName, else its logical
id), which runs with the embedded AWS services (`serve --aws-services`; without them `serve` says
it is not run). What has no local stand-in yet (Kinesis streams, SNS, ...) is listed as a warning,
"not run locally", and never fails the load.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..model import QUEUE_NAME_PATTERN
from ..schedule_expr import parse_expression
from ..triggers.base import Trigger
from ..triggers.http import HTTP_METHODS, HttpTrigger
from ..triggers.s3 import S3_EVENTS, S3Trigger
from ..triggers.schedule import NO_INPUT, ScheduleTrigger
from ..triggers.sqs import SqsTrigger
from .intrinsics import Resolver

Warn = Callable[[str, str], None]

# SAM's implicit APIs' stages: `Prod` for the REST API of `Api` events (as `sam local start-api`),
# `$default` for the HTTP API of `HttpApi` events.
REST_API_STAGE = "Prod"
HTTP_API_STAGE = "$default"
NOT_RUN_LOCALLY = "not run locally"
# Event properties that name a resource of the template (an API, a queue, a bucket).
_RESOURCE_PROPERTIES = ("RestApiId", "ApiId", "Queue", "Bucket", "Stream")


class EventReader:
    """Turns one template's event sources into triggers. `resources` are the template's resources
    as written (before the SAM transform); `s3_folders` maps bucket names to local folders
    (lambdatui.yaml's `local.s3_folders`), others go to `<project>/s3/<bucket>`."""

    def __init__(self, resources: dict[str, Any], resolver: Resolver, project: Path, s3_folders: dict[str, str], warn: Warn) -> None:
        self.resources = resources
        self.resolver = resolver
        self.project = project
        self.s3_folders = s3_folders
        self.warn = warn

    # -- SAM -----------------------------------------------------------------------------------

    def sam_events(self, function: str, events: Any) -> list[Trigger]:
        out: list[Trigger] = []
        if not isinstance(events, dict):
            return out
        for name, event in events.items():
            where = f"{function}.Events.{name}"
            if not isinstance(event, dict):
                continue
            kind = event.get("Type")
            reader = getattr(self, f"_sam_{str(kind).lower()}", None)
            if reader is None:
                self.warn(where, f"{kind} events are {NOT_RUN_LOCALLY}")
                continue
            raw = event.get("Properties") or {}
            if not isinstance(raw, dict):
                raw = {}
            # What names a resource of this template stays as written (`!GetAtt Queue.Arn`): the
            # readers find the resource; resolving it would only give a placeholder.
            named = {k: v for k, v in raw.items() if k in _RESOURCE_PROPERTIES and _logical_id(v) is not None}
            props = self.resolver.resolve({k: v for k, v in raw.items() if k not in named}, f"{where}.Properties")
            props.update(named)
            trigger = reader(props, where)
            if trigger is not None:
                out.append(trigger)
        return out

    def _http(self, props: dict[str, Any], where: str, payload_format: str, default_path: str | None, stage: str) -> Trigger | None:
        path = props.get("Path", default_path)
        method = str(props.get("Method", "ANY")).upper()
        if method == "X-AMAZON-APIGATEWAY-ANY-METHOD":
            method = "ANY"
        if not isinstance(path, str) or not path.startswith("/"):
            self.warn(where, f"Path {path!r} is not a path starting with /: the route is not served")
            return None
        if method not in HTTP_METHODS:
            self.warn(where, f"Method {method!r} is not one of {', '.join(HTTP_METHODS)}: the route is not served")
            return None
        return HttpTrigger(path=path, method=method, payload_format=payload_format, stage=stage)

    def _api_stage(self, props: dict[str, Any], key: str, default: str) -> str:
        """The stage of the API an event names (`RestApiId`/`ApiId`: an explicit API's StageName)."""
        api = _logical_id(props.get(key))
        raw = self.resources.get(api) if api else None
        if isinstance(raw, dict):
            stage = self.resolver.resolve((raw.get("Properties") or {}).get("StageName"), f"{api}.StageName")
            if isinstance(stage, str) and stage:
                return stage
        return default

    def _sam_api(self, props: dict[str, Any], where: str) -> Trigger | None:
        return self._http(props, where, "1.0", None, self._api_stage(props, "RestApiId", REST_API_STAGE))

    def _sam_httpapi(self, props: dict[str, Any], where: str) -> Trigger | None:
        # Without Path and Method, SAM routes everything to the function ($default route).
        payload = str(props.get("PayloadFormatVersion", "2.0"))
        if payload not in ("1.0", "2.0"):
            payload = "2.0"
        if "Path" not in props and "Method" not in props:
            props = {**props, "Path": "/{proxy+}", "Method": "ANY"}
        return self._http(props, where, payload, None, self._api_stage(props, "ApiId", HTTP_API_STAGE))

    def _schedule(self, expression: Any, payload: Any, enabled: bool, name: Any, where: str) -> Trigger | None:
        if not isinstance(expression, str):
            self.warn(where, f"schedule expression {expression!r} is not text: not scheduled")
            return None
        try:
            parse_expression(expression)
        except ValueError as e:
            self.warn(where, f"{expression}: {e}: not scheduled")
            return None
        value = NO_INPUT
        if isinstance(payload, str):
            try:
                value = json.loads(payload)  # EventBridge's Input is a JSON document, as text
            except ValueError:
                self.warn(where, "Input is not JSON: the scheduled event is sent instead")
        return ScheduleTrigger(expression=expression, input=value, enabled=enabled, name=name if isinstance(name, str) else None)

    def _sam_schedule(self, props: dict[str, Any], where: str) -> Trigger | None:
        enabled = props.get("Enabled", str(props.get("State", "ENABLED")).upper() == "ENABLED")
        return self._schedule(props.get("Schedule"), props.get("Input"), enabled is True or str(enabled).lower() == "true", props.get("Name"), where)

    def _sam_schedulev2(self, props: dict[str, Any], where: str) -> Trigger | None:
        enabled = str(props.get("State", "ENABLED")).upper() == "ENABLED"
        return self._schedule(props.get("ScheduleExpression"), props.get("Input"), enabled, props.get("Name"), where)

    def _queue(self, raw: Any, resolved: Any, where: str) -> tuple[str, dict[str, Any]] | None:
        """The local queue's name for an event's queue (`!GetAtt Q.Arn`, an ARN), and its properties."""
        logical = _logical_id(raw)
        props: dict[str, Any] = {}
        if logical and isinstance(self.resources.get(logical), dict):
            raw_props = self.resources[logical].get("Properties") or {}
            raw_props = raw_props if isinstance(raw_props, dict) else {}
            # Only what the local queue uses; the dead-letter queue's ARN is found, not resolved.
            props = {k: self.resolver.resolve(raw_props[k], f"{logical}.{k}") for k in ("QueueName", "VisibilityTimeout") if k in raw_props}
            redrive = raw_props.get("RedrivePolicy")
            if isinstance(redrive, dict) and "maxReceiveCount" in redrive:
                props["RedrivePolicy"] = {
                    "maxReceiveCount": self.resolver.resolve(redrive["maxReceiveCount"], f"{logical}.RedrivePolicy.maxReceiveCount"),
                    "deadLetterTargetArn": redrive.get("deadLetterTargetArn"),
                }
            name = props.get("QueueName", logical)
        elif isinstance(resolved, str) and resolved.startswith("arn:") and not resolved.startswith("<"):
            name = resolved.rsplit(":", 1)[-1]
        else:
            self.warn(where, f"queue {resolved!r} is not a queue of this template or an ARN: not polled")
            return None
        if not isinstance(name, str) or not QUEUE_NAME_PATTERN.fullmatch(name):
            self.warn(where, f"queue name {name!r} is not 1-80 letters, digits, hyphens or underscores locally: not polled")
            return None
        return name, props if isinstance(props, dict) else {}

    def _sqs(self, raw_queue: Any, queue: Any, batch_size: Any, window: Any, where: str) -> Trigger | None:
        found = self._queue(raw_queue, queue, where)
        if found is None:
            return None
        name, queue_props = found
        trigger = SqsTrigger(queue=name)
        kwargs: dict[str, Any] = {}
        try:
            if batch_size is not None:
                kwargs["batch_size"] = int(batch_size)
            if window is not None:
                kwargs["maximum_batching_window"] = float(window)
            if "VisibilityTimeout" in queue_props:
                kwargs["visibility_timeout"] = float(queue_props["VisibilityTimeout"])
            redrive = queue_props.get("RedrivePolicy")
            if isinstance(redrive, dict) and "maxReceiveCount" in redrive:
                kwargs["max_receive_count"] = int(redrive["maxReceiveCount"])
                target = redrive.get("deadLetterTargetArn")
                dlq = self._queue(target, self.resolver.resolve(target, f"{where}.RedrivePolicy") if _logical_id(target) is None else target, f"{where}.RedrivePolicy")
                if dlq is not None:
                    kwargs["dead_letter_queue"] = dlq[0]
        except (TypeError, ValueError) as e:
            self.warn(where, f"a setting is not a number ({e}): defaults used")
            kwargs = {}
        from dataclasses import replace

        return replace(trigger, **kwargs)

    def _sam_sqs(self, props: dict[str, Any], where: str) -> Trigger | None:
        return self._sqs(props.get("Queue"), props.get("Queue"), props.get("BatchSize"), props.get("MaximumBatchingWindowInSeconds"), where)

    def _sam_s3(self, props: dict[str, Any], where: str) -> Trigger | None:
        logical = _logical_id(props.get("Bucket"))
        bucket: Any = props.get("Bucket")
        if logical and isinstance(self.resources.get(logical), dict):
            bucket_props = self.resolver.resolve(self.resources[logical].get("Properties") or {}, f"{logical}.Properties")
            bucket = bucket_props.get("BucketName", logical) if isinstance(bucket_props, dict) else logical
        if not isinstance(bucket, str) or bucket.startswith("<"):
            self.warn(where, f"bucket {bucket!r} is not a bucket of this template: not watched")
            return None
        events = props.get("Events", "s3:ObjectCreated:*")
        events = [events] if isinstance(events, str) else list(events or [])
        known = [e for e in events if e in S3_EVENTS]
        for e in events:
            if e not in S3_EVENTS:
                self.warn(where, f"S3 event {e} is {NOT_RUN_LOCALLY} (local folders give: {', '.join(S3_EVENTS)})")
        if not known:
            return None
        prefix = suffix = ""
        rules = (((props.get("Filter") or {}).get("S3Key") or {}).get("Rules")) if isinstance(props.get("Filter"), dict) else None
        for rule in rules or []:
            if isinstance(rule, dict) and str(rule.get("Name", "")).lower() == "prefix":
                prefix = str(rule.get("Value", ""))
            elif isinstance(rule, dict) and str(rule.get("Name", "")).lower() == "suffix":
                suffix = str(rule.get("Value", ""))
        folder = self.s3_folders.get(bucket) or str(Path("s3") / bucket)
        return S3Trigger(bucket=bucket, path=str((self.project / folder).resolve()), events=tuple(known), prefix=prefix, suffix=suffix)

    def _table(self, raw: Any, where: str) -> str | None:
        """The table a stream names: `!GetAtt Table.StreamArn` of this template, or a stream ARN."""
        logical = _logical_id(raw)
        if logical and isinstance(self.resources.get(logical), dict):
            if self.resources[logical].get("Type") != "AWS::DynamoDB::Table":
                return None
            props = self.resolver.resolve(self.resources[logical].get("Properties") or {}, f"{logical}.Properties")
            name = props.get("TableName", logical) if isinstance(props, dict) else logical
            return name if isinstance(name, str) else logical
        if isinstance(raw, str) and raw.startswith("arn:") and ":table/" in raw:
            return raw.split(":table/", 1)[1].split("/", 1)[0]
        return None

    def _dynamodb(self, stream: Any, props: dict[str, Any], where: str) -> Trigger | None:
        from ..triggers.dynamodb import STARTING_POSITIONS, DynamoDbTrigger, check_table_name
        from ..triggers.event_filter import check_pattern

        table = self._table(stream, where)
        if table is None:
            self.warn(where, f"stream {stream!r} is not the stream of a DynamoDB table: {NOT_RUN_LOCALLY}")
            return None
        try:
            check_table_name(table)
            kwargs: dict[str, Any] = {"table": table}
            position = str(props.get("StartingPosition", "LATEST")).upper()
            kwargs["starting_position"] = position if position in STARTING_POSITIONS else "LATEST"
            if props.get("BatchSize") is not None:
                kwargs["batch_size"] = int(props["BatchSize"])
            if props.get("MaximumBatchingWindowInSeconds") is not None:
                kwargs["maximum_batching_window_seconds"] = float(props["MaximumBatchingWindowInSeconds"])
            if props.get("BisectBatchOnFunctionError") is not None:
                kwargs["bisect_batch_on_function_error"] = str(props["BisectBatchOnFunctionError"]).lower() == "true"
            if props.get("MaximumRetryAttempts") is not None:
                kwargs["maximum_retry_attempts"] = int(props["MaximumRetryAttempts"])
            filters = (props.get("FilterCriteria") or {}).get("Filters") if isinstance(props.get("FilterCriteria"), dict) else None
            if filters:
                kwargs["filter_patterns"] = tuple(check_pattern(f.get("Pattern")) for f in filters if isinstance(f, dict))
            destination = ((props.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination") if isinstance(props.get("DestinationConfig"), dict) else None
            if isinstance(destination, str) and destination.startswith("arn:aws:sqs:"):
                kwargs["on_failure"] = destination.rsplit(":", 1)[-1]
        except (TypeError, ValueError, AttributeError) as e:
            self.warn(where, f"a setting is not usable ({e}): {NOT_RUN_LOCALLY}")
            return None
        return DynamoDbTrigger(**kwargs)

    def _sam_dynamodb(self, props: dict[str, Any], where: str) -> Trigger | None:
        return self._dynamodb(props.get("Stream"), props, where)

    # -- plain CloudFormation ------------------------------------------------------------------

    def _some(self, raw: dict[str, Any], keys: tuple[str, ...], where: str) -> dict[str, Any]:
        """Only `keys` of a resource's properties, resolved (the others would only warn)."""
        return {k: self.resolver.resolve(raw[k], f"{where}.{k}") for k in keys if k in raw}

    def cloudformation(self, functions: set[str], active: Callable[[str, dict[str, Any]], bool]) -> dict[str, list[Trigger]]:
        """Event source mappings of SQS queues and DynamoDB tables and EventBridge schedules, by the function they invoke."""
        out: dict[str, list[Trigger]] = {}
        for logical_id, resource in self.resources.items():
            if not isinstance(resource, dict) or not active(logical_id, resource):
                continue
            kind = resource.get("Type")
            raw = resource.get("Properties") or {}
            if kind == "AWS::Lambda::EventSourceMapping" and isinstance(raw, dict):
                target = _logical_id(raw.get("FunctionName"))
                if target not in functions:
                    continue
                source = _logical_id(raw.get("EventSourceArn"))
                source_type = (self.resources.get(source) or {}).get("Type") if source else None
                where = f"{target}.{logical_id}"
                if source_type == "AWS::DynamoDB::Table":
                    keys = ("StartingPosition", "BatchSize", "MaximumBatchingWindowInSeconds", "BisectBatchOnFunctionError",
                            "MaximumRetryAttempts", "FilterCriteria", "DestinationConfig")
                    trigger = self._dynamodb(raw.get("EventSourceArn"), self._some(raw, keys, where), where)
                    if trigger is not None:
                        out.setdefault(target, []).append(trigger)
                    continue
                if source_type != "AWS::SQS::Queue":
                    self.warn(where, f"the event source {source or raw.get('EventSourceArn')!r} ({source_type or 'not in this template'}) is {NOT_RUN_LOCALLY}")
                    continue
                props = self._some(raw, ("BatchSize", "MaximumBatchingWindowInSeconds"), where)
                trigger = self._sqs(raw.get("EventSourceArn"), props.get("EventSourceArn"), props.get("BatchSize"), props.get("MaximumBatchingWindowInSeconds"), where)
                if trigger is not None:
                    out.setdefault(target, []).append(trigger)
            elif kind == "AWS::Events::Rule" and isinstance(raw, dict) and "ScheduleExpression" in raw:
                for i, target_def in enumerate(raw.get("Targets") or []):
                    target = _logical_id(target_def.get("Arn")) if isinstance(target_def, dict) else None
                    if target not in functions:
                        continue
                    where = f"{target}.{logical_id}"
                    props = self._some(raw, ("ScheduleExpression", "State", "Name"), where)
                    target_props = self._some(target_def, ("Input",), f"{where}.Targets[{i}]")
                    enabled = str(props.get("State", "ENABLED")).upper() == "ENABLED"
                    trigger = self._schedule(props.get("ScheduleExpression"), target_props.get("Input"), enabled, props.get("Name"), where)
                    if trigger is not None:
                        out.setdefault(target, []).append(trigger)
        return out


def _logical_id(value: Any) -> str | None:
    """The resource a `Ref` or `Fn::GetAtt` names, as written."""
    if isinstance(value, dict) and len(value) == 1:
        (key, arg), = value.items()
        if key == "Ref" and isinstance(arg, str):
            return arg
        if key == "Fn::GetAtt":
            if isinstance(arg, list) and arg:
                return str(arg[0])
            if isinstance(arg, str):
                return arg.split(".", 1)[0]
    return None

