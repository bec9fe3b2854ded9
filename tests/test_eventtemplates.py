"""The built-in test-event templates: complete, and shaped exactly as AWS sends them."""

from __future__ import annotations

import base64
import dataclasses
import gzip
import hashlib
import json
import re

import pytest

from lambdatui import eventtemplates
from lambdatui.eventtemplates import EVENTS_DIR, Template, template_event, template_text, templates

REQUIRED = [
    "apigateway-rest", "apigateway-http", "function-url", "alb", "s3-put", "s3-delete", "sqs", "sns",
    "dynamodb-stream", "kinesis", "eventbridge-scheduled", "cloudwatch-logs", "cognito-pre-signup",
]
IDS = [t.id for t in templates()]
ACCOUNT = "123456789012"


def test_catalogue():
    assert len(IDS) >= 12
    assert len(set(IDS)) == len(IDS)
    assert set(REQUIRED) <= set(IDS)
    assert IDS[0] == "apigateway-rest"
    for t in templates():
        assert isinstance(t, Template)
        assert t.title and t.source and t.title[0].isupper()
    with pytest.raises(dataclasses.FrozenInstanceError):
        templates()[0].id = "x"  # type: ignore[misc]  # frozen


def test_catalogue_and_files_match():
    assert sorted(p.name.removesuffix(".json") for p in EVENTS_DIR.iterdir() if p.name.endswith(".json")) == sorted(IDS)


@pytest.mark.parametrize("template_id", IDS)
def test_template_is_pretty_json(template_id):
    text = template_text(template_id)
    event = json.loads(text)
    assert isinstance(event, dict) and event
    assert text == json.dumps(event, indent=2, ensure_ascii=False) + "\n"
    assert template_event(template_id) == event
    assert "{{" not in text  # no unfilled SAM-style placeholders
    assert "us-west" not in text and "us-east-2" not in text  # one region throughout


def test_template_event_is_a_fresh_copy():
    template_event("sqs")["Records"].clear()
    assert template_event("sqs")["Records"]


@pytest.mark.parametrize("bad", ["nope", "../pricing", "", "apigateway-rest.json"])
def test_unknown_id(bad):
    with pytest.raises(KeyError):
        template_text(bad)
    with pytest.raises(KeyError):
        template_event(bad)


def test_no_textual_import():
    source = open(eventtemplates.__file__, encoding="utf-8").read()
    assert "textual" not in source.replace("No Textual", "")


def test_apigateway_rest():
    e = template_event("apigateway-rest")
    for key in ["resource", "path", "httpMethod", "headers", "multiValueHeaders", "queryStringParameters",
                "multiValueQueryStringParameters", "pathParameters", "stageVariables", "requestContext",
                "body", "isBase64Encoded"]:
        assert key in e, key
    rc = e["requestContext"]
    for key in ["accountId", "apiId", "domainName", "extendedRequestId", "httpMethod", "identity", "path",
                "protocol", "requestId", "requestTime", "requestTimeEpoch", "resourceId", "resourcePath", "stage"]:
        assert key in rc, key
    for key in ["sourceIp", "userAgent", "accessKey", "accountId", "caller", "cognitoIdentityId", "user", "userArn"]:
        assert key in rc["identity"], key
    assert rc["accountId"] == ACCOUNT
    assert rc["httpMethod"] == e["httpMethod"]
    assert rc["resourcePath"] == e["resource"]
    assert rc["path"] == f"/{rc['stage']}{e['path']}"
    assert re.fullmatch(r"\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} \+0000", rc["requestTime"])
    assert isinstance(rc["requestTimeEpoch"], int)
    assert {k: [v] for k, v in e["headers"].items()} == e["multiValueHeaders"]
    assert {k: v[-1] for k, v in e["multiValueQueryStringParameters"].items()} == e["queryStringParameters"]
    for name, value in e["pathParameters"].items():
        assert e["resource"].replace("{" + name + "}", value) == e["path"]
    assert isinstance(e["body"], str) and json.loads(e["body"])
    assert e["isBase64Encoded"] is False


