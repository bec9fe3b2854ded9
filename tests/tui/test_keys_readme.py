"""The README's key table names every binding id the help screen lists, and its remap example
takes no key from another binding."""

from __future__ import annotations

import re
from pathlib import Path

from lambdatui.tui.app import LambdaTUI
from lambdatui.tui.help import binding_scopes

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def _scopes() -> list:
    return binding_scopes(LambdaTUI.__new__(LambdaTUI))  # only its class's bindings are read


def test_every_binding_id_is_in_the_readme_key_table():
    table = "\n".join(line for line in README.splitlines() if line.startswith("| `"))
    ids = {b.id for _, bindings in _scopes() for b in bindings}
    assert {"app.pane_monitor", "app.details", "logtail.live_tail", "logtail.raw_reports"} <= ids
    missing = sorted(i for i in ids if f"`{i}`" not in table)
    assert not missing, f"binding ids missing from README's key table: {missing}"
    assert re.search(r"\| `F6` \| monitor", table)


def test_the_remap_example_takes_no_key_from_another_binding():
    example = re.search(r'app\.invoke: "([^"]+)"', README)
    assert example is not None
    added = set(example.group(1).split(",")) - {"ctrl+r"}
    taken = {key: b.id for _, bindings in _scopes() for b in bindings if b.id != "app.invoke" for key in b.key.split(",")}
    assert added and not (added & set(taken)), {k: taken[k] for k in added & set(taken)}
