"""Saving the editor's changes to the config file: only the changed keys' lines differ."""

from __future__ import annotations

import difflib
import json
import os
import stat
from dataclasses import replace
from pathlib import Path

import pytest

from lambdatui.backends import InvalidParameterError, make_backend
from lambdatui.backends.local import ConfigSaveError, LocalBackend
from lambdatui.config import ConfigError, load_config, parse_config
from lambdatui.config_writer import update_function_in_file

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "lambdatui" / "sample" / "lambdatui.yaml"


@pytest.fixture
def sample(tmp_path) -> Path:
    """The bundled sample, its example folders made absolute so it loads from tmp_path."""
    text = SAMPLE.read_text(encoding="utf-8")
    text = text.replace("code: examples/", f"code: {REPO}/lambdatui/sample/examples/").replace("[examples/", f"[{REPO}/lambdatui/sample/examples/")
    path = tmp_path / "lambdatui.yaml"
    path.write_text(text, encoding="utf-8")
    assert load_config(path).local.functions  # it loads as it is
    return path


def changed_lines(before: str, after: str) -> tuple[set[str], set[str]]:
    """(lines removed, lines added) between two texts."""
    removed, added = set(), set()
    for line in difflib.unified_diff(before.splitlines(), after.splitlines(), n=0, lineterm=""):
        if line.startswith(("---", "+++", "@@")):
            continue
        (removed if line.startswith("-") else added).add(line[1:])
    return removed, added


def comment_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if "#" in line]


def function(path: Path, name: str):
    return load_config(path).local.functions[name]


# -- the writer ----------------------------------------------------------------------------------


def test_changes_only_the_changed_keys_lines_keeping_their_comments(sample):
    before = sample.read_text(encoding="utf-8")
    update_function_in_file(
        sample,
        "hello-world",
        {"memory_size": 256, "timeout": 30, "environment": {"GREETING": "Hi"}, "description": "edited",
         "reserved_concurrency": 5},
    )
    after = sample.read_text(encoding="utf-8")

    f = function(sample, "hello-world")
    assert (f.memory_size, f.timeout, f.environment, f.description, f.reserved_concurrency) == (
        256, 30, {"GREETING": "Hi"}, "edited", 5,
    )
    assert changed_lines(before, after) == (
        {
            "      memory_size: 128                 # MB, 128–10240",
            "      timeout: 3                       # s, 1–900",
            "      environment: {GREETING: Hello}",
            "      reserved_concurrency: null       # max concurrent environments; 0 = always throttled",
        },
        {
            "      memory_size: 256                 # MB, 128–10240",
            "      timeout: 30                      # s, 1–900",
            "      environment: {GREETING: Hi}",
            "      reserved_concurrency: 5          # max concurrent environments; 0 = always throttled",
            "      description: edited",
        },
    )
    # the new key goes at the end of the function's mapping, before the next function
    lines = after.splitlines()
    assert lines[lines.index("      description: edited") - 1] == '        - {type: schedule, expression: "rate(1 hour)"}'
    assert lines[lines.index("      description: edited") + 1] == "    api-gateway:"
    for comment in comment_lines(before):
        if not comment.lstrip().startswith(("memory_size", "timeout", "reserved_concurrency")):
            assert comment in after.splitlines()
    # every other function is as it was
    old = parse_config(before, sample).local.functions
    for name in ("api-gateway", "s3-processor", "heavy-init", "failing", "logging-demo"):
        assert replace(function(sample, name), line=None) == replace(old[name], line=None)


def test_null_writes_null_and_quoting_is_kept(sample):
    before = sample.read_text(encoding="utf-8")
    update_function_in_file(sample, "hello-world", {"reserved_concurrency": 7})
    update_function_in_file(sample, "hello-world", {"reserved_concurrency": None})
    assert sample.read_text(encoding="utf-8") == before  # back to `null`, comment in its column

    update_function_in_file(sample, "failing", {"description": "Fails: {on purpose}"})
    removed, added = changed_lines(before, sample.read_text(encoding="utf-8"))
    assert added == {"      description: 'Fails: {on purpose}'"}  # still single-quoted
    assert function(sample, "failing").description == "Fails: {on purpose}"


