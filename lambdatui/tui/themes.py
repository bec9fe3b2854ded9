"""Themes loaded from YAML files (`themes/*.yaml` in the package, then the user's themes folder).

Each file holds the fields of a Textual `Theme` (name, primary, background, …, variables), so users
add a theme by dropping a file, as Posting does; a broken file is reported, not fatal.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

if sys.version_info >= (3, 11):
    from importlib.resources.abc import Traversable
else:  # pragma: no cover - Python 3.10
    from importlib.abc import Traversable

import yaml
from textual.theme import Theme

from ..assets import themes_folder

PACKAGE_THEMES = themes_folder()
DEFAULT_THEME = "lambdatui-dark"
_FIELDS = {
    "name", "primary", "secondary", "warning", "error", "success", "accent", "foreground",
    "background", "surface", "panel", "boost", "dark", "luminosity_spread", "text_alpha", "variables",
}


@dataclass
class ThemeProblem:
    path: Path | Traversable
    message: str


def user_themes_dir() -> Path:
    from platformdirs import user_config_dir

    return Path(user_config_dir("lambdatui")) / "themes"


def load_theme_file(path: Path | Traversable) -> Theme:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError("must be a mapping of theme fields")
    unknown = set(data) - _FIELDS
    if unknown:
        raise ValueError(f"unknown field(s): {', '.join(sorted(unknown))}")
    if "name" not in data or "primary" not in data:
        raise ValueError("needs at least name and primary")
    data["variables"] = {str(k): str(v) for k, v in (data.get("variables") or {}).items()}
    return Theme(**data)


def load_themes(*folders: Path | Traversable) -> tuple[list[Theme], list[ThemeProblem]]:
    """The themes in `folders` (default: the package's, then the user's), and the files that failed."""
    themes: list[Theme] = []
    problems: list[ThemeProblem] = []
    for folder in folders or (PACKAGE_THEMES, user_themes_dir()):
        if not folder.is_dir():
            continue
        for path in sorted((p for p in folder.iterdir() if p.name.endswith(".yaml")), key=lambda p: p.name):
            try:
                themes.append(load_theme_file(path))
            except (OSError, ValueError, TypeError, yaml.YAMLError) as e:
                problems.append(ThemeProblem(path, str(e).splitlines()[0]))
    return themes, problems
