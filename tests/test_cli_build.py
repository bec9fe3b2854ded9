"""`lambdatui build [NAME…]` and dependencies seen from the command line, as real subprocesses:
progress on stderr, one line per function on stdout, failures as one line naming the function and
the package with exit 1, `list --json`'s `dependencies`, and a SAM template's function by logical id.
Installs use local wheels only (deps_support)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from deps_support import offline_env, write_wheel

PY = f"python{sys.version_info.major}.{sys.version_info.minor}"
HANDLER = """
import greeting
def handler(event, context):
    return {"word": greeting.WORD}
"""


@pytest.fixture
def project(tmp_path):
    """Two functions with requirements (a and b) and one without (plain), in tmp_path/project."""
    root = tmp_path / "project"
    for name, requirements in (("a", "greeting==1.0\n"), ("b", "greeting==2.0\n"), ("plain", None)):
        code = root / name
        code.mkdir(parents=True)
        (code / "app.py").write_text(textwrap.dedent(HANDLER if requirements else "def handler(e, c):\n    return 1\n"))
        if requirements:
            (code / "requirements.txt").write_text(requirements)
    lines = ["backend: local", "local:", "  functions:"]
    for name in ("a", "b", "plain"):
        lines += [f"    {name}:", f"      runtime: {PY}", "      handler: app.handler", f"      code: ./{name}"]
    (root / "lambdatui.yaml").write_text("\n".join(lines) + "\n")
    return root


@pytest.fixture
def run(tmp_path, project):
    wheels = tmp_path / "wheels"
    write_wheel(wheels, "greeting", "1.0", "WORD = 'hello'\n")
    write_wheel(wheels, "greeting", "2.0", "WORD = 'bonjour'\n")
    env = {k: v for k, v in os.environ.items() if k != "LAMBDATUI_CONFIG"}
    env.update(offline_env(wheels), LAMBDATUI_STATE_DIR=str(tmp_path / "state"))

    def run(*args: str, cwd: Path = project) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "lambdatui", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=180)

    return run


def rows(stdout: str) -> dict[str, str]:
    return {line.split("  ")[0]: line for line in stdout.splitlines()}


def test_build_installs_every_function_then_says_up_to_date(run, tmp_path):
    first = run("build")
    assert first.returncode == 0, first.stderr
    out = rows(first.stdout)
    assert out["a"].startswith("a  installed  a/requirements.txt -> ") and out["b"].startswith("b  installed  ")
    assert out["plain"] == "plain  no dependencies"
    assert "[lambdatui] installing 1 package for a from requirements.txt…" in first.stderr
    cache = tmp_path / "state" / "cache" / "dependencies"
    assert len([p for p in cache.iterdir() if p.is_dir()]) == 2
    second = run("build")
    assert second.returncode == 0
    assert rows(second.stdout)["a"].startswith("a  up to date  ")
    assert "installing" not in second.stderr
    # An invoke after the build installs nothing and imports the package.
    invoked = run("invoke", "b", "--json")
    assert invoked.returncode == 0, invoked.stderr
    assert json.loads(invoked.stdout)["payload"] == {"word": "bonjour"}
    assert "installing" not in invoked.stderr


def test_build_named_functions_only(run, tmp_path):
    done = run("build", "b")
    assert done.returncode == 0, done.stderr
    assert list(rows(done.stdout)) == ["b"]
    status = {row["name"]: row["dependencies"] for row in json.loads(run("list", "--json").stdout)}
    assert status["b"]["installed"] is True and status["a"]["installed"] is False
    assert status["plain"] is None
    assert status["a"]["manifest"].endswith("a/requirements.txt")


def test_build_unknown_name_exits_2_naming_it(run):
    done = run("build", "a", "nope")
    assert done.returncode == 2
    assert done.stderr.strip() == "lambdatui: no local function named nope (functions: a, b, plain)"


def test_build_force_installs_again(run):
    run("build", "a")
    again = run("build", "a", "--force")
    assert again.returncode == 0
    assert rows(again.stdout)["a"].startswith("a  installed  ")
    assert "[lambdatui] installing" in again.stderr


def test_first_invoke_installs_with_progress_on_stderr_and_the_second_does_not(run):
    first = run("invoke", "a")
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith('{\n  "word": "hello"\n}')
    assert first.stderr.splitlines()[:2] == [
        "[lambdatui] installing 1 package for a from requirements.txt…",
        "[lambdatui] installed 1 package for a",
    ]
    second = run("invoke", "a")
    assert second.returncode == 0 and "[lambdatui]" not in second.stderr


def test_failing_requirement_is_one_line_naming_function_and_package_exit_1(run, project):
    (project / "a" / "requirements.txt").write_text("greeting==1.0\nnosuchpackage-xyz>=1\n")
    for args in (("invoke", "a"), ("build",)):
        done = run(*args)
        assert done.returncode == 1, done.stdout
        assert "Traceback" not in done.stderr
        errors = [line for line in done.stderr.splitlines() if not line.startswith("[lambdatui]")]
        assert len(errors) == 1, done.stderr
        assert errors[0].startswith("lambdatui: a: pip could not install nosuchpackage-xyz>=1 from "), errors[0]
    # `build` went on with the others.
    assert rows(done.stdout)["b"].startswith("b  installed")


SAM_TEMPLATE = f"""\
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Resources:
  HelloWorldFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: hello_world/
      Handler: app.handler
      Runtime: {PY}
"""


def test_template_function_gets_its_requirements_installed(run, tmp_path):
    root = tmp_path / "sam-app"
    (root / "hello_world").mkdir(parents=True)
    (root / "hello_world" / "app.py").write_text(textwrap.dedent(HANDLER))
    (root / "hello_world" / "requirements.txt").write_text("greeting==2.0\n")
    (root / "template.yaml").write_text(SAM_TEMPLATE)
    built = run("build", "HelloWorldFunction", cwd=root)
    assert built.returncode == 0, built.stderr
    assert rows(built.stdout)["HelloWorldFunction"].startswith("HelloWorldFunction  installed  hello_world/requirements.txt")
    invoked = run("invoke", "HelloWorldFunction", cwd=root)
    assert invoked.returncode == 0, invoked.stderr
    assert '"word": "bonjour"' in invoked.stdout and "installing" not in invoked.stderr
