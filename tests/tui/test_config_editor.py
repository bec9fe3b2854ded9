"""The configuration editor pane, driven with the keyboard through Textual's pilot."""

from __future__ import annotations

import html
from typing import Any

import pytest
from textual.app import App, ComposeResult
from textual.widgets import Button, DataTable, Input, Label, Select

from lambdatui.backends.base import FunctionConfiguration
from lambdatui.masking import looks_secret, mask
from lambdatui.tui.widgets.config_editor import (
    READ_ONLY_BANNER,
    ConfigEditor,
    EnvVarDialog,
    vcpu_label,
)

SECRET = "abc123"


def make_config(**overrides: Any) -> FunctionConfiguration:
    settings: dict[str, Any] = dict(
        name="orders",
        runtime="python3.12",
        handler="app.handler",
        memory_size=256,
        timeout=10,
        architecture="x86_64",
        description="Orders API",
        environment={"LOG_LEVEL": "INFO", "API_TOKEN": SECRET},
        reserved_concurrency=10,
        provisioned_concurrency=2,
    )
    settings.update(overrides)
    return FunctionConfiguration(**settings)


class EditorApp(App):
    """A bare app holding one editor; records what the editor posts and notifies."""

    def __init__(self, config: FunctionConfiguration | None = None, *, read_only: bool = False) -> None:
        super().__init__()
        self.config = config if config is not None else make_config()
        self.read_only = read_only
        self.saves: list[ConfigEditor.SaveRequested] = []
        self.notices: list[str] = []

    def compose(self) -> ComposeResult:
        yield ConfigEditor(id="editor")

    def on_mount(self) -> None:
        self.query_one(ConfigEditor).load(self.config, read_only=self.read_only)

    def on_config_editor_save_requested(self, message: ConfigEditor.SaveRequested) -> None:
        self.saves.append(message)

    def notify(self, message: str, **kwargs: Any) -> None:  # type: ignore[override]
        self.notices.append(str(message))
        super().notify(message, **kwargs)


def editor_of(app: App) -> ConfigEditor:
    return app.query_one(ConfigEditor)


def field(app: App, key: str) -> Any:
    return app.query_one(f"#cfg-{key}")


def error_text(app: App, key: str) -> str | None:
    label = app.query_one(f"#cfg-{key}-error", Label)
    return str(label.render()) if label.display else None


def vcpu_text(app: App) -> str:
    return str(app.query_one("#cfg-vcpu", Label).render())


def screen_text(app: App) -> str:
    """What is on screen, as the SVG screenshot holds it (entities decoded)."""
    return html.unescape(app.export_screenshot()).replace("\xa0", " ")


def table_values(app: App) -> dict[str, str]:
    table = app.query_one("#cfg-env", DataTable)
    return {str(row[0]): str(row[1]) for row in (table.get_row_at(i) for i in range(table.row_count))}


async def type_into(pilot, key: str, text: str) -> None:
    """Focus a field (which selects its text) and type over it, as a user would."""
    field(pilot.app, key).focus()
    await pilot.pause()
    field(pilot.app, key).select_all()  # focusing selects too, but not if it already had focus
    if text:
        await pilot.press(*text)
    else:
        await pilot.press("backspace")
    await pilot.pause()


# -- secrets -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key, value",
    [
        ("API_TOKEN", "abc123"),
        ("db_password", "x"),
        ("STRIPE_API_KEY", "x"),
        ("SESSION_ID", "x"),
        ("AuthHeader", "x"),
        ("ACCESS", "AKIAIOSFODNN7EXAMPLE"),
        ("CREDS", "ASIAIOSFODNN7EXAMPLE"),
        ("VALUE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
        ("DATABASE_URL", "postgres://app:hunter2@db:5432/app"),
    ],
)
def test_looks_secret(key, value):
    assert looks_secret(key, value)


@pytest.mark.parametrize(
    "key, value",
    [("LOG_LEVEL", "INFO"), ("TABLE_NAME", "orders"), ("ENDPOINT", "https://example.com/api"), ("MODE", "")],
)
def test_not_secret(key, value):
    assert not looks_secret(key, value)


def test_mask_has_fixed_length():
    assert mask("a") == mask("x" * 2000) == "••••••••"
    assert "a" not in mask("a")