@pytest.mark.parametrize("template_id", ["apigateway-http", "function-url"])
def test_payload_2_0(template_id):
    e = template_event(template_id)
    assert e["version"] == "2.0"
    for key in ["routeKey", "rawPath", "rawQueryString", "headers", "queryStringParameters", "requestContext",
                "body", "isBase64Encoded"]:
        assert key in e, key
    rc = e["requestContext"]
    for key in ["accountId", "apiId", "domainName", "domainPrefix", "http", "requestId", "routeKey", "stage",
                "time", "timeEpoch"]:
        assert key in rc, key
    assert set(rc["http"]) == {"method", "path", "protocol", "sourceIp", "userAgent"}
    assert rc["http"]["path"] == e["rawPath"]
    assert rc["routeKey"] == e["routeKey"]
    assert rc["domainName"].startswith(rc["domainPrefix"] + ".")
    assert all(k == k.lower() for k in e["headers"])  # payload 2.0 lower-cases header names
    assert e["headers"]["host"] == rc["domainName"]
    if "content-length" in e["headers"]:
        assert int(e["headers"]["content-length"]) == len(e["body"].encode())


def test_apigateway_http():
    e = template_event("apigateway-http")
    rc = e["requestContext"]
    assert rc["accountId"] == ACCOUNT
    assert rc["domainName"] == f"{rc['apiId']}.execute-api.us-east-1.amazonaws.com"
    method, route = e["routeKey"].split(" ")
    assert method == rc["http"]["method"]
    for name, value in e["pathParameters"].items():
        assert route.replace("{" + name + "}", value) == e["rawPath"]
    assert "cookies" in e and "stageVariables" in e
    assert "Cookie" not in e["headers"] and "cookie" not in e["headers"]  # 2.0 moves cookies out of headers


def test_function_url():
    e = template_event("function-url")
    rc = e["requestContext"]
    assert e["routeKey"] == rc["routeKey"] == "$default"
    assert rc["stage"] == "$default"
    assert re.fullmatch(r"[a-z0-9]{32}", rc["apiId"])
    assert rc["domainName"] == f"{rc['apiId']}.lambda-url.us-east-1.on.aws"


def test_alb():
    e = template_event("alb")
    assert e["requestContext"]["elb"]["targetGroupArn"].startswith(
        f"arn:aws:elasticloadbalancing:us-east-1:{ACCOUNT}:targetgroup/")
    for key in ["httpMethod", "path", "queryStringParameters", "headers", "body", "isBase64Encoded"]:
        assert key in e, key


@pytest.mark.parametrize("template_id, event_name", [("s3-put", "ObjectCreated:Put"), ("s3-delete", "ObjectRemoved:Delete")])
def test_s3(template_id, event_name):
    (r,) = template_event(template_id)["Records"]
    assert r["eventSource"] == "aws:s3" and r["awsRegion"] == "us-east-1"
    assert r["eventName"] == event_name
    assert r["s3"]["bucket"]["name"]
    assert r["s3"]["bucket"]["arn"] == f"arn:aws:s3:::{r['s3']['bucket']['name']}"
    assert r["s3"]["object"]["key"]
    assert r["s3"]["object"]["sequencer"]
    for key in ["eventVersion", "eventTime", "userIdentity", "requestParameters", "responseElements"]:
        assert key in r
    if event_name == "ObjectCreated:Put":
        assert isinstance(r["s3"]["object"]["size"], int) and r["s3"]["object"]["eTag"]
    else:
        assert "size" not in r["s3"]["object"]


def test_sqs():
    records = template_event("sqs")["Records"]
    assert records
    for r in records:
        for key in ["messageId", "receiptHandle", "body", "attributes", "messageAttributes", "md5OfBody",
                    "eventSource", "eventSourceARN", "awsRegion"]:
            assert key in r, key
        assert r["eventSource"] == "aws:sqs"
        assert r["eventSourceARN"].startswith(f"arn:aws:sqs:us-east-1:{ACCOUNT}:")
        assert r["attributes"]["ApproximateReceiveCount"].isdigit()
        for key in ["SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp"]:
            assert key in r["attributes"]
        assert r["md5OfBody"] == hashlib.md5(r["body"].encode()).hexdigest()


