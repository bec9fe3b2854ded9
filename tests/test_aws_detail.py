"""The whole function on AWS: `function_detail`, versions, aliases and reserved concurrency, against
moto's server (versions, aliases, a function URL, an SQS event source mapping, tags, a resource
policy, reserved concurrency 0) and the AWS-shaped endpoint for what moto cannot produce (ListFunctions
paging by NextMarker over 262 functions, VPC, tracing, DLQ, JSON logging, GetFunctionConcurrency for each)."""

from __future__ import annotations

import json
import threading

import pytest
from aws_shaped import Answer, AwsShapedServer

from lambdatui.backends import FunctionNotFoundError
from lambdatui.backends.aws import AwsBackend
from lambdatui.backends.aws_detail import policy_triggers
from lambdatui.backends.detail import DETAIL_KEYS, split_qualifier
from lambdatui.config import parse_config


def aws_backend(endpoint: str) -> AwsBackend:
    return AwsBackend(parse_config(f"backend: aws\naws: {{region: us-east-1, endpoint_url: '{endpoint}'}}\n"))


def rich_function(moto) -> dict:
    """A function with everything moto can hold: two versions, two aliases (one weighted), a
    function URL, an SQS trigger, tags, an S3 permission, reserved concurrency 0."""
    lam = moto.client("lambda")
    created = moto.create_function("orders", "def handler(e, c):\n    return e\n", environment={"TABLE": "orders", "DB_PASSWORD": "hunter22"})
    lam.tag_resource(Resource=created["FunctionArn"], Tags={"team": "payments", "env": "prod"})
    lam.publish_version(FunctionName="orders", Description="first")
    lam.update_function_configuration(FunctionName="orders", MemorySize=256)
    lam.publish_version(FunctionName="orders", Description="second")
    lam.create_alias(FunctionName="orders", Name="live", FunctionVersion="1")
    lam.create_alias(FunctionName="orders", Name="canary", FunctionVersion="2", RoutingConfig={"AdditionalVersionWeights": {"1": 0.25}})
    lam.create_function_url_config(FunctionName="orders", AuthType="AWS_IAM")
    lam.put_function_concurrency(FunctionName="orders", ReservedConcurrentExecutions=0)
    queue = moto.client("sqs").create_queue(QueueName="orders-in")["QueueUrl"]
    queue_arn = moto.client("sqs").get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    lam.create_event_source_mapping(EventSourceArn=queue_arn, FunctionName="orders", BatchSize=10)
    lam.add_permission(
        FunctionName="orders", StatementId="s3-invoke", Action="lambda:InvokeFunction",
        Principal="s3.amazonaws.com", SourceArn="arn:aws:s3:::orders-bucket",
    )
    return {"queue_arn": queue_arn, "arn": created["FunctionArn"]}


def test_detail_has_every_key_and_what_the_account_holds(aws_env):
    made = rich_function(aws_env)
    backend = aws_backend(aws_env.endpoint)
    detail = backend.function_detail("orders")
    out = detail.to_json()
    assert list(out)[: len(DETAIL_KEYS)] == list(DETAIL_KEYS)
    assert out["function"] == "orders" and out["qualifier"] == "$LATEST" and out["memory_size"] == 256
    # Reserved concurrency 0 (every invoke throttled) is 0, not "unreserved".
    assert out["reserved_concurrency"] == 0
    assert out["tags"] == {"team": "payments", "env": "prod"}
    assert [v["version"] for v in out["versions"]] == ["1", "2"]
    assert [v["description"] for v in out["versions"]] == ["first", "second"]
    assert {a["name"]: a["function_version"] for a in out["aliases"]} == {"canary": "2", "live": "1"}
    assert next(a for a in out["aliases"] if a["name"] == "canary")["routing"] == {"1": 0.25}
    assert out["url"]["auth_type"] == "AWS_IAM" and out["url"]["url"].startswith("http")
    triggers = {(t["type"], t["source"], t["via"]): t["state"] for t in out["triggers"]}
    assert ("sqs", made["queue_arn"], "event_source_mapping") in triggers
    assert triggers[("s3", "arn:aws:s3:::orders-bucket", "resource_policy")] == "Allowed"
    assert out["logging"] == {"format": "Text", "log_group": "/aws/lambda/orders"}
    assert out["environment"]["TABLE"] == "orders" and out["environment"]["DB_PASSWORD"] != "hunter22"
    assert detail.to_json(reveal=True)["environment"]["DB_PASSWORD"] == "hunter22"
    assert out["code_size"] > 0 and out["code_sha256"]
    assert "hunter22" not in detail.raw_json() and "hunter22" in detail.raw_json(reveal=True)
    assert "Location" not in detail.raw.get("Code", {})  # a presigned URL is not for pasting


