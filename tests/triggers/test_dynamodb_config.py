"""`type: dynamodb` in the configuration: its keys, AWS's defaults and limits, errors with file, line
and key; and `serve` without the embedded services says in one line that it is not run."""

from __future__ import annotations

import sys
import textwrap

import pytest

from lambdatui.config import parse_config
from lambdatui.serve.runner import ServeRunner
from lambdatui.triggers.dynamodb import DynamoDbTrigger
from lambdatui.yaml_nodes import ConfigError

PY = f"python{sys.version_info[0]}.{sys.version_info[1]}"


def config(trigger: str, tmp_path=None):
    text = textwrap.dedent(f"""\
        backend: local
        local:
          functions:
            f:
              runtime: {PY}
              handler: app.handler
              code: .
              triggers:
                - {trigger}
        """)
    return parse_config(text, (tmp_path / "lambdatui.yaml") if tmp_path else None)


def test_defaults_are_aws_defaults():
    t = config("{type: dynamodb, table: orders}").local.functions["f"].triggers[0]
    assert t == DynamoDbTrigger(table="orders")
    assert (t.batch_size, t.maximum_batching_window_seconds, t.maximum_retry_attempts, t.bisect_batch_on_function_error) == (100, 0, -1, False)
    assert t.to_dict()["starting_position"] == "LATEST"


def test_every_key_is_read():
    t = config(
        "{type: dynamodb, table: orders, starting_position: TRIM_HORIZON, batch_size: 10000, maximum_batching_window_seconds: 300,"
        " filter_patterns: [{eventName: [INSERT]}], bisect_batch_on_function_error: true, maximum_retry_attempts: 10000,"
        " on_failure: 'arn:aws:sqs:us-east-1:123456789012:dlq'}"
    ).local.functions["f"].triggers[0]
    assert t.to_dict() == {
        "type": "dynamodb", "table": "orders", "starting_position": "TRIM_HORIZON", "batch_size": 10000,
        "maximum_batching_window_seconds": 300, "filter_patterns": [{"eventName": ["INSERT"]}],
        "bisect_batch_on_function_error": True, "maximum_retry_attempts": 10000,
        "on_failure": "arn:aws:sqs:us-east-1:123456789012:dlq",
    }
    assert t.describe(None) == "DynamoDB stream of table orders (TRIM_HORIZON, batch 10000, 1 filter, on failure → queue arn:aws:sqs:us-east-1:123456789012:dlq)"


@pytest.mark.parametrize(("trigger", "key", "message"), [
    ("{type: dynamodb}", "triggers[0].table", "is required"),
    ("{type: dynamodb, table: ab}", "triggers[0].table", "is not a DynamoDB table name"),
    ("{type: dynamodb, table: orders, starting_position: AT_TIMESTAMP}", "triggers[0].starting_position", "is not one of: LATEST, TRIM_HORIZON"),
    ("{type: dynamodb, table: orders, batch_size: 0}", "triggers[0].batch_size", "outside 1–10000"),
    ("{type: dynamodb, table: orders, batch_size: 10001}", "triggers[0].batch_size", "outside 1–10000"),
    ("{type: dynamodb, table: orders, batch_size: 2.5}", "triggers[0].batch_size", "not a whole number"),
    ("{type: dynamodb, table: orders, maximum_batching_window_seconds: 301}", "triggers[0].maximum_batching_window_seconds", "outside 0–300"),
    ("{type: dynamodb, table: orders, maximum_retry_attempts: -2}", "triggers[0].maximum_retry_attempts", "outside -1–10000"),
    ("{type: dynamodb, table: orders, bisect_batch_on_function_error: yes please}", "triggers[0].bisect_batch_on_function_error", "must be true or false"),
    ("{type: dynamodb, table: orders, filter_patterns: {eventName: [INSERT]}}", "triggers[0].filter_patterns", "must be a list"),
    ("{type: dynamodb, table: orders, filter_patterns: [{eventName: INSERT}]}", "triggers[0].filter_patterns[0]", "must be a list of values to match"),
    ("{type: dynamodb, table: orders, filter_patterns: [{eventName: []}]}", "triggers[0].filter_patterns[0]", "empty lists match nothing"),
    ("{type: dynamodb, table: orders, filter_patterns: [{a: [{bogus: 1}]}]}", "triggers[0].filter_patterns[0]", "is not a filter"),
    ("{type: dynamodb, table: orders, filter_patterns: [{a: [1]}, {a: [1]}, {a: [1]}, {a: [1]}, {a: [1]}, {a: [1]}]}", "triggers[0].filter_patterns", "at most 5"),
    ("{type: dynamodb, table: orders, on_failure: 'no spaces'}", "triggers[0].on_failure", "is not a queue name or ARN"),
    ("{type: dynamodb, table: orders, batchsize: 5}", "triggers[0].batchsize", "did you mean 'batch_size'"),
])
def test_a_bad_key_is_an_error_with_file_line_and_key(tmp_path, trigger, key, message):
    with pytest.raises(ConfigError) as e:
        config(trigger, tmp_path)
    text = str(e.value)
    assert text.startswith(f"{tmp_path / 'lambdatui.yaml'}:9: local.functions.f.{key}"), text
    assert message in text


def test_without_the_services_serve_says_in_one_line_that_the_trigger_is_not_run(tmp_path):
    cfg = config("{type: dynamodb, table: orders}", tmp_path)
    runner = ServeRunner(cfg, port=0, http_port=0, state_dir=tmp_path / "state")
    runner.start()
    try:
        lines = [line for line in runner.describe() if "DynamoDB" in line]
        assert lines == [
            "DynamoDB     stream of table orders → f: not run: it reads the table's stream in the embedded AWS services "
            "(serve --aws-services, or local.aws_services: true)"
        ]
    finally:
        runner.stop()
