"""Stylesheets for the dashboard, kept as `.tcss` files beside the screens and widgets they style.

Each class keeps its `DEFAULT_CSS` (or, for the app, `CSS`) class attribute, filled from the file, so
Textual scopes and ranks the rules exactly as it did when they were inline strings. The files are
read as package data, so an installed wheel finds them as well as a source checkout.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files


@cache
def load_tcss(name: str) -> str:
    """The text of the stylesheet `name`, a '/'-separated path inside `lambdatui.tui`."""
    resource = files(__package__)
    for part in name.split("/"):
        resource = resource.joinpath(part)
    return resource.read_text(encoding="utf-8")
