"""Writing the dashboard's edits back to the configuration file, keeping what the user wrote.

This module owns saving: it changes the settings of one function (`local.functions.<name>`) in the
file the configuration was loaded from, and nothing else. YAML goes through ruamel.yaml's
round-trip mode, so comments (end-of-line ones on the changed keys too), key order, quoting, flow
or block style and blank lines are kept; only the changed keys' lines differ. A JSON file (one whose
first character is `{` and which parses as JSON) is written back as JSON, indented by 2, since JSON
has no comments to keep. Writes are atomic: a temporary file in the same folder, given the original
file's permissions, then `os.replace`. Every failure raises `ConfigError` naming the file.

Several processes may save to one file (two dashboards, a dashboard and `serve`): each read →
modify → replace holds an exclusive `flock` on the file (`filelock.lock_file`), so no save
overwrites another's with a stale copy. A save's temp file stays locked until it is renamed, and
every save first removes the temp files that killed saves left (old and unlocked ones only).

What round-tripping cannot keep: one indentation per file (guessed from the file; a file mixing
indentations gets the most common one), and YAML directives (`%YAML`).
"""

from __future__ import annotations

import contextlib
import difflib
import io
import json
import os
import re
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, cast

import yaml as pyyaml  # the loader's parser: what it will make of the text we write
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import RoundTripConstructor
from ruamel.yaml.error import CommentMark, MarkedYAMLError, YAMLError
from ruamel.yaml.representer import RoundTripRepresenter
from ruamel.yaml.scalarstring import ScalarString, SingleQuotedScalarString
from ruamel.yaml.tokens import CommentToken

from .config import ConfigError, parse_config, validate_function_field
from .filelock import LOCK_TIMEOUT_S, LockTimeout, lock_file, remove_stale_temp_files, temp_file

__all__ = ["WRITABLE_KEYS", "add_function_to_file", "update_function_in_file"]

# The settings this module writes: the editor's fields (backends.base.EDITABLE_FIELDS).
WRITABLE_KEYS = (
    "memory_size", "timeout", "environment", "handler", "runtime", "architecture", "description",
    "reserved_concurrency", "provisioned_concurrency", "ephemeral_storage",
)

_NULL_TAG = "tag:yaml.org,2002:null"


def update_function_in_file(path: Path, function: str, changes: dict[str, Any]) -> None:
    """Set `changes` (keys of WRITABLE_KEYS) on `local.functions.<function>` in the file at `path`.

    `environment` is the whole new mapping: existing variables keep their place, new ones are added
    at the end, missing ones are removed. A setting the function's mapping lacks is added at its end.
    `None` is written as `null`. Values equal to what the file holds are left untouched.
    """
    path = Path(path)
    unknown = [k for k in changes if k not in WRITABLE_KEYS]
    if unknown:
        raise ValueError(f"cannot write {', '.join(unknown)} (writable: {', '.join(WRITABLE_KEYS)})")
    target = Path(os.path.realpath(path))  # write through a symlink, not over it
    with _editing(target, path):
        try:
            raw = target.read_bytes()
        except FileNotFoundError:
            raise ConfigError("no such config file", path) from None
        except OSError as e:
            raise ConfigError(f"cannot read: {e.strerror}", path) from None
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            raise ConfigError(f"not UTF-8 text (byte {e.start})", path) from None
        newline = "\r\n" if "\r\n" in text else "\n"
        text = text.replace("\r\n", "\n")

        new_text = _update_json(text, path, function, changes) if _looks_like_json(text) else None
        if new_text is None:
            new_text = _update_yaml(text, path, function, changes)
        if new_text == text:
            return
        _check_written(new_text, path, function, changes)
        _write_atomically(target, path, new_text.replace("\n", newline) if newline != "\n" else new_text)