def test_flow_environment_stays_flow_adding_at_the_end_and_removing(sample):
    before = sample.read_text(encoding="utf-8")
    update_function_in_file(sample, "logging-demo", {"environment": {"API_TOKEN": "t2", "LOG_LEVEL": "INFO", "NEW_VAR": "1 2"}})
    assert changed_lines(before, sample.read_text(encoding="utf-8")) == (
        {"      environment: {LOG_LEVEL: INFO, API_TOKEN: example-not-a-secret}"},
        {"      environment: {LOG_LEVEL: INFO, API_TOKEN: t2, NEW_VAR: 1 2}"},  # existing order kept
    )
    update_function_in_file(sample, "logging-demo", {"environment": {"NEW_VAR": "1 2"}})
    assert "      environment: {NEW_VAR: 1 2}" in sample.read_text(encoding="utf-8").splitlines()
    assert function(sample, "logging-demo").environment == {"NEW_VAR": "1 2"}


def test_values_the_loader_would_read_as_other_types_are_quoted(sample):
    env = {"GREETING": "yes", "ZIP": "01234", "FLAG": "true", "EMPTY": "", "NUM": "12", "WHEN": "2024-01-01"}
    update_function_in_file(sample, "hello-world", {"environment": env})
    assert function(sample, "hello-world").environment == env
    update_function_in_file(sample, "hello-world", {"description": "no", "handler": "on"})
    f = function(sample, "hello-world")
    assert (f.description, f.handler) == ("no", "on")


BLOCK = """\
# functions, block style
local:
  functions:
    block:
      code: {code}
      environment:   # the variables
        # first ones
        AA: a   # about a
        # about B
        BB: "2"
        # about C
        CC: c   # about c
      # after the environment
      memory_size: 128
      triggers:
        - type: schedule   # cron
          expression: rate(5 minutes)

    # the next function
    other:
      code: {code}   # same code
"""


@pytest.fixture
def block(tmp_path) -> Path:
    path = tmp_path / "block.yaml"
    path.write_text(BLOCK.format(code=REPO / "lambdatui" / "sample" / "examples" / "hello_world"), encoding="utf-8")
    return path


def test_block_environment_remove_and_add_keeps_every_comment(block):
    before = block.read_text(encoding="utf-8")
    update_function_in_file(block, "block", {"environment": {"BB": "2", "CC": "c", "DD": "d"}})
    after = block.read_text(encoding="utf-8")
    assert function(block, "block").environment == {"BB": "2", "CC": "c", "DD": "d"}
    assert changed_lines(before, after) == ({"        AA: a   # about a"}, {"        DD: d"})
    assert "        # about B\n        BB: \"2\"" in after
    assert "        CC: c   # about c\n        DD: d\n      # after the environment\n" in after

    update_function_in_file(block, "block", {"environment": {"BB": "3", "DD": "d"}})
    after = block.read_text(encoding="utf-8")
    assert '        BB: "3"' in after  # double quotes kept for the new value
    assert comment_lines(after) == [c for c in comment_lines(before) if "about a" not in c and "about c" not in c]


def test_emptying_a_block_environment_keeps_its_comment_lines(block):
    before = block.read_text(encoding="utf-8")
    update_function_in_file(block, "block", {"environment": {}})
    after = block.read_text(encoding="utf-8")
    assert function(block, "block").environment == {}
    assert "      environment: {} # the variables\n        # first ones\n        # about B\n" in after
    for comment in comment_lines(before):
        text = comment[comment.index("#"):]
        if "about a" not in text and "about c" not in text:
            assert text in after


def test_keys_added_after_nested_content_go_above_the_next_functions_comment(block):
    before = block.read_text(encoding="utf-8")
    update_function_in_file(block, "block", {"timeout": 9, "description": "d"})
    after = block.read_text(encoding="utf-8")
    assert changed_lines(before, after) == (set(), {"      timeout: 9", "      description: d"})
    assert "          expression: rate(5 minutes)\n      timeout: 9\n      description: d\n\n    # the next function\n" in after
    assert function(block, "block").timeout == 9


def test_nothing_to_change_leaves_the_file_alone(block):
    before = block.read_bytes()
    update_function_in_file(block, "block", {"memory_size": 128, "environment": {"AA": "a", "BB": "2", "CC": "c"}})
    assert block.read_bytes() == before


