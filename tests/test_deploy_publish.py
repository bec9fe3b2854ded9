"""`deploy --publish [--alias A]`, reserved concurrency and triggers in the plan, and the target
account/profile/region (issue 15, item 13), against moto's server on 127.0.0.1."""

from __future__ import annotations

import pytest
from test_deploy import BASIC, backend_for, run_cli, write_project

from lambdatui.config import load_config
from lambdatui.deploy.plan import DeployError, apply_plan, deploy_target, make_plan

RESERVED = BASIC.replace("  description: says hello\n", "  description: says hello\n  reserved_concurrency: 5\n")
WITH_TRIGGERS = RESERVED + """\
  triggers:
    - type: schedule
      expression: rate(5 minutes)
"""


def test_plan_shows_reserved_concurrency_and_triggers_not_deployed(tmp_path, aws_env):
    cfg = write_project(tmp_path, WITH_TRIGGERS, aws=f"{{role: '{aws_env.role_arn()}'}}")
    config = load_config(cfg)
    backend = backend_for(aws_env)
    plan = make_plan(backend, config.local.functions["hello"], config)
    text = plan.render()
    assert "  reserved_concurrency: 5" in text
    assert "  trigger schedule (expression: rate(5 minutes), enabled: True): not deployed (use SAM/CloudFormation)" in text and text.splitlines()[-1].endswith(": not deployed (use SAM/CloudFormation)")
    apply_plan(backend, plan, config.local.functions["hello"], config)
    lam = aws_env.client("lambda")
    assert lam.get_function_concurrency(FunctionName="hello")["ReservedConcurrentExecutions"] == 5
    assert lam.list_event_source_mappings(FunctionName="hello")["EventSourceMappings"] == []  # triggers stay local

    # Nothing else changed but the reservation: an update that is only PutFunctionConcurrency…
    zero = write_project(tmp_path, WITH_TRIGGERS.replace("reserved_concurrency: 5", "reserved_concurrency: 0"), aws=f"{{role: '{aws_env.role_arn()}'}}")
    config = load_config(zero)
    plan = make_plan(backend, config.local.functions["hello"], config)
    assert plan.action == "update" and "  reserved_concurrency: 5 → 0" in plan.render()
    apply_plan(backend, plan, config.local.functions["hello"], config)
    assert lam.get_function_concurrency(FunctionName="hello")["ReservedConcurrentExecutions"] == 0  # 0 stays 0
    # …and removing it from the config is DeleteFunctionConcurrency.
    none = write_project(tmp_path, WITH_TRIGGERS.replace("  reserved_concurrency: 5\n", ""), aws=f"{{role: '{aws_env.role_arn()}'}}")
    config = load_config(none)
    plan = make_plan(backend, config.local.functions["hello"], config)
    assert "  reserved_concurrency: 0 → unreserved" in plan.render()
    apply_plan(backend, plan, config.local.functions["hello"], config)
    assert "ReservedConcurrentExecutions" not in lam.get_function_concurrency(FunctionName="hello")
    assert make_plan(backend, config.local.functions["hello"], config).action == "unchanged"


def test_publish_creates_then_moves_the_alias(tmp_path, aws_env):
    cfg = write_project(tmp_path, BASIC, aws=f"{{role: '{aws_env.role_arn()}'}}")
    config = load_config(cfg)
    backend = backend_for(aws_env)
    function = config.local.functions["hello"]
    plan = make_plan(backend, function, config, publish=True, alias="live")
    assert "  publish: a new version (PublishVersion) after the update" in plan.render()
    assert "  alias live: → the published version (new alias)" in plan.render()
    apply_plan(backend, plan, function, config)
    lam = aws_env.client("lambda")
    first = plan.published_version
    assert first is not None and lam.get_alias(FunctionName="hello", Name="live")["FunctionVersion"] == first

    changed = write_project(tmp_path, BASIC.replace("memory_size: 256", "memory_size: 512"), aws=f"{{role: '{aws_env.role_arn()}'}}")
    config = load_config(changed)
    function = config.local.functions["hello"]
    plan = make_plan(backend, function, config, publish=True, alias="live")
    assert f"  alias live: → the published version (now version {first})" in plan.render()
    apply_plan(backend, plan, function, config)
    second = plan.published_version
    assert second is not None and second != first
    assert lam.get_alias(FunctionName="hello", Name="live")["FunctionVersion"] == second
    assert lam.get_function_configuration(FunctionName="hello", Qualifier=second)["MemorySize"] == 512


def test_alias_without_publish_is_refused(tmp_path, aws_env):
    cfg = write_project(tmp_path, BASIC, aws=f"{{role: '{aws_env.role_arn()}'}}")
    config = load_config(cfg)
    with pytest.raises(DeployError, match="--alias needs --publish"):
        make_plan(backend_for(aws_env), config.local.functions["hello"], config, alias="live")
    r = run_cli(aws_env, "hello", "--config", str(cfg), "--alias", "live")
    assert r.returncode == 2 and r.stderr == "lambdatui: --alias needs --publish: an alias points at a published version\n"


def test_cli_names_the_target_and_publishes(tmp_path, aws_env):
    cfg = write_project(tmp_path, RESERVED, aws=f"{{role: '{aws_env.role_arn()}'}}")
    r = run_cli(aws_env, "hello", "--config", str(cfg), "--publish", "--alias", "prod")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[1] == "Target: account 123456789012 · profile default · region us-east-1"
    assert "  reserved_concurrency: 5" in lines
    version = aws_env.client("lambda").get_alias(FunctionName="hello", Name="prod")["FunctionVersion"]
    assert f"hello: version {version} · alias prod → {version}" in lines


def test_deploy_target_is_the_callers_account_profile_and_region(aws_env):
    target = deploy_target(backend_for(aws_env))
    assert (target.account, target.profile, target.region) == ("123456789012", "default", "us-east-1")
