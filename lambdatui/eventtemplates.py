"""Built-in test-event templates: the payloads AWS services send to a Lambda function.

This module owns the catalogue (id, human title, source service, in display order); the events
themselves are plain JSON files in `data/events/<id>.json`, shaped exactly as AWS documents and
sends them (the models were the Lambda developer guide and `sam local generate-event`). Region
us-east-1, account 123456789012, fixed ids and timestamps so the files are deterministic. Encoded
payloads are real: Kinesis `data` is base64 JSON, CloudWatch Logs `awslogs.data` is base64 of a
gzipped subscription message, SQS md5 fields match their bodies and attributes.

No Textual here: the dashboard's picker and the CLI both read this.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib.resources import files
from typing import Any

EVENTS_DIR = files("lambdatui").joinpath("data").joinpath("events")  # package data: works from any install


@dataclass(frozen=True)
class Template:
    id: str
    title: str
    source: str  # the AWS service that sends it, e.g. "API Gateway"


_TEMPLATES: tuple[Template, ...] = (
    Template("apigateway-rest", "API Gateway REST API (proxy, 1.0)", "API Gateway"),
    Template("apigateway-http", "API Gateway HTTP API (2.0)", "API Gateway"),
    Template("apigateway-authorizer-token", "API Gateway token authorizer", "API Gateway"),
    Template("function-url", "Lambda function URL", "Lambda"),
    Template("alb", "Application Load Balancer request", "Elastic Load Balancing"),
    Template("s3-put", "S3 object created (Put)", "S3"),
    Template("s3-delete", "S3 object removed (Delete)", "S3"),
    Template("sqs", "SQS messages (batch of 2)", "SQS"),
    Template("sns", "SNS notification", "SNS"),
    Template("dynamodb-stream", "DynamoDB stream (INSERT, MODIFY, REMOVE)", "DynamoDB"),
    Template("kinesis", "Kinesis Data Streams records", "Kinesis"),
    Template("eventbridge-scheduled", "EventBridge scheduled event", "EventBridge"),
    Template("cloudwatch-logs", "CloudWatch Logs subscription", "CloudWatch Logs"),
    Template("cognito-pre-signup", "Cognito user pool pre sign-up", "Cognito"),
    Template("cloudfront-viewer-request", "CloudFront viewer request (Lambda@Edge)", "CloudFront"),
    Template("cloudformation-create", "CloudFormation custom resource (Create)", "CloudFormation"),
)
_BY_ID = {t.id: t for t in _TEMPLATES}


def templates() -> list[Template]:
    """Every template, in display order (API Gateway REST first)."""
    return list(_TEMPLATES)


def template_text(template_id: str) -> str:
    """The template's JSON, pretty-printed with a 2-space indent and a final newline.

    Raises KeyError for an id not in the catalogue.
    """
    if template_id not in _BY_ID:
        raise KeyError(template_id)
    return (EVENTS_DIR / f"{template_id}.json").read_text(encoding="utf-8")


def template_event(template_id: str) -> dict[str, Any]:
    """The template parsed: a fresh dict each call, so callers may modify it."""
    event: dict[str, Any] = json.loads(template_text(template_id))
    return event