def add_function_to_file(path: Path, function: str, settings: dict[str, Any]) -> None:
    """Add `local.functions.<function>` with `settings` (plain YAML values, `code` relative to the
    file) at the end of the file's functions, creating `local:` / `functions:` where missing.
    Refuses a name the file already has. The result must load: otherwise nothing is written."""
    path = Path(path)
    target = Path(os.path.realpath(path))
    with _editing(target, path):
        try:
            text = target.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ConfigError("no such config file", path) from None
        except OSError as e:
            raise ConfigError(f"cannot read: {e.strerror}", path) from None
        except UnicodeDecodeError as e:
            raise ConfigError(f"not UTF-8 text (byte {e.start})", path) from None
        newline = "\r\n" if "\r\n" in text else "\n"
        text = text.replace("\r\n", "\n")
        if _looks_like_json(text):
            try:
                data = json.loads(text)
            except (ValueError, RecursionError):
                data = None
            if isinstance(data, dict):
                functions = data.setdefault("local", {}).setdefault("functions", {})
                if function in functions:
                    raise ConfigError(f"a function named {function!r} is already there", path, key=f"local.functions.{function}")
                functions[function] = settings
                new_text = json.dumps(data, indent=2) + "\n"
            else:
                new_text = _add_yaml(text, path, function, settings)
        else:
            new_text = _add_yaml(text, path, function, settings)
        try:
            parse_config(new_text, path).local.functions[function]
        except ConfigError as e:
            raise ConfigError(f"adding {function} would make the file fail to load: {e.message}", path, e.line, e.key) from None
        _write_atomically(target, path, new_text.replace("\n", newline) if newline != "\n" else new_text)


def _add_yaml(text: str, path: Path, function: str, settings: dict[str, Any]) -> str:
    data = _load_yaml(text, path) if text.strip() else CommentedMap()
    if data is None:
        data = CommentedMap()
    if not isinstance(data, CommentedMap):
        raise ConfigError("the file's top level must be a mapping", path)
    local = data.get("local")
    if local is None:
        local = data["local"] = CommentedMap()
    functions = local.get("functions")
    if functions is None:
        functions = local["functions"] = CommentedMap()
    if not isinstance(functions, CommentedMap):
        raise ConfigError("must be a mapping of function names to settings", path, key="local.functions")
    if function in functions:
        raise ConfigError(f"a function named {function!r} is already there", path, key=f"local.functions.{function}")
    entry = CommentedMap()
    for key, value in settings.items():
        if isinstance(value, dict):
            inner = CommentedMap(value)
            inner.fa.set_flow_style()
            entry[key] = inner
        elif isinstance(value, list):
            seq = CommentedSeq(value)
            seq.fa.set_flow_style()
            entry[key] = seq
        else:
            entry[key] = value
    functions[function] = entry
    dump, _ = _best_dumper(text, path)
    try:
        return dump(data)
    except YAMLError as e:  # pragma: no cover - a bug here, reported as the file's problem
        raise ConfigError(f"cannot write YAML: {e}", path) from None


# -- JSON ----------------------------------------------------------------------------------------


def _looks_like_json(text: str) -> bool:
    return text.lstrip().startswith("{")


def _update_json(text: str, path: Path, function: str, changes: dict[str, Any]) -> str | None:
    """The new JSON text, or None when the file is not JSON after all (YAML flow style)."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: nested too deeply for json; YAML says so
        return None
    fn = _find_function(data, path, function)
    for key, value in changes.items():
        if key == "environment":
            old = fn.get(key)
            env = dict(old) if isinstance(old, dict) else {}
            new = dict(value or {})
            for k in [k for k in env if k not in new]:
                del env[k]
            env.update(new)
            fn[key] = env
        else:
            fn[key] = value
    if data == json.loads(text):
        return text  # nothing changed: keep the file as it is written
    return json.dumps(data, indent=2, ensure_ascii=False) + ("\n" if text.endswith("\n") else "")


# -- YAML ----------------------------------------------------------------------------------------


class _Null:
    """A null as the file spells it (`null`, `~`, `Null`, or nothing), so unchanged ones stay so."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __eq__(self, other: object) -> bool:
        return other is None or isinstance(other, _Null)

    def __hash__(self) -> int:
        return hash(None)


class _Constructor(RoundTripConstructor):
    def construct_spelled_null(self, node: Any) -> _Null:
        return _Null(self.construct_scalar(node))


_Constructor.add_constructor(_NULL_TAG, _Constructor.construct_spelled_null)


class _Representer(RoundTripRepresenter):
    def represent_spelled_null(self, data: _Null) -> Any:
        return self.represent_scalar(_NULL_TAG, data.text)

    def represent_explicit_none(self, data: None) -> Any:
        return self.represent_scalar(_NULL_TAG, "null")


_Representer.add_representer(_Null, _Representer.represent_spelled_null)
_Representer.add_representer(type(None), _Representer.represent_explicit_none)


