"""AWS SAM templates to CloudFormation, by AWS's own `aws-sam-translator` (the library the
`AWS::Serverless-2016-10-31` transform runs), rather than by re-implementing SAM's rules.

The translator runs without AWS: it is given an empty managed-policy map and a region (no
credentials are looked for), and nested applications (`AWS::Serverless::Application`, which it
would fetch from the Serverless Application Repository) are left out with a warning.

It accepts code only in S3 (`s3://bucket/key`), where a local project names folders
(`CodeUri: hello_world/`). Each local path is swapped for a stand-in S3 location before the
transform and swapped back after (`LocalCode`), as is a missing `ImageUri` of an image function
that `sam build` has not built yet.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..yaml_nodes import ConfigError

STAND_IN_BUCKET = "lambdatui-local-code"
STAND_IN_IMAGE = "lambdatui-local-image:latest"
# The properties of SAM resources that name local files (`sam package` uploads them).
_LOCAL_PATH_PROPERTIES = ("CodeUri", "ContentUri", "DefinitionUri")


@dataclass
class LocalCode:
    """The local paths swapped out for the transform: stand-in S3 key → the path as written."""

    paths: dict[str, str] = field(default_factory=dict)

    def stand_in(self, path: str) -> str:
        key = f"path-{len(self.paths)}"
        self.paths[key] = path
        return f"s3://{STAND_IN_BUCKET}/{key}"

    def local_path(self, code: Any) -> str | None:
        """The path behind a translated `Code`/`Content` ({S3Bucket, S3Key}), if it is a stand-in."""
        if isinstance(code, dict) and code.get("S3Bucket") == STAND_IN_BUCKET:
            return self.paths.get(str(code.get("S3Key")))
        return None


def _swap_local_paths(properties: dict[str, Any], local: LocalCode) -> None:
    for key in _LOCAL_PATH_PROPERTIES:
        value = properties.get(key)
        if isinstance(value, str) and not value.startswith("s3://"):
            properties[key] = local.stand_in(value)


def translate(template: dict[str, Any], parameters: dict[str, Any], region: str, path: Any, warn: Any) -> tuple[dict[str, Any], LocalCode]:
    """The CloudFormation a SAM template transforms into, and the local paths it names.

    `parameters` are the final parameter values with the pseudo parameters; `warn(where, message)`
    is told what is left out. A template SAM rejects raises ConfigError with SAM's own messages.
    """
    sam = copy.deepcopy(template)
    local = LocalCode()
    resources = sam.get("Resources")
    if not isinstance(resources, dict):
        raise ConfigError("Resources: must be a mapping of logical ids to resources", path)
    globals_function = (sam.get("Globals") or {}).get("Function") if isinstance(sam.get("Globals"), dict) else None
    global_code = isinstance(globals_function, dict) and "CodeUri" in globals_function
    if isinstance(globals_function, dict):
        _swap_local_paths(globals_function, local)
    for logical_id in list(resources):
        resource = resources[logical_id]
        if not isinstance(resource, dict):
            continue
        kind = resource.get("Type")
        if kind == "AWS::Serverless::Application":
            warn(logical_id, "nested applications (AWS::Serverless::Application) are not loaded locally")
            del resources[logical_id]
            continue
        if not isinstance(kind, str) or not kind.startswith("AWS::Serverless::"):
            continue
        properties = resource.setdefault("Properties", {})
        if not isinstance(properties, dict):
            continue
        if kind == "AWS::Serverless::Function":
            if properties.get("PackageType") == "Image":
                properties.setdefault("ImageUri", STAND_IN_IMAGE)
            elif "CodeUri" not in properties and "InlineCode" not in properties and not global_code:
                properties["CodeUri"] = "."  # SAM CLI's default: the template's own folder
        _swap_local_paths(properties, local)

    cache = _cache_file(sam, parameters, region)
    cached = _read_cache(cache)
    if cached is not None:
        return cached, local
    try:
        from samtranslator.metrics.metrics import DummyMetricsPublisher, Metrics
        from samtranslator.model.exceptions import InvalidDocumentException
        from samtranslator.parser.parser import Parser
        from samtranslator.translator.translator import Translator
    except ImportError:  # pragma: no cover - a dependency; only a broken installation lacks it
        raise ConfigError("this is an AWS SAM template and aws-sam-translator is not installed (pip install aws-sam-translator)", path) from None

    session = _Session(region)
    # The translator records metrics; published to nowhere, or it warns on stderr of "unpublished metrics".
    metrics = Metrics("ServerlessTransform", DummyMetricsPublisher())
    try:
        translated = Translator({}, Parser(), boto_session=session, metrics=metrics).translate(sam, dict(parameters))
    except InvalidDocumentException as e:
        problems = "; ".join(str(getattr(cause, "message", cause)) for cause in e.causes)
        raise ConfigError(f"AWS SAM rejects this template: {problems}", path) from None
    except Exception as e:  # the translator's other failures: a template it cannot read at all
        raise ConfigError(f"AWS SAM could not transform this template: {type(e).__name__}: {e}", path) from None
    finally:
        metrics.publish()
    _write_cache(cache, translated)
    return translated, local


# -- the transform's cache ---------------------------------------------------------------------------
# Importing the translator costs ~250 ms and the transform ~25 ms on every command that opens a SAM
# template; the transform is a pure function of the document (local paths already swapped for
# stand-ins), the parameter values, the region and the translator's version, so its output is kept
# under the state dir by a hash of those.


def _cache_file(sam: dict[str, Any], parameters: dict[str, Any], region: str) -> Path | None:
    try:
        from importlib.metadata import version

        translator = version("aws-sam-translator")
        key = json.dumps([sam, parameters, region, translator], sort_keys=True, default=str)
    except Exception:  # noqa: BLE001 - no version, or a document json cannot spell: no cache
        return None
    from .cloudformation import state_dir

    return state_dir() / "templates" / "sam" / f"{hashlib.sha256(key.encode()).hexdigest()}.json"


def _read_cache(cache: Path | None) -> dict[str, Any] | None:
    if cache is None:
        return None
    try:
        data = json.loads(cache.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _write_cache(cache: Path | None, translated: dict[str, Any]) -> None:
    if cache is None:
        return
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_name(f".{cache.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(translated, default=str), encoding="utf-8")
        os.replace(tmp, cache)  # whole or absent: another process reads one or the other
    except (OSError, TypeError, ValueError):
        pass  # a cache, not a requirement


class _Session:
    """What the translator asks of a boto3 session: the region. A real session would read the
    user's AWS configuration (and fail on a missing profile) for nothing."""

    def __init__(self, region: str) -> None:
        self.region_name = region