def test_vcpu_label():
    assert vcpu_label(128) == "≈ 0.07 vCPU"
    assert vcpu_label(1769) == "≈ 1.00 vCPU"
    assert vcpu_label(3538) == "≈ 2.00 vCPU"
    assert vcpu_label(10240) == "6 vCPUs"


# -- loading -------------------------------------------------------------------------------------


async def test_load_fills_fields():
    app = EditorApp()
    async with app.run_test() as pilot:
        await pilot.pause()
        assert field(app, "memory_size").value == "256"
        assert field(app, "timeout").value == "10"
        assert field(app, "handler").value == "app.handler"
        assert field(app, "runtime").value == "python3.12"
        assert field(app, "architecture").value == "x86_64"
        assert field(app, "description").value == "Orders API"
        assert field(app, "reserved_concurrency").value == "10"
        assert field(app, "provisioned_concurrency").value == "2"
        assert set(table_values(app)) == {"LOG_LEVEL", "API_TOKEN"}
        assert "orders" in str(app.query_one("#cfg-title", Label).render())
        assert not editor_of(app).dirty
        assert not app.query_one("#cfg-dirty").display
        assert all(error_text(app, key) is None for key in ("memory_size", "timeout", "handler"))


async def test_unreserved_loads_as_empty_and_unknown_runtime_is_kept():
    # A function on AWS may run a runtime the editor does not offer; it is shown, not "fixed".
    app = EditorApp(make_config(reserved_concurrency=None, runtime="python3.8"))
    async with app.run_test() as pilot:
        await pilot.pause()
        assert field(app, "reserved_concurrency").value == ""
        assert field(app, "runtime").value == "python3.8"
        await type_into(pilot, "memory_size", "512")
        assert editor_of(app).request_save()
        await pilot.pause()
        assert app.saves[-1].changes == {"memory_size": 512}


async def test_no_function_selected():
    app = EditorApp()
    async with app.run_test() as pilot:
        editor = editor_of(app)
        editor.load(None)
        await pilot.pause()
        assert app.query_one("#cfg-empty").display
        assert not app.query_one("#cfg-form").display
        assert not editor.dirty
        assert editor.request_save() is False
        assert app.saves == []


# -- validation ----------------------------------------------------------------------------------


async def test_memory_out_of_range_is_shown_and_blocks_save():
    app = EditorApp()
    async with app.run_test() as pilot:
        editor = editor_of(app)
        await type_into(pilot, "memory_size", "64")
        assert error_text(app, "memory_size") == "64 is outside 128–10240 MB"
        assert field(app, "memory_size").has_class("invalid")
        assert vcpu_text(app) == ""
        assert editor.dirty

        field(app, "timeout").focus()
        assert editor.request_save() is False
        await pilot.pause()
        assert app.saves == []
        assert app.focused is field(app, "memory_size")  # the first invalid field

        await type_into(pilot, "memory_size", "128")
        assert error_text(app, "memory_size") is None
        assert not field(app, "memory_size").has_class("invalid")


async def test_other_fields_use_the_loader_rules():
    app = EditorApp()
    async with app.run_test() as pilot:
        await type_into(pilot, "timeout", "901")
        assert error_text(app, "timeout") == "901 is outside 1–900 s"
        await type_into(pilot, "timeout", "")
        assert error_text(app, "timeout") == "required (1–900 s)"
        await type_into(pilot, "handler", "")
        assert error_text(app, "handler") == "must be a handler name such as app.lambda_handler"
        await type_into(pilot, "reserved_concurrency", "901")
        assert error_text(app, "reserved_concurrency") == "901 is outside 0–900 (or null for unreserved)"
        await type_into(pilot, "reserved_concurrency", "1")
        assert error_text(app, "reserved_concurrency") is None
        # provisioned (2) > reserved (1): the loader's cross-field rule, shown under provisioned.
        assert error_text(app, "provisioned_concurrency") == "2 is more than reserved_concurrency (1)"
        assert editor_of(app).request_save() is False
        await type_into(pilot, "reserved_concurrency", "")  # unreserved: no limit
        assert error_text(app, "provisioned_concurrency") is None


async def test_vcpu_share_follows_memory():
    app = EditorApp()
    async with app.run_test() as pilot:
        await pilot.pause()
        assert vcpu_text(app) == "≈ 0.14 vCPU"
        await type_into(pilot, "memory_size", "1769")
        assert vcpu_text(app) == "≈ 1.00 vCPU"
        await type_into(pilot, "memory_size", "10240")
        assert vcpu_text(app) == "6 vCPUs"
        await type_into(pilot, "memory_size", "128")
        assert vcpu_text(app) == "≈ 0.07 vCPU"