def _yaml(map_indent: int = 2, seq_indent: int = 2, dash_offset: int = 0) -> YAML:
    y = YAML(typ="rt")
    y.Constructor = _Constructor
    y.Representer = _Representer
    y.preserve_quotes = True
    y.width = 1_000_000_000  # never fold long lines
    y.allow_unicode = True
    y.indent(mapping=map_indent, sequence=seq_indent, offset=dash_offset)
    return y


def _load_yaml(text: str, path: Path) -> Any:
    try:
        data = _yaml().load(text)
    except MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        problem = e.problem or e.context or "invalid YAML"
        raise ConfigError(f"YAML syntax error: {problem}", path, mark.line + 1 if mark else None) from None
    except YAMLError as e:
        raise ConfigError(f"YAML error: {e}", path) from None
    except RecursionError:  # ruamel's composer recurses once per level
        raise ConfigError("nested too deeply to read", path) from None
    for node in _nodes(data):
        anchor = getattr(node, "anchor", None)
        if anchor is not None and anchor.value is not None:
            anchor.always_dump = True  # an anchor stays even when an edit leaves it without aliases
    return data


def _update_yaml(text: str, path: Path, function: str, changes: dict[str, Any]) -> str:
    data = _load_yaml(text, path)
    functions = _find_functions(data, path, function)
    fn = functions[function]
    where = f"local.functions.{function}"
    if not isinstance(fn, CommentedMap):
        raise ConfigError("must be a mapping of keys to values", path, key=where)
    if sum(1 for node in _nodes(data, repeats=True) if node is fn) > 1:
        raise ConfigError(
            "its settings are an alias shared with other entries; give it a mapping of its own to edit it",
            path, key=where,
        )
    dump, baseline = _best_dumper(text, path)  # the settings that reproduce the file best

    for key, value in changes.items():
        old = fn.get(key) if key in fn else _MISSING
        if key == "environment":
            _set_environment(data, fn, functions, value)
        elif old is not _MISSING and _same(old, value):
            continue
        elif old is _MISSING:
            _append_key(fn, key, _scalar(value))
        else:
            fn[key] = _scalar(value, like=old)
    try:
        out = dump(data)
    except YAMLError as e:  # pragma: no cover - a bug here, reported as the file's problem
        raise ConfigError(f"cannot write YAML: {e}", path) from None
    return text if out == baseline else out  # nothing changed: leave even what round-tripping can't keep


def _nodes(data: Any, repeats: bool = False, seen: set[int] | None = None) -> Iterator[Any]:
    """Every collection and scalar of the document, an aliased one once (or at each alias: repeats)."""
    seen = set() if seen is None else seen
    yield data
    if id(data) in seen:
        return
    seen.add(id(data))
    if isinstance(data, CommentedMap):
        children = [v for _, v in data.non_merged_items()]
    elif isinstance(data, CommentedSeq):
        children = list(data)
    else:
        return
    for child in children:
        if repeats or id(child) not in seen:
            yield from _nodes(child, repeats, seen)


_MISSING = object()


def _find_functions(data: Any, path: Path, function: str) -> Any:
    local = data.get("local") if isinstance(data, dict) else None
    functions = local.get("functions") if isinstance(local, dict) else None
    if not isinstance(functions, dict) or function not in functions:
        raise ConfigError(f"no function {function!r} in this file", path, key=f"local.functions.{function}")
    return functions


def _find_function(data: Any, path: Path, function: str) -> dict[Any, Any]:
    fn = _find_functions(data, path, function)[function]
    if not isinstance(fn, dict):
        raise ConfigError("must be a mapping of keys to values", path, key=f"local.functions.{function}")
    return fn


def _same(old: Any, new: Any) -> bool:
    if isinstance(old, _Null):
        old = None
    if old is None or new is None:
        return old is new
    # 128 and "128" differ (the new value is written), as do True and 1
    return old == new and isinstance(old, str) == isinstance(new, str) and isinstance(old, bool) == isinstance(new, bool)


def _scalar(value: Any, like: Any = None) -> Any:
    """A value ready for the document: strings the loader would read as something else are quoted."""
    if value is None:
        return None  # written `null` (see _Representer)
    if isinstance(value, str) and not isinstance(value, ScalarString):
        if isinstance(like, ScalarString):
            return type(like)(value)  # keep the old value's quoting or block style
        if _loader_reads_as_other_than_text(value):
            return SingleQuotedScalarString(value)
    return value


