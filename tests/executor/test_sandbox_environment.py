"""Lambda's process limits and environment inside the sandbox: RLIMIT_NOFILE 1024, 742 processes,
no instance-metadata service, and a PATH that leads to the function's own runtime."""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest
from sandbox_support import needs

from lambdatui.executor.sandbox import Sandboxes


def _payload(result):
    assert result.function_error is None, result.payload
    return json.loads(result.payload)


def test_open_files_stop_at_lambdas_1024_with_emfile(make_function, executor_factory):
    spec = make_function(
        """
        import errno, os, resource
        def handler(event, context):
            files = []
            try:
                for _ in range(2000):
                    files.append(open(os.devnull))
            except OSError as e:
                return {"opened": len(files), "error": errno.errorcode[e.errno], "limit": resource.getrlimit(resource.RLIMIT_NOFILE)}
            finally:
                for f in files:
                    f.close()
            return {"opened": len(files)}
        """
    )
    found = _payload(executor_factory(spec).invoke(spec.name))
    assert found["error"] == errno.errorcode[errno.EMFILE]
    assert found["limit"] == [1024, 1024]
    assert 1000 <= found["opened"] < 1024  # the runtime holds a few descriptors itself


def test_core_files_are_off(make_function, executor_factory):
    spec = make_function("import resource\ndef handler(e, c):\n    return resource.getrlimit(resource.RLIMIT_CORE)\n")
    assert _payload(executor_factory(spec).invoke(spec.name)) == [0, 0]


@needs("process_limit")
def test_processes_and_threads_stop_at_lambdas_742(make_function, executor_factory):
    spec = make_function(
        """
        import threading
        def handler(event, context):
            stop, started = threading.Event(), []
            try:
                while len(started) < 2000:
                    t = threading.Thread(target=stop.wait)
                    t.start()
                    started.append(t)
            except RuntimeError as e:
                error = str(e)
            stop.set()
            for t in started:
                t.join()
            return {"threads": len(started), "error": error}
        """,
        memory_size=1024,
        timeout=30,
    )
    found = _payload(executor_factory(spec).invoke(spec.name))
    assert "can't start new thread" in found["error"]
    assert 700 <= found["threads"] < 742


def test_no_metadata_service_so_an_sdk_without_credentials_gives_up_at_once(make_function, executor_factory):
    # Lambda has no instance-metadata service; without AWS_EC2_METADATA_DISABLED botocore would
    # spend ~1 s per attempt on 169.254.169.254 before saying there are no credentials.
    spec = make_function(
        """
        import os, time
        import boto3
        def handler(event, context):
            started = time.perf_counter()
            credentials = boto3.Session().get_credentials()
            return {"found": credentials is not None, "s": time.perf_counter() - started,
                    "disabled": os.environ.get("AWS_EC2_METADATA_DISABLED")}
        """,
        timeout=20,
    )
    found = _payload(executor_factory(spec).invoke(spec.name))
    assert found["disabled"] == "true"
    assert found["found"] is False
    assert found["s"] < 0.5


def test_a_configured_metadata_setting_is_kept(make_function, executor_factory):
    spec = make_function("import os\ndef handler(e, c):\n    return os.environ['AWS_EC2_METADATA_DISABLED']\n",
                         environment={"AWS_EC2_METADATA_DISABLED": "false"})
    assert _payload(executor_factory(spec).invoke(spec.name)) == "false"


def test_python3_on_path_is_the_functions_runtime(make_function, executor_factory):
    # Lambda's PATH starts with /var/lang/bin, where python3 is the function's runtime.
    spec = make_function(
        """
        import os, shutil, subprocess, sys
        def handler(event, context):
            run = lambda name: subprocess.run([name, "-c", "import sys; print(sys.version)"], capture_output=True, text=True).stdout.strip()
            return {"mine": sys.version, "python3": run("python3"), "python": run("python"),
                    "first": os.environ["PATH"].split(":")[0], "which": shutil.which("python3")}
        """
    )
    found = _payload(executor_factory(spec).invoke(spec.name))
    assert found["python3"] == found["python"] == found["mine"]
    assert os.path.dirname(found["which"]) == found["first"]
    host = subprocess.run(["/usr/bin/python3", "-c", "import sys; print(sys.version)"], capture_output=True, text=True).stdout.strip() \
        if os.path.exists("/usr/bin/python3") else None
    if host and host != sys.version:
        assert found["python3"] != host  # not the host's default Python


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
def test_node_on_path_is_the_functions_node(tmp_path, executor_factory):
    from lambdatui.executor import FunctionSpec

    code = tmp_path / "nodefn"
    code.mkdir()
    (code / "index.js").write_text(
        "const { execFileSync } = require('child_process');\n"
        "exports.handler = async () => ({ version: process.version, child: execFileSync('node', ['-p', 'process.version']).toString().trim(),\n"
        "  first: process.env.PATH.split(':')[0] });\n"
    )
    spec = FunctionSpec(name="nodefn", runtime="nodejs20.x", handler="index.handler", code=code)
    found = _payload(executor_factory(spec).invoke("nodefn"))
    assert found["child"] == found["version"]
    assert os.path.realpath(os.path.join(found["first"], "node")) == os.path.realpath(shutil.which("node"))


@pytest.mark.parametrize("enabled", [True, False], ids=["sandbox", "plain"])
def test_init_duration_starts_with_the_runtime_after_the_sandbox_is_set_up(make_function, tmp_path, enabled):
    # AWS: the INIT phase (and Init Duration) begins once the execution environment exists; creating
    # the sandbox itself is not in it. The runtime's start is taken from the child, on the same clock.
    spec = make_function("def handler(event, context):\n    return 1\n")
    sandboxes = Sandboxes(tmp_path / "cache", enabled=enabled)
    before = time.perf_counter()
    proc, storage = sandboxes.spawn(spec, [sys.executable, "-S", "-c", "import time; time.sleep(30)"], {"PATH": "/usr/bin:/bin"}, cwd=str(spec.code_dir))
    after = time.perf_counter()
    try:
        assert before <= proc.started_at <= after
    finally:
        proc.kill_all()
        assert proc.wait(timeout=5) == -signal.SIGKILL
        proc.release()
        proc.memory.close()
        sandboxes.finish(proc, storage, reset=False)
        sandboxes.close()
