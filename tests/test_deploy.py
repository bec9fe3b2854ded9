"""`lambdatui deploy`: deterministic packages, plans, and create/update against moto on 127.0.0.1."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import textwrap
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest

from lambdatui.backends.aws import AwsBackend
from lambdatui.config import load_config, parse_config
from lambdatui.deploy import package as package_mod
from lambdatui.deploy.package import PackageError, build_package
from lambdatui.deploy.plan import DeployError, apply_plan, make_plan

REPO = Path(__file__).resolve().parent.parent

APP = """\
def handler(event, context):
    return {"ok": True}
"""


def write_project(tmp_path: Path, functions: str, *, aws: str = "") -> Path:
    """A config file with `functions` (YAML under local.functions) and code folders fn/ and lib/."""
    code = tmp_path / "fn"
    code.mkdir(exist_ok=True)
    (code / "app.py").write_text(APP)
    cfg = tmp_path / "lambdatui.yaml"
    cfg.write_text(
        "backend: local\n"
        + (f"aws: {aws}\n" if aws else "")
        + "local:\n  functions:\n"
        + textwrap.indent(textwrap.dedent(functions), "    ")
    )
    return cfg


def backend_for(aws_env, role: str | None = None, read_only: bool = False) -> AwsBackend:
    extra = f", role: '{role}'" if role else ""
    extra += ", read_only: true" if read_only else ""
    return AwsBackend(parse_config(f"backend: aws\naws: {{region: us-east-1, endpoint_url: '{aws_env.endpoint}'{extra}}}\n"))


def count_calls(backend: AwsBackend, operation: str) -> list:
    calls: list = []
    backend.lambda_client.meta.events.register(f"before-call.lambda.{operation}", lambda **kw: calls.append(kw))
    return calls


def deploy(backend, config, name):
    function = config.local.functions[name]
    plan = make_plan(backend, function, config)
    result = apply_plan(backend, plan, function, config) if plan.action != "unchanged" else None
    return plan, result


BASIC = """\
hello:
  code: fn
  handler: app.handler
  runtime: python3.12
  memory_size: 256
  timeout: 10
  architecture: arm64
  description: says hello
  environment:
    GREETING: hi
    API_TOKEN: s3cr3t-value
