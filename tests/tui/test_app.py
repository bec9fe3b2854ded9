"""The dashboard driven with Textual's pilot over the local backend: the four panes working together."""

from __future__ import annotations

import asyncio

from lambdatui.backends.base import BackendError, Capabilities
from lambdatui.tui.app import LambdaTUI
from lambdatui.tui.help import HelpScreen
from lambdatui.tui.widgets.event_console import EventConsole
from lambdatui.tui.widgets.function_list import FunctionList
from lambdatui.tui.widgets.log_tail import LogTail

from .conftest import wait_for, wait_for_screen

SAMPLE_NAMES = ["hello-world", "api-gateway", "s3-processor", "heavy-init", "failing", "logging-demo"]


def table_names(app) -> list[str]:
    table = app.query_one(FunctionList).table
    return [str(table.get_row_at(i)[0]) for i in range(table.row_count)]


def summary(app) -> str:
    return str(app.query_one("#ec-summary").render())


def tail_text(app) -> str:
    return "\n".join(app.query_one(LogTail).plain_lines())


async def test_launch_lists_functions_with_hello_world_selected(local_backend):
    config, backend = local_backend()
    app = LambdaTUI(backend, config, select="hello-world")
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: app.query_one(FunctionList).table.row_count == 6)
        assert sorted(table_names(app)) == sorted(SAMPLE_NAMES)
        assert app.query_one(FunctionList).selected == "hello-world"
        assert app.sub_title.startswith("local")


async def test_filter_with_slash_narrows_the_list(local_backend):
    config, backend = local_backend()
    app = LambdaTUI(backend, config, select="hello-world")
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: app.query_one(FunctionList).table.row_count == 6)
        await pilot.press("/")
        await pilot.press(*"fail")
        await wait_for(pilot, lambda: table_names(app) == ["failing"])
        assert app.query_one(FunctionList).selected == "failing"
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.query_one(FunctionList).table.row_count == 6)


async def test_sort_cycles_through_columns(local_backend):
    config, backend = local_backend()
    app = LambdaTUI(backend, config, select="hello-world")
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: app.query_one(FunctionList).table.row_count == 6)
        assert table_names(app) == SAMPLE_NAMES  # the configuration's order, hello-world first
        app.query_one(FunctionList).table.focus()
        await pilot.press("s")
        await wait_for(pilot, lambda: table_names(app) == sorted(SAMPLE_NAMES))
        await pilot.press("s", "s")  # name -> runtime -> memory
        await wait_for(pilot, lambda: app.query_one(FunctionList).sort_key == "memory")
        assert table_names(app)[0] == "heavy-init"  # 512 MB, the largest


async def test_ctrl_r_invokes_and_shows_figures_list_status_and_log_lines(local_backend):
    config, backend = local_backend()
    app = LambdaTUI(backend, config, select="hello-world")
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: app._selected == "hello-world")
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: "OK" in summary(app))
        text = summary(app)
        for part in ("200 OK", "COLD", "Duration", "Billed", "Init", "Memory", "/128 MB", "Cost $"):
            assert part in text
        assert 'Hello from Lambda!' in app.query_one(EventConsole).response_text
        assert "✔" in table_names_last(app, "hello-world")
        await wait_for(pilot, lambda: "REPORT RequestId" in tail_text(app))
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: "WARM" in summary(app))
        assert app.query_one("#ec-recent").row_count == 2


def table_names_last(app, name: str) -> str:
    table = app.query_one(FunctionList).table
    return str(table.get_cell(name, "last"))


async def test_function_error_is_shown_with_its_type(local_backend):
    config, backend = local_backend()
    app = LambdaTUI(backend, config, select="failing")
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: app._selected == "failing")
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: "ERROR" in summary(app))
        assert "KeyError" in str(app.query_one("#ec-error").render())
        assert "✘" in table_names_last(app, "failing")


async def test_invalid_event_json_is_explained_and_not_sent(local_backend):
    config, backend = local_backend()
    app = LambdaTUI(backend, config, select="hello-world")
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: app._selected == "hello-world")
        app.query_one(EventConsole).editor.load_text('{"name": ')
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: "line 1, column 10" in app.query_one(EventConsole).error_text)
        assert backend.executor.environment_counts("hello-world")["idle"] == 0  # nothing was invoked


async def test_a_too_deeply_nested_event_is_explained_and_the_dashboard_lives(local_backend):
    config, backend = local_backend()
    app = LambdaTUI(backend, config, select="hello-world")
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: app._selected == "hello-world")
        app.query_one(EventConsole).editor.load_text("[" * 5_000 + "]" * 5_000)  # past Python's recursion limit
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: "nesting too deep" in app.query_one(EventConsole).error_text)
        assert app.is_running
        assert backend.executor.environment_counts("hello-world")["idle"] == 0  # nothing was invoked


