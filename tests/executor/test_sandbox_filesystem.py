"""What a function sees of the file system, as in a Lambda sandbox: its own /tmp of
`ephemeral_storage` MB (kept across warm invokes and a reset, gone with the environment), not the
host's environment in /proc nor the user's home folder, and bash as /bin/sh."""

from __future__ import annotations

import errno
import json
import os
import shutil
import sys
import textwrap
import threading
from pathlib import Path

import pytest
from polling import wait_for
from sandbox_support import needs, without_sandbox

from lambdatui.executor import FunctionSpec

TMP = """
import json, os
def handler(event, context):
    if event.get("write"):
        with open("/tmp/" + event["write"], "w") as f:
            f.write(context.aws_request_id)
    if event.get("hold"):
        import time; time.sleep(event["hold"])
    st = os.statvfs("/tmp")
    return {"files": sorted(n for n in os.listdir("/tmp") if n.startswith("note")), "size_mb": st.f_blocks * st.f_frsize // 2**20}
"""


def _tmp(result):
    assert result.function_error is None, result.payload
    return json.loads(result.payload)


@needs("private_tmp")
def test_tmp_is_the_environments_own_and_sized_by_ephemeral_storage(make_function, executor_factory, tmp_path):
    spec = make_function(TMP, ephemeral_storage=700)
    ex = executor_factory(spec)
    first = _tmp(ex.invoke(spec.name, json.dumps({"write": "note-a", "hold": 0.5})))
    assert first == {"files": ["note-a"], "size_mb": 700}
    assert not Path("/tmp/note-a").exists()  # not the host's /tmp
    # A second environment, running at the same time, has a /tmp of its own.
    results = []
    busy = threading.Thread(target=lambda: results.append(ex.invoke(spec.name, json.dumps({"hold": 1.0}))))
    busy.start()
    wait_for(lambda: ex.environment_counts(spec.name)["busy"] == 1)
    other = _tmp(ex.invoke(spec.name, json.dumps({"write": "note-b"})))
    busy.join()
    assert sorted([other["files"], _tmp(results[0])["files"]]) == [["note-a"], ["note-b"]]


@needs("private_tmp")
def test_tmp_survives_warm_invokes_and_a_timeout_reset_as_aws_documents(make_function, executor_factory):
    # AWS: after a timeout the execution environment is reset; /tmp persists in it.
    spec = make_function(TMP, timeout=1)
    ex = executor_factory(spec)
    ex.invoke(spec.name, json.dumps({"write": "note-1"}))
    assert _tmp(ex.invoke(spec.name))["files"] == ["note-1"]  # warm
    timed_out = ex.invoke(spec.name, json.dumps({"write": "note-2", "hold": 5}))
    assert timed_out.error_type == "Sandbox.Timedout"
    after = ex.invoke(spec.name)
    assert not after.cold_start and after.init_duration_ms is None  # a suppressed init, in the same sandbox
    assert _tmp(after)["files"] == ["note-1", "note-2"]


@needs("private_tmp")
def test_tmp_survives_a_crash_reset_but_not_a_configuration_change(make_function, executor_factory):
    spec = make_function(TMP.replace("    if event.get(\"hold\"):", "    if event.get(\"crash\"):\n        os._exit(1)\n    if event.get(\"hold\"):"))
    ex = executor_factory(spec)
    crashed = ex.invoke(spec.name, json.dumps({"write": "note-1", "crash": True}))
    assert crashed.error_type == "Runtime.ExitError"
    assert _tmp(ex.invoke(spec.name))["files"] == ["note-1"]
    ex.update_function(FunctionSpec(**{**spec.__dict__, "memory_size": 256}))
    # A new configuration means new environments, with a new /tmp, as on Lambda.
    assert _tmp(ex.invoke(spec.name))["files"] == []


@needs("private_tmp")
def test_tmp_is_gone_when_the_environment_is_reaped(make_function, executor_factory):
    spec = make_function(TMP)
    ex = executor_factory(spec, keep_warm_seconds=0.3, start=True)
    ex.invoke(spec.name, json.dumps({"write": "note-1"}))
    wait_for(lambda: ex.environment_counts(spec.name)["idle"] == 0)
    fresh = ex.invoke(spec.name)
    assert fresh.cold_start and _tmp(fresh)["files"] == []


@needs("private_tmp")
def test_tmp_is_full_at_its_size(make_function, executor_factory):
    spec = make_function(
        """
        import errno
        def handler(event, context):
            try:
                with open("/tmp/big", "wb") as f:
                    for _ in range(600):
                        f.write(b"x" * 2**20)
            except OSError as e:
                return errno.errorcode[e.errno]
            return "no limit"
        """,
        memory_size=256,
        timeout=20,
    )
    assert json.loads(executor_factory(spec).invoke(spec.name).payload) == errno.errorcode[errno.ENOSPC]


@needs("private_tmp")
def test_the_functions_folders_under_the_hosts_tmp_stay_reachable(make_function, executor_factory, tmp_path):
    # The code, the cache and a path named in an environment variable live under the host's /tmp
    # here (pytest's tmp_path): they stay reachable, and writes to them reach the host.
    out = tmp_path / "out" / "result.txt"
    out.parent.mkdir()
    spec = make_function(
        "import os\ndef handler(e, c):\n    out = os.environ['OUT']\n"
        "    open(out, 'a').write('hi')\n    open(out + '.done', 'a').write('.')\n    return 1\n",
        environment={"OUT": str(out)},
    )
    assert str(spec.code_dir).startswith("/tmp/")
    ex = executor_factory(spec)
    for _ in range(2):  # before the file exists, then (a new environment) once it does
        ex.retire(spec.name)
        result = ex.invoke(spec.name)
        assert result.function_error is None, result.payload
    assert out.read_text() == "hihi"
    assert (out.parent / "result.txt.done").read_text() == ".."  # its folder, not only the file


