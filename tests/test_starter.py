"""`lambdatui init`, `lambdatui new` and the user's copy of the sample: run as a user runs them (a
real `lambdatui` process in a fresh folder), then invoked through the real executor."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from lambdatui.assets import user_sample_config
from lambdatui.config import load_config
from lambdatui.config_writer import add_function_to_file
from lambdatui.yaml_nodes import ConfigError

PACKAGE_SAMPLE = Path(__file__).resolve().parent.parent / "lambdatui" / "sample"


@pytest.fixture
def cli(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "LAMBDATUI_CONFIG"}

    def run(*args: str, cwd: Path = tmp_path) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "lambdatui", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)

    return run


def test_init_writes_a_project_whose_functions_run(cli, tmp_path):
    r = cli("init", "demo")
    assert r.returncode == 0, r.stderr
    demo = tmp_path / "demo"
    for rel in ("lambdatui.yaml", ".gitignore", "functions/hello-world/app.py", "functions/hello-node/index.mjs",
                "events/hello-world/hello.json", "events/hello-node/hello.json"):
        assert (demo / rel).is_file(), rel
    text = (demo / "lambdatui.yaml").read_text()
    for key in ("backend:", "profile:", "region:", "endpoint_url:", "read_only:", "account_id:", "keep_warm_seconds:",
                "runtime:", "handler:", "code:", "memory_size:", "timeout:", "architecture:", "environment:",
                "reserved_concurrency:", "provisioned_concurrency:"):
        line = next(line for line in text.splitlines() if line.strip().startswith(key))
        assert "#" in line, f"{key} has no comment explaining it"
    r = cli("invoke", "hello-world", "--json", cwd=demo)
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout)
    assert result["status_code"] == 200 and "Hello, world!" in json.loads(result["payload"]["body"])["message"]
    if shutil.which("node"):
        r = cli("invoke", "hello-node", "--event", "events/hello-node/hello.json", "--json", cwd=demo)
        assert r.returncode == 0, r.stderr
        assert "Hello, hello node!" in json.loads(r.stdout)["payload"]["body"]


def test_init_refuses_to_overwrite_naming_the_files_unless_forced(cli, tmp_path):
    demo = tmp_path / "demo"
    demo.mkdir()
    (demo / "lambdatui.yaml").write_text("# mine\n")
    r = cli("init", str(demo))
    assert r.returncode == 2 and "lambdatui.yaml" in r.stderr and "--force" in r.stderr
    assert "Traceback" not in r.stderr
    assert (demo / "lambdatui.yaml").read_text() == "# mine\n"
    assert not (demo / "functions").exists()  # nothing half-written
    r = cli("init", str(demo), "--force")
    assert r.returncode == 0, r.stderr
    assert "hello-world" in load_config(demo / "lambdatui.yaml").local.functions


@pytest.mark.skipif(not shutil.which("curl"), reason="the custom-runtime starter is AWS's curl bootstrap")
def test_init_with_a_custom_runtime_writes_an_executable_bootstrap(cli, tmp_path):
    r = cli("init", "demo", "--runtime", "provided.al2023")
    assert r.returncode == 0, r.stderr
    demo = tmp_path / "demo"
    assert os.access(demo / "functions/hello-world/bootstrap", os.X_OK)
    assert set(load_config(demo / "lambdatui.yaml").local.functions) == {"hello-world", "hello-python", "hello-node"}
    r = cli("invoke", "hello-world", "--json", cwd=demo)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["payload"]["message"] == "Hello from a custom runtime"


def test_new_adds_a_function_keeping_the_files_comments(cli, tmp_path):
    assert cli("init", "demo").returncode == 0
    demo = tmp_path / "demo"
    before = (demo / "lambdatui.yaml").read_text()
    r = cli("new", "orders-api", "--runtime", "python3.12", "--template", "api", cwd=demo)
    assert r.returncode == 0, r.stderr
    after = (demo / "lambdatui.yaml").read_text()
    assert after.startswith(before.rstrip("\n"))  # every line, comments included, as it was
    f = load_config(demo / "lambdatui.yaml").local.functions["orders-api"]
    assert (f.runtime, f.handler, f.code_dir) == ("python3.12", "app.lambda_handler", demo / "functions" / "orders-api")
    r = cli("invoke", "orders-api", "--event", "events/orders-api/api.json", "--json", cwd=demo)
    assert r.returncode == 0, r.stderr
    assert json.loads(json.loads(r.stdout)["payload"]["body"])["method"] == json.loads((demo / "events/orders-api/api.json").read_text())["requestContext"]["http"]["method"]

    again = cli("new", "orders-api", "--runtime", "python3.12", cwd=demo)
    assert again.returncode == 2 and "already exists" in again.stderr
    bad = cli("new", "no spaces", "--runtime", "python3.12", cwd=demo)
    assert bad.returncode == 2 and "not a function name" in bad.stderr
    assert (demo / "lambdatui.yaml").read_text() == after


def test_add_function_to_file_creates_sections_and_refuses_duplicates(tmp_path):
    (tmp_path / "fn").mkdir()
    path = tmp_path / "lambdatui.yaml"
    path.write_text("backend: local  # keep me\n")
    add_function_to_file(path, "a", {"runtime": "python3.12", "handler": "app.h", "code": "fn", "environment": {"KEY": "v"}})
    assert path.read_text().startswith("backend: local  # keep me\n")
    assert load_config(path).local.functions["a"].environment == {"KEY": "v"}
    with pytest.raises(ConfigError, match="already there"):
        add_function_to_file(path, "a", {"runtime": "python3.12", "handler": "app.h", "code": "fn"})
    with pytest.raises(ConfigError, match="fail to load"):
        add_function_to_file(path, "b", {"runtime": "python3.12", "handler": "app.h", "code": "missing-folder"})
    assert "b:" not in path.read_text()


def test_the_sample_copy_is_made_once_atomically_by_concurrent_processes(tmp_path):
    target = tmp_path / "copy"
    script = textwrap.dedent(f"""
        import os
        os.environ["LAMBDATUI_SAMPLE_DIR"] = {str(target)!r}
        from lambdatui.assets import user_sample_config
        print(user_sample_config())
    """)
    procs = [subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True) for _ in range(4)]
    outputs = {p.communicate(timeout=60)[0].strip() for p in procs}
    assert outputs == {str(target / "lambdatui.yaml")}
    assert (target / "lambdatui.yaml").read_bytes() == (PACKAGE_SAMPLE / "lambdatui.yaml").read_bytes()
    assert [p.name for p in tmp_path.iterdir()] == ["copy"]  # no staging folder left behind


def test_saving_in_the_sample_never_writes_into_the_package(monkeypatch, tmp_path):
    from lambdatui.backends.local import LocalBackend

    before = (PACKAGE_SAMPLE / "lambdatui.yaml").read_bytes()
    config = load_config(user_sample_config())
    backend = LocalBackend(config, start=False, watch_code=False)
    try:
        backend.update_function("hello-world", {"memory_size": 256})
    finally:
        backend.close()
    assert (PACKAGE_SAMPLE / "lambdatui.yaml").read_bytes() == before
    assert load_config(user_sample_config()).local.functions["hello-world"].memory_size == 256
