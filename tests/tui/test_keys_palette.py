"""The command palette: each action listed once, and "Switch backend / profile / region" from any
backend — from the local one it connects to AWS (moto's server on loopback); a switch that fails is
a notification and the dashboard stays on the backend it had."""

from __future__ import annotations

import io
import re
import zipfile

import boto3
from aws_profiles import use_profiles

from lambdatui.backends import make_backend
from lambdatui.config import load_config
from lambdatui.tui.app import BACK_TO_LOCAL_COMMAND, SWITCH_COMMAND, LambdaTUI
from lambdatui.tui.switcher import SwitchAwsScreen
from lambdatui.tui.widgets.function_list import FunctionList

from .conftest import wait_for, wait_for_screen

# Actions Textual's own palette entries duplicate, under other names.
SAME_ACTION = [("Keys", "Help: keys"), ("Screenshot", "Save SVG screenshot")]


def _titles(app: LambdaTUI) -> list[str]:
    return [command.title for command in app.get_system_commands(app.screen)]


def _names(app: LambdaTUI) -> list[str]:
    table = app.query_one(FunctionList).table
    return [str(table.get_row_at(i)[0]) for i in range(table.row_count)]


def _local_app(sample_config, tmp_path, endpoint: str) -> tuple[LambdaTUI, object]:
    # The sample config, with its `aws:` section pointing at moto's server.
    text = sample_config.read_text()
    text = re.sub(r"^aws: .*$", "aws: {profile: null, region: us-east-1, endpoint_url: " + endpoint + "}", text, flags=re.M)
    sample_config.write_text(text)
    config = load_config(sample_config)
    backend = make_backend(config, state_dir=tmp_path / "state", watch_code=False)
    return LambdaTUI(backend, config, select="hello-world"), backend


def _create_on_moto(endpoint: str, name: str, role: str) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("app.py", "def handler(e, c):\n    return e\n")
    boto3.client("lambda", region_name="us-east-1", endpoint_url=endpoint).create_function(
        FunctionName=name, Runtime="python3.12", Role=role, Handler="app.handler", Code={"ZipFile": buf.getvalue()},
    )


async def test_the_palette_lists_each_action_once(local_backend):
    config, backend = local_backend()
    app = LambdaTUI(backend, config, select="hello-world")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app._selected == "hello-world")
        titles = _titles(app)
        assert len(titles) == len(set(titles))
        for textual_name, ours in SAME_ACTION:
            assert ours in titles and textual_name not in titles
        assert SWITCH_COMMAND in titles  # on the local backend too


async def test_switch_from_local_to_aws_shows_the_aws_functions(aws_env, sample_config, tmp_path):
    _create_on_moto(aws_env.endpoint, "on-aws", aws_env.role_arn())
    app, local = _local_app(sample_config, tmp_path, aws_env.endpoint)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_for(pilot, lambda: app._selected == "hello-world")
            assert app.sub_title.startswith("local")
            command = next(c for c in app.get_system_commands(app.screen) if c.title == SWITCH_COMMAND)
            command.callback()
            screen = await wait_for_screen(pilot, SwitchAwsScreen, "#switch-region", "#switch-ok")
            assert screen.query_one("#switch-region").value == "us-east-1"  # the config's aws.region
            await pilot.click("#switch-ok")
            await wait_for(pilot, lambda: app.sub_title.startswith("aws · ") and "us-east-1" in app.sub_title)
            await wait_for(pilot, lambda: _names(app) == ["on-aws"])
            assert app.backend.name == "aws"
            # And from AWS the same entry switches profile or region.
            assert SWITCH_COMMAND in _titles(app)

            # Back to the local backend: its functions, and the state dir followed again (an
            # invocation by another process shows in the Last column).
            assert BACK_TO_LOCAL_COMMAND in _titles(app)
            next(c for c in app.get_system_commands(app.screen) if c.title == BACK_TO_LOCAL_COMMAND).callback()
            await wait_for(pilot, lambda: app.backend is local and "hello-world" in _names(app))
            assert BACK_TO_LOCAL_COMMAND not in _titles(app)
            other = make_backend(load_config(sample_config), state_dir=tmp_path / "state", watch_code=False)
            try:
                other.invoke("hello-world", b"{}")
            finally:
                other.close()
            functions = app.query_one(FunctionList)
            await wait_for(pilot, lambda: "hello-world" in functions._last, timeout=10)
    finally:
        local.close()


async def test_a_failed_switch_from_local_is_a_notification_and_keeps_the_local_backend(aws_env, monkeypatch, sample_config, tmp_path):
    use_profiles(monkeypatch, tmp_path)  # profiles from files; "nope" is not one of them
    app, local = _local_app(sample_config, tmp_path, aws_env.endpoint)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_for(pilot, lambda: app._selected == "hello-world")
            app._connect_aws("nope", "us-east-1")
            await wait_for(pilot, lambda: any(n.title == "Connecting to AWS failed" for n in app._notifications))
            message = next(n.message for n in app._notifications if n.title == "Connecting to AWS failed")
            assert "nope" in message
            assert app.backend is local and app.sub_title.startswith("local")
            assert "hello-world" in _names(app)
    finally:
        local.close()