async def test_letters_cannot_be_typed_into_number_fields():
    app = EditorApp()
    async with app.run_test() as pilot:
        await type_into(pilot, "memory_size", "5x12")
        assert field(app, "memory_size").value == "512"


# -- saving --------------------------------------------------------------------------------------


async def test_save_posts_only_changed_fields_normalised():
    app = EditorApp()
    async with app.run_test() as pilot:
        editor = editor_of(app)
        await type_into(pilot, "memory_size", "1024")
        await type_into(pilot, "timeout", "30")
        await type_into(pilot, "reserved_concurrency", "")
        await type_into(pilot, "handler", "main.handle")
        field(app, "architecture").value = "arm64"
        await pilot.pause()
        assert editor.dirty
        assert app.query_one("#cfg-dirty").display

        assert editor.request_save() is True
        await pilot.pause()
        assert len(app.saves) == 1
        message = app.saves[0]
        assert message.name == "orders"
        assert message.changes == {
            "memory_size": 1024,
            "timeout": 30,
            "handler": "main.handle",
            "architecture": "arm64",
            "reserved_concurrency": None,
        }
        assert type(message.changes["memory_size"]) is int
        assert message.control is editor


async def test_save_without_changes_notifies():
    app = EditorApp()
    async with app.run_test() as pilot:
        await pilot.pause()
        assert editor_of(app).request_save() is False
        await pilot.pause()
        assert app.saves == []
        assert "No changes" in app.notices


async def test_typing_the_same_value_back_is_not_a_change():
    app = EditorApp()
    async with app.run_test() as pilot:
        editor = editor_of(app)
        await type_into(pilot, "memory_size", "512")
        assert editor.dirty
        await type_into(pilot, "memory_size", "256")
        assert not editor.dirty
        assert not app.query_one("#cfg-dirty").display


async def test_saved_clears_dirty():
    app = EditorApp()
    async with app.run_test() as pilot:
        editor = editor_of(app)
        await type_into(pilot, "memory_size", "512")
        assert editor.request_save()
        await pilot.pause()
        updated = make_config(**{"memory_size": app.saves[0].changes["memory_size"]})
        editor.saved(updated)
        await pilot.pause()
        assert not editor.dirty
        assert not app.query_one("#cfg-dirty").display
        assert field(app, "memory_size").value == "512"
        assert editor.config is updated


async def test_load_discards_edits():
    app = EditorApp()
    async with app.run_test() as pilot:
        editor = editor_of(app)
        await type_into(pilot, "timeout", "99")
        assert editor.dirty
        editor.load(make_config(name="billing", timeout=5))
        await pilot.pause()
        assert not editor.dirty
        assert field(app, "timeout").value == "5"


# -- environment variables -----------------------------------------------------------------------


async def open_table(pilot) -> DataTable:
    table = pilot.app.query_one("#cfg-env", DataTable)
    table.focus()
    await pilot.pause()
    return table


async def test_env_add_edit_delete_through_the_dialog():
    app = EditorApp()
    async with app.run_test() as pilot:
        editor = editor_of(app)
        table = await open_table(pilot)

        # add
        await pilot.press("a")
        assert isinstance(app.screen, EnvVarDialog)
        await pilot.press(*"NEW_VAR", "enter", *"hello", "enter")
        await pilot.pause()
        assert not isinstance(app.screen, EnvVarDialog)
        assert table_values(app)["NEW_VAR"] == "hello"
        assert editor.dirty
        assert table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value == "NEW_VAR"

        # edit (the cursor is on the new row; the dialog focuses the value, all selected)
        await pilot.press("e")
        assert isinstance(app.screen, EnvVarDialog)
        assert app.focused.id == "env-value"
        await pilot.press(*"world", "enter")
        await pilot.pause()
        assert table_values(app)["NEW_VAR"] == "world"

        # enter edits too; escape cancels without changes
        await pilot.press("enter")
        assert isinstance(app.screen, EnvVarDialog)
        await pilot.press(*"ignored", "escape")
        await pilot.pause()
        assert table_values(app)["NEW_VAR"] == "world"

        # delete
        await pilot.press("d")
        await pilot.pause()
        assert "NEW_VAR" not in table_values(app)
        assert not editor.dirty  # back to what was loaded

        # delete a loaded variable: now the save sends the whole new environment
        table.move_cursor(row=0)
        await pilot.press("delete")
        await pilot.pause()
        assert editor.request_save()
        await pilot.pause()
        assert app.saves[-1].changes == {"environment": {"API_TOKEN": SECRET}}