def test_detail_of_a_qualifier_and_of_name_colon_alias(aws_env):
    rich_function(aws_env)
    backend = aws_backend(aws_env.endpoint)
    live = backend.function_detail("orders", qualifier="live")
    assert (live.qualifier, live.version, live.configuration.memory_size) == ("live", "1", 128)
    assert backend.function_detail("orders:live").version == "1"
    assert backend.function_detail("orders", qualifier="2").configuration.memory_size == 256
    with pytest.raises(FunctionNotFoundError):
        backend.function_detail("orders", qualifier="nope")
    with pytest.raises(FunctionNotFoundError):
        backend.function_detail("missing")


def test_versions_aliases_and_reserved_concurrency_methods(aws_env):
    rich_function(aws_env)
    aws_env.create_function("plain", "def handler(e, c):\n    return e\n")
    backend = aws_backend(aws_env.endpoint)
    assert backend.capabilities.versions and not backend.capabilities.lists_reserved_concurrency
    assert [v.version for v in backend.list_versions("orders")] == ["1", "2"]
    assert [a.name for a in backend.list_aliases("orders")] == ["canary", "live"]
    assert backend.reserved_concurrency("orders") == 0
    assert backend.reserved_concurrency("plain") is None  # unreserved
    assert backend.reserved_concurrencies(["orders", "plain"]) == {"orders": 0, "plain": None}
    assert backend.list_versions("plain") == [] and backend.list_aliases("plain") == []


def test_policy_triggers_read_services_and_their_sources():
    policy = {
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "apigateway.amazonaws.com"}, "Action": "lambda:InvokeFunction",
             "Condition": {"ArnLike": {"AWS:SourceArn": "arn:aws:execute-api:us-east-1:123456789012:abc/*"}}},
            {"Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"}, "Action": "lambda:InvokeFunction"},
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::210987654321:root"}, "Action": "lambda:InvokeFunction"},
            {"Effect": "Deny", "Principal": "*", "Action": "lambda:InvokeFunction"},
        ]
    }
    found = [(t.type, t.source) for t in policy_triggers(json.dumps(policy))]
    assert found == [
        ("apigateway", "arn:aws:execute-api:us-east-1:123456789012:abc/*"),
        ("events", "events.amazonaws.com"),
        ("account", "arn:aws:iam::210987654321:root"),
    ]
    assert policy_triggers("not json") == []


@pytest.mark.parametrize(
    "name, expected",
    [
        ("fn", ("fn", None)),
        ("fn:prod", ("fn", "prod")),
        ("arn:aws:lambda:us-east-1:123456789012:function:fn", ("arn:aws:lambda:us-east-1:123456789012:function:fn", None)),
        ("arn:aws:lambda:us-east-1:123456789012:function:fn:7", ("arn:aws:lambda:us-east-1:123456789012:function:fn", "7")),
    ],
)
def test_split_qualifier_reads_names_as_lambda_does(name, expected):
    assert split_qualifier(name) == expected


# -- what moto cannot produce: the AWS-shaped endpoint ---------------------------------------------

FUNCTION_COUNT = 262


def _configuration(i: int) -> dict:
    return {
        "FunctionName": f"fn-{i:03d}",
        "FunctionArn": f"arn:aws:lambda:us-east-1:123456789012:function:fn-{i:03d}",
        "Runtime": ("python3.12", "nodejs20.x", "java21")[i % 3],
        "Handler": "app.handler",
        "MemorySize": 128,
        "Timeout": 3,
        "Architectures": ["arm64" if i % 2 else "x86_64"],
        "Version": "$LATEST",
    }


@pytest.fixture
def account(aws_env):  # aws_env: credentials that reach only loopback
    """262 functions, paged by NextMarker 50 at a time; fn-000 has reserved concurrency 0,
    fn-001 has 5, the rest none. GetFunctionConcurrency answers count the calls in flight."""
    server = AwsShapedServer()
    state = {"in_flight": 0, "most": 0}
    lock = threading.Lock()

    def page(req):
        start = int(req.query.get("Marker") or 0)
        functions = [_configuration(i) for i in range(start, min(start + 50, FUNCTION_COUNT))]
        more = {"NextMarker": str(start + 50)} if start + 50 < FUNCTION_COUNT else {}
        return Answer(200, {"Functions": functions, **more})

    server.on("GET", "/2015-03-31/functions/", page)
    for i in range(FUNCTION_COUNT):
        name = f"fn-{i:03d}"

        def concurrency(req, i=i):
            with lock:
                state["in_flight"] += 1
                state["most"] = max(state["most"], state["in_flight"])
            threading.Event().wait(0.005)
            with lock:
                state["in_flight"] -= 1
            return Answer(200, {"ReservedConcurrentExecutions": {0: 0, 1: 5}[i]} if i < 2 else {})

        server.on("GET", f"/2019-09-30/functions/{name}/concurrency", concurrency)
    yield server, state
    server.stop()


