"""How each Lambda runtime starts an execution environment on this machine.

`launch_for(spec)` returns the command line and the runtime-specific environment variables for a
new environment process. Every runtime talks to the executor through the Runtime API, so adding a
runtime means adding a launcher here and nothing else.
"""

from __future__ import annotations

import glob
import importlib.util
import os
import re
import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from ...model import IMAGE_NOT_RUN, IMAGE_RUNTIME
from ..dependencies import DependencyError, prepare, search_dirs
from ..spec import FunctionSpec

RUNTIME_DIR = Path(__file__).resolve().parent
PYTHON_BOOTSTRAP = RUNTIME_DIR / "python_bootstrap.py"
# The Python runtime is imported, not run as a script: a `__main__` script is compiled on every start
# (~12 ms of a ~20 ms cold start), an imported module's bytecode is cached. With PYTHONPYCACHEPREFIX
# set (see launch_for) the cache is in lambdatui's cache folder, so this works from a read-only
# installation too. Its folder is on sys.path only while it is imported.
PYTHON_LAUNCH = "import sys;sys.path.insert(0,%r);import python_bootstrap as b;del sys.path[0];b.main()" % str(RUNTIME_DIR)
# Lambda hands its runtimes a descriptor for framed log messages (one event each, newlines and all);
# ours is the runtime's own stdout, so that frames and printed lines keep their order (executor.output).
TELEMETRY_LOG_FD = {"_LAMBDA_TELEMETRY_LOG_FD": "1"}

# Lambda's Python runtimes ship the AWS SDK; these are the packages boto3 needs to import.
SDK_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six")

KNOWN_RUNTIMES = (
    "python3.9", "python3.10", "python3.11", "python3.12", "python3.13", "python3.14",
    "nodejs18.x", "nodejs20.x", "nodejs22.x",
    "provided.al2", "provided.al2023",
    "java11", "java17", "java21", "dotnet8", "ruby3.2", "ruby3.3", "ruby3.4",
)


class UnsupportedRuntime(Exception):
    pass


@dataclass
class Launch:
    argv: list[str]
    env: dict[str, str]
    warnings: list[str] = field(default_factory=list)


@cache
def find_python(version: str) -> tuple[str, str | None]:
    """The interpreter for `pythonX.Y`: (path, warning when we fall back to our own interpreter)."""
    if f"{sys.version_info[0]}.{sys.version_info[1]}" == version:
        return sys.executable, None
    name = f"python{version}"
    found = shutil.which(name)
    if found and f"{os.sep}shims{os.sep}" in found:
        # A pyenv shim is a shell script costing ~50 ms per start: use the interpreter behind it.
        root = os.environ.get("PYENV_ROOT") or str(Path(found).parent.parent)
        installed = sorted(glob.glob(os.path.join(root, "versions", f"{version}*", "bin", name)), key=_version_key)
        found = installed[-1] if installed else None
    if found and os.access(found, os.X_OK):
        return found, None
    here = f"{sys.version_info[0]}.{sys.version_info[1]}.{sys.version_info[2]}"
    return sys.executable, (
        f"{name} was not found on this machine; running under Python {here} ({sys.executable}) instead, "
        f"so behaviour specific to {name} may differ on Lambda"
    )


def _version_key(path: str) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", Path(path).parent.parent.name))


def sdk_site_dir(cache_dir: Path) -> Path:
    """A folder exposing only the AWS SDK from our own environment, as Lambda's runtime provides it.

    Functions run without the host's site-packages, so a handler that imports a package it did not
    bundle fails here as it would on Lambda, while `import boto3` works as it does there.
    """
    target = cache_dir / "sdk-site"
    target.mkdir(parents=True, exist_ok=True)
    for package in SDK_PACKAGES:
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.origin:
            continue
        origin = Path(spec.origin)
        source = origin.parent if origin.name == "__init__.py" else origin
        link = target / source.name
        if link.is_symlink() and os.readlink(link) == str(source):
            continue
        tmp = target / f".{source.name}.{os.getpid()}"
        try:
            tmp.unlink(missing_ok=True)
            tmp.symlink_to(source)
            os.replace(tmp, link)
        except OSError:
            tmp.unlink(missing_ok=True)
    return target


def bytecode_dir(cache_dir: Path) -> Path:
    return cache_dir / "pycache"


def clear_bytecode(spec: FunctionSpec, cache_dir: Path) -> None:
    """Forget compiled bytecode of a function's code and layers.

    Python trusts a .pyc whose recorded source mtime (whole seconds) and size match, so an edit
    within the same second that keeps the size would otherwise run the old code.
    """
    for root in (spec.code_dir, *spec.layer_dirs):
        shutil.rmtree(bytecode_dir(cache_dir) / Path(root).resolve().relative_to("/"), ignore_errors=True)


def python_path(spec: FunctionSpec, version: str, sdk_site: Path | None, dependencies: Sequence[Path] = ()) -> str:
    # Lambda's order: the task root, then each layer's python/lib/pythonX.Y/site-packages and python/,
    # then the runtime (whose SDK comes last, so a bundled boto3 wins over the runtime's). Installed
    # dependencies come right after the task root: `sam build` puts them inside it.
    parts = [str(spec.code_dir), *(str(d) for d in dependencies)]
    for layer in spec.layer_dirs:
        parts += [str(layer / "python" / "lib" / f"python{version}" / "site-packages"), str(layer / "python")]
    if sdk_site is not None:
        parts.append(str(sdk_site))
    return os.pathsep.join(parts)


def _dependencies(spec: FunctionSpec, cache_dir: Path) -> list[Path]:
    """The folders of the function's installed requirements.txt / package.json dependencies,
    installed now if they are not yet (executor.dependencies)."""
    try:
        folder = prepare(spec, cache_dir)
    except DependencyError as e:
        raise UnsupportedRuntime(str(e)) from None
    return search_dirs(spec, folder) if folder is not None else []


