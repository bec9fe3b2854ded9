"""The dashboard's styles live in `.tcss` package data and use theme variables, never colours.

Fails if a `DEFAULT_CSS` / `CSS` string literal creeps back into `lambdatui/tui`, if a stylesheet does
not parse under one of the project's themes, or if it names a colour (`red`, `ansi_red`, `#123456`,
`rgb(…)`) instead of a theme variable (`$error`, `$panel`, …).
"""

from __future__ import annotations

import re
from importlib.resources import files
from pathlib import Path

import pytest
from textual._color_constants import COLOR_NAME_TO_RGB
from textual.app import App
from textual.css.stylesheet import Stylesheet
from textual.css.tokenize import tokenize

from lambdatui.tui.styles import load_tcss
from lambdatui.tui.themes import PACKAGE_THEMES, load_themes

TUI = Path(__file__).resolve().parents[2] / "lambdatui" / "tui"
INLINE_CSS = re.compile(r"""^\s*(DEFAULT_CSS|CSS)\s*(:[^=\n]*)?=\s*[rRuUbBfF]*("|')""", re.M)
LOADED = re.compile(r"""load_tcss\(\s*["']([^"']+)["']\s*\)""")
# Not a colour choice: lets the parent show through under every theme.
ALLOWED_NAMES = {"transparent"}


def package_tcss() -> list[str]:
    """Every `.tcss` file shipped in `lambdatui.tui`, as the '/'-separated names `load_tcss` takes."""
    found: list[str] = []

    def walk(node, prefix: str) -> None:
        for child in node.iterdir():
            if child.is_dir():
                walk(child, f"{prefix}{child.name}/")
            elif child.name.endswith(".tcss"):
                found.append(prefix + child.name)

    walk(files("lambdatui.tui"), "")
    return sorted(found)


def hard_coded_colours(css: str) -> list[str]:
    """Colour literals in `css`: hex/rgb/hsl values and colour names, outside comments."""
    bad = []
    for token in tokenize(css, ("", "")):
        if token.name == "color":
            bad.append(token.value)
        elif token.name == "token" and token.value.lower() in COLOR_NAME_TO_RGB:
            if token.value.lower() not in ALLOWED_NAMES:
                bad.append(token.value)
    return bad


STYLESHEETS = package_tcss()


def test_no_inline_stylesheets_in_python():
    offenders = []
    for path in sorted(TUI.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        for m in INLINE_CSS.finditer(text):
            line = text[: m.start()].count("\n") + 1
            offenders.append(f"{path.relative_to(TUI.parent.parent)}:{line}")
    assert not offenders, f"inline stylesheet literals (move them to .tcss files): {offenders}"


def test_every_stylesheet_is_used_and_every_use_exists():
    used = set()
    for path in TUI.rglob("*.py"):
        used |= set(LOADED.findall(path.read_text(encoding="utf-8")))
    assert STYLESHEETS, "no .tcss files found as package data"
    assert used == set(STYLESHEETS)


def test_colour_check_catches_literals():
    assert hard_coded_colours("A { color: red; background: #123456 50%; b: rgb(1,2,3); c: ansi_red; }") == [
        "red", "#123456", "rgb(1,2,3)", "ansi_red",
    ]
    assert hard_coded_colours("/* red */ A { color: $error 30%; border: tall $primary; }") == []


@pytest.mark.parametrize("name", STYLESHEETS)
def test_stylesheet_uses_theme_variables_only(name):
    assert hard_coded_colours(load_tcss(name)) == []


async def test_stylesheets_parse_under_every_project_theme():
    themes, problems = load_themes(PACKAGE_THEMES)
    assert themes and not problems

    class StyleApp(App):
        CSS = "\n".join(load_tcss(name) for name in STYLESHEETS)

    app = StyleApp()
    for theme in themes:
        app.register_theme(theme)
    async with app.run_test() as pilot:
        # The app's own stylesheet (all the files together) loaded without errors.
        assert pilot.app.is_running
        for theme in themes:
            pilot.app.theme = theme.name
            await pilot.pause()
            variables = pilot.app.get_css_variables()
            for name in STYLESHEETS:
                sheet = Stylesheet(variables=variables)
                sheet.add_source(load_tcss(name), read_from=(name, ""), is_default_css=True)
                sheet.parse()  # raises StylesheetParseError / UnresolvedVariableError
                assert sheet.rules, name
