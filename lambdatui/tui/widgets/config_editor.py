"""The configuration editor: one function's settings as a keyboard-first form.

The pane shows the fields `Backend.update_function` accepts (`EDITABLE_FIELDS`) and checks every
edit as it is typed, with exactly the rules the config loader uses (`validate_function_field`,
`validate_env_key`, `validate_environment`), so whatever the form lets through the backend accepts.
It never calls the backend itself: `request_save()` posts `ConfigEditor.SaveRequested` with only the
changed fields, normalised, and the app runs the (blocking) call in a worker and reports back with
`saved()`.

Environment variables are a table edited through a small dialog. Values that look like credentials
(`lambdatui.masking`) are masked until the user reveals them, because dashboards end up on
shared screens.

Below the triggers, "Sandbox" says which of Lambda's isolation guarantees hold where the backend
runs the function (`Backend.isolation`: the local sandbox's probe of this machine; nothing for
AWS, whose sandbox is Lambda's own), read once per function in a thread worker.

Below that, "Async events pending: N" shows the function's asynchronous (Event) invokes
not yet finished in the local state dir's durable store (`serve.async_store.pending_counts`), read
in a thread worker every ASYNC_REFRESH_S seconds; the line is hidden when there are none or the
backend keeps no local state (AWS).

Keys: ctrl+t reveals secrets anywhere in the pane; on the variables table a adds, e or enter edits,
d or delete removes, r reveals. Every binding has an id `config.<action>`, so users can remap it.
ctrl+s (save) belongs to the app, which calls `request_save()`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Button, DataTable, Input, Label, Select, Static

from ...backends.base import FunctionConfiguration

# The rules module re-exports the limits it checks against; importing them from there (not from the
# executor) keeps the dashboard independent of the local executor, and the numbers in one place.
from ...config import (
    KNOWN_RUNTIMES,
    MEMORY_MAX_MB,
    MEMORY_MIN_MB,
    validate_env_key,
    validate_environment,
    validate_function_field,
)
from ...figures import MAX_VCPUS, vcpu_share
from ...masking import looks_secret, mask
from ...serve.async_store import pending_counts
from ..styles import load_tcss

__all__ = ["ConfigEditor", "ENV_TABLE_BINDINGS", "EnvVarDialog", "READ_ONLY_BANNER", "isolation_lines", "vcpu_label"]

READ_ONLY_BANNER = "Read-only: editing is disabled (aws.read_only)"

ARCHITECTURES = ("x86_64", "arm64")

# The form's fields in screen order: (key, label, hint shown after the control). The order is also
# the order errors are visited in, so "focus the first invalid field" means the topmost one.
FIELDS: tuple[tuple[str, str, str], ...] = (
    ("memory_size", "Memory (MB)", ""),  # the hint is the live vCPU share
    ("timeout", "Timeout (s)", "1–900 s"),
    ("ephemeral_storage", "/tmp size (MB)", "512–10240 MB"),
    ("handler", "Handler", "file.function"),
    ("runtime", "Runtime", ""),
    ("architecture", "Architecture", ""),
    ("description", "Description", "≤ 256 chars"),
    ("reserved_concurrency", "Reserved conc.", "empty = unreserved"),
    ("provisioned_concurrency", "Provisioned conc.", "≤ reserved"),
)
FIELD_KEYS = tuple(key for key, _, _ in FIELDS)
INTEGER_FIELDS = frozenset({"memory_size", "timeout", "ephemeral_storage", "reserved_concurrency", "provisioned_concurrency"})
SELECT_FIELDS = frozenset({"runtime", "architecture"})

# The sandbox guarantees `Backend.isolation` reports (lambdatui.executor.sandbox.Isolation's fields).
SANDBOX_LABELS = {
    "processes_contained": "processes die with the environment",
    "memory_cgroup": "memory cgroup",
    "private_tmp": "private /tmp",
    "environment_hidden": "host environment hidden",
    "home_hidden": "home folder hidden",
    "open_files_limit": "1,024 open files",
    "process_limit": "742 processes",
    "sh_is_bash": "/bin/sh is bash",
    "no_metadata_service": "no metadata service",
}

# Below this width the range hints beside the fields are hidden (label 18 + hint 20 + a usable input).
NARROW_WIDTH = 66

# Longer values are cut in the table (the dialog shows them whole): one long value would otherwise
# widen the column past the pane and push the rest out of sight.
TABLE_VALUE_WIDTH = 48

# How often the pending count of asynchronous events is read again (a COUNT on a local SQLite file).
ASYNC_REFRESH_S = 2.0


def vcpu_label(memory_mb: int) -> str:
    """The CPU share Lambda allocates for `memory_mb`: "≈ 0.07 vCPU", "≈ 1.00 vCPU", "6 vCPUs"."""
    share = vcpu_share(memory_mb)
    if share >= MAX_VCPUS:
        return f"{share:g} vCPUs"
    return f"≈ {share:.2f} vCPU"


def isolation_lines(report: dict[str, Any]) -> list[str]:
    """The pane's sandbox section from `Backend.isolation`'s report: one line naming what holds,
    then one per guarantee that does not, with why."""
    held = [SANDBOX_LABELS.get(k, k) for k, g in report.items() if g.get("holds")]
    lines = [f"✓ {' · '.join(held)}"] if held else []
    for key, g in report.items():
        if not g.get("holds"):
            lines.append(f"✗ {SANDBOX_LABELS.get(key, key)}: {g.get('how', '')}")
    return lines


def _control_id(key: str) -> str:
    return f"cfg-{key}"


def _shown_text(key: str, config: FunctionConfiguration) -> Any:
    """What the form shows for a field of `config`: text for inputs, the value for selects."""
    value = getattr(config, key)
    if key in SELECT_FIELDS:
        return value
    if value is None:
        return ""  # reserved_concurrency None = unreserved; description None from some APIs
    return str(value)


def _normalise(key: str, shown: Any) -> Any:
    """The value to send for what the form shows, or ValueError with the loader's message."""
    if key in SELECT_FIELDS:
        if shown is Select.NULL:
            raise ValueError(f"choose a {key}")
        return validate_function_field(key, shown)
    text = shown
    if key in INTEGER_FIELDS:
        text = text.strip()
        if not text:
            if key == "reserved_concurrency":
                return None  # empty = unreserved, as null in the config file
            if key == "provisioned_concurrency":
                return 0  # as null in the config file
            # Run the rule anyway so the message carries the allowed range.
            try:
                validate_function_field(key, "")
            except ValueError as e:
                raise ValueError(f"required ({str(e).strip().removeprefix('is outside ')})") from None
    elif key == "handler":
        text = text.strip()  # surrounding spaces are a typing slip, never part of a handler
    return validate_function_field(key, text)


