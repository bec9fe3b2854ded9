"""The configuration pane shows how many asynchronous (Event) invokes of the selected function are
waiting in the local state dir's durable store, read again while the dashboard runs."""

from __future__ import annotations

from lambdatui.serve.async_store import AsyncEventStore
from lambdatui.tui.app import LambdaTUI
from lambdatui.tui.widgets import config_editor
from lambdatui.tui.widgets.config_editor import ConfigEditor
from lambdatui.tui.widgets.function_list import FunctionList

from .conftest import wait_for


def choose(app, name: str) -> None:
    """Move the function list's cursor to `name`, as the arrow keys do."""
    table = app.query_one(FunctionList).table
    table.move_cursor(row=table.get_row_index(name))


def async_line(app) -> str | None:
    label = app.query_one("#cfg-async")
    return str(label.render()) if label.display else None


async def test_config_pane_shows_the_selected_functions_pending_async_events(local_backend, tmp_path, monkeypatch):
    monkeypatch.setattr(config_editor, "ASYNC_REFRESH_S", 0.1)
    config, backend = local_backend()
    # Events accepted by a `serve` sharing this state dir, not run yet (no invoker runs here).
    store = AsyncEventStore(tmp_path / "state" / "async.db")
    for _ in range(3):
        store.add("hello-world", b"{}")
    store.add("failing", b"{}")
    app = LambdaTUI(backend, config, select="hello-world")
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_for(pilot, lambda: app._panes_mounted)  # mounted once the list is painted
            await wait_for(pilot, lambda: async_line(app) == "Async events pending: 3")
            assert app.query_one(ConfigEditor).async_pending == 3

            store.add("hello-world", b"{}")  # another process accepts one more: the pane follows
            await wait_for(pilot, lambda: async_line(app) == "Async events pending: 4")

            choose(app, "failing")
            await wait_for(pilot, lambda: async_line(app) == "Async events pending: 1")

            choose(app, "logging-demo")  # none pending: no line
            await wait_for(pilot, lambda: app._selected == "logging-demo" and app.query_one(ConfigEditor).async_pending == 0)
            assert async_line(app) is None

            with store._tx() as c:  # the events ran (another process finished them)
                c.execute("DELETE FROM events")
            choose(app, "hello-world")
            await wait_for(pilot, lambda: app._selected == "hello-world" and app.query_one(ConfigEditor).async_pending == 0)
            assert async_line(app) is None
    finally:
        store.close()


async def test_no_store_means_no_line_and_no_file_created(local_backend, tmp_path, monkeypatch):
    monkeypatch.setattr(config_editor, "ASYNC_REFRESH_S", 0.1)
    config, backend = local_backend()
    app = LambdaTUI(backend, config, select="hello-world")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app._panes_mounted)
        await wait_for(pilot, lambda: app.query_one(ConfigEditor).async_pending == 0)
        assert async_line(app) is None
    assert not (tmp_path / "state" / "async.db").exists()


async def test_a_damaged_store_shows_unknown_instead_of_breaking_the_pane(local_backend, tmp_path, monkeypatch):
    monkeypatch.setattr(config_editor, "ASYNC_REFRESH_S", 0.1)
    config, backend = local_backend()
    (tmp_path / "state" / "async.db").write_bytes(b"not a database" * 200)
    app = LambdaTUI(backend, config, select="hello-world")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app._panes_mounted)
        await wait_for(pilot, lambda: (async_line(app) or "").startswith("Async events pending: unknown ("))
