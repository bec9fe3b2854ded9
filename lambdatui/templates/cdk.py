"""What the AWS CDK synthesises into `cdk.out/`: `<Stack>.template.json` whose functions and layers
name their code by asset metadata (`aws:asset:path`, relative to cdk.out, for the property named by
`aws:asset:property`), and a `cdk.out` folder opened as a project (every stack's template).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

ASSET_PATH = "aws:asset:path"
ASSET_PROPERTY = "aws:asset:property"


def asset_path(resource: dict[str, Any], prop: str) -> str | None:
    """The asset folder (relative to the template's folder, cdk.out) holding `prop` of a resource."""
    metadata = resource.get("Metadata")
    if not isinstance(metadata, dict) or not isinstance(metadata.get(ASSET_PATH), str):
        return None
    if metadata.get(ASSET_PROPERTY, prop) != prop:
        return None
    return str(metadata[ASSET_PATH])


def stack_templates(folder: Path) -> list[Path]:
    """The stacks' templates of a cdk.out folder, by name (nested assemblies are not read)."""
    return sorted(folder.glob("*.template.json"))