# The variables table's keys. Letters are bound on the table, not on the editor, so they cannot
# fire while the user types into a field. Public (also as ConfigEditor.ENV_TABLE_BINDINGS) so the
# help screen can list them. enter edits too, through the table's own row selection.
ENV_TABLE_BINDINGS: list[BindingType] = [
    Binding("a", "add_env", "Add variable", id="config.add_env"),
    Binding("e", "edit_env", "Edit variable", id="config.edit_env"),
    Binding("d,delete", "delete_env", "Delete variable", id="config.delete_env"),
    # The same id as the editor's ctrl+t: one action, remapped together. Hidden from the footer,
    # which already shows ctrl+t for it.
    Binding("r", "toggle_reveal", "Reveal secrets", id="config.reveal", show=False),
]


class _EnvTable(DataTable[Text]):
    """The variables table, forwarding its keys to the editor."""

    BINDINGS = ENV_TABLE_BINDINGS

    def _editor(self) -> ConfigEditor:
        return self.query_ancestor(ConfigEditor)

    def action_add_env(self) -> None:
        self._editor().add_variable()

    def action_edit_env(self) -> None:
        self._editor().edit_variable()

    def action_delete_env(self) -> None:
        self._editor().delete_variable()

    def action_toggle_reveal(self) -> None:
        self._editor().toggle_reveal()


