"""Telling a template from a lambdatui configuration, by content, and the files looked for when
no `--config` is given.

A document is a template when it has `AWSTemplateFormatVersion`, a `Transform` naming AWS SAM,
or `Resources` of `AWS::*` types; lambdatui's own keys (`backend`, `aws`, `local`, `tui`,
`serve`) never appear at a template's top level, so a file is never both.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

SAM_TRANSFORM = "AWS::Serverless-2016-10-31"
TEMPLATE_KEYS = frozenset({"AWSTemplateFormatVersion", "Transform", "Resources"})

# After ./lambdatui.yaml, in this order: SAM prefers the template `sam build` wrote, when it exists.
TEMPLATE_LOOKUP = (Path(".aws-sam") / "build" / "template.yaml", Path("template.yaml"), Path("template.yml"))


def transforms(document: dict[str, Any]) -> list[str]:
    value = document.get("Transform")
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [t for t in value if isinstance(t, str)]
    return []


def is_sam(document: dict[str, Any]) -> bool:
    return SAM_TRANSFORM in transforms(document)


def is_template(document: Any) -> bool:
    """Whether parsed data is a CloudFormation or SAM template."""
    if not isinstance(document, dict):
        return False
    if "AWSTemplateFormatVersion" in document or is_sam(document):
        return True
    resources = document.get("Resources")
    return (
        isinstance(resources, dict)
        and bool(resources)
        and all(isinstance(r, dict) and str(r.get("Type", "")).startswith(("AWS::", "Custom::")) for r in resources.values())
    )


def has_template_keys(top_keys: Iterable[str]) -> bool:
    """Whether a document's top-level keys are a template's (the check before parsing it as one)."""
    return bool(TEMPLATE_KEYS & set(top_keys))


def find_template(folder: Path) -> Path | None:
    """The template `lambdatui` opens in `folder` when there is no lambdatui.yaml there."""
    for candidate in TEMPLATE_LOOKUP:
        path = folder / candidate
        if path.is_file():
            return path
    return None
