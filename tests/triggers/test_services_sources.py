"""S3 buckets and SQS queues of the embedded AWS services as triggers (`services: true`), end to
end: a real moto server on loopback, a real `ServeRunner` and executor."""

from __future__ import annotations

import hashlib

import pytest
from polling import wait_for

from lambdatui.config import parse_config
from lambdatui.yaml_nodes import ConfigError

from .ddb_support import PY, Project, ServicesEndpoint


@pytest.fixture
def endpoint(aws_env):
    return ServicesEndpoint(aws_env.endpoint)


@pytest.fixture
def project(tmp_path, endpoint):
    made: list[Project] = []

    def make(triggers: str, endpoint_=endpoint, **kw) -> Project:
        p = Project(tmp_path / f"p{len(made)}", endpoint_, triggers, **kw)
        made.append(p)
        return p

    yield make
    for p in made:
        p.stop()


def test_an_upload_to_a_bucket_in_the_services_invokes_with_s3s_event(project, endpoint):
    s3 = endpoint.client("s3")
    s3.create_bucket(Bucket="uploads")
    p = project("- {type: s3, bucket: uploads, services: true, prefix: in/}\n")
    p.start()
    wait_for(lambda: p.poller()._url is not None, timeout=30)
    s3.put_object(Bucket="uploads", Key="in/a photo.jpg", Body=b"first")
    s3.put_object(Bucket="uploads", Key="skip/b.txt", Body=b"not under the prefix")
    s3.put_object(Bucket="uploads", Key="in/b.txt", Body=b"second!")
    s3.delete_object(Bucket="uploads", Key="in/b.txt")  # the default events include s3:ObjectRemoved:*
    events = wait_for(lambda: len(p.events()) >= 3 and p.events(), timeout=30)
    records = [e["Records"][0] for e in events]
    assert all(len(e["Records"]) == 1 for e in events)  # one record per notification, as S3 sends
    assert [(r["eventName"], r["s3"]["object"]["key"]) for r in records] == [
        ("ObjectCreated:Put", "in/a+photo.jpg"), ("ObjectCreated:Put", "in/b.txt"), ("ObjectRemoved:Delete", "in/b.txt"),
    ]
    r = records[0]
    assert list(r) == ["eventVersion", "eventSource", "awsRegion", "eventTime", "eventName", "userIdentity",
                       "requestParameters", "responseElements", "s3"]
    assert (r["eventVersion"], r["eventSource"], r["awsRegion"]) == ("2.1", "aws:s3", "us-east-1")
    assert r["s3"]["bucket"] == {"name": "uploads", "ownerIdentity": r["s3"]["bucket"]["ownerIdentity"], "arn": "arn:aws:s3:::uploads"}
    assert r["s3"]["object"]["size"] == 5 and r["s3"]["object"]["eTag"] == hashlib.md5(b"first").hexdigest()
    seqs = [int(x["s3"]["object"]["sequencer"], 16) for x in records]
    assert seqs == sorted(seqs)
    assert p.runner.describe()[-1].startswith("S3           s3://uploads (embedded AWS services) → rec (")


def test_a_missing_bucket_is_told_once_and_the_trigger_works_once_it_is_made(project, endpoint):
    p = project("- {type: s3, bucket: later, services: true}\n")
    p.start()
    wait_for(lambda: any("bucket later does not exist" in line for line in p.log_lines()), timeout=30)
    endpoint.client("s3").create_bucket(Bucket="later")
    wait_for(lambda: p.poller()._url is not None, timeout=30)
    endpoint.client("s3").put_object(Bucket="later", Key="k", Body=b"x")
    wait_for(lambda: len(p.events()) == 1, timeout=30)
    assert sum("does not exist" in line for line in p.log_lines()) == 1
    assert sum("working again" in line for line in p.log_lines()) == 1


def test_a_queue_in_the_services_is_delivered_with_sqs_event_and_item_failures_come_back(project, endpoint):
    sqs = endpoint.client("sqs")
    url = sqs.create_queue(QueueName="jobs")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    p = project("- {type: sqs, queue: jobs, services: true, batch_size: 5, visibility_timeout: 1}\n")
    for i in range(3):
        sqs.send_message(QueueUrl=url, MessageBody=f"job {i}", MessageAttributes={"kind": {"DataType": "String", "StringValue": "demo"}})
    p.start()
    wait_for(lambda: p.poller().deleted == 3, timeout=30)
    records = p.records()
    assert sorted(r["body"] for r in records) == ["job 0", "job 1", "job 2"]
    r = records[0]
    assert (r["eventSource"], r["eventSourceARN"], r["awsRegion"]) == ("aws:sqs", arn, "us-east-1")
    assert r["messageAttributes"]["kind"]["stringValue"] == "demo" and r["messageAttributes"]["kind"]["dataType"] == "String"
    assert r["attributes"]["ApproximateReceiveCount"] == "1"
    assert r["md5OfBody"] == hashlib.md5(r["body"].encode()).hexdigest()
    assert sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"]["ApproximateNumberOfMessages"] == "0"


def test_services_keys_are_checked(tmp_path):
    def parse(trigger: str):
        text = f"backend: local\nlocal:\n  functions:\n    f:\n      runtime: {PY}\n      handler: app.handler\n      code: .\n      triggers:\n        - {trigger}\n"
        return parse_config(text, tmp_path / "lambdatui.yaml").local.functions["f"].triggers[0]

    assert parse("{type: s3, bucket: b, services: true}").to_dict() == {
        "type": "s3", "bucket": "b", "services": True, "events": ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"], "prefix": "", "suffix": "",
    }
    assert parse("{type: sqs, queue: q, services: true}").describe(None) == "SQS queue q in the embedded AWS services (batch 10)"
    for trigger, key, message in [
        ("{type: s3, bucket: b, services: true, path: here}", "triggers[0].path", "has no local folder"),
        ("{type: s3, bucket: b}", "triggers[0].path", "is required (or services: true"),
        ("{type: s3, bucket: b, services: maybe}", "triggers[0].services", "must be true or false"),
        ("{type: sqs, queue: q, services: true, max_receive_count: 3}", "triggers[0].max_receive_count", "its own RedrivePolicy"),
    ]:
        with pytest.raises(ConfigError) as e:
            parse(trigger)
        assert f"lambdatui.yaml:9: local.functions.f.{key}" in str(e.value) and message in str(e.value), str(e.value)


def test_without_the_services_bucket_and_queue_triggers_are_listed_as_not_run(project):
    p = project("- {type: s3, bucket: uploads, services: true}\n- {type: sqs, queue: jobs, services: true}\n", endpoint_=None)
    p.start()
    lines = p.runner.describe()[1:]
    assert lines == [
        "S3           s3://uploads (embedded AWS services) → rec: not run: the bucket is in the embedded AWS services (serve --aws-services, or local.aws_services: true)",
        "SQS          jobs (embedded AWS services) → rec: not run: the queue is in the embedded AWS services (serve --aws-services, or local.aws_services: true)",
    ]