def test_crlf_line_ends_and_permissions_are_kept(block, tmp_path):
    block.write_bytes(block.read_bytes().replace(b"\n", b"\r\n"))
    os.chmod(block, 0o640)
    update_function_in_file(block, "other", {"memory_size": 512})
    raw = block.read_bytes()
    assert b"\r\n      memory_size: 512\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")
    assert stat.S_IMODE(block.stat().st_mode) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["block.yaml"]  # no temporary file left
    assert function(block, "other").memory_size == 512


def test_a_symlinked_config_stays_a_symlink(block, tmp_path):
    link = tmp_path / "link.yaml"
    link.symlink_to(block)
    update_function_in_file(link, "other", {"timeout": 4})
    assert link.is_symlink()
    assert function(block, "other").timeout == 4


def test_json_config_is_written_back_as_json(tmp_path):
    path = tmp_path / "config.json"
    config = {
        "backend": "local",
        "local": {"functions": {"fn": {"code": str(REPO / "lambdatui" / "sample" / "examples" / "hello_world"), "memory_size": 128,
                                       "environment": {"AA": "1", "BB": "2"}}}},
    }
    path.write_text(json.dumps(config, indent=4) + "\n")
    update_function_in_file(path, "fn", {"memory_size": 256, "environment": {"BB": "3", "CC": "4"}, "reserved_concurrency": None})
    data = json.loads(path.read_text())
    assert data["local"]["functions"]["fn"] == {
        "code": str(REPO / "lambdatui" / "sample" / "examples" / "hello_world"), "memory_size": 256,
        "environment": {"BB": "3", "CC": "4"}, "reserved_concurrency": None,
    }
    f = function(path, "fn")
    assert (f.memory_size, f.environment) == (256, {"BB": "3", "CC": "4"})


def test_errors_name_the_file(tmp_path, sample):
    with pytest.raises(ConfigError, match="no such config file") as info:
        update_function_in_file(tmp_path / "missing.yaml", "fn", {"timeout": 4})
    assert info.value.path == str(tmp_path / "missing.yaml")

    with pytest.raises(ConfigError, match="no function 'nope'") as info:
        update_function_in_file(sample, "nope", {"timeout": 4})
    assert info.value.path == str(sample)

    broken = tmp_path / "broken.yaml"
    broken.write_text("local:\n  functions: [\n")
    with pytest.raises(ConfigError, match="YAML syntax error") as info:
        update_function_in_file(broken, "fn", {"timeout": 4})
    assert info.value.path == str(broken) and info.value.line


def test_a_change_that_would_not_load_is_refused_and_nothing_is_written(sample):
    before = sample.read_bytes()
    with pytest.raises(ConfigError, match="fail to load.*128–10240") as info:
        update_function_in_file(sample, "hello-world", {"memory_size": 64})
    assert info.value.path == str(sample)
    assert sample.read_bytes() == before


def test_an_aliased_function_is_refused_not_edited_through_its_anchor(tmp_path):
    path = tmp_path / "alias.yaml"
    path.write_text(f"local:\n  functions:\n    a: &a\n      code: {REPO}/lambdatui/sample/examples/hello_world\n    b: *a\n")
    before = path.read_bytes()
    with pytest.raises(ConfigError, match="alias"):
        update_function_in_file(path, "b", {"timeout": 4})
    assert path.read_bytes() == before


def test_a_shared_environment_is_copied_not_edited_in_place(tmp_path):
    path = tmp_path / "shared.yaml"
    code = REPO / "lambdatui" / "sample" / "examples" / "hello_world"
    path.write_text(
        f"local:\n  functions:\n    a:\n      code: {code}\n      environment: &env {{AA: x}}\n"
        f"    b:\n      code: {code}\n      environment: *env\n"
    )
    update_function_in_file(path, "b", {"environment": {"AA": "y"}})
    assert function(path, "a").environment == {"AA": "x"}
    assert function(path, "b").environment == {"AA": "y"}
    assert "environment: &env {AA: x}" in path.read_text()


# -- through the local backend -------------------------------------------------------------------


def backend_for(path: Path, tmp_path: Path, **options):
    return make_backend(parse_config(path.read_text(encoding="utf-8"), path), state_dir=tmp_path / "state",
                        start=False, watch_code=False, **options)


