"""The built-in trigger types give back the mappings the configuration spelt (what `list --json`
shows and what code reading `type` relies on), and describe themselves as before."""

from __future__ import annotations

import sys
import textwrap
from datetime import datetime, timezone

from lambdatui.config import parse_config
from lambdatui.triggers import TriggerWhere, describe_all
from lambdatui.triggers.sqs import SqsTrigger

PY = f"python{sys.version_info[0]}.{sys.version_info[1]}"


def test_builtin_triggers_round_trip_to_the_configs_mappings(tmp_path):
    (tmp_path / "code").mkdir()
    (tmp_path / "code" / "app.py").write_text("def handler(event, context):\n    return event\n")
    config = parse_config(textwrap.dedent(f"""\
        local:
          functions:
            fn:
              runtime: {PY}
              handler: app.handler
              code: code
              triggers:
                - {{type: schedule, expression: "rate(5 minutes)", input: null}}
                - {{type: http, path: "/items/{{id}}", method: get, payload_format: 1.0}}
                - {{type: schedule, expression: "cron(0 12 * * ? *)", input: {{x: 1}}, name: nightly, enabled: false}}
                - {{type: s3, bucket: up, path: bucket, events: ["s3:ObjectCreated:*"], prefix: null, suffix: .csv}}
                - {{type: sqs, queue: work, batch_size: 5, max_receive_count: 3}}
                - {{type: sqs, queue: w2, dead_letter_queue: dead, visibility_timeout: 2.5}}
        """), tmp_path / "lambdatui.yaml")
    triggers = config.local.functions["fn"].triggers
    assert [t.to_dict() for t in triggers] == [
        {"type": "schedule", "expression": "rate(5 minutes)", "input": None, "enabled": True},
        {"type": "http", "path": "/items/{id}", "method": "GET", "payload_format": "1.0"},
        {"type": "schedule", "expression": "cron(0 12 * * ? *)", "input": {"x": 1}, "enabled": False, "name": "nightly"},
        {"type": "s3", "bucket": "up", "path": str((tmp_path / "bucket").resolve()), "events": ["s3:ObjectCreated:*"], "prefix": "", "suffix": ".csv"},
        {"type": "sqs", "queue": "work", "batch_size": 5, "maximum_batching_window": 0, "visibility_timeout": 30, "max_receive_count": 3},
        {"type": "sqs", "queue": "w2", "batch_size": 10, "maximum_batching_window": 0, "visibility_timeout": 2.5, "dead_letter_queue": "dead"},
    ]
    assert [t.queues for t in triggers if isinstance(t, SqsTrigger)] == [("work", "work-dlq"), ("w2", "dead")]
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    assert describe_all(triggers, TriggerWhere(state_dir=tmp_path / "state", now=now)) == [
        "Schedule rate(5 minutes): next 2026-01-01T00:05:00Z",
        "HTTP GET http://127.0.0.1:3000/items/{id} (payload 1.0)",
        "Schedule cron(0 12 * * ? *): next 2026-01-01T12:00:00Z (disabled)",
        f"S3 s3://up = {(tmp_path / 'bucket').resolve()} (ObjectCreated:*)",
        "SQS work: 0 waiting (batch 5)",
        "SQS w2: 0 waiting (batch 10)",
    ]
