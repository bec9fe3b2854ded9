"""Every process of an execution environment goes with it, as Lambda discards the whole sandbox:
a child that double-forks and calls setsid stops at a timeout, at close, and when the runtime
itself dies; with cgroups and (fallback) with child subreapers only."""

from __future__ import annotations

import json
import os

import pytest
from polling import wait_for
from sandbox_support import growth, needs, own_sandbox_cgroups, without_cgroups

from lambdatui.executor.sandbox import Isolation, capabilities

# A daemon as the textbook makes one: fork, setsid, fork again, parent exits; it appends a dot to
# a file every 50 ms for good. The file is in the function's code folder, which the host sees.
DAEMONISES = """
import os, time

def handler(event, context):
    beats = os.path.join(os.environ["LAMBDA_TASK_ROOT"], "beats")
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            while True:
                with open(beats, "a") as f:
                    f.write(".")
                time.sleep(0.05)
        os._exit(0)
    os.wait()
    while not os.path.exists(beats):
        time.sleep(0.01)
    time.sleep(event.get("sleep", 0))
    if event.get("crash"):
        os._exit(3)
    return "daemonised"
"""


@pytest.fixture(params=["cgroup", "subreaper"])
def contained(request, executor_factory):
    """An executor with cgroups where this machine has them, and one with child subreapers only."""

    def make(spec):
        ex = executor_factory(spec)
        if request.param == "subreaper":
            without_cgroups(ex)
        elif not capabilities().memory_cgroup.holds:
            pytest.skip(f"no cgroups here: {capabilities().memory_cgroup.how}")
        return ex

    return make


@needs("processes_contained")
def test_a_daemonised_child_stops_at_the_timeout_as_lambda_discards_the_sandbox(make_function, contained):
    spec = make_function(DAEMONISES, timeout=1)
    ex = contained(spec)
    result = ex.invoke(spec.name, json.dumps({"sleep": 5}))
    assert result.error_type == "Sandbox.Timedout"
    assert growth(spec.code_dir / "beats") == 0


@needs("processes_contained")
def test_a_daemonised_child_stops_when_the_executor_closes(make_function, contained):
    spec = make_function(DAEMONISES)
    ex = contained(spec)
    assert json.loads(ex.invoke(spec.name).payload) == "daemonised"
    assert growth(spec.code_dir / "beats", settle_s=0) > 0  # it runs between invokes, as on a warm sandbox
    ex.close()
    assert growth(spec.code_dir / "beats") == 0


@needs("processes_contained")
def test_a_daemonised_child_stops_when_the_runtime_itself_exits(make_function, contained):
    spec = make_function(DAEMONISES)
    ex = contained(spec)
    result = ex.invoke(spec.name, json.dumps({"crash": True}))
    assert result.error_type == "Runtime.ExitError"
    assert growth(spec.code_dir / "beats") == 0


@needs("processes_contained")
def test_a_daemonised_child_stops_when_an_idle_environment_is_reaped(make_function, executor_factory):
    spec = make_function(DAEMONISES)
    ex = executor_factory(spec, keep_warm_seconds=0.3, start=True)
    ex.invoke(spec.name)
    wait_for(lambda: ex.environment_counts(spec.name)["idle"] == 0)
    assert growth(spec.code_dir / "beats") == 0


@needs("memory_cgroup")
def test_each_environment_has_its_own_cgroup_and_none_is_left_after_close(make_function, executor_factory):
    spec = make_function("import os\ndef handler(e, c):\n    return open('/proc/self/cgroup').read()\n")
    ex = executor_factory(spec)
    import threading

    results = []
    threads = [threading.Thread(target=lambda: results.append(ex.invoke(spec.name, b'{}'))) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    groups = {line.rsplit("/", 1)[1] for r in results for line in json.loads(r.payload).splitlines() if "memory" in line}
    assert len(groups) == ex.environment_counts(spec.name)["idle"]
    assert all(g.startswith(f"sbx-{os.getpid()}-") for g in groups)
    assert own_sandbox_cgroups()
    ex.close()
    wait_for(lambda: not own_sandbox_cgroups(), timeout=5)


def test_the_isolation_report_names_every_guarantee_with_how_or_why_not():
    iso = capabilities()
    assert isinstance(iso, Isolation)
    report = iso.to_dict()
    assert list(report) == [
        "processes_contained", "memory_cgroup", "private_tmp", "environment_hidden", "home_hidden",
        "open_files_limit", "process_limit", "sh_is_bash", "no_metadata_service",
    ]
    for name, g in report.items():
        assert isinstance(g["holds"], bool) and g["how"], name
    assert report["no_metadata_service"]["holds"]


def test_the_sandbox_turned_off_says_so_for_each_guarantee_it_no_longer_gives(executor_factory, make_function):
    from sandbox_support import without_sandbox

    ex = without_sandbox(executor_factory(make_function("def handler(e, c):\n    return 1\n")))
    report = ex.sandboxes.isolation().to_dict()
    for name in ("memory_cgroup", "private_tmp", "environment_hidden", "home_hidden", "process_limit"):
        assert not report[name]["holds"] and "LAMBDATUI_SANDBOX=off" in report[name]["how"], name


@needs("processes_contained")
def test_environments_die_with_an_executor_that_is_killed(make_function, tmp_path):
    # SIGKILL leaves no chance to clean up: the fork server sees its socket close and kills every
    # runtime it started (and a runtime whose fork server is killed gets SIGKILL from the kernel).
    import signal
    import subprocess
    import sys
    import textwrap

    spec = make_function(DAEMONISES)
    script = textwrap.dedent(
        f"""
        import sys, time
        from lambdatui.executor import Executor, FunctionSpec
        ex = Executor([FunctionSpec(name="d", code={str(spec.code_dir)!r}, handler="app.handler", runtime={spec.runtime!r})],
                      cache_dir=__import__("pathlib").Path({str(tmp_path / "cache")!r}))
        print(ex.invoke("d").payload.decode(), flush=True)
        time.sleep(60)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        assert line.strip() == '"daemonised"', proc.stderr.read() if proc.stderr and proc.poll() is not None else line
        assert growth(spec.code_dir / "beats", settle_s=0) > 0
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert growth(spec.code_dir / "beats") == 0