@needs("environment_hidden")
def test_the_executors_environment_cannot_be_read_through_proc(make_function, executor_factory):
    spec = make_function(
        """
        import os
        def handler(event, context):
            found = {}
            for pid in {os.getppid(), *event["pids"]}:
                with open(f"/proc/{pid}/environ", "rb") as f:
                    found[str(pid)] = f.read().decode(errors="replace")
                found[f"{pid}/task"] = os.listdir(f"/proc/{pid}/task")
            return found
        """
    )
    os.environ["LAMBDATUI_TEST_SECRET"] = "hunter2"
    try:
        ancestors = [os.getpid(), os.getppid()]
        result = executor_factory(spec).invoke(spec.name, json.dumps({"pids": ancestors}))
    finally:
        del os.environ["LAMBDATUI_TEST_SECRET"]
    found = json.loads(result.payload)
    assert found and all(value in ("", []) for value in found.values()), found


@needs("home_hidden")
def test_the_home_folder_is_hidden_but_what_the_function_needs_stays(make_function, executor_factory):
    home = os.path.realpath(os.path.expanduser("~"))
    needed = [sys.prefix, sys.base_prefix, os.path.realpath(sys.executable)]
    kept = {Path(p).relative_to(home).parts[0] for p in needed if p.startswith(home + "/")}
    visible_on_host = set(os.listdir(home))
    if not visible_on_host - kept:
        pytest.skip(f"{home} holds nothing but what functions need")
    spec = make_function(
        "import os\ndef handler(e, c):\n    return sorted(os.listdir(os.path.expanduser(e['home'])))\n"
    )
    result = executor_factory(spec).invoke(spec.name, json.dumps({"home": home}))
    assert result.function_error is None, result.payload
    assert set(json.loads(result.payload)) <= kept


# -- /bin/sh is bash -----------------------------------------------------------------------------

# AWS's custom-runtime tutorial ("Building a custom runtime"), verbatim: #!/bin/sh, pipefail,
# `source`, `function` — bash on Lambda, rejected by dash (Debian's and Ubuntu's /bin/sh).
TUTORIAL_BOOTSTRAP = """#!/bin/sh

set -euo pipefail

# Initialization - load function handler
source $LAMBDA_TASK_ROOT/"$(echo $_HANDLER | cut -d. -f1).sh"

# Processing
while true
do
  HEADERS="$(mktemp)"
  # Get an event. The HTTP request will block until one is received
  EVENT_DATA=$(curl -sS -LD "$HEADERS" "http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/invocation/next")

  # Extract request ID by scraping response headers received above
  REQUEST_ID=$(grep -Fi Lambda-Runtime-Aws-Request-Id "$HEADERS" | tr -d '[:space:]' | cut -d: -f2)

  # Run the handler function from the script
  RESPONSE=$($(echo "$_HANDLER" | cut -d. -f2) "$EVENT_DATA")

  # Send the response
  curl "http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/invocation/$REQUEST_ID/response"  -d "$RESPONSE"
done
"""

TUTORIAL_FUNCTION = """function handler () {
  EVENT_DATA=$1
  echo "$EVENT_DATA" 1>&2;
  RESPONSE="Echoing request: '$EVENT_DATA'"

  echo $RESPONSE
}
"""


def _tutorial(tmp_path: Path) -> FunctionSpec:
    code = tmp_path / "tutorial"
    code.mkdir()
    (code / "bootstrap").write_text(TUTORIAL_BOOTSTRAP)
    (code / "bootstrap").chmod(0o755)
    (code / "function.sh").write_text(TUTORIAL_FUNCTION)
    return FunctionSpec(name="tutorial", runtime="provided.al2023", handler="function.handler", code=code)


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
@pytest.mark.parametrize("sandbox", ["sandbox", "off"])
def test_aws_tutorial_bootstrap_runs_as_on_lambda_where_sh_is_bash(tmp_path, executor_factory, sandbox):
    ex = executor_factory(_tutorial(tmp_path))
    if sandbox == "off":
        without_sandbox(ex)  # no mount namespace: the #!/bin/sh bootstrap is run with bash
    first = ex.invoke("tutorial", b'{"text": "hello"}')
    assert first.function_error is None, (first.payload, first.log_tail)
    assert first.payload == b"""Echoing request: '{"text": "hello"}'"""
    assert '{"text": "hello"}' in first.log_tail  # the handler's stderr line
    assert not ex.invoke("tutorial", b"{}").cold_start


@needs("sh_is_bash")
def test_sh_started_by_any_runtime_is_bash(make_function, executor_factory):
    spec = make_function(
        "import subprocess\ndef handler(e, c):\n"
        "    return subprocess.run(['sh', '-c', 'set -o pipefail; echo $BASH_VERSION'], capture_output=True, text=True).stdout\n"
    )
    result = executor_factory(spec).invoke(spec.name)
    assert json.loads(result.payload).strip()  # bash sets BASH_VERSION; dash fails on pipefail


def test_a_sh_bootstrap_that_is_not_executable_is_still_refused(tmp_path, executor_factory):
    spec = _tutorial(tmp_path)
    (spec.code_dir / "bootstrap").chmod(0o644)
    ex = without_sandbox(executor_factory(spec))
    result = ex.invoke("tutorial")
    assert result.error_type == "Runtime.InvalidEntrypoint"
    assert textwrap.shorten(json.loads(result.payload)["errorMessage"], 200).endswith("permission denied")
