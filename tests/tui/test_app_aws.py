"""The dashboard over the AWS backend, talking to moto's server on 127.0.0.1."""

from __future__ import annotations

import json

from lambdatui.backends.aws import AwsBackend
from lambdatui.config import parse_config
from lambdatui.tui.app import LambdaTUI
from lambdatui.tui.switcher import SwitchAwsScreen
from lambdatui.tui.widgets.event_console import EventConsole
from lambdatui.tui.widgets.function_list import FunctionList

from .conftest import wait_for, wait_for_screen


def make_app(endpoint: str, **aws) -> LambdaTUI:
    settings = {"region": "us-east-1", "endpoint_url": endpoint, **aws}
    config = parse_config("backend: aws\naws: " + json.dumps(settings) + "\n")
    return LambdaTUI(AwsBackend(config), config)


def _functions(moto):
    moto.create_function("orders", "def handler(e, c):\n    return e\n", environment={"DB_PASSWORD": "hunter2"})
    moto.create_function("payments", "def handler(e, c):\n    return e\n", memory=512)


async def test_dashboard_lists_and_invokes_aws_functions(aws_env):
    _functions(aws_env)
    app = make_app(aws_env.endpoint)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: app.query_one(FunctionList).table.row_count == 2)
        assert "aws · profile default · us-east-1" in app.sub_title
        await wait_for(pilot, lambda: app._selected == "orders")
        app.query_one(EventConsole).editor.load_text('{"order": 7}')
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: "OK" in str(app.query_one("#ec-summary").render()))
        assert json.loads(app.query_one(EventConsole).response_text) == {"order": 7}
        assert "figures unknown" in str(app.query_one("#ec-summary").render()) or "unknown" in str(app.query_one("#ec-summary").render())


async def test_dashboard_saves_configuration_to_aws(aws_env):
    _functions(aws_env)
    app = make_app(aws_env.endpoint)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app._selected == "orders")
        await pilot.press("f3")
        await wait_for(pilot, lambda: app.query("#cfg-timeout"))
        app.query_one("#cfg-timeout").value = "42"
        await wait_for(pilot, lambda: app.query_one("ConfigEditor").dirty)
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: not app.query_one("ConfigEditor").dirty)
    assert aws_env.client("lambda").get_function_configuration(FunctionName="orders")["Timeout"] == 42


async def test_read_only_session_disables_editing(aws_env):
    _functions(aws_env)
    app = make_app(aws_env.endpoint, read_only=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app._selected == "orders")
        await pilot.press("f3")
        await wait_for(pilot, lambda: app.query("#cfg-timeout") and app.query_one("#cfg-timeout").disabled)
        assert app.query_one("#cfg-readonly").display
        assert "read-only" in app.sub_title


async def test_switching_region_reloads_the_list(aws_env):
    _functions(aws_env)
    # us-east-1 has two functions; eu-west-1 has none
    app = make_app(aws_env.endpoint)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: app.query_one(FunctionList).table.row_count == 2)
        app.action_switch_aws()
        await wait_for_screen(pilot, SwitchAwsScreen, "#switch-region", "#switch-ok")
        app.screen.query_one("#switch-region").value = "eu-west-1"
        await pilot.click("#switch-ok")
        await wait_for(pilot, lambda: "eu-west-1" in app.sub_title)
        await wait_for(pilot, lambda: app.query_one(FunctionList).table.row_count == 0)


async def test_unreachable_endpoint_is_a_notification(aws_env):
    app = make_app("http://127.0.0.1:9")
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: any("Cannot reach" in n.message for n in app._notifications))
        assert app.is_running
