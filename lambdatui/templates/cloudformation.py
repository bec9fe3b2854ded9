"""`AWS::Lambda::Function` resources of a CloudFormation template (written by hand, transformed
from SAM, or synthesised by the CDK) as lambdatui's `Function`s, named by their logical ids.

Each property is resolved (lambdatui.templates.intrinsics) and mapped to the model: `Code` to a
local folder (a SAM `CodeUri`, a CDK asset, `ZipFile` source written under the state dir),
`Handler`, `Runtime`, `Architectures`, `MemorySize`, `Timeout`, `Environment`, `EphemeralStorage`,
`ReservedConcurrentExecutions`, `Layers` that are this template's layer versions. What cannot apply
locally is kept on the function as a warning naming the property.
"""

from __future__ import annotations

import hashlib
import os
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..model import (
    EPHEMERAL_MAX_MB,
    EPHEMERAL_MIN_MB,
    IMAGE_NOT_RUN,
    IMAGE_RUNTIME,
    MEMORY_MAX_MB,
    MEMORY_MIN_MB,
    TIMEOUT_MAX_S,
    TIMEOUT_MIN_S,
)
from .cdk import asset_path
from .intrinsics import NO_VALUE, Resolver
from .sam import LocalCode

Warn = Callable[[str, str], None]
LAYER_TYPES = ("AWS::Lambda::LayerVersion", "AWS::Serverless::LayerVersion")
STATE_DIR_ENV_VAR = "LAMBDATUI_STATE_DIR"  # as lambdatui.backends.local: where lambdatui keeps its state


def state_dir() -> Path:
    override = os.environ.get(STATE_DIR_ENV_VAR)
    if override:
        return Path(override)
    from platformdirs import user_state_dir

    return Path(user_state_dir("lambdatui"))