def _loader_reads_as_other_than_text(value: str) -> bool:
    # ruamel writes YAML 1.2, where `yes`, `on`, `0o17`... are text; the loader (PyYAML) reads 1.1.
    # types-PyYAML leaves Resolver.resolve unannotated: it returns the tag, a str.
    resolve = cast(Callable[[type[pyyaml.Node], str, tuple[bool, bool]], str], pyyaml.resolver.Resolver().resolve)
    tag = resolve(pyyaml.ScalarNode, value, (True, False))
    return tag != "tag:yaml.org,2002:str"


def _set_environment(data: Any, fn: CommentedMap, functions: Any, value: Any) -> None:
    new = {str(k): v for k, v in (value or {}).items()}
    old = fn.get("environment") if "environment" in fn else _MISSING
    if isinstance(old, CommentedMap):
        if {str(k): _env_text(_plain(v)) for k, v in old.items()} == {k: _env_text(v) for k, v in new.items()}:
            return
    elif not new and (old is _MISSING or _plain(old) is None):
        return
    own = "environment" in dict(fn.non_merged_items())
    shared = isinstance(old, CommentedMap) and sum(1 for n in _nodes(data, repeats=True) if n is old) > 1
    if isinstance(old, CommentedMap) and own and not shared:
        if not new and not old.fa.flow_style():
            _empty_block_mapping(fn, "environment")
            return
        if not len(old):
            old.fa.set_flow_style()  # it was written `{}`: an empty mapping has no block style
        env = old  # edited in place: its comments, style and order stay
    else:
        env = CommentedMap()
        if isinstance(old, CommentedMap):
            for k, v in old.items():
                env[k] = v
            if old.fa.flow_style():
                env.fa.set_flow_style()
        elif _siblings_use_flow_environments(functions):
            env.fa.set_flow_style()
    for k in [k for k in env if k not in new]:
        _delete_key(env, k)
    for k, v in new.items():
        if k in env:
            if _env_text(_plain(env[k])) != _env_text(v):  # `B: 2` is already the text "2"
                env[k] = _scalar(v, like=env[k])
        else:
            key = SingleQuotedScalarString(k) if _loader_reads_as_other_than_text(k) else k
            _append_key(env, key, _scalar(v))
    if env is not old:
        if old is _MISSING:
            _append_key(fn, "environment", env)
        else:
            fn["environment"] = env


def _plain(value: Any) -> Any:
    return None if isinstance(value, _Null) else value


def _siblings_use_flow_environments(functions: Any) -> bool:
    envs = [f.get("environment") for f in functions.values() if isinstance(f, CommentedMap)]
    envs = [e for e in envs if isinstance(e, CommentedMap)]
    return bool(envs) and all(e.fa.flow_style() for e in envs)


# -- comments around added and removed keys ------------------------------------------------------
# ruamel.yaml hangs the comment lines that follow an entry on that entry (its end-of-line comment
# token, `# eol\n  # next\n`). Removing the entry would lose the lines about the next one, and
# appending after it would put the new key below them; these keep such lines where they were.


def _delete_key(m: CommentedMap, key: Any) -> None:
    keys = list(m.keys())
    index = keys.index(key)
    token = _eol_token(m, key)
    del m[key]
    m.ca.items.pop(key, None)
    following = _after_first_line(token)
    if not following or m.fa.flow_style():
        return
    if index > 0:
        holder, slot = _last_eol_holder(m, keys[index - 1])
        _append_lines(holder, slot, following)
    elif m.ca.comment and m.ca.comment[0] is not None:  # after `key:   # comment` and its lines
        m.ca.comment[0].value += following
    else:  # the lines now lead the mapping, after the comments already there
        if m.ca.comment is None:
            m.ca.comment = [None, None]
        if m.ca.comment[1] is None:
            m.ca.comment[1] = []
        m.ca.comment[1].append(_token(following))


def _empty_block_mapping(parent: CommentedMap, key: Any) -> None:
    """Set `parent[key]`, a block mapping, to `{}`; its comment lines follow, where they were."""
    m = parent[key]
    entry = parent.ca.items.get(key) or [None, None, None, None]
    head = entry[2] if len(entry) > 2 else None
    text = head.value if head is not None else "\n"
    for token in (m.ca.comment[1] or []) if m.ca.comment else []:
        text += " " * token.start_mark.column + token.value if not token.value.startswith("\n") else token.value[1:]
    for k in m:
        text += _after_first_line(_eol_token(m, k))
    empty = CommentedMap()
    empty.fa.set_flow_style()
    parent[key] = empty
    if text.strip():
        token = _token(text)
        if head is not None:
            token.start_mark = head.start_mark  # the end-of-line comment stays in its column
        parent.ca.items[key] = [None, None, token, None]
    else:
        parent.ca.items.pop(key, None)


