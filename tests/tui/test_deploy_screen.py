"""Deploying from the dashboard to moto's server, then opening the function there in the same panes."""

from __future__ import annotations

import pytest

from lambdatui.backends.aws import AwsBackend
from lambdatui.tui.app import LambdaTUI
from lambdatui.tui.deploy_screen import DeployScreen
from lambdatui.tui.widgets.function_list import FunctionList

from .conftest import wait_for, wait_for_screen

pytest.importorskip("lambdatui.deploy.plan")


async def test_deploy_shows_the_plan_applies_on_confirmation_and_opens_on_aws(local_backend, aws_env):
    config, backend = local_backend()
    config.aws.endpoint_url = aws_env.endpoint
    config.aws.region = "us-east-1"
    config.aws.role = aws_env.role_arn()
    app = LambdaTUI(backend, config, select="hello-world")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app._selected == "hello-world")
        app.action_deploy()
        screen = await wait_for_screen(pilot, DeployScreen, "#deploy-apply")
        await wait_for(pilot, lambda: screen.plan is not None, timeout=30)
        # Where it goes, before Apply: the account (STS GetCallerIdentity), profile and region.
        target = screen.query_one("#deploy-target")
        assert str(target.render()) == "Target: account 123456789012 · profile default · region us-east-1"
        assert target.region.height >= 1
        assert screen.plan.action == "create"
        assert "hello-world" in screen.plan.render()
        assert aws_env.client("lambda").list_functions()["Functions"] == []  # nothing before Apply
        await pilot.click("#deploy-apply")
        await wait_for(pilot, lambda: not screen.query_one("#deploy-open").disabled, timeout=30)
        deployed = aws_env.client("lambda").get_function_configuration(FunctionName="hello-world")
        assert deployed["Handler"] == "app.lambda_handler" and deployed["MemorySize"] == 128
        await pilot.click("#deploy-open")
        await wait_for(pilot, lambda: isinstance(app.backend, AwsBackend))
        await wait_for(pilot, lambda: app.query_one(FunctionList).table.row_count == 1)
        assert app.sub_title.startswith("aws")
        await wait_for(pilot, lambda: app._selected == "hello-world")