def test_reserved_concurrency_of_every_function_on_a_bounded_pool(account):
    server, state = account
    backend = aws_backend(server.endpoint)
    names = [f.name for f in backend.list_functions()]
    assert len(names) == FUNCTION_COUNT and len(server.seen(path="/2015-03-31/functions/")) == 6
    values = backend.reserved_concurrencies(names)
    assert values["fn-000"] == 0 and values["fn-001"] == 5
    assert all(values[n] is None for n in names[2:])
    from lambdatui.backends.aws_detail import CONCURRENCY_WORKERS

    assert 1 < state["most"] <= CONCURRENCY_WORKERS


def test_detail_reads_vpc_tracing_dlq_json_logging_and_destinations(aws_env):
    server = AwsShapedServer()
    try:
        config = {
            **_configuration(7),
            "FunctionName": "worker",
            "VpcConfig": {"VpcId": "vpc-1", "SubnetIds": ["subnet-a", "subnet-b"], "SecurityGroupIds": ["sg-1"]},
            "TracingConfig": {"Mode": "Active"},
            "DeadLetterConfig": {"TargetArn": "arn:aws:sqs:us-east-1:123456789012:worker-dlq"},
            "LoggingConfig": {"LogFormat": "JSON", "LogGroup": "/custom/worker", "ApplicationLogLevel": "INFO", "SystemLogLevel": "WARN"},
            "Layers": [{"Arn": "arn:aws:lambda:us-east-1:123456789012:layer:deps:3", "CodeSize": 10}],
            "CodeSize": 4096,
            "CodeSha256": "abc=",
            "State": "Active",
            "LastUpdateStatus": "InProgress",
        }
        server.on("GET", "/2015-03-31/functions/worker", lambda req: Answer(200, {"Configuration": config, "Code": {"RepositoryType": "S3", "Location": "https://presigned"}, "Tags": {"a": "b"}}))
        server.on("GET", "/2019-09-30/functions/worker/concurrency", lambda req: Answer(200, {}))
        server.on("GET", "/2015-03-31/functions/worker/versions", lambda req: Answer(200, {"Versions": [{"Version": "$LATEST"}, {"Version": "10"}, {"Version": "9"}]}))
        server.on("GET", "/2015-03-31/functions/worker/aliases", lambda req: Answer(200, {"Aliases": []}))
        server.on("GET", "/2015-03-31/event-source-mappings", lambda req: Answer(200, {"EventSourceMappings": []}))
        # A read-only role without lambda:GetPolicy: a note, not a failed view.
        server.on("GET", "/2015-03-31/functions/worker/policy", lambda req: Answer(403, {"Type": "User", "Message": "not authorized to perform: lambda:GetPolicy"}, headers={"x-amzn-ErrorType": "AccessDeniedException"}))
        server.on("GET", "/2019-09-25/functions/worker/event-invoke-config", lambda req: Answer(200, {
            "MaximumRetryAttempts": 1, "MaximumEventAgeInSeconds": 3600,
            "DestinationConfig": {"OnSuccess": {}, "OnFailure": {"Destination": "arn:aws:sns:us-east-1:123456789012:failed"}},
        }))
        out = aws_backend(server.endpoint).function_detail("worker").to_json()
    finally:
        server.stop()
    assert out["vpc"] == {"vpc_id": "vpc-1", "subnet_ids": ["subnet-a", "subnet-b"], "security_group_ids": ["sg-1"]}
    assert out["tracing"] == "Active"
    assert out["dead_letter"] == "arn:aws:sqs:us-east-1:123456789012:worker-dlq"
    assert out["logging"] == {"format": "JSON", "log_group": "/custom/worker", "application_log_level": "INFO", "system_log_level": "WARN"}
    assert out["layers"] == ["arn:aws:lambda:us-east-1:123456789012:layer:deps:3"]
    assert out["architecture"] == "arm64" and out["last_update_status"] == "InProgress"
    assert (out["code_size"], out["code_sha256"]) == (4096, "abc=")
    assert [v["version"] for v in out["versions"]] == ["9", "10"]  # numeric order, $LATEST left out
    assert out["reserved_concurrency"] is None and out["url"] is None
    assert out["destinations"] == {"on_success": None, "on_failure": "arn:aws:sns:us-east-1:123456789012:failed", "maximum_retry_attempts": 1, "maximum_event_age_seconds": 3600}
    assert len(out["notes"]) == 1 and out["notes"][0].startswith("resource policy: Access denied")