async def test_env_rename_keeps_value_and_position():
    app = EditorApp()
    async with app.run_test() as pilot:
        table = await open_table(pilot)
        table.move_cursor(row=0)
        await pilot.press("e")
        key_input = app.screen.query_one("#env-key", Input)
        key_input.value = "LEVEL"
        await pilot.press("enter")
        await pilot.pause()
        assert list(table_values(app)) == ["LEVEL", "API_TOKEN"]
        assert table_values(app)["LEVEL"] == "INFO"


async def test_reserved_env_key_is_refused_in_the_dialog():
    app = EditorApp()
    async with app.run_test() as pilot:
        await open_table(pilot)
        await pilot.press("a", *"AWS_REGION", "enter", *"eu-west-1", "enter")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, EnvVarDialog)  # still open
        error = dialog.query_one("#env-error", Label)
        assert error.display
        assert str(error.render()) == "AWS_REGION is reserved by Lambda and cannot be set"
        assert app.focused.id == "env-key"
        await pilot.press("escape")
        await pilot.pause()
        assert "AWS_REGION" not in table_values(app)
        assert not editor_of(app).dirty


async def test_env_dialog_refuses_bad_names_duplicates_and_4kb():
    app = EditorApp()
    async with app.run_test() as pilot:
        await open_table(pilot)
        await pilot.press("a", *"1BAD", "enter", "enter")
        dialog = app.screen
        assert "'1BAD' is not a valid variable name" in str(dialog.query_one("#env-error", Label).render())

        dialog.query_one("#env-key", Input).value = "LOG_LEVEL"
        await pilot.press("enter", "enter")
        assert str(dialog.query_one("#env-error", Label).render()).startswith("LOG_LEVEL is already set")

        dialog.query_one("#env-key", Input).value = "BIG"
        dialog.query_one("#env-value", Input).value = "x" * 5000
        await pilot.pause()
        dialog.query_one("#env-value", Input).focus()
        await pilot.press("enter")
        error = str(dialog.query_one("#env-error", Label).render())
        assert "over Lambda's 4 KB limit" in error
        assert app.screen is dialog
        assert app.focused.id == "env-value"


async def test_secret_values_are_masked_until_revealed():
    app = EditorApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert table_values(app)["API_TOKEN"] == mask(SECRET)
        assert table_values(app)["LOG_LEVEL"] == "INFO"
        assert SECRET not in screen_text(app)

        # Editing it shows a password input until the value is shown.
        table = await open_table(pilot)
        table.move_cursor(row=1)
        await pilot.press("e")
        value_input = app.screen.query_one("#env-value", Input)
        assert value_input.password
        assert SECRET not in screen_text(app)
        await pilot.press("ctrl+t")
        assert not value_input.password
        await pilot.press("escape")
        await pilot.pause()

        await pilot.press("r")  # reveal, from the table
        await pilot.pause()
        assert table_values(app)["API_TOKEN"] == SECRET
        assert SECRET in screen_text(app)  # the check above can see the value when shown
        assert str(app.query_one("#cfg-reveal", Button).label) == "Hide secrets"

        field(app, "timeout").focus()
        await pilot.press("ctrl+t")  # hide again, from a field
        await pilot.pause()
        assert table_values(app)["API_TOKEN"] == mask(SECRET)
        assert SECRET not in screen_text(app)


async def test_loading_another_function_hides_secrets_again():
    app = EditorApp()
    async with app.run_test() as pilot:
        editor = editor_of(app)
        editor.toggle_reveal()
        await pilot.pause()
        assert table_values(app)["API_TOKEN"] == SECRET
        editor.load(make_config(name="billing"))
        await pilot.pause()
        assert table_values(app)["API_TOKEN"] == mask(SECRET)


# -- read-only -----------------------------------------------------------------------------------