def test_local_backend_saves_the_edit_to_the_file(sample, tmp_path):
    before = sample.read_text(encoding="utf-8")
    with backend_for(sample, tmp_path) as backend:
        updated = backend.update_function(
            "hello-world", {"memory_size": "512", "timeout": 3, "environment": {"GREETING": 5, "EXTRA": None}}
        )
        assert (updated.memory_size, updated.environment) == (512, {"GREETING": "5", "EXTRA": ""})
    after = sample.read_text(encoding="utf-8")
    # only what differs is written (timeout was already 3), with the validated, stringified values
    assert changed_lines(before, after) == (
        {"      memory_size: 128                 # MB, 128–10240", "      environment: {GREETING: Hello}"},
        {"      memory_size: 512                 # MB, 128–10240", "      environment: {GREETING: '5', EXTRA: ''}"},
    )
    f = function(sample, "hello-world")
    assert (f.memory_size, f.environment) == (512, {"GREETING": "5", "EXTRA": ""})


def test_local_backend_invalid_edit_leaves_the_file_byte_identical(sample, tmp_path):
    before = sample.read_bytes()
    with backend_for(sample, tmp_path) as backend:
        with pytest.raises(InvalidParameterError):
            backend.update_function("hello-world", {"memory_size": 64, "description": "never saved"})
        assert backend.get_function("hello-world").memory_size == 128
    assert sample.read_bytes() == before


def test_local_backend_failed_save_changes_nothing(sample, tmp_path):
    with backend_for(sample, tmp_path) as backend:
        before = backend.get_function("failing")
        sample.write_text(sample.read_text(encoding="utf-8").replace("    failing:", "    renamed:"), encoding="utf-8")
        with pytest.raises(ConfigSaveError, match="no function 'failing'") as info:
            backend.update_function("failing", {"timeout": 9})
        assert info.value.code == "ConfigSaveError"
        assert backend.get_function("failing") == before


def test_local_backend_can_be_told_not_to_save(sample, tmp_path):
    before = sample.read_bytes()
    backend = LocalBackend(parse_config(sample.read_text(encoding="utf-8"), sample), state_dir=tmp_path / "state",
                           start=False, watch_code=False, persist_config=False)
    with backend:
        assert backend.update_function("hello-world", {"timeout": 9}).timeout == 9
    assert sample.read_bytes() == before


def test_removing_the_first_variable_keeps_the_comment_about_the_next(tmp_path):
    path = tmp_path / "first.yaml"
    path.write_text(
        f"local:\n  functions:\n    fn:\n      code: {REPO}/lambdatui/sample/examples/hello_world\n      environment:\n"
        "        # first ones\n        AA: a   # about a\n        # about BB\n        BB: b\n      timeout: 3\n"
    )
    update_function_in_file(path, "fn", {"environment": {"BB": "b"}})
    assert path.read_text().endswith(
        "      environment:\n        # first ones\n        # about BB\n        BB: b\n      timeout: 3\n"
    )


def test_a_setting_inherited_through_a_merge_key_becomes_the_functions_own(tmp_path):
    path = tmp_path / "merge.yaml"
    code = REPO / "lambdatui" / "sample" / "examples" / "hello_world"
    path.write_text(
        f"local:\n  functions:\n    base: &defaults\n      code: {code}\n      memory_size: 512\n"
        "    a:\n      <<: *defaults\n      timeout: 5\n    b:\n      <<: *defaults\n"
    )
    before = path.read_text()
    update_function_in_file(path, "a", {"memory_size": 1024})
    assert changed_lines(before, path.read_text()) == (set(), {"      memory_size: 1024"})
    sizes = {name: f.memory_size for name, f in load_config(path).local.functions.items()}
    assert sizes == {"base": 512, "a": 1024, "b": 512}


def test_the_files_own_indentation_and_document_start_are_kept(tmp_path):
    path = tmp_path / "indented.yaml"
    code = REPO / "lambdatui" / "sample" / "examples" / "hello_world"
    path.write_text(
        f"# above the start\n---\nlocal:\n    functions:\n        fn:\n            code: {code}\n"
        f"            layers:\n              - {code}   # dash indented\n            timeout: 3\n"
    )
    before = path.read_text()
    update_function_in_file(path, "fn", {"timeout": 4, "environment": {"KEY": "v"}})
    assert changed_lines(before, path.read_text()) == (
        {"            timeout: 3"},
        {"            timeout: 4", "            environment:", "                KEY: v"},
    )