class EnvVarDialog(ModalScreen["tuple[str, str] | None"]):
    """Add or edit one environment variable: returns (key, value), or None when cancelled.

    `check(key, value)` is the editor's validation; it returns None or (field, message), and the
    dialog stays open showing the message until the input passes.
    """

    DEFAULT_CSS = load_tcss("widgets/env_var_dialog.tcss")

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="config.env_cancel"),
        Binding("ctrl+t", "toggle_value", "Show value", id="config.reveal"),
    ]

    def __init__(
        self,
        check: Callable[[str, str], tuple[str, str] | None],
        key: str = "",
        value: str = "",
        *,
        revealed: bool = False,
    ) -> None:
        super().__init__()
        self._check = check
        self._key = key
        self._value = value
        self._revealed = revealed
        self._editing = bool(key)

    def compose(self) -> ComposeResult:
        with Vertical(id="env-dialog"):
            title = f"Edit variable {self._key}" if self._editing else "Add variable"
            yield Label(title, id="env-title", markup=False)
            yield Label("Key", classes="env-label")
            yield Input(self._key, placeholder="NAME", id="env-key")
            yield Label("Value", classes="env-label")
            with Horizontal(id="env-value-row"):
                yield Input(self._value, id="env-value")
                yield Button("Show", id="env-show", compact=True)
            yield Label("", id="env-error", classes="error", markup=False)
            with Horizontal(id="env-buttons"):
                yield Button("Save", id="env-save", variant="primary")
                yield Button("Cancel", id="env-cancel")

    def on_mount(self) -> None:
        self._update_masking()
        # Editing usually means changing the value; adding starts with the name.
        self.query_one("#env-value" if self._editing else "#env-key", Input).focus()

    def _update_masking(self) -> None:
        key = self.query_one("#env-key", Input).value
        value_input = self.query_one("#env-value", Input)
        hidden = looks_secret(key, value_input.value) and not self._revealed
        value_input.password = hidden
        show = self.query_one("#env-show", Button)
        show.label = "Hide" if self._revealed else "Show"
        show.display = looks_secret(key, value_input.value)

    def _show_error(self, message: str | None) -> None:
        error = self.query_one("#env-error", Label)
        error.update(message or "")
        error.display = bool(message)

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        # A stale message next to corrected input is confusing; the check runs again on submit.
        self._show_error(None)
        event.input.remove_class("invalid")
        if event.input.id == "env-key":
            self._update_masking()

    @on(Input.Submitted, "#env-key")
    def _key_submitted(self) -> None:
        self.query_one("#env-value", Input).focus()

    @on(Input.Submitted, "#env-value")
    @on(Button.Pressed, "#env-save")
    def _submit(self) -> None:
        key = self.query_one("#env-key", Input).value.strip()
        value = self.query_one("#env-value", Input).value
        problem = self._check(key, value)
        if problem is None:
            self.dismiss((key, value))
            return
        field, message = problem
        self._show_error(message)
        target = self.query_one("#env-value" if field == "value" else "#env-key", Input)
        target.add_class("invalid")
        target.focus()

    @on(Button.Pressed, "#env-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#env-show")
    def action_toggle_value(self) -> None:
        self._revealed = not self._revealed
        self._update_masking()