"""


# -- packaging ------------------------------------------------------------------------------------


def test_package_is_deterministic(tmp_path):
    config = load_config(write_project(tmp_path, BASIC))
    fn = config.local.functions["hello"]
    (tmp_path / "fn" / "sub").mkdir()
    (tmp_path / "fn" / "sub" / "data.txt").write_text("data")
    bootstrap = tmp_path / "fn" / "bootstrap"
    bootstrap.write_text("#!/bin/sh\n")
    first = build_package(fn)
    second = build_package(fn)
    assert first.zip_bytes == second.zip_bytes and first.sha256_b64 == second.sha256_b64
    for path in (tmp_path / "fn").rglob("*"):
        os.utime(path, (1_000_000_000, 1_000_000_000))
    third = build_package(fn)
    assert third.sha256_b64 == first.sha256_b64
    z = zipfile.ZipFile(io.BytesIO(first.zip_bytes))
    names = z.namelist()
    assert names == sorted(names) == first.files == ["app.py", "bootstrap", "sub/data.txt"]
    for info in z.infolist():
        assert info.date_time == (1980, 1, 1, 0, 0, 0)
        mode = (info.external_attr >> 16) & 0o777
        assert mode == (0o755 if info.filename == "bootstrap" else 0o644)
    assert first.unzipped_size == len(APP) + len("data") + len("#!/bin/sh\n")


def test_lambdaignore_and_caches_are_left_out(tmp_path):
    config = load_config(write_project(tmp_path, BASIC))
    code = tmp_path / "fn"
    (code / ".lambdaignore").write_text("tests/\n*.log\n!keep.log\n")
    (code / "tests").mkdir()
    (code / "tests" / "test_app.py").write_text("")
    (code / "debug.log").write_text("x")
    (code / "keep.log").write_text("x")
    (code / "__pycache__").mkdir()
    (code / "__pycache__" / "app.cpython-312.pyc").write_bytes(b"x")
    (code / "stray.pyc").write_bytes(b"x")
    (code / ".git").mkdir()
    (code / ".git" / "HEAD").write_text("ref")
    (code / ".venv" / "lib").mkdir(parents=True)
    (code / ".venv" / "lib" / "x.py").write_text("")
    (code / ".DS_Store").write_bytes(b"x")
    files = build_package(config.local.functions["hello"]).files
    assert files == ["app.py", "keep.log"]


def test_layers_python_contents_are_bundled_at_the_root(tmp_path):
    layer = tmp_path / "layer"
    (layer / "python" / "shared").mkdir(parents=True)
    (layer / "python" / "shared" / "__init__.py").write_text("X = 1\n")
    (layer / "python" / "helpers.py").write_text("Y = 2\n")
    (layer / "README.md").write_text("not bundled")
    config = load_config(write_project(tmp_path, BASIC + "  layers: [layer]\n"))
    files = build_package(config.local.functions["hello"]).files
    assert files == ["app.py", "helpers.py", "shared/__init__.py"]
    assert not any(f.startswith("python/") for f in files)


def test_package_over_the_limits_is_refused_before_any_upload(tmp_path, aws_env, monkeypatch):
    config = load_config(write_project(tmp_path, BASIC))
    (tmp_path / "fn" / "big.bin").write_bytes(os.urandom(4096))  # random: does not compress
    fn = config.local.functions["hello"]
    monkeypatch.setattr(package_mod, "MAX_ZIPPED_BYTES", 1024)
    with pytest.raises(PackageError, match="over Lambda's 1.0 KB limit for a direct upload"):
        build_package(fn)
    monkeypatch.setattr(package_mod, "MAX_ZIPPED_BYTES", 50 * 1024 * 1024)
    monkeypatch.setattr(package_mod, "MAX_UNZIPPED_BYTES", 2048)
    with pytest.raises(PackageError, match="unzipped, over Lambda's 2.0 KB limit"):
        build_package(fn)
    backend = backend_for(aws_env, aws_env.role_arn())
    creates = count_calls(backend, "CreateFunction")
    with pytest.raises(DeployError) as info:
        make_plan(backend, fn, config)
    assert isinstance(info.value, PackageError)  # make_plan's packaging errors are both
    assert creates == []
    assert aws_env.client("lambda").list_functions()["Functions"] == []


# -- plan and apply against moto ------------------------------------------------------------------


def test_create_then_unchanged_then_config_only_then_code(tmp_path, aws_env):
    cfg = write_project(tmp_path, BASIC)
    config = load_config(cfg)
    backend = backend_for(aws_env, aws_env.role_arn())
    code_calls = count_calls(backend, "UpdateFunctionCode")
    config_calls = count_calls(backend, "UpdateFunctionConfiguration")
    create_calls = count_calls(backend, "CreateFunction")

    plan, result = deploy(backend, config, "hello")
    assert plan.action == "create" and plan.code_changed and plan.problems == []
    assert len(create_calls) == 1
    c = aws_env.client("lambda").get_function_configuration(FunctionName="hello")
    assert c["MemorySize"] == 256 and c["Timeout"] == 10 and c["Handler"] == "app.handler"
    assert c["Runtime"] == "python3.12" and c["Architectures"] == ["arm64"]
    assert c["Environment"]["Variables"] == {"GREETING": "hi", "API_TOKEN": "s3cr3t-value"}
    assert c["Description"] == "says hello" and c["Role"] == aws_env.role_arn()
    assert c["CodeSha256"] == plan.package.sha256_b64 == result["CodeSha256"]

    # Unchanged: nothing uploaded, nothing updated.
    plan, result = deploy(backend, load_config(cfg), "hello")
    assert plan.action == "unchanged" and not plan.code_changed and plan.changes == []
    assert "unchanged" in plan.render()
    assert apply_plan(backend, plan, config.local.functions["hello"], config)["CodeSha256"] == c["CodeSha256"]
    assert code_calls == [] and config_calls == []

    # Configuration only.
    cfg.write_text(cfg.read_text().replace("memory_size: 256", "memory_size: 512"))
    plan, result = deploy(backend, load_config(cfg), "hello")
    assert plan.action == "update" and not plan.code_changed
    assert [(ch.field, ch.old, ch.new) for ch in plan.changes] == [("memory_size", "256", "512")]
    assert code_calls == [] and len(config_calls) == 1
    assert result["MemorySize"] == 512 and result["CodeSha256"] == c["CodeSha256"]

    # Code only.
    (tmp_path / "fn" / "app.py").write_text(APP + "\n# changed\n")
    plan, result = deploy(backend, load_config(cfg), "hello")
    assert plan.action == "update" and plan.code_changed and plan.changes == []
    assert len(code_calls) == 1 and len(config_calls) == 1
    assert code_calls[0]["params"]["body"]  # the zip was sent
    assert result["CodeSha256"] == plan.package.sha256_b64 != c["CodeSha256"]


def test_role_missing_refuses_create(tmp_path, aws_env):
    config = load_config(write_project(tmp_path, BASIC))
    backend = backend_for(aws_env)  # no aws.role, no role: on the function
    plan = make_plan(backend, config.local.functions["hello"], config)
    assert plan.action == "create" and plan.role is None
    assert len(plan.problems) == 1
    assert "add `role:" in plan.problems[0] and "aws.role" in plan.problems[0]
    assert "refused" in plan.render()
    with pytest.raises(DeployError, match="role"):
        apply_plan(backend, plan, config.local.functions["hello"], config)
    assert aws_env.client("lambda").list_functions()["Functions"] == []


def test_function_role_key_is_used(tmp_path, aws_env):
    role = aws_env.role_arn()
    config = load_config(write_project(tmp_path, BASIC + f"  role: {role}\n"))
    backend = backend_for(aws_env)
    plan, result = deploy(backend, config, "hello")
    assert plan.role == role and result["Role"] == role


def test_environment_over_4kb_is_refused(tmp_path, aws_env):
    config = load_config(write_project(tmp_path, BASIC))
    # The loader refuses this too; the plan checks on its own.
    fn = replace(config.local.functions["hello"], environment={"BIG": "x" * 5000})
    backend = backend_for(aws_env, aws_env.role_arn())
    plan = make_plan(backend, fn, config)
    assert any("4 KB" in p for p in plan.problems)
    with pytest.raises(DeployError, match="4 KB"):
        apply_plan(backend, plan, fn, config)
    assert aws_env.client("lambda").list_functions()["Functions"] == []


def test_read_only_refuses(tmp_path, aws_env):
    config = load_config(write_project(tmp_path, BASIC))
    backend = backend_for(aws_env, aws_env.role_arn(), read_only=True)
    fn = config.local.functions["hello"]
    plan = make_plan(backend, fn, config)
    with pytest.raises(DeployError, match="read_only"):
        apply_plan(backend, plan, fn, config)
    assert aws_env.client("lambda").list_functions()["Functions"] == []


def test_plan_masks_secret_environment_values(tmp_path, aws_env):
    config = load_config(write_project(tmp_path, BASIC))
    backend = backend_for(aws_env, aws_env.role_arn())
    plan = make_plan(backend, config.local.functions["hello"], config)
    text = plan.render()
    assert "s3cr3t-value" not in text and "environment.API_TOKEN: ••••••••" in text
    assert "environment.GREETING: hi" in text


# -- the command line ----------------------------------------------------------------------------


def run_cli(aws_env, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.pop("AWS_PROFILE", None)
    return subprocess.run(
        [sys.executable, "-m", "lambdatui", "deploy", *args, "--endpoint-url", aws_env.endpoint, "--region", "us-east-1"],
        capture_output=True, text=True, cwd=REPO, env=env, timeout=120,
    )


def test_cli_dry_run_prints_the_plan_and_changes_nothing(tmp_path, aws_env):
    cfg = write_project(tmp_path, BASIC, aws=f"{{role: '{aws_env.role_arn()}'}}")
    r = run_cli(aws_env, "hello", "--config", str(cfg), "--dry-run")
    assert r.returncode == 0, r.stderr
    assert "hello: create" in r.stdout and "memory_size: 256" in r.stdout
    assert "s3cr3t-value" not in r.stdout and "••••••••" in r.stdout
    assert aws_env.client("lambda").list_functions()["Functions"] == []


def test_cli_deploy_applies_and_all(tmp_path, aws_env):
    functions = BASIC + "other:\n  code: fn\n  handler: app.handler\n"
    cfg = write_project(tmp_path, functions, aws=f"{{role: '{aws_env.role_arn()}'}}")
    r = run_cli(aws_env, "hello", "--config", str(cfg))
    assert r.returncode == 0, r.stderr
    assert "Created hello" in r.stdout
    names = {f["FunctionName"] for f in aws_env.client("lambda").list_functions()["Functions"]}
    assert names == {"hello"}
    r = run_cli(aws_env, "--all", "--config", str(cfg))
    assert r.returncode == 0, r.stderr
    assert "hello: unchanged" in r.stdout and "Created other" in r.stdout
    names = {f["FunctionName"] for f in aws_env.client("lambda").list_functions()["Functions"]}
    assert names == {"hello", "other"}


def test_cli_refusals(tmp_path, aws_env):
    cfg = write_project(tmp_path, BASIC)  # no role anywhere
    r = run_cli(aws_env, "hello", "--config", str(cfg))
    assert r.returncode == 1 and "aws.role" in r.stderr
    r = run_cli(aws_env, "nope", "--config", str(cfg))
    assert r.returncode == 2 and "no function 'nope'" in r.stderr
    r = run_cli(aws_env, "--config", str(cfg))
    assert r.returncode == 2 and "--all" in r.stderr
    ro = write_project(tmp_path, BASIC, aws=f"{{role: '{aws_env.role_arn()}', read_only: true}}")
    r = run_cli(aws_env, "hello", "--config", str(ro))
    assert r.returncode == 1 and "read_only" in r.stderr
    assert aws_env.client("lambda").list_functions()["Functions"] == []


# -- dependencies ----------------------------------------------------------------------------------


def test_requirements_are_installed_into_the_zip(tmp_path, monkeypatch):
    # From a local wheel (pip reads PIP_FIND_LINKS from the environment): no package index needed.
    from deps_support import write_wheel

    write_wheel(tmp_path / "wheels", "six", "1.16.0", "X = 1\n", module=True)
    monkeypatch.setenv("PIP_FIND_LINKS", str(tmp_path / "wheels"))
    config = load_config(write_project(tmp_path, BASIC))
    (tmp_path / "fn" / "requirements.txt").write_text("six==1.16.0\n")
    package = build_package(config.local.functions["hello"], work_dir=tmp_path / "work")
    assert "six.py" in package.files and "app.py" in package.files
    assert not any(f.endswith(".pyc") or "__pycache__" in f for f in package.files)
    again = build_package(config.local.functions["hello"], work_dir=tmp_path / "work")
    assert again.sha256_b64 == package.sha256_b64


def test_requirements_failure_is_one_line(tmp_path):
    config = load_config(write_project(tmp_path, BASIC))
    (tmp_path / "fn" / "requirements.txt").write_text("this is not a requirement ===\n")
    with pytest.raises(PackageError) as info:
        build_package(config.local.functions["hello"], work_dir=tmp_path / "work")
    message = str(info.value)
    assert "\n" not in message and "requirements.txt" in message and "installing the dependencies failed" in message
