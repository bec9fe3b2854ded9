"""The dashboard on AWS with real profiles: the switcher's lists, a failed switch, credential
failures as notifications, the MFA dialog (assume-role against moto's STS) and the confirm before an
invoke. moto's server on 127.0.0.1; the AWS files are written per test (tests/aws_profiles.py)."""

from __future__ import annotations

import json

import boto3
from aws_profiles import MFA_SERIAL, use_profiles

from lambdatui.backends.aws import AwsBackend
from lambdatui.config import parse_config
from lambdatui.tui.app import ConfirmScreen, LambdaTUI
from lambdatui.tui.mfa_screen import MfaScreen
from lambdatui.tui.switcher import SwitchAwsScreen
from lambdatui.tui.widgets.event_console import EventConsole
from lambdatui.tui.widgets.function_list import FunctionList

from .conftest import wait_for, wait_for_screen


def make_app(endpoint: str, **aws) -> LambdaTUI:
    config = parse_config("backend: aws\naws: " + json.dumps({"endpoint_url": endpoint, **aws}) + "\n")
    return LambdaTUI(AwsBackend(config), config)


def _create(endpoint: str, region: str, name: str, role: str) -> None:
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("app.py", "def handler(e, c):\n    return e\n")
    boto3.client("lambda", region_name=region, endpoint_url=endpoint, aws_access_key_id="testing", aws_secret_access_key="testing").create_function(
        FunctionName=name, Runtime="python3.12", Role=role, Handler="app.handler", Code={"ZipFile": buf.getvalue()},
    )


def _rows(app: LambdaTUI) -> int:
    return app.query_one(FunctionList).table.row_count


def _messages(app: LambdaTUI) -> list[str]:
    return [n.message for n in app._notifications]


async def test_switcher_lists_profiles_and_regions_and_a_profile_brings_its_region(aws_env, monkeypatch, tmp_path):
    role = aws_env.role_arn()
    use_profiles(monkeypatch, tmp_path)
    _create(aws_env.endpoint, "us-west-2", "in-us-west-2", role)
    _create(aws_env.endpoint, "eu-west-1", "in-eu-west-1", role)
    app = make_app(aws_env.endpoint, profile="eu")
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: _rows(app) == 1)
        assert app.sub_title.startswith("aws · profile eu · eu-west-1")
        app.action_switch_aws()
        screen = await wait_for_screen(pilot, SwitchAwsScreen, "#switch-profile", "#switch-region", "#switch-ok")
        profiles = screen.query_one("#switch-profile")
        regions = screen.query_one("#switch-region")
        assert [value for _, value in profiles._options] == ["", "broken", "default", "eu", "mfa", "sso-dev", "us"]
        assert {"us-east-1", "eu-west-1", "us-west-2", "ap-northeast-3"} <= {value for _, value in regions._options}
        assert (profiles.value, regions.value) == ("eu", "eu-west-1")
        profiles.value = "us"
        await wait_for(pilot, lambda: regions.value == "us-west-2")  # the us profile's own region
        await pilot.click("#switch-ok")
        await wait_for(pilot, lambda: app.sub_title.startswith("aws · profile us · us-west-2"))
        await wait_for(pilot, lambda: _rows(app) == 1 and "in-us-west-2" in str(app.query_one(FunctionList).table.get_row_at(0)[0]))


async def test_failed_switch_keeps_the_header_on_what_is_in_use(aws_env, monkeypatch, tmp_path):
    use_profiles(monkeypatch, tmp_path)
    app = make_app(aws_env.endpoint, profile="eu")
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: app.sub_title.startswith("aws · profile eu · eu-west-1"))
        app._switch_aws("broken", "eu-central-1")
        await wait_for(pilot, lambda: any("credential_process failed" in m for m in _messages(app)))
        message = next(m for m in _messages(app) if "credential_process failed" in m)
        assert "profile 'broken'" in message and "aws-vault: session expired" in message
        assert app.sub_title.startswith("aws · profile eu · eu-west-1")
        assert (app.backend.location().profile, app.backend.location().region) == ("eu", "eu-west-1")
        app.action_switch_aws()
        screen = await wait_for_screen(pilot, SwitchAwsScreen, "#switch-profile")
        assert screen.query_one("#switch-profile").value == "eu"  # the switcher, too, shows what is in use


async def test_failing_credential_process_at_start_is_a_notification(aws_env, monkeypatch, tmp_path):
    use_profiles(monkeypatch, tmp_path)
    app = make_app(aws_env.endpoint, profile="broken")
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: any("credential_process failed" in m for m in _messages(app)))
        assert app.is_running and "profile broken" in app.sub_title


async def test_mfa_code_is_asked_in_a_dialog_and_the_role_assumed(aws_env, monkeypatch, tmp_path):
    use_profiles(monkeypatch, tmp_path, sts_endpoint=aws_env.endpoint)
    _create(aws_env.endpoint, "eu-west-1", "in-eu-west-1", aws_env.role_arn())
    app = make_app(aws_env.endpoint, profile="mfa")
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await wait_for_screen(pilot, MfaScreen, "#mfa-code")
        assert screen.query_one("#mfa-title").render().plain == "Profile mfa needs an MFA code"
        assert MFA_SERIAL in str(screen.query_one("#mfa-prompt").render())
        assert screen.query_one("#mfa-code").password
        await pilot.press(*"654321", "enter")
        await wait_for(pilot, lambda: _rows(app) == 1)
        assert not isinstance(app.screen, MfaScreen)
        assert not any("failed" in m for m in _messages(app))


async def test_cancelled_mfa_dialog_is_a_notification(aws_env, monkeypatch, tmp_path):
    use_profiles(monkeypatch, tmp_path, sts_endpoint=aws_env.endpoint)
    app = make_app(aws_env.endpoint, profile="mfa")
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for_screen(pilot, MfaScreen, "#mfa-code")
        await pilot.press("escape")
        await wait_for(pilot, lambda: "no MFA code was given for profile mfa" in _messages(app))
        assert app.is_running and not isinstance(app.screen, MfaScreen)


async def test_read_only_asks_before_invoking_on_aws(aws_env):
    aws_env.create_function("orders", "def handler(e, c):\n    return e\n")
    app = make_app(aws_env.endpoint, region="us-east-1", read_only=True)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: app._selected == "orders")
        app.query_one(EventConsole).editor.load_text('{"order": 7}')
        await pilot.press("ctrl+r")
        screen = await wait_for_screen(pilot, ConfirmScreen, "#yes", "#no")
        assert screen.question == "Invoke orders on aws · profile default · us-east-1 · " + aws_env.endpoint + " · read-only?"
        await pilot.click("#no")
        await pilot.pause(0.3)
        assert app.query_one(EventConsole).response_text == ""
        await pilot.press("ctrl+r")
        await wait_for_screen(pilot, ConfirmScreen, "#yes")
        await pilot.click("#yes")
        await wait_for(pilot, lambda: app.query_one(EventConsole).response_text != "")
        assert json.loads(app.query_one(EventConsole).response_text) == {"order": 7}


async def test_confirm_invoke_false_overrides_read_only(aws_env):
    aws_env.create_function("orders", "def handler(e, c):\n    return e\n")
    app = make_app(aws_env.endpoint, region="us-east-1", read_only=True, confirm_invoke=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: app._selected == "orders")
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: app.query_one(EventConsole).response_text != "")
        assert not isinstance(app.screen, ConfirmScreen)
