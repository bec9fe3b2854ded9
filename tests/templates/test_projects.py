"""The sample projects read as lambdatui's functions: what applies from a SAM template, Globals,
parameters (Default, samconfig.toml, --parameter-overrides), --env-vars, layers, inline code,
events as triggers, container images, a lambdatui.yaml on top of a template, and the CDK's cdk.out."""

from __future__ import annotations

import json
import textwrap

import pytest

from lambdatui.config import ConfigError, load_config
from lambdatui.model import IMAGE_RUNTIME
from lambdatui.templates import TemplateOptions, set_options


def test_sam_init_python_hello_world_as_sam_deploys_it(project):
    root = project("python-hello")
    (f,) = load_config(root / "template.yaml").local.functions.values()
    assert (f.name, f.runtime, f.handler, f.architecture) == ("HelloWorldFunction", "python3.12", "app.lambda_handler", "x86_64")
    assert f.code == str(root / "hello_world")
    assert f.timeout == 3  # from Globals
    assert f.memory_size == 128  # Lambda's default
    assert f.source == "template.yaml:HelloWorldFunction" or f.source.endswith("template.yaml:HelloWorldFunction")
    assert f.warnings == ()
    (route,) = f.triggers
    # SAM's implicit REST API: payload 1.0 and its stage "Prod", as `sam local start-api`.
    assert route.to_dict() == {"type": "http", "path": "/hello", "method": "GET", "payload_format": "1.0", "stage": "Prod"}


def test_globals_mappings_parameter_defaults_and_samconfig_apply(project):
    functions = load_config(project("orders") / "template.yaml").local.functions
    assert sorted(functions) == ["CreateOrderFunction", "PingFunction", "ReportFunction"]  # ProdOnlyFunction's condition is false
    create = functions["CreateOrderFunction"]
    assert (create.runtime, create.timeout, create.memory_size, create.architecture) == ("python3.12", 10, 256, "arm64")
    assert create.ephemeral_storage == 1024 and create.reserved_concurrency is None  # !If [IsProd, 100, AWS::NoValue]
    env = create.environment
    assert env["STAGE"] == "dev"  # Default
    assert env["LOG_LEVEL"] == "DEBUG"  # samconfig.toml's parameter_overrides
    assert env["TABLE_NAME"] == "orders-app-orders-v2"  # samconfig's stack_name and override, through !Sub
    assert env["REGION_NAME"] == "us-east-1"
    assert env["ORIGINS"] == "http://localhost:5173;https://example.com" and env["SECOND_ORIGIN"] == "https://example.com"
    assert env["GREETING"] == "aGVsbG8=" and env["PROD_ONLY"] == "no"
    assert functions["ReportFunction"].memory_size == 512  # its own beats Globals


def test_parameter_overrides_win_over_samconfig_and_defaults(project):
    set_options(TemplateOptions(parameter_overrides={"Stage": "prod", "LogLevel": "ERROR"}))
    functions = load_config(project("orders") / "template.yaml").local.functions
    create = functions["CreateOrderFunction"]
    assert create.environment["STAGE"] == "prod" and create.environment["LOG_LEVEL"] == "ERROR"
    assert create.memory_size == 1024 and create.reserved_concurrency == 100 and create.environment["PROD_ONLY"] == "yes"
    assert "ProdOnlyFunction" in functions


def test_env_vars_file_overrides_declared_variables_only_function_entry_first(project):
    root = project("orders")
    set_options(TemplateOptions(env_vars=json.loads((root / "env.json").read_text()), env_vars_path="env.json"))
    functions = load_config(root / "template.yaml").local.functions
    create, report = functions["CreateOrderFunction"], functions["ReportFunction"]
    assert create.environment["STAGE"] == "from-env-json"
    assert create.environment["LOG_LEVEL"] == "WARNING" and report.environment["LOG_LEVEL"] == "WARNING"  # "Parameters": every function
    assert "UNDECLARED" not in create.environment  # as SAM CLI: only what the template declares
    assert any("UNDECLARED" in w and "not declared" in w for w in create.warnings)


def test_placeholders_and_what_does_not_run_locally_are_warnings_on_the_function(project, caplog):
    functions = load_config(project("orders") / "template.yaml").local.functions
    create = functions["CreateOrderFunction"]
    assert create.environment["TABLE_ARN"] == "<unresolved !GetAtt OrdersTable.Arn>"
    assert create.environment["SHARED_VPC"] == "<unresolved !ImportValue shared-vpc-id>"
    assert "CreateOrderFunction.Environment.Variables.TABLE_ARN: !GetAtt OrdersTable.Arn is known only once deployed: left as a placeholder" in create.warnings
    # A DynamoDB event of the template's table is the dynamodb trigger (run with --aws-services).
    assert [t.to_dict() for t in create.triggers if t.type == "dynamodb"] == [{
        "type": "dynamodb", "table": "OrdersTable", "starting_position": "LATEST", "batch_size": 100,
        "maximum_batching_window_seconds": 0, "bisect_batch_on_function_error": False, "maximum_retry_attempts": -1,
    }]
    assert not any("Events.Changes" in w for w in create.warnings)
    assert any(w.startswith("ReportFunction.LoggingConfig.LogFormat") for w in functions["ReportFunction"].warnings)
    assert any("CreateOrderFunction.Environment.Variables.SHARED_VPC" in r.getMessage() for r in caplog.records)