async def test_template_loads_into_the_editor(local_backend):
    config, backend = local_backend()
    app = LambdaTUI(backend, config, select="s3-processor")
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: app._selected == "s3-processor")
        app.query_one("#ec-template").value = "s3-put"
        await wait_for(pilot, lambda: "ObjectCreated:Put" in app.query_one(EventConsole).editor.text)
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: "OK" in summary(app))
        assert '"processed": 1' in app.query_one(EventConsole).response_text


async def test_saved_events_are_files_beside_the_config(local_backend, sample_config):
    config, backend = local_backend()
    app = LambdaTUI(backend, config, select="hello-world")
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: app._selected == "hello-world")
        console = app.query_one(EventConsole)
        console.editor.load_text('{"name": "Ada"}\n')
        app.query_one("#ec-name").value = "ada"
        console.action_save_event()
        saved = sample_config.parent / "events" / "hello-world" / "ada.json"
        await wait_for(pilot, saved.exists)
    assert saved.read_text() == '{"name": "Ada"}\n'


async def test_help_lists_keys_with_binding_ids(local_backend):
    config, backend = local_backend()
    app = LambdaTUI(backend, config)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("f1")
        await wait_for_screen(pilot, HelpScreen, "DataTable")
        table = app.screen.query_one("DataTable")
        rows = [table.get_row_at(i) for i in range(table.row_count)]
        ids = {str(r[3]) for r in rows}
        assert {"app.invoke", "app.save", "app.filter", "app.help", "app.quit"} <= ids
        keys = {str(r[3]): str(r[1]) for r in rows}
        assert keys["app.invoke"] == "ctrl+r" and keys["app.help"] == "f1" and keys["app.quit"] == "ctrl+q"
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, HelpScreen))


async def test_keys_are_remappable_by_binding_id(local_backend):
    config, backend = local_backend()
    config.tui.keys = {"app.invoke": "f6"}
    app = LambdaTUI(backend, config, select="hello-world")
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: app._selected == "hello-world")
        await pilot.press("f6")
        await wait_for(pilot, lambda: "OK" in summary(app))


async def test_themes_load_from_yaml_and_switch_at_runtime(local_backend):
    config, backend = local_backend()
    app = LambdaTUI(backend, config)
    async with app.run_test(size=(120, 36)) as pilot:
        assert app.theme == "lambdatui-dark"
        assert {"lambdatui-dark", "lambdatui-light", "projector"} <= set(app.available_themes)
        await pilot.press("f8")
        assert app.theme == "lambdatui-light"
        await pilot.press("f8")
        assert app.theme == "projector"
        assert app.current_theme.background == "#000000"


async def test_config_theme_is_used_at_start(local_backend):
    config, backend = local_backend()
    config.tui.theme = "projector"
    app = LambdaTUI(backend, config)
    async with app.run_test(size=(120, 36)):
        assert app.theme == "projector"


class _BrokenBackend:
    name = "broken"
    read_only = False
    capabilities = Capabilities()

    def describe(self):
        return "broken"

    def list_functions(self):
        raise BackendError("AccessDeniedException: not allowed to list")

    def close(self):
        pass


async def test_a_failing_backend_call_is_a_notification_not_a_crash():
    app = LambdaTUI(_BrokenBackend(), None)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: any("not allowed" in n.message for n in app._notifications))
        await pilot.press("ctrl+r")  # nothing selected: a warning, still no crash
        await pilot.pause(0.1)
        assert app.is_running


async def test_narrow_terminal_turns_the_log_pane_into_a_tab(local_backend):
    config, backend = local_backend()
    app = LambdaTUI(backend, config, select="hello-world")
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app._selected == "hello-world")
        assert app.screen.has_class("-narrow")
        assert not app.query_one(LogTail).display or not app.query_one(LogTail).region.height
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: "OK" in summary(app))
        await pilot.press("f4")
        await wait_for(pilot, lambda: app.query_one(LogTail).region.height > 10)
        await wait_for(pilot, lambda: "REPORT RequestId" in tail_text(app))
        await pilot.press("f2")
        await wait_for(pilot, lambda: app.query_one(EventConsole).region.height > 10)