class ConfigEditor(Widget):
    """Edits one function's configuration; see the module docstring."""

    DEFAULT_CSS = load_tcss("widgets/config_editor.tcss")

    BINDINGS = [
        # ctrl+t works from every field; letters would be typed into the inputs instead.
        Binding("ctrl+t", "toggle_reveal", "Reveal secrets", id="config.reveal"),
    ]
    ENV_TABLE_BINDINGS = ENV_TABLE_BINDINGS

    class SaveRequested(Message):
        """The user saved a valid form: `changes` holds only the changed fields, normalised as
        `Backend.update_function` takes them (ints as int, `environment` the whole new dict,
        `reserved_concurrency` None for unreserved)."""

        def __init__(self, editor: ConfigEditor, name: str, changes: dict[str, Any], save_to: dict[str, str] | None = None) -> None:
            super().__init__()
            self.editor = editor
            self.name = name
            self.changes = changes
            self.save_to = save_to  # a template's function: where inherited settings go (Backend.update_function)

        @property
        def control(self) -> ConfigEditor:
            # Lets the app use @on(ConfigEditor.SaveRequested, "#some-id").
            return self.editor

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._config: FunctionConfiguration | None = None
        self._read_only = False
        self._env: dict[str, str] = {}
        self._revealed = False
        self._pending_load: tuple[FunctionConfiguration | None, bool] | None = None
        # Where asynchronous events are counted: set by `watch_async_events`, else the app's local backend's.
        self._async_state_dir: Path | None = None
        self._async_state_set = False
        self.async_pending: int | None = None  # the count shown (None: not known)
        self._sources: dict[str, str] = {}  # a template function's settings: where each comes from
        self.isolation: dict[str, Any] | None = None  # the sandbox report shown (None: none)

    # -- layout ------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Horizontal(id="cfg-header"):
            yield Label("No function selected", id="cfg-title", markup=False)
            yield Label("● unsaved changes", id="cfg-dirty")
        yield Label(READ_ONLY_BANNER, id="cfg-readonly", markup=False)
        yield Label("", id="cfg-origin", markup=False)  # a template's function: where it is declared
        yield Select(
            [("Save into the function (overrides Globals and parameters)", "function"),
             ("Save into Globals / the parameter each setting comes from", "origin")],
            value="function", allow_blank=False, id="cfg-save-to", compact=True, disabled=True,
        )
        yield Label("Select a function to edit its configuration.", id="cfg-empty")
        # The form is not a tab stop itself: focusing a field scrolls it into view.
        with VerticalScroll(id="cfg-form", can_focus=False):
            for key, label, hint in FIELDS:
                with Vertical(classes="field", id=f"cfg-field-{key}"):
                    with Horizontal(classes="field-row"):
                        yield Label(label, classes="field-label")
                        yield self._make_control(key)
                        if key == "memory_size":
                            yield Label("", id="cfg-vcpu", classes="field-hint")
                        else:
                            # Present even when empty so every control ends at the same column.
                            yield Label(hint, classes="field-hint")
                    yield Label("", id=f"cfg-{key}-error", classes="error", markup=False)
            with Horizontal(id="cfg-env-header"):
                yield Label("Environment variables", id="cfg-env-title")
                yield Label("", id="cfg-env-count", markup=False)
            table = _EnvTable(id="cfg-env", cursor_type="row", zebra_stripes=True)
            table.add_column("Key", key="key")
            table.add_column("Value", key="value")
            yield table
            yield Label("No variables.", id="cfg-env-empty")
            with Horizontal(id="cfg-env-buttons"):
                yield Button("Add", id="cfg-env-add", compact=True)
                yield Button("Edit", id="cfg-env-edit", compact=True)
                yield Button("Delete", id="cfg-env-delete", compact=True)
                yield Button("Reveal secrets", id="cfg-reveal", compact=True)
            yield Label("Triggers", id="cfg-triggers-title")
            yield Static("", id="cfg-triggers", markup=False)
            yield Label("", id="cfg-async", markup=False)
            yield Label("Sandbox", id="cfg-isolation-title")
            yield Static("", id="cfg-isolation", markup=False)

    @staticmethod
    def _make_control(key: str) -> Widget:
        control_id = _control_id(key)
        if key == "runtime":
            return Select([(r, r) for r in KNOWN_RUNTIMES], allow_blank=False, compact=True, id=control_id)
        if key == "architecture":
            return Select([(a, a) for a in ARCHITECTURES], allow_blank=False, compact=True, id=control_id)
        if key in INTEGER_FIELDS:
            # ASCII digits only: every valid value is a non-negative integer, and refusing other
            # keys is clearer than an error for a stray letter.
            placeholder = "unreserved" if key == "reserved_concurrency" else ""
            return Input(placeholder=placeholder, restrict=r"[0-9]*", compact=True, id=control_id, classes="cfg-control")
        return Input(placeholder="app.lambda_handler" if key == "handler" else "", compact=True, id=control_id, classes="cfg-control")

    def on_resize(self, event: events.Resize) -> None:
        # Its own class name, not the app's screen-level "-narrow", so neither styles the other.
        self.set_class(event.size.width < NARROW_WIDTH, "-slim")

    def on_mount(self) -> None:
        self.set_interval(ASYNC_REFRESH_S, self.refresh_async_pending, name="async-pending")
        if self._pending_load is not None:
            config, read_only = self._pending_load
            self._pending_load = None
            self.load(config, read_only=read_only)
        else:
            self.load(None)

    # -- public API --------------------------------------------------------------------------

    def set_triggers(self, lines: list[str]) -> None:
        """Show the function's event sources, one line each (routes, next fire times, queue depth)."""
        self.query_one("#cfg-triggers", Static).update("\n".join(lines) if lines else "None configured.")

    def watch_async_events(self, state_dir: Path | None) -> None:
        """Count asynchronous events in `state_dir`'s store (None: show no count). Without this call
        the pane uses the app's backend's state dir when that backend is local."""
        self._async_state_dir, self._async_state_set = state_dir, True
        self.refresh_async_pending()

    def _async_source(self) -> Path | None:
        if self._async_state_set:
            return self._async_state_dir
        backend = getattr(self.app, "backend", None)
        if backend is None or backend.name != "local":
            return None  # AWS keeps its event queue to itself
        state_dir: Path | None = backend.state_dir
        return state_dir

    def refresh_async_pending(self) -> None:
        """Read the selected function's pending asynchronous events again (in a thread worker)."""
        state_dir = self._async_source() if self.is_mounted else None
        if self._config is None or state_dir is None:
            self._show_async_pending(None, None)
            return
        name = self._config.name
        self.run_worker(
            partial(self._read_async_pending, state_dir, name),
            name=f"async pending {name}", group="async-pending", exclusive=True, thread=True, exit_on_error=False,
        )

    def _read_async_pending(self, state_dir: Path, name: str) -> None:
        error = None
        count: int | None = None
        try:
            count = pending_counts(state_dir).get(name, 0)
        except (sqlite3.Error, OSError) as e:  # a damaged or locked store must not break the pane
            error = str(e)
        try:
            self.app.call_from_thread(self._show_async_pending, name, count, error)
        except RuntimeError:
            pass  # the app closed meanwhile

    def _show_async_pending(self, name: str | None, count: int | None, error: str | None = None) -> None:
        if name is not None and (self._config is None or self._config.name != name):
            return  # read for a function no longer shown
        label = self.query_one("#cfg-async", Label)
        self.async_pending = count
        if error is not None:
            label.update(f"Async events pending: unknown ({error})")
        elif count:
            label.update(f"Async events pending: {count}")
        label.display = error is not None or bool(count)

    def refresh_isolation(self) -> None:
        """Ask the app's backend which sandbox guarantees hold for the function (a thread worker:
        the first ask probes the machine)."""
        backend = getattr(self.app, "backend", None)
        if self._config is None or backend is None or not self.is_mounted:
            self._show_isolation(None, None)
            return
        name = self._config.name
        self.run_worker(
            partial(self._read_isolation, backend, name),
            name=f"isolation {name}", group="isolation", exclusive=True, thread=True, exit_on_error=False,
        )

    def _read_isolation(self, backend: Any, name: str) -> None:
        try:
            report = backend.isolation(name)
        except Exception as e:  # noqa: BLE001 - a failed probe must not break the pane; say so instead
            report = {"sandbox": {"holds": False, "how": f"could not be determined: {e}"}}
        try:
            self.app.call_from_thread(self._show_isolation, name, report)
        except RuntimeError:
            pass  # the app closed meanwhile

    def _show_isolation(self, name: str | None, report: dict[str, Any] | None) -> None:
        if name is not None and (self._config is None or self._config.name != name):
            return  # read for a function no longer shown
        self.isolation = report
        body = self.query_one("#cfg-isolation", Static)
        body.update("\n".join(isolation_lines(report)) if report else "")
        self.query_one("#cfg-isolation-title").display = bool(report)
        body.display = bool(report)

    def refresh_reserved(self) -> None:
        """Read the function's reserved concurrency where the listing leaves it out (AWS's
        ListFunctions does): a thread worker asks the backend, and the field waits, disabled, for
        the answer, so a function reserved at 0 (every invoke throttled) never shows "unreserved"."""
        backend = getattr(self.app, "backend", None)
        if self._config is None or backend is None or not self.is_mounted or backend.capabilities.lists_reserved_concurrency:
            return
        control = self._control("reserved_concurrency")
        assert isinstance(control, Input)
        control.placeholder, control.disabled = "reading…", True
        name = self._config.name
        self.run_worker(
            partial(self._read_reserved, backend, name),
            name=f"reserved concurrency {name}", group="reserved", exclusive=True, thread=True, exit_on_error=False,
        )

    def _read_reserved(self, backend: Any, name: str) -> None:
        value: int | None = None
        error: str | None = None
        try:
            value = backend.reserved_concurrency(name)
        except Exception as e:  # noqa: BLE001 - shown as unknown, the pane carries on
            error = str(e)
        try:
            self.app.call_from_thread(self._show_reserved, name, value, error)
        except RuntimeError:
            pass  # the app closed meanwhile

    def _show_reserved(self, name: str, value: int | None, error: str | None) -> None:
        if self._config is None or self._config.name != name:
            return  # read for a function no longer shown
        control = self._control("reserved_concurrency")
        assert isinstance(control, Input)
        control.disabled = self._read_only
        if error is not None:
            control.placeholder = "unknown"
            self.notify(error, title="Reserved concurrency not read", severity="warning")
            return
        control.placeholder = "unreserved"
        self._config = replace(self._config, reserved_concurrency=value)
        control.value = "" if value is None else str(value)
        self._refresh_state()

    @property
    def config(self) -> FunctionConfiguration | None:
        """The configuration the form was loaded with (None: no function selected)."""
        return self._config

    @property
    def read_only(self) -> bool:
        return self._read_only

    @property
    def dirty(self) -> bool:
        """True when any field differs from the loaded configuration (valid or not)."""
        if self._config is None or not self.is_mounted:
            return False
        changes, errors = self._pending()
        return bool(changes or errors)

    def load(self, config: FunctionConfiguration | None, *, read_only: bool = False) -> None:
        """Fill the form from `config` (None: no function selected). Discards unsaved edits."""
        if not self.is_mounted:
            # The app may load before the pane is composed; apply once it is.
            self._pending_load = (config, read_only)
            self._config = config
            self._read_only = read_only
            return
        if config is None or self._config is None or config.name != self._config.name:
            # A different function: hide its secrets again, and the previous one's event count.
            self._revealed = False
            self._show_async_pending(None, None)
        self._config = config
        self._read_only = read_only
        self._env = dict(config.environment) if config is not None else {}

        self.query_one("#cfg-title", Label).update(
            f"Configuration · {config.name}" if config is not None else "No function selected"
        )
        self.query_one("#cfg-empty").display = config is None
        self.query_one("#cfg-form").display = config is not None
        self.query_one("#cfg-readonly").display = config is not None and read_only

        for key in FIELD_KEYS:
            control = self._control(key)
            if key in SELECT_FIELDS:
                assert isinstance(control, Select)  # the select fields' controls are Selects (see _make_control)
                select = control
                choices = KNOWN_RUNTIMES if key == "runtime" else ARCHITECTURES
                current = getattr(config, key) if config is not None else None
                if current and current not in choices:
                    # Show what the function really has (e.g. a deprecated runtime on AWS), so
                    # saving other fields does not silently change it.
                    choices = (current, *choices)
                select.set_options([(c, c) for c in choices])
                if current:
                    select.value = current
            else:
                control.value = _shown_text(key, config) if config is not None else ""  # type: ignore[attr-defined]
                # Setting a value puts the cursor (and the view) at its end: a long description
                # would open scrolled, its first letters hidden. Show it from the start.
                control.cursor_position = 0  # type: ignore[attr-defined]
            control.disabled = read_only or config is None
        for button_id in ("#cfg-env-add", "#cfg-env-edit", "#cfg-env-delete"):
            self.query_one(button_id, Button).disabled = read_only or config is None
        self._rebuild_env_table()
        self._refresh_state()
        self.refresh_async_pending()
        self.refresh_isolation()
        self.refresh_reserved()
        self.refresh_origin()

    def refresh_origin(self) -> None:
        """For a function declared in a SAM/CloudFormation template: where, and which settings come
        from Globals or a parameter (read in a thread worker: the template is parsed)."""
        config = self._config
        self._show_origin(None, "")
        if config is None or config.template_file is None or not self.is_mounted:
            return
        self.run_worker(
            partial(self._read_origin, config.name, config.template_file),
            name=f"origin {config.name}", group="origin", exclusive=True, thread=True, exit_on_error=False,
        )

    def _read_origin(self, name: str, path: Path) -> None:
        from ...template_writer import origin_line, sources

        try:
            line, found = origin_line(path, name), sources(path, name)
        except Exception as e:  # noqa: BLE001 - an unreadable template must not break the pane
            line, found = f"Declared in {path.name}:{name} (not readable now: {e})", {}
        try:
            self.app.call_from_thread(self._show_origin, name, line, found)
        except RuntimeError:
            pass  # the app closed meanwhile

    def _show_origin(self, name: str | None, line: str, found: dict[str, str] | None = None) -> None:
        if name is not None and (self._config is None or self._config.name != name):
            return
        self._sources = found or {}
        label = self.query_one("#cfg-origin", Label)
        label.update(line)
        label.display = bool(line)
        select = self.query_one("#cfg-save-to", Select)
        select.display = any(v in ("globals", "parameter") for v in self._sources.values())
        select.disabled = not select.display or self._read_only  # hidden or read-only: not a tab stop
        select.value = "function"

    def request_save(self) -> bool:
        """Validate everything; post SaveRequested with the changes. False when nothing was sent."""
        if self._config is None:
            self.notify("No function selected", severity="warning")
            return False
        if self._read_only:
            self.notify(READ_ONLY_BANNER, severity="warning")
            return False
        changes, errors = self._pending()
        self._refresh_state()
        if errors:
            first = next(key for key in FIELD_KEYS if key in errors)
            self._control(first).focus()
            count = len(errors)
            self.notify(
                f"Cannot save: {count} field{'s' if count != 1 else ''} invalid ({', '.join(errors)})",
                severity="error",
            )
            return False
        if not changes:
            self.notify("No changes")
            return False
        save_to = None
        if self._save_to_origin():
            save_to = {k: self._sources[k] for k in changes if self._sources.get(k) in ("globals", "parameter")}
        self.post_message(self.SaveRequested(self, self._config.name, changes, save_to or None))
        return True

    def _save_to_origin(self) -> bool:
        select = self.query_one("#cfg-save-to", Select)
        return bool(select.display) and select.value == "origin"

    def saved(self, config: FunctionConfiguration) -> None:
        """The backend accepted the changes: show what it now holds (dirty becomes False)."""
        self.load(config, read_only=self._read_only)

    # -- environment variables ---------------------------------------------------------------

    def add_variable(self) -> None:
        if not self._editable():
            return
        self.app.push_screen(
            EnvVarDialog(self._env_checker(None), revealed=self._revealed),
            lambda result: self._apply_variable(None, result),
        )

    def edit_variable(self) -> None:
        if not self._editable():
            return
        key = self._selected_key()
        if key is None:
            self.notify("No variable selected", severity="warning")
            return
        self.app.push_screen(
            EnvVarDialog(self._env_checker(key), key, self._env[key], revealed=self._revealed),
            lambda result: self._apply_variable(key, result),
        )

    def delete_variable(self) -> None:
        if not self._editable():
            return
        key = self._selected_key()
        if key is None:
            self.notify("No variable selected", severity="warning")
            return
        table = self._table()
        row = table.cursor_row
        del self._env[key]
        self._rebuild_env_table()
        if table.row_count:
            table.move_cursor(row=min(row, table.row_count - 1))
        self._refresh_state()
        self.notify(f"Removed {key} (not saved yet)")

    def toggle_reveal(self) -> None:
        self._revealed = not self._revealed
        self._rebuild_env_table()

    def action_toggle_reveal(self) -> None:
        self.toggle_reveal()

    def _editable(self) -> bool:
        if self._config is None:
            self.notify("No function selected", severity="warning")
            return False
        if self._read_only:
            self.notify(READ_ONLY_BANNER, severity="warning")
            return False
        return True

    def _env_checker(self, original: str | None) -> Callable[[str, str], tuple[str, str] | None]:
        """The dialog's check for editing `original` (None when adding): the loader's rules."""

        def check(key: str, value: str) -> tuple[str, str] | None:
            try:
                validate_env_key(key)
            except ValueError as e:
                return ("key", str(e))
            if key != original and key in self._env:
                return ("key", f"{key} is already set; edit it instead")
            env = {k: v for k, v in self._env.items() if k != original}
            env[key] = value
            try:
                validate_environment(env)
            except ValueError as e:
                return ("value", str(e))
            return None

        return check

    def _apply_variable(self, original: str | None, result: tuple[str, str] | None) -> None:
        if result is None:
            return
        key, value = result
        if original is not None and original != key:
            # A rename keeps the variable's place in the table.
            self._env = {(key if k == original else k): (value if k == original else v) for k, v in self._env.items()}
        else:
            self._env[key] = value
        self._rebuild_env_table(select=key)
        self._refresh_state()

    def _table(self) -> DataTable[Text]:
        return self.query_one("#cfg-env", DataTable)

    def _selected_key(self) -> str | None:
        table = self._table()
        if not table.row_count:
            return None
        row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        return row_key.value

    def _display_value(self, key: str, value: str) -> str:
        if value and not self._revealed and looks_secret(key, value):
            return mask(value)
        if len(value) > TABLE_VALUE_WIDTH:
            return value[: TABLE_VALUE_WIDTH - 1] + "…"
        return value

    def _rebuild_env_table(self, select: str | None = None) -> None:
        table = self._table()
        keep = select if select is not None else self._selected_key()
        table.clear()
        for key, value in self._env.items():
            # Text, not str: a str cell is read as Rich markup, and values are arbitrary.
            table.add_row(Text(key), Text(self._display_value(key, value)), key=key)
        if keep in self._env:
            table.move_cursor(row=table.get_row_index(keep))
        count = len(self._env)
        secrets = sum(1 for k, v in self._env.items() if v and looks_secret(k, v))
        summary = f"{count} variable{'s' if count != 1 else ''}"
        if secrets:
            summary += f", {secrets} secret{'s' if secrets != 1 else ''} {'shown' if self._revealed else 'hidden'}"
        self.query_one("#cfg-env-count", Label).update(summary)
        self.query_one("#cfg-env-empty").display = count == 0
        self.query_one("#cfg-reveal", Button).label = "Hide secrets" if self._revealed else "Reveal secrets"

    @on(DataTable.RowSelected, "#cfg-env")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        # enter (and a click on the highlighted row) edits, as "e" does.
        event.stop()
        self.edit_variable()

    @on(Button.Pressed, "#cfg-env-add")
    def _add_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.add_variable()

    @on(Button.Pressed, "#cfg-env-edit")
    def _edit_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.edit_variable()

    @on(Button.Pressed, "#cfg-env-delete")
    def _delete_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.delete_variable()

    @on(Button.Pressed, "#cfg-reveal")
    def _reveal_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.toggle_reveal()

    # -- fields and validation ---------------------------------------------------------------

    def _control(self, key: str) -> Widget:
        return self.query_one(f"#{_control_id(key)}")

    def _shown(self, key: str) -> Any:
        return self._control(key).value  # type: ignore[attr-defined]

    def _pending(self) -> tuple[dict[str, Any], dict[str, str]]:
        """(changes, errors) of the form against the loaded configuration.

        A field still showing what was loaded is neither checked nor sent: the backend already
        holds that value (AWS may have, say, a deprecated runtime or a raised concurrency limit),
        and refusing to save an unrelated edit because of it would help nobody.
        """
        config = self._config
        if config is None:
            return {}, {}
        changes: dict[str, Any] = {}
        errors: dict[str, str] = {}
        touched: set[str] = set()
        for key in FIELD_KEYS:
            shown = self._shown(key)
            if shown == _shown_text(key, config):
                continue
            touched.add(key)
            try:
                value = _normalise(key, shown)
            except ValueError as e:
                errors[key] = str(e)
                continue
            if value != getattr(config, key):
                changes[key] = value
        # The loader's cross-field rule, checked when either side was edited.
        pair = {"reserved_concurrency", "provisioned_concurrency"}
        if touched & pair and not errors.keys() & pair:
            reserved = changes.get("reserved_concurrency", config.reserved_concurrency)
            provisioned = changes.get("provisioned_concurrency", config.provisioned_concurrency) or 0
            if reserved is not None and provisioned > reserved:
                errors["provisioned_concurrency"] = f"{provisioned} is more than reserved_concurrency ({reserved})"
                changes.pop("provisioned_concurrency", None)
        if self._env != config.environment:
            changes["environment"] = dict(self._env)
        return changes, errors

    def _refresh_state(self) -> None:
        """Show each field's error (or none), the vCPU share and the unsaved-changes mark."""
        if self._config is None:
            errors: dict[str, str] = {}
            dirty = False
        else:
            changes, errors = self._pending()
            dirty = bool(changes or errors)
        for key in FIELD_KEYS:
            message = errors.get(key)
            self._control(key).set_class(message is not None, "invalid")
            label = self.query_one(f"#cfg-{key}-error", Label)
            label.update(message or "")
            label.display = message is not None
        self.query_one("#cfg-dirty").display = dirty
        self._update_vcpu()

    def _update_vcpu(self) -> None:
        text = self._shown("memory_size").strip()
        label = self.query_one("#cfg-vcpu", Label)
        if text.isdigit() and MEMORY_MIN_MB <= int(text) <= MEMORY_MAX_MB:
            label.update(vcpu_label(int(text)))
        else:
            label.update("")  # out of range: the error under the field says why

    @on(Input.Changed, ".cfg-control")
    def _input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._refresh_state()

    @on(Select.Changed)
    def _select_changed(self, event: Select.Changed) -> None:
        event.stop()
        self._refresh_state()

    @on(Input.Submitted, ".cfg-control")
    def _input_submitted(self, event: Input.Submitted) -> None:
        # enter moves on, as in a paper form; saving is the app's ctrl+s.
        event.stop()
        self.screen.focus_next()