def _append_key(m: CommentedMap, key: Any, value: Any) -> None:
    """Add `key` at the end of `m`, below its last entry but above comments about what follows."""
    following = ""
    own = [k for k, _ in m.non_merged_items()]
    if own and not m.fa.flow_style():
        holder, slot = _last_eol_holder(m, own[-1])
        token = _get_slot(holder, slot)
        following = _after_first_line(token)
        if following:
            assert token is not None  # no token, nothing following
            head = token.value[: len(token.value) - len(following)]
            if head.strip():
                token.value = head
            else:
                _set_slot(holder, slot, None)
    m[key] = value
    if following:
        if isinstance(value, (CommentedMap, CommentedSeq)) and not value.fa.flow_style() and len(value):
            holder, slot = _last_eol_holder(m, key)
            _append_lines(holder, slot, following)
        else:
            m.ca.items[key] = [None, None, _token("\n" + following), None]


def _token(text: str) -> CommentToken:
    """Comment lines as written (indentation included), at column 0."""
    return CommentToken(text, start_mark=CommentMark(0))


def _eol_token(m: CommentedMap, key: Any) -> CommentToken | None:
    entry = m.ca.items.get(key)
    return entry[2] if entry and len(entry) > 2 else None


def _after_first_line(token: CommentToken | None) -> str:
    if token is None or not isinstance(token.value, str):
        return ""
    first, sep, rest = token.value.partition("\n")
    return rest if sep else ""


# Where a comment token lives: (key in the holder's `ca.items`, index in that entry).
_Slot = tuple[Any, int]


def _last_eol_holder(m: Any, key: Any) -> tuple[Any, _Slot]:
    """Where the comment after the entry `key` of `m` (and all of its nested block content) lives."""
    value = m[key]
    if isinstance(value, CommentedMap) and len(value) and not value.fa.flow_style():
        last = list(value.keys())[-1]
        return _last_eol_holder(value, last)
    if isinstance(value, CommentedSeq) and len(value) and not value.fa.flow_style():
        return _last_eol_holder(value, len(value) - 1)
    return m, (key, 2 if isinstance(m, CommentedMap) else 0)


def _get_slot(holder: Any, slot: _Slot) -> CommentToken | None:
    key, i = slot
    entry = holder.ca.items.get(key)
    return entry[i] if entry and len(entry) > i else None


def _set_slot(holder: Any, slot: _Slot, token: CommentToken | None) -> None:
    key, i = slot
    entry = holder.ca.items.setdefault(key, [None, None, None, None])
    while len(entry) <= i:
        entry.append(None)
    entry[i] = token


def _append_lines(holder: Any, slot: _Slot, lines: str) -> None:
    token = _get_slot(holder, slot)
    if token is None:
        _set_slot(holder, slot, _token("\n" + lines))
    else:
        token.value += lines


# -- indentation ---------------------------------------------------------------------------------


_Dump = Callable[[Any], str]


def _best_dumper(text: str, path: Path) -> tuple[_Dump, str]:
    """(dump, its output for the file as it is): the indentation that reproduces the file best."""
    start = re.match(r"((?:[ \t]*(?:#[^\n]*)?\n)*)---(?:[ \t\n]|$)", text)
    before_start = start.group(1) if start else ""  # comments above `---`, which ruamel.yaml drops
    best: tuple[int, _Dump, str] | None = None
    for indents in _indent_candidates(text):
        def dump(doc: Any, indents: tuple[int, int, int] = indents) -> str:
            y = _yaml(*indents)
            y.explicit_start = True if start else None
            buffer = io.StringIO()
            y.dump(doc, buffer)
            out = buffer.getvalue()
            return out if out.startswith(before_start) else before_start + out

        try:
            out = dump(_load_yaml(text, path))  # a copy of its own: dumping marks comments as done
        except YAMLError:
            continue
        score = _changed_lines(text, out)
        if best is None or score < best[0]:
            best = (score, dump, out)
        if score == 0:
            break
    if best is None:  # pragma: no cover - the default settings failed too: let the error show
        return _best_dumper_default(text, path)
    return best[1], best[2]


def _best_dumper_default(text: str, path: Path) -> tuple[_Dump, str]:
    def dump(doc: Any) -> str:
        out = io.StringIO()
        _yaml().dump(doc, out)
        return out.getvalue()

    return dump, dump(_load_yaml(text, path))


