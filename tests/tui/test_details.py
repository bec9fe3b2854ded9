"""The dashboard's Details screen (F7, `app.details`), the console's invocation type and qualifier
picker, and the editor's reserved concurrency read on selection — over the local backend and over
moto's server (versions, aliases, reserved concurrency 0), plus a snapshot of the screen."""

from __future__ import annotations

import json

import pytest
from test_aws_detail import rich_function  # tests/ is on sys.path (its conftest.py)

from lambdatui.backends import make_backend
from lambdatui.backends.aws import AwsBackend
from lambdatui.config import load_config, parse_config
from lambdatui.tui.app import LambdaTUI
from lambdatui.tui.details_screen import DetailsScreen
from lambdatui.tui.widgets.event_console import EventConsole

from .conftest import settled, wait_for, wait_for_screen


async def test_details_screen_shows_the_function_raw_json_a_key_away(local_backend):
    config, backend = local_backend(watch_code=False)
    app = LambdaTUI(backend, config, select="hello-world")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app._selected == "hello-world")
        await pilot.press("f7")
        screen = await wait_for_screen(pilot, DetailsScreen, "#details-text")
        await wait_for(pilot, lambda: screen.detail is not None)
        for part in ("hello-world ($LATEST)", "Triggers", "schedule", "Log group  /aws/lambda/hello-world", "Versions", "none published"):
            assert part in screen.shown_text
        await pilot.press("j")
        raw = json.loads(screen.shown_text)
        assert raw["FunctionName"] == "hello-world" and raw["LoggingConfig"]["LogFormat"] == "Text"
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, DetailsScreen))


async def test_details_key_is_remappable_by_its_id(tmp_path, sample_config):
    text = sample_config.read_text() + "\ntui:\n  keys:\n    app.details: ctrl+o\n"
    sample_config.write_text(text)
    config = load_config(sample_config)
    backend = make_backend(config, state_dir=tmp_path / "state", watch_code=False)
    try:
        app = LambdaTUI(backend, config, select="hello-world")
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_for(pilot, lambda: app._selected == "hello-world")
            await pilot.press("ctrl+o")
            await wait_for_screen(pilot, DetailsScreen, "#details-text")
    finally:
        backend.close()


def _aws_app(endpoint: str) -> LambdaTUI:
    config = parse_config(f"backend: aws\naws: {{region: us-east-1, endpoint_url: '{endpoint}'}}\n")
    return LambdaTUI(AwsBackend(config), config, select="orders")


async def test_aws_editor_reads_reserved_concurrency_zero_on_selection(aws_env):
    rich_function(aws_env)  # reserved concurrency 0: every invoke throttled
    app = _aws_app(aws_env.endpoint)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app._selected == "orders")
        await pilot.press("f3")
        field = app.query_one("#cfg-reserved_concurrency")
        await wait_for(pilot, lambda: field.value == "0")
        editor = app.query_one("ConfigEditor")
        assert not editor.dirty and not field.disabled and editor.config.reserved_concurrency == 0


async def test_aws_console_invokes_a_qualifier_with_an_invocation_type_and_details_list_aliases(aws_env):
    rich_function(aws_env)
    aws_env.client("lambda").delete_function_concurrency(FunctionName="orders")
    app = _aws_app(aws_env.endpoint)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app._selected == "orders")
        console = app.query_one(EventConsole)
        await wait_for(pilot, lambda: console.qualifiers == ["canary", "live", "2", "1"])
        app.query_one("#ec-qualifier").value = "live"
        app.query_one("#ec-type").value = "Event"
        await pilot.pause()
        assert console.invoke_options() == {"invocation_type": "Event", "qualifier": "live"}
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: "202 QUEUED" in str(app.query_one("#ec-summary").render()))
        app.query_one("#ec-type").value = "DryRun"
        await pilot.pause()
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: "204 DRY RUN" in str(app.query_one("#ec-summary").render()))
        # The Details screen opens at the console's qualifier.
        await pilot.press("f7")
        screen = await wait_for_screen(pilot, DetailsScreen, "#details-text")
        await wait_for(pilot, lambda: screen.detail is not None)
        assert (screen.detail.qualifier, screen.detail.version) == ("live", "1")
        assert "canary" in screen.shown_text and "→ 2 (25% → 1)" in screen.shown_text
        assert "hunter22" not in screen.shown_text
        await pilot.press("r")
        assert "hunter22" in screen.shown_text


@pytest.fixture
def deterministic_app(sample_config, tmp_path, monkeypatch):
    monkeypatch.setenv("LAMBDATUI_DETERMINISTIC", "1")
    backends = []

    def make():
        config = load_config(sample_config)
        backend = make_backend(config, state_dir=tmp_path / "state", watch_code=False)
        backends.append(backend)
        return LambdaTUI(backend, config, select="heavy-init")  # no layer folders: no paths that vary

    yield make
    for b in backends:
        b.close()


def test_snapshot_details_screen(deterministic_app, snap_compare):
    async def details(pilot):
        await wait_for(pilot, lambda: pilot.app._selected == "heavy-init")
        await pilot.press("f7")
        screen = await wait_for_screen(pilot, DetailsScreen, "#details-text")
        await wait_for(pilot, lambda: screen.detail is not None)
        await settled(pilot)

    assert snap_compare(deterministic_app(), terminal_size=(120, 36), run_before=details)


async def test_a_dialogs_footer_shows_its_own_keys_not_the_dashboards(local_backend):
    """Issue 16, "footers that belong to the screen on top": the Details dialog's footer lists
    its keys (Close, Raw JSON), not the list's (Sort, Filter), which do nothing while it is open."""
    from textual.widgets import Footer
    from textual.widgets._footer import FooterKey

    config, backend = local_backend(watch_code=False)
    app = LambdaTUI(backend, config, select="hello-world")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app._selected == "hello-world")
        await pilot.press("f7")
        screen = await wait_for_screen(pilot, DetailsScreen, "#details-text")
        await wait_for(pilot, lambda: screen.query(Footer) and screen.query(FooterKey))
        shown = {key.description for key in screen.query(FooterKey)}
        assert {"Close", "Raw JSON"} <= shown
        assert not {"Sort", "Filter"} & shown
