"""How the configuration is loaded fast (lambdatui/config.py): libyaml composes the file with the same
nodes and lines as PyYAML's own parser, syntax errors keep PyYAML's wording, and `triggers=False`
(a one-shot invoke) leaves triggers unread."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from lambdatui.config import ConfigError, load_config, parse_config

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "lambdatui" / "sample" / "lambdatui.yaml"
PY = f"python{sys.version_info.major}.{sys.version_info.minor}"


def write(tmp_path: Path, body: str) -> Path:
    (tmp_path / "code").mkdir(exist_ok=True)
    path = tmp_path / "lambdatui.yaml"
    path.write_text(textwrap.dedent(body).lstrip("\n"))
    return path


def load_error(path: Path, **options) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load_config(path, **options)
    return info.value


def test_the_sample_loads_the_same_with_and_without_triggers_but_for_the_triggers():
    full = load_config(SAMPLE)
    light = load_config(SAMPLE, triggers=False)
    assert list(light.local.functions) == list(full.local.functions)
    assert any(f.triggers for f in full.local.functions.values())
    for name, f in full.local.functions.items():
        g = light.local.functions[name]
        assert g.triggers == ()
        assert g == type(f)(**{**vars(f), "triggers": ()})  # every other setting as the full load reads it
        assert g.line == f.line  # the lines libyaml gives are PyYAML's
    assert (light.aws, light.serve, light.tui, light.backend) == (full.aws, full.serve, full.tui, full.backend)


@pytest.mark.parametrize(
    "body, line, message",
    [
        # PyYAML's own wording, which names the character; libyaml's does not.
        ("backend: local\nlocal:\n\tregion: us-east-1\n", 3, "found character '\\t' that cannot start any token"),
        ("a: &x 1\nb: *nope\n", 2, "found undefined alias 'nope'"),
        ("backend: local\nlocal:\n  region: us-east-1\n   account_id: x\n", 4, "mapping values are not allowed here"),
    ],
)
def test_syntax_errors_keep_pyyamls_wording_and_line(tmp_path, body, line, message):
    path = tmp_path / "lambdatui.yaml"
    path.write_text(body)
    err = load_error(path)
    assert err.line == line
    assert str(err) == f"{path}:{line}: YAML syntax error: {message}"


def test_block_nesting_deeper_than_libyaml_allows_is_a_config_error(tmp_path):
    # libyaml stops at 1,000 levels; PyYAML's parser, asked again for the message, recurses past
    # Python's limit: one located message either way, never a traceback.
    path = tmp_path / "lambdatui.yaml"
    path.write_text("local:\n" + "".join("  " * i + "k:\n" for i in range(1, 1500)))
    assert "nested too deeply" in str(load_error(path))


def test_triggers_false_checks_only_that_triggers_is_a_list(tmp_path):
    path = write(tmp_path, f"""
        local:
          functions:
            fn:
              runtime: {PY}
              handler: app.handler
              code: code
              triggers: [{{type: schedule, expression: "rate(0 minutes)"}}, {{type: nope}}]
        """)
    assert load_config(path, triggers=False).local.functions["fn"].triggers == ()
    err = load_error(path)  # read in full, the first bad trigger is located
    assert err.key == "local.functions.fn.triggers[0].expression" and err.line == 7
    path.write_text(path.read_text().replace("triggers: [", "triggers: {x: ").replace("}]", "}}"))
    err = load_error(path, triggers=False)
    assert (err.key, err.line) == ("local.functions.fn.triggers", 7)
    assert "must be a list" in str(err)


def test_other_settings_are_still_checked_without_triggers(tmp_path):
    path = write(tmp_path, f"""
        local:
          functions:
            fn: {{runtime: {PY}, handler: app.handler, code: code, memory_size: 64}}
            other: {{runtime: {PY}, handler: app.handler, code: code, async: {{on_failure: "not a queue!"}}}}
        """)
    err = load_error(path, triggers=False)
    assert err.key == "local.functions.fn.memory_size" and "outside 128–10240 MB" in str(err)
    path.write_text(path.read_text().replace("memory_size: 64", "memory_size: 256"))
    err = load_error(path, triggers=False)
    assert err.key == "local.functions.other.async.on_failure" and err.line == 4


def test_libyaml_is_used_when_pyyaml_has_it():
    # The speed this module counts on; a PyYAML without libyaml still works (the pure parser).
    from lambdatui import config

    assert config._FastLoader is (yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader)
    assert parse_config("backend: aws\n").backend == "aws"