def _indent_candidates(text: str) -> list[tuple[int, int, int]]:
    """(mapping indent, sequence indent, dash offset) settings to try, the likeliest first."""
    lines = [ln for ln in text.split("\n") if ln.strip() and not ln.lstrip().startswith("#")]
    map_steps: dict[int, int] = {}
    seq_steps: dict[tuple[int, int], int] = {}
    for prev, line in zip(lines, lines[1:]):
        if not prev.split(" #")[0].rstrip().endswith(":"):
            continue
        p, n = _lead(prev), _lead(line)
        if line.lstrip().startswith("- "):
            after_dash = len(line) - len(line.lstrip()[1:].lstrip())
            step = (after_dash - p, n - p)  # e.g. `  - x` under a key: (4, 2)
            seq_steps[step] = seq_steps.get(step, 0) + 1
        elif n > p:
            map_steps[n - p] = map_steps.get(n - p, 0) + 1
    maps = sorted(map_steps, key=lambda k: -map_steps[k])[:2] or [2]
    seqs = sorted(seq_steps, key=lambda k: -seq_steps[k])[:2] or [(2, 0)]
    return [(m, seq, max(0, off)) for m in maps for seq, off in seqs if seq > off >= 0] or [(2, 2, 0)]


def _lead(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _changed_lines(a: str, b: str) -> int:
    diff = list(difflib.unified_diff(a.splitlines(), b.splitlines(), n=0, lineterm=""))[2:]  # no header
    return sum(1 for line in diff if line[:1] in "+-")


# -- checking and writing ------------------------------------------------------------------------


def _check_written(text: str, path: Path, function: str, changes: dict[str, Any]) -> None:
    """Load the new text with the loader itself; refuse to write it unless it loads, saying what we meant."""
    try:
        fn = parse_config(text, path).local.functions[function]
    except ConfigError as e:
        where = ", ".join(str(x) for x in (f"line {e.line}" if e.line else None, e.key) if x)
        where = f" ({where})" if where else ""
        raise ConfigError(f"this change would make the file fail to load{where}: {e.message}", path) from None
    except KeyError:  # pragma: no cover - the edit never renames a function
        raise ConfigError(f"function {function!r} would be missing after this change", path) from None
    for key, want in changes.items():
        got = getattr(fn, key)
        if key == "environment":
            want = {str(k): _env_text(v) for k, v in (want or {}).items()}
        else:
            try:
                want = validate_function_field(key, want)
            except ValueError:
                pass
        if got != want:
            raise ConfigError(
                f"the file would read back as {key} = {got!r}, not {want!r}", path,
                key=f"local.functions.{function}.{key}",
            )


def _env_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@contextlib.contextmanager
def _editing(target: Path, shown: Path) -> Iterator[None]:
    """Hold the cross-process lock on the config file for one read → modify → replace, so two
    processes saving edits at once (two dashboards, a dashboard and `serve`) both land."""
    try:
        with lock_file(target, timeout=LOCK_TIMEOUT_S):
            yield
    except FileNotFoundError:
        raise ConfigError("no such config file", shown) from None
    except LockTimeout:
        raise ConfigError(f"another process has been saving it for over {LOCK_TIMEOUT_S:g} s; try again", shown) from None
    except PermissionError as e:
        raise ConfigError(f"cannot read: {e.strerror}", shown) from None


def _write_atomically(target: Path, shown: Path, text: str) -> None:
    # Leftovers of saves that were killed between writing the temp file and renaming it.
    remove_stale_temp_files(target.parent, f".{target.name}.")
    try:
        st = target.stat()
        fd, tmp = temp_file(target.parent, prefix=f".{target.name}.")
    except OSError as e:
        raise ConfigError(f"cannot write: {e.strerror}", shown) from None
    try:
        # Written through the descriptor, which stays open (and locked) until the file is in
        # place: a temp file is never both unlocked and still there.
        data = text.encode("utf-8")
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
        os.fchmod(fd, stat.S_IMODE(st.st_mode))
        if (st.st_uid, st.st_gid) != (os.getuid(), os.getgid()):
            try:
                os.fchown(fd, st.st_uid, st.st_gid)
            except OSError:
                pass  # keeping the owner needs privileges; the mode is kept
        os.replace(tmp, target)
    except OSError as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise ConfigError(f"cannot write: {e.strerror}", shown) from None
    finally:
        os.close(fd)