async def test_screenshot_action_writes_an_svg(local_backend, tmp_path):
    config, backend = local_backend()
    app = LambdaTUI(backend, config, screenshot_dir=tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("f9")
        await wait_for(pilot, lambda: list(tmp_path.glob("lambdatui-*.svg")))
    svgs = list(tmp_path.glob("lambdatui-*.svg"))
    assert len(svgs) == 1 and svgs[0].read_text().lstrip().startswith("<svg")


def _set_input(app, selector: str, value: str) -> None:
    app.query_one(selector).value = value


async def test_edit_validate_and_save_writes_the_yaml_keeping_comments(local_backend, sample_config):
    config, backend = local_backend()
    before = sample_config.read_text()
    app = LambdaTUI(backend, config, select="hello-world")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app._selected == "hello-world")
        await pilot.press("f3")
        await wait_for(pilot, lambda: app.query("#cfg-memory_size"))
        _set_input(app, "#cfg-memory_size", "64")
        await wait_for(pilot, lambda: "64 is outside 128–10240 MB" in str(app.query_one("#cfg-memory_size-error").render()))
        await pilot.press("ctrl+s")
        await pilot.pause(0.3)
        assert sample_config.read_text() == before  # an invalid form saves nothing
        _set_input(app, "#cfg-memory_size", "256")
        await wait_for(pilot, lambda: app.query_one("ConfigEditor").dirty)
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: not app.query_one("ConfigEditor").dirty)
        table = app.query_one(FunctionList).table
        assert str(table.get_cell("hello-world", "memory")) == "256"
    after = sample_config.read_text()
    assert "memory_size: 256                 # MB, 128–10240" in after
    assert [line for line in before.splitlines() if "#" in line and "memory_size" not in line] == [
        line for line in after.splitlines() if "#" in line and "memory_size" not in line
    ]
    assert backend.get_function("hello-world").memory_size == 256


async def test_read_only_backend_disables_editing_visibly(local_backend, sample_config):
    config, backend = local_backend(read_only=True)
    before = sample_config.read_text()
    app = LambdaTUI(backend, config, select="hello-world")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app._selected == "hello-world")
        await pilot.press("f3")
        await wait_for(pilot, lambda: app.query("#cfg-memory_size") and app.query_one("#cfg-memory_size").disabled)
        assert app.query_one("#cfg-readonly").display
        await pilot.press("ctrl+s")
        await pilot.pause(0.3)
    assert sample_config.read_text() == before


async def test_leaving_a_function_with_unsaved_changes_asks_first(local_backend):
    from lambdatui.tui.app import ConfirmScreen

    config, backend = local_backend()
    app = LambdaTUI(backend, config, select="api-gateway")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app._selected == "api-gateway")
        await pilot.press("f3")
        await wait_for(pilot, lambda: app.query("#cfg-timeout"))
        _set_input(app, "#cfg-timeout", "9")
        await wait_for(pilot, lambda: app.query_one("ConfigEditor").dirty)
        app.query_one(FunctionList).table.focus()
        await pilot.press("down")
        # The screen becomes app.screen before it has composed its buttons: wait for the button.
        await wait_for_screen(pilot, ConfirmScreen, "#no")
        await pilot.click("#no")
        await wait_for(pilot, lambda: not isinstance(app.screen, ConfirmScreen))
        assert app._selected == "api-gateway" and app.query_one("ConfigEditor").dirty
        await pilot.press("down")
        await wait_for_screen(pilot, ConfirmScreen, "#yes")
        await pilot.click("#yes")
        await wait_for(pilot, lambda: app._selected != "api-gateway")
        assert not app.query_one("ConfigEditor").dirty


async def test_configuration_pane_lists_the_functions_triggers(local_backend):
    config, backend = local_backend()
    app = LambdaTUI(backend, config, select="api-gateway")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app._selected == "api-gateway")
        await pilot.press("f3")
        await wait_for(
            pilot,
            lambda: app.query("#cfg-triggers")
            and "HTTP GET http://127.0.0.1:3000/items/{id} (payload 1.0)" in str(app.query_one("#cfg-triggers").render()),
        )
        app.query_one(FunctionList).table.focus()
        await pilot.press("up")
        await wait_for(pilot, lambda: app._selected == "hello-world")
        await wait_for(pilot, lambda: "Schedule rate(1 hour): next 20" in str(app.query_one("#cfg-triggers").render()))


async def test_trigger_fired_invocations_show_in_the_dashboards_log_tail(local_backend):
    """`lambdatui --serve`: the triggers invoke through the dashboard's backend."""
    import httpx

    from lambdatui.serve.runner import ServeRunner

    config, backend = local_backend()
    runner = ServeRunner(config, backend=backend, port=0, http_port=0)
    runner.start()
    try:
        app = LambdaTUI(backend, config, select="api-gateway")
        async with app.run_test(size=(120, 36)) as pilot:
            await wait_for(pilot, lambda: app._selected == "api-gateway")
            await pilot.pause(0.3)
            url = runner.http.url_for(runner.http.routes[0]).replace("{id}", "2")
            response = await asyncio.to_thread(httpx.get, url)
            assert response.status_code == 200
            await wait_for(pilot, lambda: any(line.startswith("REPORT") or "REPORT RequestId" in line for line in app.query_one(LogTail).plain_lines()))
    finally:
        runner.backend = None
        runner.stop()


async def test_the_local_list_is_in_the_first_frame(local_backend):
    """`instant_listing` (the local backend lists from memory): the functions are listed before the
    first frame, not one frame and a worker thread's round trip later (issue 16, first frame)."""
    config, backend = local_backend()
    assert backend.capabilities.instant_listing
    app = LambdaTUI(backend, config, select="hello-world")
    async with app.run_test(size=(120, 36)):
        assert app.query_one(FunctionList).table.row_count == 6  # no waiting