def test_layers_inline_code_and_api_stages(project, tmp_path):
    root = project("orders")
    functions = load_config(root / "template.yaml").local.functions
    assert functions["CreateOrderFunction"].layers == (str(root / "layers" / "shared"),)
    ping = functions["PingFunction"]
    # InlineCode is written as Lambda names it (index.py) into the state dir's cache.
    assert (ping.code_dir / "index.py").read_text().startswith("def handler(event, context):")
    assert str(ping.code_dir).startswith(str(tmp_path / "state"))
    (http_api,) = [t for t in functions["CreateOrderFunction"].triggers if t.type == "http"]
    assert (http_api.path, http_api.method, http_api.payload_format, http_api.stage) == ("/orders/{id}", "POST", "2.0", "$default")
    (rest,) = functions["ReportFunction"].triggers
    assert (rest.path, rest.method, rest.payload_format, rest.stage) == ("/reports/{proxy+}", "ANY", "1.0", "v1")  # the explicit Api's StageName


def test_schedules_queues_buckets_and_images(project):
    root = project("workers")
    functions = load_config(root / "template.yaml").local.functions
    schedules = [t.to_dict() for t in functions["ScheduledEventLogger"].triggers]
    assert schedules == [
        {"type": "schedule", "expression": "cron(0 * * * ? *)", "enabled": True},
        {"type": "schedule", "expression": "rate(5 minutes)", "input": {"source": "tick"}, "enabled": False},
        {"type": "schedule", "expression": "cron(0 2 * * ? *)", "enabled": True, "name": "nightly-report"},
    ]
    (sqs,) = functions["SQSPayloadLogger"].triggers
    assert sqs.to_dict() == {
        "type": "sqs", "queue": "OrdersQueue", "batch_size": 5, "maximum_batching_window": 2.0, "visibility_timeout": 60.0,
        "max_receive_count": 3, "dead_letter_queue": "orders-dlq",
    }
    (s3,) = functions["ThumbnailFunction"].triggers
    assert (s3.bucket, s3.path, s3.events, s3.suffix) == ("my-uploads", str(root / "s3" / "my-uploads"), ("s3:ObjectCreated:*",), ".jpg")
    render = functions["RenderFunction"]
    assert render.runtime == IMAGE_RUNTIME
    assert render.warnings == ("RenderFunction: PackageType: Image: container images are not run locally",)
    assert all(f.warnings == () for name, f in functions.items() if name != "RenderFunction")


def test_lambdatui_yaml_points_at_a_template_and_adds_its_own_settings(project):
    root = project("workers")
    (root / "lambdatui.yaml").write_text(textwrap.dedent("""\
        local:
          keep_warm_seconds: 30
          region: eu-central-1
          template: template.yaml
          s3_folders:
            my-uploads: data/incoming
        """))
    config = load_config(root / "lambdatui.yaml")
    assert config.local.keep_warm_seconds == 30
    (s3,) = config.local.functions["ThumbnailFunction"].triggers
    assert s3.path == str(root / "data" / "incoming")
    assert config.local.functions["ThumbnailFunction"].source.endswith("template.yaml:ThumbnailFunction")


def test_a_lambdatui_yaml_function_with_a_template_functions_name_is_refused(project):
    root = project("python-hello")
    (root / "lambdatui.yaml").write_text("local:\n  template: template.yaml\n  functions:\n    HelloWorldFunction: {code: hello_world}\n")
    with pytest.raises(ConfigError, match="HelloWorldFunction: is also in the template"):
        load_config(root / "lambdatui.yaml")


def test_a_template_sam_rejects_is_one_config_error_with_sams_message(project):
    root = project("python-hello")
    text = (root / "template.yaml").read_text().replace("      Handler: app.lambda_handler\n", "      Handler: app.lambda_handler\n      PackageType: Image\n")
    (root / "template.yaml").write_text(text)
    with pytest.raises(ConfigError, match=r"AWS SAM rejects this template: Resource with id \[HelloWorldFunction\] is invalid"):
        load_config(root / "template.yaml")


def test_cdk_out_assets_resolve_code_and_layers_and_its_event_sources_become_triggers(project):
    root = project("cdk-app")
    for config in (root / "cdk.out", root / "cdk.out" / "HelloCdkStack.template.json"):
        (f,) = load_config(config).local.functions.values()
        assert f.name == "HelloHandler2E4FBA4D"
        assert f.code_dir.parent == root / "cdk.out" and f.code_dir.name.startswith("asset.")
        assert f.layers == (str(root / "cdk.out" / "asset.layer01"),)
        assert (f.memory_size, f.timeout) == (256, 15)
        assert [t.to_dict() for t in f.triggers] == [
            {"type": "sqs", "queue": "WorkQueue5A1F0D3B", "batch_size": 3, "maximum_batching_window": 0, "visibility_timeout": 45.0},
            {"type": "schedule", "expression": "rate(1 hour)", "input": {"name": "cron"}, "enabled": True},
        ]
        assert f.warnings == ("HelloHandler2E4FBA4D.Environment.Variables.QUEUE_URL: !Ref WorkQueue5A1F0D3B names a resource that exists only once deployed: left as a placeholder",)


def test_without_triggers_event_sources_are_not_read(project):
    functions = load_config(project("workers") / "template.yaml", triggers=False).local.functions
    assert all(f.triggers == () for f in functions.values())


def test_a_zip_code_uri_is_unpacked_once_into_the_state_dir(project, tmp_path):
    import zipfile

    root = project("python-hello")
    with zipfile.ZipFile(root / "hello.zip", "w") as z:
        z.write(root / "hello_world" / "app.py", "app.py")
    (root / "template.yaml").write_text((root / "template.yaml").read_text().replace("CodeUri: hello_world/", "CodeUri: hello.zip"))
    (f,) = load_config(root / "template.yaml").local.functions.values()
    assert (f.code_dir / "app.py").read_text() == (root / "hello_world" / "app.py").read_text()
    assert str(f.code_dir).startswith(str(tmp_path / "state")) and f.warnings == ()
