"""The configuration pane's /tmp size (`ephemeral_storage`, Lambda's EphemeralStorage: 512–10240 MB)
and its Sandbox section: which of Lambda's isolation guarantees hold where the function runs."""

from __future__ import annotations

import yaml

from lambdatui.executor.sandbox import capabilities
from lambdatui.tui.app import LambdaTUI
from lambdatui.tui.widgets.config_editor import ConfigEditor, isolation_lines

from .conftest import wait_for


def _sandbox_text(app) -> str | None:
    body = app.query_one("#cfg-isolation")
    return str(body.render()) if body.display else None


async def test_tmp_size_is_shown_checked_and_saved_to_the_config_file(local_backend, sample_config):
    config, backend = local_backend()
    app = LambdaTUI(backend, config, select="hello-world")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app._selected == "hello-world")
        await pilot.press("f3")
        await wait_for(pilot, lambda: app.query("#cfg-ephemeral_storage"))
        field = app.query_one("#cfg-ephemeral_storage")
        assert field.value == "512"  # Lambda's default
        field.value = "256"
        await wait_for(pilot, lambda: "256 is outside 512–10240 MB" in str(app.query_one("#cfg-ephemeral_storage-error").render()))
        field.value = "2048"
        await wait_for(pilot, lambda: app.query_one(ConfigEditor).dirty and not app.query_one("#cfg-ephemeral_storage-error").display)
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: not app.query_one(ConfigEditor).dirty)
    saved = yaml.safe_load(sample_config.read_text())
    assert saved["local"]["functions"]["hello-world"]["ephemeral_storage"] == 2048
    assert backend.get_function("hello-world").ephemeral_storage == 2048


async def test_the_sandbox_section_says_what_holds_on_this_machine(local_backend):
    config, backend = local_backend()
    app = LambdaTUI(backend, config, select="hello-world")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app._selected == "hello-world")
        await pilot.press("f3")
        await wait_for(pilot, lambda: _sandbox_text(app))
        report = capabilities().to_dict()
        assert app.query_one(ConfigEditor).isolation == backend.isolation("hello-world")
        assert _sandbox_text(app) == "\n".join(isolation_lines(report))


def test_isolation_lines_name_what_holds_and_why_the_rest_does_not():
    report = {
        "processes_contained": {"holds": True, "how": "cgroup"},
        "private_tmp": {"holds": False, "how": "no mount namespace (EPERM)"},
        "open_files_limit": {"holds": True, "how": "RLIMIT_NOFILE 1024"},
    }
    assert isolation_lines(report) == [
        "✓ processes die with the environment · 1,024 open files",
        "✗ private /tmp: no mount namespace (EPERM)",
    ]
