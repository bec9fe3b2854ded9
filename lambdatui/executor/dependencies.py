"""A function's third-party packages, installed for local runs: `requirements.txt` (Python) and
`package.json` (Node.js) in its code folder.

On Lambda these are inside the deployment package (`sam build` installs them next to the handler)
or in a layer. Locally they are installed once into a cache under the state dir, one folder per
(manifest contents, runtime, architecture), and the environment sees that folder right after the
code folder: on the Python path after the task root and before the layers' folders, and first on
NODE_PATH (ahead of the layers' `nodejs/node_modules`, as a `node_modules` next to the handler
is found before NODE_PATH on Lambda).

This module owns finding the manifest (`manifest_for`), the cache's layout (`cache_path`), the
install itself (`prepare`) and what `list --json` shows (`status`). An install runs with the
runtime's own interpreter (`python3.X -m pip install -r requirements.txt --target DIR`) or npm
(`npm ci`/`npm install --omit=dev`), into a temp folder renamed into place when complete, under a
`flock` per cache entry, so a dashboard and a CLI installing at once make one install and nothing
half-installed is ever used. Packages are installed for this machine's architecture: locally the
function runs on this CPU, so wheels for another one could not be imported.

pip and npm read their own settings from the environment, which is passed through: e.g.
`PIP_INDEX_URL`, `PIP_NO_INDEX=1 PIP_FIND_LINKS=DIR` or `npm_config_registry`.
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ..filelock import lock_file
from .spec import FunctionSpec

__all__ = [
    "DEPENDENCY_LOG_STREAM",
    "DependencyError",
    "Manifest",
    "add_listener",
    "cache_path",
    "manifest_for",
    "prepare",
    "progress_to",
    "status",
]

# The log stream that install progress is written to (the dashboard's log pane shows it).
DEPENDENCY_LOG_STREAM = "[lambdatui] dependencies"
# A big requirements file compiles for minutes; a waiting process gives up after this long.
INSTALL_TIMEOUT_S = 900.0
MARKER = ".lambdatui-dependencies.json"  # written last into the temp folder: what was installed, from what

# Progress: (function name, message). `add_listener`s get every message of the process (the CLI
# prints them on stderr); `progress_to` adds one for the calls in its block (the executor writes
# them to the function's log).
Progress = Callable[[str, str], None]
_listeners: list[Progress] = []
_listeners_lock = threading.Lock()
_scoped: contextvars.ContextVar[Callable[[str], object] | None] = contextvars.ContextVar("lambdatui_dependency_progress", default=None)


class DependencyError(Exception):
    """The dependencies could not be installed: one line naming the function and the package.
    `launch_for` passes it on as UnsupportedRuntime: the environment cannot start without them."""


@dataclass(frozen=True)
class Manifest:
    kind: str  # "pip" or "npm"
    path: Path  # requirements.txt or package.json
    lockfile: Path | None  # package-lock.json (npm ci) when there is one
    digest: str  # sha256 of the manifest (and lockfile)
    packages: int  # how many requirements or dependencies it names

    @property
    def name(self) -> str:
        return self.path.name


def add_listener(listener: Progress) -> Callable[[], None]:
    """Call `listener(function, message)` with every progress message; returns its remover."""
    with _listeners_lock:
        _listeners.append(listener)

    def remove() -> None:
        with _listeners_lock:
            if listener in _listeners:
                _listeners.remove(listener)

    return remove


@contextlib.contextmanager
def progress_to(callback: Callable[[str], object]) -> Iterator[None]:
    """Also send the progress of `prepare` calls made in this block (this thread) to `callback`."""
    token = _scoped.set(callback)
    try:
        yield
    finally:
        _scoped.reset(token)


def _report(function: str, message: str, *, scoped_only: bool = False) -> None:
    scoped = _scoped.get()
    if scoped is not None:
        scoped(message)
    if scoped_only:
        return
    with _listeners_lock:
        listeners = list(_listeners)
    for listener in listeners:
        listener(function, message)


# -- manifests -------------------------------------------------------------------------------


def manifest_for(spec: FunctionSpec) -> Manifest | None:
    """The function's dependency manifest, or None when it has none (or an empty one)."""
    code = Path(spec.code_dir)
    if spec.runtime.startswith("python"):
        path = code / "requirements.txt"
        try:
            data = path.read_bytes()
        except OSError:
            return None
        count = len(_requirement_lines(data.decode("utf-8", "replace")))
        if count == 0:
            return None
        return Manifest("pip", path, None, hashlib.sha256(data).hexdigest(), count)
    if spec.runtime.startswith("nodejs"):
        path = code / "package.json"
        try:
            data = path.read_bytes()
            parsed = json.loads(data)
        except (OSError, ValueError):
            return None  # no package.json; an unreadable one is the runtime's to complain about
        dependencies = parsed.get("dependencies") if isinstance(parsed, dict) else None
        if not isinstance(dependencies, dict) or not dependencies:
            return None  # devDependencies are not deployed (npm --omit=dev)
        lock: Path | None = code / "package-lock.json"
        digest = hashlib.sha256(data)
        try:
            digest.update(b"\0" + (code / "package-lock.json").read_bytes())
        except OSError:
            lock = None
        return Manifest("npm", path, lock, digest.hexdigest(), len(dependencies))
    return None


