"""The command line on real project folders, as a user runs it: invoke by logical id with the
project's events/event.json, parameter and env-var overrides reaching the function, `list --json`'s
source, one-line errors."""

from __future__ import annotations

import json

import pytest


@pytest.mark.parametrize("flags", [(), ("--config", "template.yaml"), ("--template", "template.yaml")])
def test_invoke_sam_python_hello_world_by_logical_id_with_its_event(project, lambdatui, flags):
    root = project("python-hello")
    done = lambdatui("invoke", "HelloWorldFunction", "--event", "events/event.json", "--json", *flags, cwd=root)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["status_code"] == 200 and result["function_error"] is None
    body = json.loads(result["payload"]["body"])
    assert body == {"message": "hello world", "path": "/hello", "method": "GET", "stage": "prod", "function": "HelloWorldFunction", "timeout_ms_left_at_most": True}


def test_invoke_sam_nodejs_hello_world_found_as_template_yml(project, lambdatui):
    root = project("nodejs-hello")
    done = lambdatui("invoke", "HelloWorldFunction", "--event", "events/event.json", "--json", cwd=root)
    assert done.returncode == 0, done.stderr
    body = json.loads(json.loads(done.stdout)["payload"]["body"])
    assert body == {"message": "hello world", "path": "/hello", "runtime": "AWS_Lambda_nodejs20.x"}


def test_parameter_overrides_and_env_vars_reach_the_function(project, lambdatui):
    root = project("orders")
    done = lambdatui(
        "invoke", "CreateOrderFunction", "--event", "events/create.json", "--json",
        "--parameter-overrides", "Stage=prod", "ParameterKey=TableName,ParameterValue=carts", "--env-vars", "env.json", cwd=root,
    )
    assert done.returncode == 0, done.stderr
    body = json.loads(json.loads(done.stdout)["payload"]["body"])
    assert body["env"]["STAGE"] == "from-env-json"  # env.json's function entry beats the parameter
    assert body["env"]["LOG_LEVEL"] == "WARNING"  # env.json's "Parameters"
    assert body["env"]["TABLE_NAME"] == "orders-app-carts"
    assert body["env"]["PROD_ONLY"] == "yes" and body["memory"] == "1024"  # Stage=prod through !If and !FindInMap
    assert body["shared"] == "hello from the layer" and body["id"] == "42"
    # The placeholder reaches the function visibly, and stderr names the function and the key.
    assert body["env"]["TABLE_ARN"] == "<unresolved !GetAtt OrdersTable.Arn>"
    assert "CreateOrderFunction.Environment.Variables.TABLE_ARN: !GetAtt OrdersTable.Arn" in done.stderr


def test_inline_code_runs(project, lambdatui):
    root = project("orders")
    (root / "events" / "ping.json").write_text('{"n": 41}')
    done = lambdatui("invoke", "PingFunction", "--json", "--event", "events/ping.json", cwd=root)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["payload"] == {"pong": 42}


def test_list_json_says_where_each_function_comes_from(project, lambdatui):
    root = project("workers")
    (root / "lambdatui.yaml").write_text("local:\n  template: template.yaml\n  functions:\n    extra: {code: src/logger, handler: app.handler}\n")
    done = lambdatui("list", "--json", cwd=root)
    assert done.returncode == 0, done.stderr
    rows = {row["name"]: row for row in json.loads(done.stdout)}
    assert rows["extra"]["source"] == "lambdatui.yaml"
    assert rows["ScheduledEventLogger"]["source"] == "template.yaml:ScheduledEventLogger"
    assert rows["RenderFunction"]["warnings"] == ["RenderFunction: PackageType: Image: container images are not run locally"]


def test_invoking_a_container_image_function_says_so_in_one_line(project, lambdatui):
    done = lambdatui("invoke", "RenderFunction", cwd=project("workers"))
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1] == "lambdatui: RenderFunction is a container image (PackageType: Image): container images are not run locally"
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("args, message", [
    (("--parameter-overrides", "Stage"), "lambdatui: --parameter-overrides: 'Stage' is not KEY=VALUE"),
    (("--env-vars", "missing.json"), "lambdatui: --env-vars missing.json: cannot read: No such file or directory"),
])
def test_bad_override_input_is_one_line_exit_2(project, lambdatui, args, message):
    done = lambdatui("list", *args, cwd=project("orders"))
    assert done.returncode == 2 and done.stderr.strip() == message


def test_a_template_sam_rejects_exits_2_with_one_line(project, lambdatui):
    root = project("python-hello")
    (root / "template.yaml").write_text((root / "template.yaml").read_text().replace("Runtime: python3.12", "Runtime: python3.12\n      PackageType: Image"))
    done = lambdatui("list", cwd=root)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.startswith("lambdatui: config error: ") and "AWS SAM rejects this template" in done.stderr