async def test_read_only_disables_editing():
    app = EditorApp(read_only=True)
    async with app.run_test() as pilot:
        await pilot.pause()
        editor = editor_of(app)
        banner = app.query_one("#cfg-readonly", Label)
        assert banner.display
        assert str(banner.render()) == READ_ONLY_BANNER == "Read-only: editing is disabled (aws.read_only)"
        for widget in app.query(Input).results():
            assert widget.disabled, widget.id
        for widget in app.query(Select).results():
            assert widget.disabled, widget.id
        for button_id in ("#cfg-env-add", "#cfg-env-edit", "#cfg-env-delete"):
            assert app.query_one(button_id, Button).disabled

        assert editor.request_save() is False
        await pilot.pause()
        assert any("Read-only" in notice for notice in app.notices)
        assert app.saves == []

        # The variables can still be read (and secrets revealed), not changed.
        await open_table(pilot)
        await pilot.press("a")
        assert not isinstance(app.screen, EnvVarDialog)
        await pilot.press("d")
        await pilot.pause()
        assert set(table_values(app)) == {"LOG_LEVEL", "API_TOKEN"}
        await pilot.press("r")
        await pilot.pause()
        assert table_values(app)["API_TOKEN"] == SECRET

        editor.load(make_config())  # editable again
        await pilot.pause()
        assert not app.query_one("#cfg-readonly").display
        assert not field(app, "memory_size").disabled


# -- keyboard at 80×24 ---------------------------------------------------------------------------


async def test_every_field_is_reachable_with_tab_at_80x24():
    app = EditorApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        wanted = {
            "cfg-memory_size", "cfg-timeout", "cfg-ephemeral_storage", "cfg-handler", "cfg-runtime", "cfg-architecture",
            "cfg-description", "cfg-reserved_concurrency", "cfg-provisioned_concurrency", "cfg-env",
            "cfg-env-add", "cfg-env-edit", "cfg-env-delete", "cfg-reveal",
        }
        # The app focuses the first field on start; tab goes on from there.
        seen: list[str] = []
        for step in range(len(wanted) + 2):
            if step:
                await pilot.press("tab")
                await pilot.pause()
            focused = app.focused
            assert focused is not None
            seen.append(focused.id)
            # Focus scrolls the field into view: it is on screen, not just focused.
            region = focused.region
            assert region.height > 0 and region.width > 0, focused.id
            assert app.screen.region.contains_region(region), focused.id
        assert wanted <= set(seen)
        assert seen[: len(wanted)] == [
            "cfg-memory_size", "cfg-timeout", "cfg-ephemeral_storage", "cfg-handler", "cfg-runtime", "cfg-architecture",
            "cfg-description", "cfg-reserved_concurrency", "cfg-provisioned_concurrency", "cfg-env",
            "cfg-env-add", "cfg-env-edit", "cfg-env-delete", "cfg-reveal",
        ]


async def test_runtime_select_works_from_the_keyboard_at_80x24():
    app = EditorApp()
    async with app.run_test(size=(80, 24)) as pilot:
        field(app, "runtime").focus()
        await pilot.pause()
        await pilot.press("enter", "down", "enter")
        await pilot.pause()
        assert field(app, "runtime").value == "python3.13"
        assert editor_of(app).dirty
        assert editor_of(app).request_save()
        await pilot.pause()
        assert app.saves[-1].changes == {"runtime": "python3.13"}


async def test_error_message_is_visible_at_80x24():
    app = EditorApp(make_config(environment={f"VAR_{i}": str(i) for i in range(20)}))
    async with app.run_test(size=(80, 24)) as pilot:
        await type_into(pilot, "provisioned_concurrency", "50")
        label = app.query_one("#cfg-provisioned_concurrency-error", Label)
        assert label.display
        assert "50 is more than reserved_concurrency (10)" in screen_text(app)


async def test_narrow_pane_drops_range_hints_to_keep_the_fields_usable():
    # Beside the function list at 80 columns the editor gets about 50.
    app = EditorApp()
    async with app.run_test(size=(50, 24)) as pilot:
        await pilot.pause()
        assert editor_of(app).has_class("-slim")
        assert field(app, "handler").region.width >= 20
        assert vcpu_text(app) == "≈ 0.14 vCPU"
        assert "1–900 s" not in screen_text(app)
    app = EditorApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert not editor_of(app).has_class("-slim")
        assert "1–900 s" in screen_text(app)
