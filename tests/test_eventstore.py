"""Saved test events: one plain JSON file per event, beside the config, written atomically."""

from __future__ import annotations

import json
import os

import pytest

from lambdatui.eventstore import EventStore, EventStoreError

TEXT = '{\n    "name":   "Jane",\n  "tags": [1,2,3]\n}\n'


@pytest.fixture
def store(tmp_path):
    return EventStore(tmp_path / "events")


def test_roundtrip_keeps_text_exactly(store, tmp_path):
    path = store.save("hello-world", "first try", TEXT)
    assert path == tmp_path / "events" / "hello-world" / "first try.json"
    assert store.load("hello-world", "first try") == TEXT
    assert path.read_bytes() == TEXT.encode()


def test_trailing_newline_added_once(store):
    store.save("fn", "a", '{"x": 1}')
    assert store.load("fn", "a") == '{"x": 1}\n'
    store.save("fn", "b", '{"x": 1}\n\n')
    assert store.load("fn", "b") == '{"x": 1}\n\n'


def test_crlf_and_unicode_kept(store):
    text = '{\r\n  "greeting": "héllo ✓"\r\n}\r\n'
    path = store.save("fn", "crlf", text)
    assert store.load("fn", "crlf") == text
    assert path.read_bytes() == text.encode("utf-8")


def test_overwrite(store):
    store.save("fn", "e", '{"v": 1}')
    store.save("fn", "e", '{"v": 2}')
    assert store.load("fn", "e") == '{"v": 2}\n'
    assert store.names("fn") == ["e"]


def test_names_sorted(store):
    assert store.names("fn") == []
    for name in ["zeta", "Alpha", "beta", "alpha 2", "v1.2"]:
        store.save("fn", name, "{}")
    store.save("other_fn", "x", "{}")
    assert store.names("fn") == ["Alpha", "alpha 2", "beta", "v1.2", "zeta"]
    assert store.names("other_fn") == ["x"]


def test_names_ignores_other_files(store):
    store.save("fn", "real", "{}")
    folder = store.base / "fn"
    (folder / "notes.txt").write_text("hi")
    (folder / ".real.abc123.tmp").write_text("{}")
    (folder / ".hidden.json").write_text("{}")
    (folder / "sub.json").mkdir()
    assert store.names("fn") == ["real"]


@pytest.mark.parametrize(
    "text, line, column",
    [
        ('{\n  "a": 1,\n  "b": \n}', 4, 1),
        ('{"a": 1 "b": 2}', 1, 9),
        ("", 1, 1),
        ('{\n  "a": [1, 2 3]\n}', 2, 14),
    ],
)
def test_invalid_json_names_line_and_column(store, text, line, column):
    with pytest.raises(EventStoreError) as info:
        store.save("fn", "bad", text)
    message = str(info.value)
    assert f"line {line}" in message and f"column {column}" in message
    assert not (store.base / "fn" / "bad.json").exists()


def test_nan_refused(store):
    with pytest.raises(EventStoreError, match=r"NaN.*line 2, column 8"):
        store.save("fn", "nan", '{\n  "x": NaN\n}')


def test_deeply_nested_json_is_refused_with_a_message_not_a_recursion_error(store):
    with pytest.raises(EventStoreError, match=r"^The event is not valid JSON: nesting too deep\.$"):
        store.save("fn", "deep", "[" * 100_000 + "]" * 100_000)
    assert store.names("fn") == []


@pytest.mark.parametrize("name", ["../x", "a/b", "a\\b", "", ".", "..", ".hidden", " padded", "x" * 101,
                                  "semi;colon", "star*", "new\nline", "tab\tname"])
def test_unsafe_event_names_refused(store, tmp_path, name):
    for call in (lambda: store.save("fn", name, "{}"), lambda: store.load("fn", name),
                 lambda: store.delete("fn", name), lambda: store.path("fn", name)):
        with pytest.raises(EventStoreError):
            call()
    assert not any(tmp_path.rglob("*.json"))


def test_safe_event_names_accepted(store):
    for name in ["a", "x" * 100, "Order created v1.2", "snake_case-and-dash", "2024.03.12"]:
        store.save("fn", name, "{}")
        assert store.load("fn", name) == "{}\n"


@pytest.mark.parametrize("function", ["", "../etc", "a/b", "has space", "x" * 65, "dot.name", ".."])
def test_unsafe_function_names_refused(store, function):
    for call in (lambda: store.save(function, "e", "{}"), lambda: store.names(function),
                 lambda: store.load(function, "e"), lambda: store.path(function, "e")):
        with pytest.raises(EventStoreError):
            call()


def test_atomic_write_leaves_no_temp_files(store):
    for i in range(3):
        store.save("fn", "e", json.dumps({"i": i}))
    assert sorted(p.name for p in (store.base / "fn").iterdir()) == ["e.json"]


def test_failed_write_leaves_old_file_and_no_temp(store, monkeypatch):
    store.save("fn", "e", '{"v": 1}')

    def boom(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(EventStoreError, match="No space left"):
        store.save("fn", "e", '{"v": 2}')
    monkeypatch.undo()
    assert store.load("fn", "e") == '{"v": 1}\n'
    assert [p.name for p in (store.base / "fn").iterdir()] == ["e.json"]


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_saved_file_is_not_private(store):
    path = store.save("fn", "e", "{}")
    assert path.stat().st_mode & 0o777 == 0o644


def test_delete(store):
    store.save("fn", "a", "{}")
    store.save("fn", "b", "{}")
    store.delete("fn", "a")
    assert store.names("fn") == ["b"]
    with pytest.raises(EventStoreError, match="No saved event"):
        store.load("fn", "a")
    with pytest.raises(EventStoreError, match="No saved event"):
        store.delete("fn", "a")
    store.delete("fn", "b")
    assert store.names("fn") == []
    assert not (store.base / "fn").exists()  # an emptied folder is tidied away


def test_load_missing(store):
    with pytest.raises(EventStoreError, match="No saved event 'nope' for fn"):
        store.load("fn", "nope")


def test_beside_config(tmp_path, monkeypatch):
    config = tmp_path / "project" / "lambdatui.yaml"
    config.parent.mkdir()
    config.write_text("backend: local\n")
    store = EventStore.beside(config)
    assert store.base == tmp_path / "project" / "events"
    path = store.save("hello-world", "e", "{}")
    assert path.parent.parent == tmp_path / "project" / "events"
    monkeypatch.chdir(tmp_path)
    assert EventStore.beside(None).base == tmp_path / "events"


def test_saved_file_is_plain_json(store):
    text = '{"Records": [{"body": "hello"}]}'
    path = store.save("sqs-consumer", "one message", text)
    with open(path, encoding="utf-8") as f:
        assert json.load(f) == json.loads(text)
    assert store.path("sqs-consumer", "one message") == path
