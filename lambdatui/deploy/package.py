"""A function's deployment package: a deterministic zip of its code, bundled layers and dependencies.

Deterministic so that unchanged code gives the same `CodeSha256` as the deployed function and is not
uploaded again: entries sorted, every timestamp 1980-01-01, modes fixed (0o644, or 0o755 for
executables such as `bootstrap`), no directory entries, a fixed compression level.

What goes in, later sources overriding earlier ones at the same path:
1. each layer's `python/` contents, at the zip's root (Lambda puts /opt/python on sys.path, and the
   task root is on it too, so a layer bundled into the function's own zip works unchanged);
2. the dependencies of a `requirements.txt` in the code folder, installed by pip for Lambda's
   platform and the function's architecture;
3. the code folder, less what `.lambdaignore` (gitignore syntax) names, caches and VCS folders.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..config import FunctionConfig

if TYPE_CHECKING:  # imported when a function has an ignore file
    from pathspec import PathSpec
    from pathspec.patterns.gitwildmatch import GitWildMatchPattern

__all__ = [
    "IGNORE_FILE",
    "MAX_UNZIPPED_BYTES",
    "MAX_ZIPPED_BYTES",
    "Package",
    "PackageError",
    "build_package",
    "code_sha256",
]

IGNORE_FILE = ".lambdaignore"
MAX_ZIPPED_BYTES = 50 * 1024 * 1024  # a direct upload (CreateFunction / UpdateFunctionCode ZipFile)
MAX_UNZIPPED_BYTES = 250 * 1024 * 1024  # the function and its layers, unzipped
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
COMPRESS_LEVEL = 6
FILE_MODE = 0o644
EXEC_MODE = 0o755
EXECUTABLE_NAMES = frozenset({"bootstrap"})

# Never packaged, wherever they are.
SKIP_DIRS = frozenset({"__pycache__", ".git", ".hg", ".svn", ".venv", ".mypy_cache", ".pytest_cache", ".ruff_cache"})
SKIP_FILE_SUFFIXES = (".pyc", ".pyo")
SKIP_FILES = frozenset({".DS_Store", IGNORE_FILE})

PIP_PLATFORMS = {"x86_64": "manylinux2014_x86_64", "arm64": "manylinux2014_aarch64"}
REQUIREMENTS_FILE = "requirements.txt"


class PackageError(Exception):
    """The package cannot be built or is over a limit; `str(e)` is one line for the user."""


@dataclass
class Package:
    zip_bytes: bytes
    sha256_b64: str  # as Lambda reports CodeSha256: base64 of the zip's SHA-256
    unzipped_size: int
    files: list[str] = field(default_factory=list)  # the zip's entries, sorted

    @property
    def zipped_size(self) -> int:
        return len(self.zip_bytes)


def code_sha256(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode("ascii")


def _size(n: int) -> str:
    if n < 1024:
        return f"{n} bytes"
    if n < 1024 * 1024:
        return f"{n / 1024:.1f} KB"
    return f"{n / (1024 * 1024):.1f} MB"


def _ignore_spec(code_dir: Path) -> PathSpec[GitWildMatchPattern] | None:
    path = code_dir / IGNORE_FILE
    if not path.is_file():
        return None
    import pathspec
    from pathspec.patterns.gitwildmatch import GitWildMatchPattern

    try:
        lines = path.read_text(encoding="utf-8").splitlines()
        with warnings.catch_warnings():
            # pathspec 1.x deprecates the name in favour of its gitignore classes; the syntax is the same.
            warnings.simplefilter("ignore", DeprecationWarning)
            return pathspec.PathSpec.from_lines(GitWildMatchPattern, lines)
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise PackageError(f"{path}: cannot be read as an ignore file: {e}") from None


def _walk(root: Path, spec: PathSpec[GitWildMatchPattern] | None = None) -> dict[str, Path]:
    """Files under `root` by their zip path (posix, relative), skipping caches, VCS and ignored paths."""
    found: dict[str, Path] = {}
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        rel_dir = Path(dirpath).relative_to(root).as_posix()
        rel_dir = "" if rel_dir == "." else rel_dir + "/"
        keep = []
        for d in sorted(dirnames):
            if d in SKIP_DIRS:
                continue
            if spec is not None and spec.match_file(f"{rel_dir}{d}/"):
                continue
            keep.append(d)
        dirnames[:] = keep
        for name in filenames:
            if name in SKIP_FILES or name.endswith(SKIP_FILE_SUFFIXES):
                continue
            rel = rel_dir + name
            if spec is not None and spec.match_file(rel):
                continue
            path = Path(dirpath) / name
            if path.is_file():
                found[rel] = path
    return found


def _python_version(runtime: str) -> str | None:
    m = re.fullmatch(r"python(\d+)\.(\d+)", runtime)
    return f"{m.group(1)}.{m.group(2)}" if m else None


def _install_requirements(function: FunctionConfig, requirements: Path, target: Path, progress: Callable[[str], None] | None) -> None:
    version = _python_version(function.runtime)
    if version is None:
        raise PackageError(f"{requirements}: requirements.txt is only installed for python runtimes, not {function.runtime}")
    platform = PIP_PLATFORMS.get(function.architecture)
    if platform is None:
        raise PackageError(f"architecture {function.architecture!r} is not x86_64 or arm64")
    if progress:
        progress(f"Installing {requirements.name} for {function.runtime} on {function.architecture} ({platform})…")
    command = [
        sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-input",
        "--no-compile", "--target", str(target), "--platform", platform, "--implementation", "cp",
        "--only-binary=:all:", "--python-version", version, "-r", str(requirements),
    ]
    try:
        result = subprocess.run(command, capture_output=True, text=True, cwd=requirements.parent, timeout=900)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise PackageError(f"{requirements}: pip could not run: {e}") from None
    if result.returncode != 0:
        lines = [line.strip() for line in (result.stderr + "\n" + result.stdout).splitlines() if line.strip()]
        errors = [line for line in lines if line.startswith("ERROR")]
        last = (errors or lines or [f"exit status {result.returncode}"])[-1]
        raise PackageError(f"{requirements}: installing the dependencies failed: {last}")


def _mode(path: Path, rel: str) -> int:
    if Path(rel).name in EXECUTABLE_NAMES:
        return EXEC_MODE
    try:
        executable = bool(path.stat().st_mode & (stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH))
    except OSError:
        executable = False
    return EXEC_MODE if executable else FILE_MODE


def build_package(
    function: FunctionConfig,
    *,
    work_dir: Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> Package:
    """Zip `function`'s code with its layers and dependencies; raises PackageError (one line).

    `work_dir` holds the pip-installed dependencies (a temporary folder, removed after, if None).
    The limits (MAX_ZIPPED_BYTES, MAX_UNZIPPED_BYTES) are checked here, before any upload.
    """
    code_dir = Path(function.code)
    if not code_dir.is_dir():
        raise PackageError(f"{function.name}: the code folder {code_dir} does not exist")
    if progress:
        progress(f"Packaging {function.name} from {code_dir}…")
    sources: dict[str, Path] = {}
    for layer in function.layers:
        python = Path(layer) / "python"
        if python.is_dir():
            sources.update(_walk(python))
        elif progress:
            progress(f"Layer {layer} has no python/ folder: nothing bundled from it")

    temp: str | None = None
    try:
        requirements = code_dir / REQUIREMENTS_FILE
        if requirements.is_file():
            if work_dir is None:
                temp = tempfile.mkdtemp(prefix="lambdatui-deploy-")
                base = Path(temp)
            else:
                base = Path(work_dir)
            target = base / f"{function.name}-dependencies"
            if target.exists():
                shutil.rmtree(target)
            target.mkdir(parents=True)
            _install_requirements(function, requirements, target, progress)
            deps = _walk(target)
            # pip's own bookkeeping differs between installs (INSTALLER, RECORD's paths) and Lambda
            # does not need it: keep the metadata but drop what makes the zip nondeterministic.
            deps = {k: v for k, v in deps.items() if not re.search(r"\.dist-info/(RECORD|INSTALLER|REQUESTED|direct_url\.json)$", k)}
            sources.update(deps)

        sources.update(_walk(code_dir, _ignore_spec(code_dir)))
        if not sources:
            raise PackageError(f"{function.name}: nothing to package in {code_dir}")

        unzipped = 0
        for path in sources.values():
            unzipped += path.stat().st_size
        if unzipped > MAX_UNZIPPED_BYTES:
            raise PackageError(
                f"{function.name}: the package is {_size(unzipped)} unzipped, over Lambda's {_size(MAX_UNZIPPED_BYTES)} limit"
            )

        buf = io.BytesIO()
        names = sorted(sources)
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=COMPRESS_LEVEL) as z:
            for rel in names:
                path = sources[rel]
                info = zipfile.ZipInfo(rel, date_time=ZIP_DATE)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.create_system = 3  # unix, so the modes below are read
                info.external_attr = (stat.S_IFREG | _mode(path, rel)) << 16
                z.writestr(info, path.read_bytes(), compress_type=zipfile.ZIP_DEFLATED, compresslevel=COMPRESS_LEVEL)
        data = buf.getvalue()
    except OSError as e:
        raise PackageError(f"{function.name}: cannot read {getattr(e, 'filename', '') or 'a file'}: {e.strerror or e}") from None
    finally:
        if temp is not None:
            shutil.rmtree(temp, ignore_errors=True)

    if len(data) > MAX_ZIPPED_BYTES:
        raise PackageError(
            f"{function.name}: the zip is {_size(len(data))}, over Lambda's {_size(MAX_ZIPPED_BYTES)} limit for a direct upload"
        )
    package = Package(zip_bytes=data, sha256_b64=code_sha256(data), unzipped_size=unzipped, files=names)
    if progress:
        progress(f"Packaged {function.name}: {len(names)} file{'' if len(names) == 1 else 's'}, {_size(len(data))} zipped, {_size(unzipped)} unzipped")
    return package
