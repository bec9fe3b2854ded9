"""Themes loaded from YAML files (`themes/*.yaml` in the project, then the user's themes folder).

Each file holds the fields of a Textual `Theme` (name, primary, background, …, variables), so users
add a theme by dropping a file, as Posting does; a broken file is reported, not fatal.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml
from textual.theme import Theme

from ..config import REPO_ROOT

PROJECT_THEMES = REPO_ROOT / "themes"
DEFAULT_THEME = "lambdatui-dark"
_FIELDS = {
    "name", "primary", "secondary", "warning", "error", "success", "accent", "foreground",
    "background", "surface", "panel", "boost", "dark", "luminosity_spread", "text_alpha", "variables",
}


@dataclass
class ThemeProblem:
    path: Path
    message: str


def user_themes_dir() -> Path:
    from platformdirs import user_config_dir

    return Path(user_config_dir("lambdatui")) / "themes"


def load_theme_file(path: Path) -> Theme:
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


def load_themes(*folders: Path) -> tuple[list[Theme], list[ThemeProblem]]:
    themes: list[Theme] = []
    problems: list[ThemeProblem] = []
    for folder in folders or (PROJECT_THEMES, user_themes_dir()):
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.yaml")):
            try:
                themes.append(load_theme_file(path))
            except (OSError, ValueError, TypeError, yaml.YAMLError) as e:
                problems.append(ThemeProblem(path, str(e).splitlines()[0]))
    return themes, problems