def _requirement_lines(text: str) -> list[str]:
    """The lines of a requirements file that name something to install (options and comments out)."""
    lines = []
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0].strip()
        if line and not line.startswith("#") and not (line.startswith("-") and not line.startswith(("-e", "--editable"))):
            lines.append(line)
    return lines


def host_architecture() -> str:
    machine = platform.machine().lower()
    return {"amd64": "x86_64", "aarch64": "arm64"}.get(machine, machine)


def cache_path(spec: FunctionSpec, manifest: Manifest, cache_dir: Path) -> Path:
    """Where this manifest's packages are for this runtime and architecture (one folder per key).

    The key has the function's architecture and the machine's: packages are built for the machine,
    and a function declared arm64 is kept apart from an x86_64 one should the two ever differ."""
    arch = spec.architecture if spec.architecture == host_architecture() else f"{spec.architecture}-on-{host_architecture()}"
    return Path(cache_dir) / "dependencies" / f"{spec.runtime}-{arch}-{manifest.kind}-{manifest.digest[:24]}"


def status(spec: FunctionSpec, cache_dir: Path) -> dict[str, object] | None:
    """For `list --json`: {manifest, installed, cache}; None when the function has no manifest."""
    manifest = manifest_for(spec)
    if manifest is None:
        return None
    path = cache_path(spec, manifest, cache_dir)
    return {"manifest": str(manifest.path), "installed": path.is_dir(), "cache": str(path)}


def search_dirs(spec: FunctionSpec, folder: Path) -> list[Path]:
    """The folders of an installed cache entry that go on the runtime's search path."""
    return [folder / "node_modules"] if spec.runtime.startswith("nodejs") else [folder]


# -- installing ------------------------------------------------------------------------------


def prepare(spec: FunctionSpec, cache_dir: Path, *, force: bool = False) -> Path | None:
    """The installed dependencies' folder for `spec`, installing them first if needed; None when the
    function declares none. `force`: install again even if installed. DependencyError on failure."""
    manifest = manifest_for(spec)
    if manifest is None:
        return None
    final = cache_path(spec, manifest, cache_dir)
    if final.is_dir() and not force:
        return final  # complete: only a finished install is ever renamed to this name
    root = final.parent
    try:
        root.mkdir(parents=True, exist_ok=True)
        lock = root / f".{final.name}.lock"
        lock.touch(exist_ok=True)
    except OSError as e:
        raise DependencyError(f"{spec.name}: cannot write the dependency cache {root}: {e.strerror or e}") from None
    with lock_file(lock, timeout=INSTALL_TIMEOUT_S):
        if final.is_dir() and not force:
            return final  # another process installed them while this one waited
        # Holding the lock: any temp folder of this entry was left by a process that died mid-install.
        for leftover in root.glob(f".{final.name}.tmp*"):
            shutil.rmtree(leftover, ignore_errors=True)
        temp = Path(tempfile.mkdtemp(dir=root, prefix=f".{final.name}.tmp"))
        temp.chmod(0o755)  # mkdtemp's 0700 is for secrets; this is a package folder
        try:
            plural = "package" if manifest.packages == 1 else "packages"
            _report(spec.name, f"[lambdatui] installing {manifest.packages} {plural} for {spec.name} from {manifest.name}…")
            try:
                _install(spec, manifest, temp)
            except DependencyError as e:
                # Into the function's log too; the caller prints or shows the error itself.
                _report(spec.name, f"[lambdatui] {e}", scoped_only=True)
                raise
            (temp / MARKER).write_text(json.dumps({"manifest": str(manifest.path), "sha256": manifest.digest, "runtime": spec.runtime}))
            if force and final.exists():
                old = root / f".{final.name}.tmp-old"
                os.rename(final, old)
                shutil.rmtree(old, ignore_errors=True)
            os.rename(temp, final)
        except BaseException:
            shutil.rmtree(temp, ignore_errors=True)
            raise
    _report(spec.name, f"[lambdatui] installed {manifest.packages} {plural} for {spec.name}")
    return final