def test_sns():
    (r,) = template_event("sns")["Records"]
    assert r["EventSource"] == "aws:sns"
    sns = r["Sns"]
    assert sns["Type"] == "Notification"
    assert isinstance(sns["Message"], str) and sns["Message"]
    assert r["EventSubscriptionArn"].startswith(sns["TopicArn"] + ":")
    for key in ["MessageId", "Subject", "Timestamp", "SignatureVersion", "Signature", "SigningCertUrl",
                "UnsubscribeUrl", "MessageAttributes"]:
        assert key in sns, key


def _is_attribute_value(value) -> bool:
    return isinstance(value, dict) and len(value) == 1 and next(iter(value)) in {
        "S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS"}


def test_dynamodb_stream():
    records = template_event("dynamodb-stream")["Records"]
    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY", "REMOVE"]
    for r in records:
        assert r["eventSource"] == "aws:dynamodb"
        assert r["eventSourceARN"].startswith(f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/")
        d = r["dynamodb"]
        assert d["Keys"] and all(_is_attribute_value(v) for v in d["Keys"].values())
        for image in ("NewImage", "OldImage"):
            for v in d.get(image, {}).values():
                assert _is_attribute_value(v)
        assert d["StreamViewType"] == "NEW_AND_OLD_IMAGES"
        assert d["SequenceNumber"].isdigit()
    insert, modify, remove = (r["dynamodb"] for r in records)
    assert "NewImage" in insert and "OldImage" not in insert
    assert "NewImage" in modify and "OldImage" in modify
    assert "OldImage" in remove and "NewImage" not in remove


def test_kinesis():
    records = template_event("kinesis")["Records"]
    assert records
    for r in records:
        k = r["kinesis"]
        decoded = base64.b64decode(k["data"], validate=True)
        assert json.loads(decoded)
        assert r["eventName"] == "aws:kinesis:record" and r["eventSource"] == "aws:kinesis"
        assert r["eventID"].endswith(":" + k["sequenceNumber"])
        assert k["partitionKey"] and k["kinesisSchemaVersion"] == "1.0"
        assert isinstance(k["approximateArrivalTimestamp"], float)


def test_eventbridge_scheduled():
    e = template_event("eventbridge-scheduled")
    assert e["detail-type"] == "Scheduled Event"
    assert e["source"] == "aws.events"
    assert e["account"] == ACCOUNT and e["region"] == "us-east-1"
    assert e["resources"][0].startswith(f"arn:aws:events:us-east-1:{ACCOUNT}:rule/")
    assert e["detail"] == {}
    for key in ["version", "id", "time"]:
        assert key in e


def test_cloudwatch_logs():
    e = template_event("cloudwatch-logs")
    payload = json.loads(gzip.decompress(base64.b64decode(e["awslogs"]["data"], validate=True)))
    assert payload["messageType"] == "DATA_MESSAGE"
    assert payload["owner"] == ACCOUNT
    assert payload["logGroup"].startswith("/aws/lambda/")
    assert payload["logStream"] and payload["subscriptionFilters"]
    assert payload["logEvents"]
    for event in payload["logEvents"]:
        assert set(event) == {"id", "timestamp", "message"}
        assert event["id"].isdigit() and isinstance(event["timestamp"], int) and event["message"]


def test_cognito_pre_signup():
    e = template_event("cognito-pre-signup")
    assert e["triggerSource"] == "PreSignUp_SignUp"
    for key in ["version", "region", "userPoolId", "userName", "callerContext", "request", "response"]:
        assert key in e, key
    assert e["userPoolId"].startswith("us-east-1_")
    assert set(e["callerContext"]) == {"awsSdkVersion", "clientId"}
    assert "userAttributes" in e["request"] and "validationData" in e["request"]
    assert e["response"] == {"autoConfirmUser": False, "autoVerifyEmail": False, "autoVerifyPhone": False}
