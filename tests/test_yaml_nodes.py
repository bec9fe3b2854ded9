"""yaml_nodes: values built from nodes exactly as PyYAML's safe loader builds them, and folders
resolved once per read."""

from __future__ import annotations

import pytest
import yaml

from lambdatui.config import ConfigError, parse_config
from lambdatui.yaml_nodes import NodeReader, construct

SCALARS = [
    "hello", "'quoted'", '"0x1F"', "python3.12", "app.handler", "''",
    "0", "7", "128", "10240", "012", "0o17", "0x1F", "1_000", "+5", "-3", "1.5", "1e3", ".inf",
    "true", "no", "null", "~", "2024-01-01", "١٢٣",  # (Arabic-Indic digits: str.isdecimal, not YAML ints)
]


@pytest.mark.parametrize("text", SCALARS)
def test_a_scalar_is_built_as_the_safe_loader_builds_it(text):
    node = yaml.compose(f"k: {text}", Loader=yaml.SafeLoader).value[0][1]
    expected = yaml.safe_load(f"k: {text}")["k"]
    value = construct(node)
    assert value == expected and type(value) is type(expected)


def test_nested_values_are_still_built_whole():
    node = yaml.compose("k: {a: [1, '2', 012], b: null}", Loader=yaml.SafeLoader).value[0][1]
    assert construct(node) == {"a": [1, "2", 10], "b": None}


def test_a_shared_code_folder_is_resolved_once_per_read(tmp_path, monkeypatch):
    (tmp_path / "src").mkdir()
    reader = NodeReader(tmp_path / "lambdatui.yaml")
    calls = []
    real = type(tmp_path).resolve

    def counting(self, *a, **k):
        calls.append(self)
        return real(self, *a, **k)

    monkeypatch.setattr(type(tmp_path), "resolve", counting)
    first = reader.folder(tmp_path, "src")
    for _ in range(50):
        assert reader.folder(tmp_path, "src") == first
    assert first == str(tmp_path / "src")
    assert len(calls) == 1
    assert reader.folder(tmp_path, "missing") is None
    # A new read looks again: a folder removed since is not taken on trust.
    (tmp_path / "src").rmdir()
    assert NodeReader(tmp_path / "lambdatui.yaml").folder(tmp_path, "src") is None


def test_functions_sharing_a_folder_each_get_it_and_a_missing_one_is_still_located(tmp_path):
    (tmp_path / "src").mkdir()
    text = "local:\n  functions:\n" + "".join(
        f"    f{i}: {{runtime: python3.12, handler: app.handler, code: src}}\n" for i in range(5)
    )
    config = parse_config(text, tmp_path / "lambdatui.yaml")
    assert {f.code for f in config.local.functions.values()} == {str(tmp_path / "src")}
    bad = text + "    g: {runtime: python3.12, handler: app.handler, code: nope}\n"
    with pytest.raises(ConfigError) as e:
        parse_config(bad, tmp_path / "lambdatui.yaml")
    assert e.value.line == 8 and e.value.key == "local.functions.g.code" and "'nope' is not a folder" in e.value.message