def _install(spec: FunctionSpec, manifest: Manifest, target: Path) -> None:
    if manifest.kind == "pip":
        from .runtimes import find_python

        interpreter, _ = find_python(spec.runtime[len("python"):])
        argv = [interpreter, "-m", "pip", "install", "--disable-pip-version-check", "--no-input", "--quiet", "--target", str(target), "-r", str(manifest.path)]
        tool = "pip"
    else:
        npm = shutil.which("npm")
        if npm is None:
            raise DependencyError(f"{spec.name}: cannot install the dependencies of {manifest.path}: `npm` was not found on PATH")
        argv = _npm_argv(npm, manifest, target)
        tool = "npm"
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)  # pip runs in the runtime's own interpreter, not with our path
    try:
        proc = subprocess.run(argv, cwd=manifest.path.parent, env=env, capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise DependencyError(f"{spec.name}: {tool} could not run for {manifest.path}: {e}") from None
    if proc.returncode != 0:
        raise DependencyError(f"{spec.name}: {failure_summary(tool, proc.stderr + proc.stdout, manifest)}")


def _npm_argv(npm: str, manifest: Manifest, target: Path) -> list[str]:
    """npm run in `target` on a copy of package.json whose relative `file:` dependencies are made
    absolute (they are relative to the code folder); `npm ci` when the lockfile can be used as is."""
    data = json.loads(manifest.path.read_text())
    relative = False
    for section in ("dependencies", "optionalDependencies"):
        deps = data.get(section)
        if not isinstance(deps, dict):
            continue
        for name, spec in deps.items():
            if isinstance(spec, str) and spec.startswith(("file:", "link:")):
                scheme, _, where = spec.partition(":")
                if not os.path.isabs(where):
                    deps[name] = f"{scheme}:{(manifest.path.parent / where).resolve()}"
                    relative = True
    data.pop("devDependencies", None)
    data.pop("scripts", None)  # the project's build scripts are not a dependency install's to run
    (target / "package.json").write_text(json.dumps(data, indent=2))
    # --install-links: a `file:` folder is copied in, as into a deployment package, not linked to a
    # folder the sandbox may not show the function.
    common = ["--omit=dev", "--install-links", "--no-audit", "--no-fund", "--loglevel=error"]
    if manifest.lockfile is not None and not relative:
        shutil.copyfile(manifest.lockfile, target / "package-lock.json")
        return [npm, "ci", "--prefix", str(target), *common]
    return [npm, "install", "--prefix", str(target), "--no-package-lock", *common]


_PIP_PATTERNS = (
    re.compile(r"No matching distribution found for ([^\s;]+)"),
    re.compile(r"Could not find a version that satisfies the requirement ([^\s;]+)"),
    re.compile(r"Invalid requirement: '([^']+)'"),
    re.compile(r"Failed to build ([^\s;]+)"),
    re.compile(r"Failed building wheel for ([^\s;]+)"),
    re.compile(r"(?:Could not install packages due to an OSError|Could not open requirements file)[^\n]*"),
)
_NPM_PATTERNS = (
    re.compile(r"'((?:@[^/'\s]+/)?[^@'\s]+)(?:@[^'\s]*)?' is not in this registry"),
    re.compile(r"404 Not Found - GET \S+?/((?:@[^/\s]+/)?[^/\s]+)\s"),
    re.compile(r"request to https?://\S+?/((?:@[^/\s]+/)?[^/\s]+) failed"),  # offline, unreachable registry
    re.compile(r"No matching version found for (\S+)"),
    re.compile(r"Could not resolve dependency:\s*\n?.*?(\S+@\S+)"),
    re.compile(r"ENOENT[^\n]*?open '([^']+package\.json)'"),
    re.compile(r"ENOENT[^\n]*?'([^']+)'"),
)


def failure_summary(tool: str, output: str, manifest: Manifest) -> str:
    """One line out of pip's or npm's error output: which package failed, and pip's or npm's words."""
    patterns = _PIP_PATTERNS if tool == "pip" else _NPM_PATTERNS
    for pattern in patterns:
        found = pattern.search(output)
        if found:
            what = found.group(1) if found.groups() else found.group(0)
            if tool == "npm":
                what = _npm_dependency(what, manifest)
            line = _line_of(output, found.start())
            return f"{tool} could not install {what} from {manifest.path}: {line}" if found.groups() else f"{tool} failed for {manifest.path}: {line}"
    errors = [ln.strip() for ln in output.splitlines() if re.match(r"\s*(ERROR|npm (ERR!|error))", ln)]
    detail = errors[0] if errors else (output.strip().splitlines() or ["(no output)"])[-1].strip()
    return f"{tool} failed for {manifest.path}: {detail}"


def _npm_dependency(what: str, manifest: Manifest) -> str:
    """`what` npm named (a package, or a path of a `file:` one) as package.json names it."""
    try:
        deps = json.loads(manifest.path.read_text()).get("dependencies") or {}
    except (OSError, ValueError, AttributeError):
        return what
    for name, spec in deps.items():
        if not isinstance(spec, str):
            continue
        if spec.startswith(("file:", "link:")):
            folder = str((manifest.path.parent / spec.partition(":")[2]).resolve())
            if what == folder or what.startswith(folder + os.sep):
                return f"{name} ({spec})"
        elif what.replace("%2f", "/").replace("%2F", "/") == name:
            return f"{name} ({spec})"
    return what


def _line_of(text: str, index: int) -> str:
    start = text.rfind("\n", 0, index) + 1
    end = text.find("\n", index)
    line = text[start:] if end < 0 else text[start:end]
    return re.sub(r"^\s*(ERROR:|npm (ERR!|error))\s*", "", line).strip()
