"""Stale state in the dashboard's dialogs (issue 16): the event-name box belongs to the selected
function, and a deploy whose planning failed does not go on saying it is planning."""

from __future__ import annotations

import pytest

from lambdatui.tui.app import LambdaTUI
from lambdatui.tui.widgets.event_console import EventConsole
from lambdatui.tui.widgets.function_list import FunctionList

from .conftest import wait_for, wait_for_screen


async def test_the_event_name_box_is_reset_when_another_function_is_selected(local_backend, sample_config):
    config, backend = local_backend()
    app = LambdaTUI(backend, config, select="hello-world")
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: app._selected == "hello-world")
        console = app.query_one(EventConsole)
        app.query_one("#ec-name").value = "ada"  # typed, not saved
        app.query_one(FunctionList).table.focus()
        await pilot.press("down")  # the sample's next function
        await wait_for(pilot, lambda: app._selected == "api-gateway")
        assert app.query_one("#ec-name").value == ""
        # Save now has no name: it asks for one rather than writing api-gateway's event as "ada".
        console.action_save_event()
        await pilot.pause(0.2)
        assert not (sample_config.parent / "events" / "api-gateway" / "ada.json").exists()
        # Back on hello-world, its own unsaved name comes back with its draft.
        app.query_one(FunctionList).table.focus()
        await pilot.press("up")
        await wait_for(pilot, lambda: app._selected == "hello-world")
        assert app.query_one("#ec-name").value == "ada"


async def test_a_failed_deploy_plan_does_not_still_say_it_is_packaging(local_backend):
    pytest.importorskip("lambdatui.deploy.plan")
    from lambdatui.tui.deploy_screen import DeployScreen

    config, backend = local_backend()
    config.aws.endpoint_url = "http://127.0.0.1:9"  # nothing listens there: the plan fails
    config.aws.region = "us-east-1"
    app = LambdaTUI(backend, config, select="hello-world")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app._selected == "hello-world")
        app.action_deploy()
        screen = await wait_for_screen(pilot, DeployScreen, "#deploy-plan-text")
        await wait_for(pilot, lambda: screen.query_one("#deploy-status").has_class("-error"), timeout=60)
        plan_text = str(screen.query_one("#deploy-plan-text").render())
        assert "Packaging and reading" not in plan_text
        assert plan_text.startswith("No plan")
        assert "finding the account" not in str(screen.query_one("#deploy-target").render())
        assert screen.query_one("#deploy-apply").disabled
