"""Edits saved back into a SAM template: where the function declares them, comments, order and
intrinsic tags kept (SAM: a resource's own Properties override Globals)."""

from __future__ import annotations

import pytest

from lambdatui.backends.local import ConfigSaveError, LocalBackend
from lambdatui.config import load_config
from lambdatui.template_writer import sources

TEMPLATE = """\
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
# the team's notes stay
Parameters:
  Memory:
    Type: Number
    Default: 256
  Stage:
    Type: String
    Default: dev

Globals:
  Function:
    Timeout: 3 # from Globals

Resources:
  OrdersFunction:
    Type: AWS::Serverless::Function # the orders API
    Properties:
      CodeUri: src/
      Handler: app.handler
      Runtime: python3.12
      MemorySize: !Ref Memory
      Environment:
        Variables:
          STAGE: !Ref Stage # which stage
          TABLE: orders
      Events:
        Api:
          Type: Api
          Properties:
            Path: /orders
            Method: get
Outputs:
  Url:
    Value: !Sub "https://${ServerlessRestApi}.execute-api.${AWS::Region}.amazonaws.com/Prod/"
"""


@pytest.fixture
def project(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text("import os\ndef handler(e, c):\n    return dict(os.environ)\n")
    path = tmp_path / "template.yaml"
    path.write_text(TEMPLATE)
    return path


def _backend(path):
    return LocalBackend(load_config(path), start=False, watch_code=False)


def test_sources_say_where_each_value_comes_from(project):
    found = sources(project, "OrdersFunction")
    assert (found["memory_size"], found["timeout"], found["handler"], found["reserved_concurrency"]) == (
        "parameter", "globals", "function", "default",
    )


def test_a_save_writes_into_the_functions_properties_and_keeps_the_rest(project):
    backend = _backend(project)
    try:
        assert backend.get_function("OrdersFunction").memory_size == 256
        backend.update_function("OrdersFunction", {"memory_size": 512, "timeout": 10, "environment": {"STAGE": "dev", "TABLE": "orders-v2", "NEW": "1"}})
    finally:
        backend.close()
    text = project.read_text()
    assert "      MemorySize: 512\n" in text and "!Ref Memory" not in text
    assert "      Timeout: 10\n" in text and "    Timeout: 3 # from Globals\n" in text  # Globals untouched
    assert "STAGE: !Ref Stage # which stage" in text  # unchanged resolved value: the expression stays
    assert "TABLE: orders-v2" in text and "NEW: '1'" in text
    for kept in ("# the team's notes stay", "# the orders API", 'Value: !Sub "https://${ServerlessRestApi}'):
        assert kept in text
    f = load_config(project).local.functions["OrdersFunction"]
    assert (f.memory_size, f.timeout, f.environment) == (512, 10, {"STAGE": "dev", "TABLE": "orders-v2", "NEW": "1"})


def test_storage_reserved_concurrency_and_what_a_template_cannot_take(project):
    backend = _backend(project)
    try:
        backend.update_function("OrdersFunction", {"ephemeral_storage": 1024, "reserved_concurrency": 3})
        assert "EphemeralStorage:\n        Size: 1024" in project.read_text() and "ReservedConcurrentExecutions: 3" in project.read_text()
        backend.update_function("OrdersFunction", {"reserved_concurrency": None})
        assert "ReservedConcurrentExecutions" not in project.read_text()
        before = project.read_text()
        with pytest.raises(ConfigSaveError) as e:
            backend.update_function("OrdersFunction", {"provisioned_concurrency": 2})
        assert "AutoPublishAlias" in str(e.value) and "nothing changed" in str(e.value)
        assert project.read_text() == before and backend.get_function("OrdersFunction").provisioned_concurrency == 0
    finally:
        backend.close()


def test_a_synthesized_cdk_template_is_not_written(tmp_path):
    import shutil
    from pathlib import Path

    out = tmp_path / "cdk.out"
    shutil.copytree(Path(__file__).parent / "projects" / "cdk-app" / "cdk.out", out)
    backend = LocalBackend(load_config(out), start=False, watch_code=False)
    try:
        name = next(iter(backend.config.local.functions))
        before = {p: p.read_bytes() for p in out.glob("*.template.json")}
        with pytest.raises(ConfigSaveError) as e:
            backend.update_function(name, {"memory_size": 1024})
        assert "edit the CDK app" in str(e.value)
        assert {p: p.read_bytes() for p in out.glob("*.template.json")} == before
    finally:
        backend.close()


def test_the_sam_transform_is_cached_by_document_and_parameters(project, tmp_path, monkeypatch):
    # The transform is a pure function of the document, the parameters, the region and the
    # translator's version: kept under the state dir, reused, and a changed input is a new entry.
    import os

    state = tmp_path / "state-cache"
    monkeypatch.setenv("LAMBDATUI_STATE_DIR", str(state))
    first = load_config(project).local.functions["OrdersFunction"]
    entries = sorted((state / "templates" / "sam").glob("*.json"))
    assert len(entries) == 1
    os.utime(entries[0], (1, 1))
    again = load_config(project).local.functions["OrdersFunction"]
    assert (again.memory_size, again.environment, again.handler) == (first.memory_size, first.environment, first.handler)
    assert entries[0].stat().st_mtime == 1  # read, not written again
    entries[0].write_text("{not json")  # a damaged entry is transformed again, never trusted
    assert load_config(project).local.functions["OrdersFunction"].memory_size == 256
    project.write_text(project.read_text().replace("Default: 256", "Default: 384"))
    assert load_config(project).local.functions["OrdersFunction"].memory_size == 384
    assert len(list((state / "templates" / "sam").glob("*.json"))) == 2


async def test_the_editor_says_where_a_template_functions_settings_come_from(project):
    import time

    from lambdatui.tui.app import LambdaTUI

    backend = _backend(project)
    app = LambdaTUI(backend, load_config(project), select="OrdersFunction")
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("f3")

            def origin() -> str:
                label = app.query("#cfg-origin")
                return str(label.first().render()) if label else ""

            deadline = time.monotonic() + 10
            while "Declared in template.yaml:OrdersFunction" not in origin() and time.monotonic() < deadline:
                await pilot.pause(0.05)
            assert "From Globals: Timeout." in origin() and "From a parameter: MemorySize." in origin()
    finally:
        backend.close()


def test_a_save_can_go_where_the_value_comes_from_globals_or_the_parameter(project):
    backend = _backend(project)
    try:
        backend.update_function("OrdersFunction", {"memory_size": 1024, "timeout": 12}, save_to={"memory_size": "parameter", "timeout": "globals"})
        assert backend.get_function("OrdersFunction").memory_size == 1024
    finally:
        backend.close()
    text = project.read_text()
    assert "MemorySize: !Ref Memory" in text and "    Default: 1024\n" in text  # the parameter's Default
    assert "    Timeout: 12 # from Globals\n" in text and "      Timeout: 12\n" not in text  # Globals, not the function
    f = load_config(project).local.functions["OrdersFunction"]
    assert (f.memory_size, f.timeout) == (1024, 12)
    backend = _backend(project)
    try:
        before = project.read_text()
        with pytest.raises(ConfigSaveError) as e:  # Handler is the function's own: no parameter to write
            backend.update_function("OrdersFunction", {"handler": "app.other"}, save_to={"handler": "parameter"})
        assert "not a !Ref" in str(e.value) and project.read_text() == before
    finally:
        backend.close()


async def test_the_editor_saves_an_inherited_setting_where_the_user_chooses(project):
    import time

    from textual.widgets import Input, Select

    from lambdatui.tui.app import LambdaTUI

    backend = _backend(project)
    app = LambdaTUI(backend, load_config(project), select="OrdersFunction")
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("f3")
            deadline = time.monotonic() + 10
            while not app.query_one("#cfg-save-to", Select).display and time.monotonic() < deadline:
                await pilot.pause(0.05)
            app.query_one("#cfg-save-to", Select).value = "origin"
            app.query_one("#cfg-memory_size", Input).value = "768"
            await pilot.pause(0.1)
            await pilot.press("ctrl+s")
            deadline = time.monotonic() + 10
            while "Default: 768" not in project.read_text() and time.monotonic() < deadline:
                await pilot.pause(0.05)
    finally:
        backend.close()
    text = project.read_text()
    assert "    Default: 768\n" in text and "MemorySize: !Ref Memory" in text
