"""Dependencies for local runs (executor.dependencies): a requirements.txt or package.json in the
code folder is installed once per manifest contents into the state dir's cache, atomically and
under a lock, and the function imports from it as from its deployment package (`sam build` puts
the packages inside the code folder: right after the task root on the path)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from deps_support import needs_npm, offline_env, write_node_package, write_wheel

from lambdatui.executor import FunctionSpec
from lambdatui.executor.dependencies import (
    DEPENDENCY_LOG_STREAM,
    DependencyError,
    Manifest,
    add_listener,
    cache_path,
    failure_summary,
    manifest_for,
    prepare,
    status,
)
from lambdatui.executor.runtimes import UnsupportedRuntime, launch_for

PY = f"python{sys.version_info[0]}.{sys.version_info[1]}"
REPO = Path(__file__).resolve().parents[2]

HANDLER = """
import greeting
def handler(event, context):
    return {"word": greeting.WORD, "from": greeting.__file__}
"""


@pytest.fixture
def wheels(tmp_path, monkeypatch):
    folder = tmp_path / "wheels"
    write_wheel(folder, "greeting", "1.0", "WORD = 'hello'\n")
    write_wheel(folder, "greeting", "2.0", "WORD = 'bonjour'\n")
    for key, value in offline_env(folder).items():
        monkeypatch.setenv(key, value)
    return folder


@pytest.fixture
def installs():
    """The functions for which an install started in this process, in order."""
    seen: list[str] = []
    remove = add_listener(lambda function, message: seen.append(function) if "installing" in message else None)
    yield seen
    remove()


def python_function(make_function, requirements: str, **settings) -> FunctionSpec:
    spec = make_function(HANDLER, **settings)
    (spec.code_dir / "requirements.txt").write_text(requirements)
    return spec


def test_python_function_imports_its_requirement_on_first_invoke(make_function, executor_factory, wheels, tmp_path, installs):
    spec = python_function(make_function, "greeting==1.0\n", name="hello-world")
    ex = executor_factory(spec)
    result = ex.invoke("hello-world", b"{}")
    assert result.ok, result.payload
    body = json.loads(result.payload)
    assert body["word"] == "hello"
    # Imported from the cache under the state dir's cache folder, not from the code folder.
    assert body["from"].startswith(str(tmp_path / "cache" / "dependencies"))
    assert installs == ["hello-world"]
    # The install was said in the function's log, on its own stream.
    messages = [e.message for e in ex.logs.events("hello-world") if e.log_stream == DEPENDENCY_LOG_STREAM]
    assert messages[0] == "[lambdatui] installing 1 package for hello-world from requirements.txt…"
    assert messages[-1] == "[lambdatui] installed 1 package for hello-world"


def test_installed_once_and_reused_by_later_environments_and_processes(make_function, executor_factory, wheels, tmp_path, installs):
    spec = python_function(make_function, "greeting==1.0\n")
    first = prepare(spec, tmp_path / "cache")
    assert first is not None
    marker = os.stat(first / ".lambdatui-dependencies.json")
    ex = executor_factory(spec)
    assert ex.invoke(spec.name).ok
    ex.retire(spec.name)  # the next invoke starts a new environment: the cache is used as it is
    assert ex.invoke(spec.name).ok
    assert installs == [spec.name]
    again = os.stat(first / ".lambdatui-dependencies.json")
    assert (again.st_ino, again.st_mtime_ns) == (marker.st_ino, marker.st_mtime_ns)


def test_reinstalled_when_the_manifest_changes(make_function, executor_factory, wheels, tmp_path, installs):
    spec = python_function(make_function, "greeting==1.0\n")
    ex = executor_factory(spec)
    assert json.loads(ex.invoke(spec.name).payload)["word"] == "hello"
    old = cache_path(spec, manifest_for(spec), tmp_path / "cache")
    (spec.code_dir / "requirements.txt").write_text("greeting==2.0\n")
    ex.retire(spec.name)
    assert json.loads(ex.invoke(spec.name).payload)["word"] == "bonjour"
    new = cache_path(spec, manifest_for(spec), tmp_path / "cache")
    assert new != old and new.is_dir()
    assert installs == [spec.name, spec.name]


def test_cache_key_has_the_manifest_hash_runtime_and_architecture(make_function, wheels, tmp_path):
    spec = python_function(make_function, "greeting==1.0\n")
    base = cache_path(spec, manifest_for(spec), tmp_path)
    other_arch = FunctionSpec(name=spec.name, runtime=spec.runtime, handler=spec.handler, code=spec.code, architecture="arm64" if spec.architecture == "x86_64" else "x86_64")
    assert cache_path(other_arch, manifest_for(other_arch), tmp_path) != base
    other_runtime = FunctionSpec(name=spec.name, runtime="python3.9" if PY != "python3.9" else "python3.10", handler=spec.handler, code=spec.code)
    assert cache_path(other_runtime, manifest_for(other_runtime), tmp_path) != base
    assert spec.runtime in base.name and spec.architecture in base.name


def test_python_path_has_dependencies_after_the_code_and_before_layers(make_function, wheels, tmp_path):
    layer = tmp_path / "layer"
    (layer / "python").mkdir(parents=True)
    spec = python_function(make_function, "greeting==1.0\n", layers=(str(layer),))
    parts = launch_for(spec, tmp_path / "cache").env["PYTHONPATH"].split(os.pathsep)
    deps = str(cache_path(spec, manifest_for(spec), tmp_path / "cache"))
    assert parts[0] == str(spec.code_dir)
    assert parts[1] == deps
    assert parts.index(str(layer / "python")) > 1


def test_a_module_in_the_code_folder_wins_over_an_installed_one(make_function, executor_factory, wheels):
    spec = python_function(make_function, "greeting==1.0\n")
    (spec.code_dir / "greeting.py").write_text("WORD = 'own'\n")
    assert json.loads(executor_factory(spec).invoke(spec.name).payload)["word"] == "own"


def test_failing_requirement_is_one_line_naming_function_and_package_and_nothing_is_kept(make_function, executor_factory, wheels, tmp_path):
    spec = python_function(make_function, "greeting==1.0\nnosuchpackage-xyz==3\n", name="orders")
    ex = executor_factory(spec)
    with pytest.raises(UnsupportedRuntime) as raised:
        ex.invoke("orders")
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith("orders: pip could not install nosuchpackage-xyz")
    folder = tmp_path / "cache" / "dependencies"
    assert [p.name for p in folder.iterdir() if not p.name.endswith(".lock")] == []  # no half install
    logged = [e.message for e in ex.logs.events("orders") if e.log_stream == DEPENDENCY_LOG_STREAM]
    assert logged[-1] == f"[lambdatui] {message}"


def test_a_leftover_of_a_killed_install_is_never_used_and_is_cleared(make_function, executor_factory, wheels, tmp_path):
    spec = python_function(make_function, "greeting==1.0\n")
    final = cache_path(spec, manifest_for(spec), tmp_path / "cache")
    leftover = final.parent / f".{final.name}.tmpdead"
    (leftover / "greeting").mkdir(parents=True)
    (leftover / "greeting" / "__init__.py").write_text("WORD = 'half'\n")
    assert json.loads(executor_factory(spec).invoke(spec.name).payload)["word"] == "hello"
    assert not leftover.exists()


def test_two_processes_installing_at_once_make_one_install(make_function, wheels, tmp_path):
    spec = python_function(make_function, "greeting==1.0\n")
    script = textwrap.dedent(f"""
        import sys
        from pathlib import Path
        from lambdatui.executor import FunctionSpec
        from lambdatui.executor.dependencies import add_listener, prepare
        add_listener(lambda f, m: print(m, flush=True))
        spec = FunctionSpec(name={spec.name!r}, runtime={spec.runtime!r}, handler="app.handler", code={str(spec.code_dir)!r})
        print("DIR", prepare(spec, Path({str(tmp_path / 'cache')!r})))
    """)
    procs = [subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=dict(os.environ)) for _ in range(2)]
    outputs = [p.communicate(timeout=120)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs), outputs
    installing = sum(out.count("[lambdatui] installing") for out in outputs)
    assert installing == 1, outputs
    dirs = {line for out in outputs for line in out.splitlines() if line.startswith("DIR ")}
    assert len(dirs) == 1
    assert (Path(dirs.pop()[4:]) / "greeting" / "__init__.py").read_text() == "WORD = 'hello'\n"


def test_no_manifest_or_only_comments_means_nothing_to_install(make_function, tmp_path):
    spec = make_function(HANDLER)
    assert manifest_for(spec) is None and prepare(spec, tmp_path) is None and status(spec, tmp_path) is None
    (spec.code_dir / "requirements.txt").write_text("# nothing yet\n\n--index-url https://example.invalid/simple\n")
    assert manifest_for(spec) is None


def test_status_tells_installed_and_where(make_function, wheels, tmp_path):
    spec = python_function(make_function, "greeting==1.0\n")
    before = status(spec, tmp_path)
    assert before == {"manifest": str(spec.code_dir / "requirements.txt"), "installed": False, "cache": before["cache"]}
    prepare(spec, tmp_path)
    assert status(spec, tmp_path)["installed"] is True


@pytest.mark.parametrize(
    ("tool", "output", "expected"),
    [
        (
            "pip",
            "ERROR: Could not find a version that satisfies the requirement nosuch==1 (from versions: none)\n"
            "ERROR: No matching distribution found for nosuch==1\n",
            "pip could not install nosuch==1",
        ),
        ("pip", "ERROR: Invalid requirement: 'bad pkg'\n", "pip could not install bad pkg"),
        (
            "npm",
            "npm error code E404\nnpm error 404 Not Found - GET https://registry.npmjs.org/left-padx - Not found\n"
            "npm error 404  'left-padx@^1.0.0' is not in this registry.\n",
            "npm could not install left-padx (^1.0.0)",
        ),
        (
            "npm",
            "npm error code ENOTCACHED\nnpm error request to https://registry.npmjs.org/left-padx failed: cache mode is 'only-if-cached'\n",
            "npm could not install left-padx (^1.0.0)",
        ),
    ],
)
def test_failure_summary_names_the_failing_package(tmp_path, tool, output, expected):
    manifest_path = tmp_path / ("requirements.txt" if tool == "pip" else "package.json")
    manifest_path.write_text(json.dumps({"dependencies": {"left-padx": "^1.0.0"}}))
    summary = failure_summary(tool, output, Manifest(tool, manifest_path, None, "0", 1))
    assert summary.startswith(expected)
    assert "\n" not in summary


# -- Node.js ---------------------------------------------------------------------------------------

NODE_HANDLER = """
const greet = require("greet");
exports.handler = async () => ({ word: greet.word, from: require.resolve("greet") });
"""


def node_function(tmp_path: Path, dependencies: dict[str, str], name: str = "node-fn") -> FunctionSpec:
    code = tmp_path / name
    code.mkdir()
    (code / "index.js").write_text(NODE_HANDLER)
    (code / "package.json").write_text(json.dumps({"name": name, "version": "1.0.0", "dependencies": dependencies, "devDependencies": {"never-installed": "9.9.9"}}))
    return FunctionSpec(name=name, runtime="nodejs20.x", handler="index.handler", code=code)


@needs_npm
def test_node_function_requires_its_dependency_installed_from_package_json(executor_factory, wheels, tmp_path, installs):
    write_node_package(tmp_path / "greet", "greet", 'module.exports = { word: "hola" };\n')
    spec = node_function(tmp_path, {"greet": "file:../greet"})
    ex = executor_factory(spec)
    result = ex.invoke(spec.name)
    assert result.ok, result.payload
    body = json.loads(result.payload)
    assert body["word"] == "hola"
    assert body["from"].startswith(str(tmp_path / "cache" / "dependencies"))  # a copy, not a link to the folder
    env = launch_for(spec, tmp_path / "cache").env
    assert env["NODE_PATH"].split(os.pathsep)[0].endswith("node_modules")
    ex.retire(spec.name)
    assert ex.invoke(spec.name).ok
    assert installs == [spec.name]


@needs_npm
def test_node_missing_dependency_is_one_line_naming_it(executor_factory, wheels, tmp_path):
    spec = node_function(tmp_path, {"greet": "file:../nowhere"}, name="node-bad")
    with pytest.raises(UnsupportedRuntime) as raised:
        executor_factory(spec).invoke(spec.name)
    message = str(raised.value)
    assert message.startswith("node-bad: npm could not install greet (file:../nowhere)"), message
    assert "\n" not in message


def test_dependency_error_is_its_own_type(make_function, wheels, tmp_path):
    spec = python_function(make_function, "nosuchpackage-xyz\n")
    with pytest.raises(DependencyError, match="nosuchpackage-xyz"):
        prepare(spec, tmp_path)