def launch_for(spec: FunctionSpec, cache_dir: Path) -> Launch:
    runtime = spec.runtime
    if runtime.startswith("python"):
        version = runtime[len("python"):]
        interpreter, warning = find_python(version)
        env = {
            "PYTHONPATH": python_path(spec, version, sdk_site_dir(cache_dir), _dependencies(spec, cache_dir)),
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{runtime}",
            # The function's bytecode goes to our cache, not the user's code folder (Lambda's /var/task
            # is read-only), which also lets clear_bytecode() drop it when the code changes.
            "PYTHONPYCACHEPREFIX": str(bytecode_dir(cache_dir)),
            # Only the function's: the bootstrap keeps the prefix for these folders, and the runtime's
            # own modules (standard library, SDK) use their installation's __pycache__, compiled once
            # for every environment and cache folder rather than once per cache folder (boto3: ~1 s).
            "_LAMBDATUI_CODE_ROOTS": os.pathsep.join(str(root) for root in (spec.code_dir, *spec.layers)),
            **TELEMETRY_LOG_FD,
        }
        # -S: no site-packages of the host, only what Lambda would have (see sdk_site_dir).
        return Launch([interpreter, "-S", "-c", PYTHON_LAUNCH], env, [warning] if warning else [])
    if runtime.startswith("nodejs"):
        major = runtime[len("nodejs"):].split(".")[0]
        node, warning = find_node(major)
        env = {
            "NODE_PATH": node_path(spec, major, _dependencies(spec, cache_dir)),
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{runtime}",
            **TELEMETRY_LOG_FD,
        }
        return Launch([node, str(NODE_BOOTSTRAP)], env, [warning] if warning else [])
    if runtime.startswith("provided"):
        # A custom runtime: Lambda runs the function's `bootstrap` (or a layer's), and AWS_EXECUTION_ENV is unset.
        return Launch([str(custom_bootstrap(spec))], {})
    if runtime in KNOWN_RUNTIMES:
        raise UnsupportedRuntime(missing_toolchain(runtime))
    if runtime == IMAGE_RUNTIME:  # a template's `PackageType: Image` function
        raise UnsupportedRuntime(f"{spec.name} is a container image (PackageType: Image): {IMAGE_NOT_RUN}")
    raise UnsupportedRuntime(f"unknown runtime {runtime!r}")


NODE_BOOTSTRAP = RUNTIME_DIR / "node_bootstrap.cjs"


@cache
def _node_version(node: str) -> str:
    import subprocess

    try:
        return subprocess.run([node, "--version"], capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def find_node(major: str) -> tuple[str, str | None]:
    """Node.js from PATH, and a warning when its major version is not the runtime's."""
    node = shutil.which("node")
    if node is None:
        raise UnsupportedRuntime(f"nodejs{major}.x needs Node.js on PATH: `node` was not found (install Node.js {major})")
    version = _node_version(node)
    found = version.lstrip("v").split(".")[0]
    if found != major:
        return node, (
            f"nodejs{major}.x runs under Node.js {version or '(unknown version)'} ({node}), not {major}: "
            "behaviour specific to that version may differ on Lambda"
        )
    return node, None


def node_path(spec: FunctionSpec, major: str, dependencies: Sequence[Path] = ()) -> str:
    # Lambda's NODE_PATH: each layer's nodejs/nodeNN/node_modules and nodejs/node_modules, then the task root.
    # Installed dependencies first: on Lambda they are the task root's node_modules, which `require`
    # finds (walking up from the handler) before any NODE_PATH folder.
    parts: list[str] = [str(d) for d in dependencies]
    for layer in spec.layer_dirs:
        parts += [str(layer / "nodejs" / f"node{major}" / "node_modules"), str(layer / "nodejs" / "node_modules")]
    parts.append(str(spec.code_dir))
    return os.pathsep.join(parts)


def custom_bootstrap(spec: FunctionSpec) -> Path:
    """The function's `bootstrap`, else the first layer's, as Lambda looks in /var/task then /opt."""
    for folder in (spec.code_dir, *spec.layer_dirs):
        candidate = Path(folder) / "bootstrap"
        if candidate.exists():
            return candidate
    return Path(spec.code_dir) / "bootstrap"


def spawn_error_message(spec: FunctionSpec, error: OSError) -> str:
    """What Lambda says when the entry point cannot run (Runtime.InvalidEntrypoint)."""
    if spec.runtime.startswith("provided"):
        if isinstance(error, FileNotFoundError):
            places = " ".join(str(Path(p) / "bootstrap") for p in (spec.code_dir, *spec.layer_dirs))
            return f"Couldn't find valid bootstrap(s): [{places}]"
        if isinstance(error, PermissionError):
            return f"fork/exec {custom_bootstrap(spec)}: permission denied"
    return f"could not start the runtime: {error}"


_TOOLCHAINS = {"java": ("java", "Java"), "dotnet": ("dotnet", ".NET"), "ruby": ("ruby", "Ruby")}


def missing_toolchain(runtime: str) -> str:
    family = re.sub(r"[\d.]+$", "", runtime)
    command, label = _TOOLCHAINS.get(family, (family, family))
    version = runtime[len(family):]
    where = shutil.which(command)
    found = f"`{command}` is at {where}, but" if where else f"`{command}` was not found, and"
    return (
        f"{runtime} needs {label} {version} and AWS's runtime interface client for it: {found} lambdatui "
        f"bundles no {label} runtime client. Python, Node.js and custom (provided.*) runtimes run locally; "
        f"a {label} function can run as a custom runtime with its own bootstrap."
    )