class FunctionReader:
    """Reads the functions of one (transformed) template. `base` is the template's folder, against
    which code paths are resolved."""

    def __init__(self, resources: dict[str, Any], resolver: Resolver, base: Path, local: LocalCode | None, warn: Warn) -> None:
        self.resources = resources
        self.resolver = resolver
        self.base = base
        self.local = local or LocalCode()
        self.warn = warn

    def read(self, logical_id: str, resource: dict[str, Any]) -> dict[str, Any]:
        """The `Function` keyword arguments of one `AWS::Lambda::Function` resource."""
        raw = resource.get("Properties") or {}
        if not isinstance(raw, dict):
            raw = {}
        f: dict[str, Any] = {"name": logical_id}

        def prop(key: str) -> Any:
            value = self.resolver.resolve(raw[key], f"{logical_id}.{key}") if key in raw else None
            return None if value is NO_VALUE else value

        code = raw.get("Code")
        if str(prop("PackageType") or "Zip") == "Image" or (isinstance(code, dict) and "ImageUri" in code):
            # Listed, so the project's functions are all there, but never run (see model.IMAGE_RUNTIME).
            self.warn(logical_id, f"PackageType: Image: {IMAGE_NOT_RUN}")
            f.update(runtime=IMAGE_RUNTIME, handler="-", code=str(self._image_context(resource)))
        else:
            f["code"] = str(self._code(logical_id, resource, code, prop("Runtime")))
        for key, field in (("Handler", "handler"), ("Runtime", "runtime"), ("Description", "description")):
            if f.get("runtime") == IMAGE_RUNTIME and key != "Description":
                continue  # an image names neither: its entry point is the image's
            value = prop(key)
            if value is not None:
                f[field] = str(value)
        f["memory_size"] = self._number(logical_id, "MemorySize", prop("MemorySize"), MEMORY_MIN_MB, MEMORY_MAX_MB, 128)
        f["timeout"] = self._number(logical_id, "Timeout", prop("Timeout"), TIMEOUT_MIN_S, TIMEOUT_MAX_S, 3)
        architectures = prop("Architectures")
        if isinstance(architectures, list) and architectures:
            if architectures[0] in ("x86_64", "arm64"):
                f["architecture"] = architectures[0]
            else:
                self.warn(f"{logical_id}.Architectures", f"{architectures[0]!r} is not x86_64 or arm64: x86_64 used")
        storage = prop("EphemeralStorage")
        if isinstance(storage, dict) and "Size" in storage:
            f["ephemeral_storage"] = self._number(logical_id, "EphemeralStorage.Size", storage["Size"], EPHEMERAL_MIN_MB, EPHEMERAL_MAX_MB, 512)
        reserved = prop("ReservedConcurrentExecutions")
        if reserved is not None:
            f["reserved_concurrency"] = self._number(logical_id, "ReservedConcurrentExecutions", reserved, 0, 900, None)
        f["environment"] = self._environment(logical_id, prop("Environment"))
        f["layers"] = self._layers(logical_id, raw.get("Layers"))
        logging = prop("LoggingConfig")
        if isinstance(logging, dict):
            if str(logging.get("LogFormat", "Text")) != "Text":
                self.warn(f"{logical_id}.LoggingConfig.LogFormat", f"{logging['LogFormat']} logs are not produced locally: Text is used")
            if logging.get("LogGroup"):
                self.warn(f"{logical_id}.LoggingConfig.LogGroup", "a custom log group does not apply locally: the log is the function's own")
        return f

    # -- the parts -----------------------------------------------------------------------------

    def _number(self, logical_id: str, key: str, value: Any, low: int, high: int, default: int | None) -> int | None:
        if value is None:
            return default
        try:
            n = int(str(value))
        except ValueError:
            self.warn(f"{logical_id}.{key}", f"{value!r} is not a whole number: {default} used")
            return default
        if not low <= n <= high:
            self.warn(f"{logical_id}.{key}", f"{n} is outside {low}–{high}: {default} used")
            return default
        return n

    def _environment(self, logical_id: str, environment: Any) -> dict[str, str]:
        variables = environment.get("Variables") if isinstance(environment, dict) else None
        if not isinstance(variables, dict):
            return {}
        out: dict[str, str] = {}
        for key, value in variables.items():
            # CloudFormation passes numbers and booleans on as text.
            out[str(key)] = ("true" if value else "false") if isinstance(value, bool) else str(value)
        return out

    def _folder(self, logical_id: str, key: str, text: str) -> Path:
        """A code path of the template, as a folder: a .zip is unpacked once into the cache."""
        path = (self.base / text).resolve()
        if path.is_file() and path.suffix == ".zip":
            return self._unzipped(logical_id, key, path)
        if not path.is_dir():
            self.warn(f"{logical_id}.{key}", f"{text!r} is not a folder (looked for {path}): run `sam build`, or fix the path")
        return path

    def _unzipped(self, logical_id: str, key: str, archive: Path) -> Path:
        stat = archive.stat()
        digest = hashlib.sha256(f"{archive}:{stat.st_size}:{stat.st_mtime_ns}".encode()).hexdigest()[:16]
        target = state_dir() / "templates" / "zips" / digest
        if not target.is_dir():
            partial = target.with_name(f"{digest}.partial-{os.getpid()}")
            try:
                with zipfile.ZipFile(archive) as z:
                    z.extractall(partial)
                partial.rename(target)
            except (OSError, zipfile.BadZipFile) as e:
                self.warn(f"{logical_id}.{key}", f"{archive} could not be unpacked: {e}")
                return archive.parent
        return target

    def _code(self, logical_id: str, resource: dict[str, Any], code: Any, runtime: Any) -> Path:
        cdk = asset_path(resource, "Code")
        if cdk is not None:
            return self._folder(logical_id, "Code", cdk)
        stand_in = self.local.local_path(code)
        if stand_in is not None:
            return self._folder(logical_id, "CodeUri", stand_in)
        if isinstance(code, dict) and "ZipFile" in code:
            source = self.resolver.resolve(code["ZipFile"], f"{logical_id}.Code.ZipFile")
            return inline_code(str(source), runtime if isinstance(runtime, str) else "")
        resolved = self.resolver.resolve(code, f"{logical_id}.Code")
        self.warn(f"{logical_id}.Code", f"the code is in S3 ({_s3_text(resolved)}), not on this machine: give CodeUri a local folder")
        return self.base

    def _image_context(self, resource: dict[str, Any]) -> Path:
        metadata = resource.get("Metadata")
        if isinstance(metadata, dict) and isinstance(metadata.get("DockerContext"), str):
            return (self.base / str(metadata["DockerContext"])).resolve()
        return self.base

    def _layers(self, logical_id: str, layers: Any) -> list[str]:
        if not isinstance(layers, list):
            return []
        out: list[str] = []
        for i, layer in enumerate(layers):
            where = f"{logical_id}.Layers[{i}]"
            target = layer.get("Ref") if isinstance(layer, dict) and len(layer) == 1 else None
            resource = self.resources.get(target) if isinstance(target, str) else None
            if isinstance(resource, dict) and resource.get("Type") in LAYER_TYPES:
                raw = resource.get("Properties") or {}
                content = raw.get("Content") if isinstance(raw, dict) else None
                cdk = asset_path(resource, "Content")
                stand_in = self.local.local_path(content)
                if cdk is not None:
                    out.append(str(self._folder(logical_id, f"Layers[{i}]", cdk)))
                elif stand_in is not None:
                    out.append(str(self._folder(logical_id, f"Layers[{i}]", stand_in)))
                else:
                    self.warn(where, f"layer {target}'s content is in S3, not on this machine: left out")
                continue
            resolved = self.resolver.resolve(layer, where)
            self.warn(where, f"layer {resolved} is not a layer of this template: left out (its content is not on this machine)")
        return out


def inline_code(source: str, runtime: str) -> Path:
    """`ZipFile`/`InlineCode` source, written once into a folder of the cache: Lambda names the
    file `index` (index.py, index.js; index.mjs is not what CloudFormation writes)."""
    extension = ".js" if runtime.startswith("nodejs") else ".py"
    digest = hashlib.sha256(f"{extension}\0{source}".encode()).hexdigest()[:16]
    folder = state_dir() / "templates" / "inline" / digest
    target = folder / f"index{extension}"
    if not target.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        partial = folder / f".index{extension}.{os.getpid()}"
        partial.write_text(source, encoding="utf-8")
        os.replace(partial, target)
    return folder


def _s3_text(code: Any) -> str:
    if isinstance(code, dict) and "S3Bucket" in code:
        return f"s3://{code.get('S3Bucket')}/{code.get('S3Key', '')}"
    return str(code)
