"""CPU in proportion to memory (1,769 MB = 1 vCPU) with cgroups, where this machine allows it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lambdatui.executor.cpu import CpuLimiter, default_limiter, usable_cpus, vcpus_for
from lambdatui.figures import MB_PER_VCPU, vcpu_share

needs_cgroups = pytest.mark.skipif(
    not default_limiter().available(),
    reason=f"this machine does not let lambdatui cap CPU with cgroups: {default_limiter().reason}",
)

BUSY = """
import os, time
def handler(event, context):
    started, wall = time.process_time(), time.perf_counter()
    while time.process_time() - started < event.get("cpu_s", 0.2):  # a busy loop: ~200 ms of CPU
        pass
    return {"pid": os.getpid(), "wall_s": time.perf_counter() - wall}
"""

ESCAPES = """
import os, subprocess
def handler(event, context):
    # A child in a session of its own: out of the environment's process group, not out of its cgroup.
    child = subprocess.Popen(["sleep", "60"], start_new_session=True)
    return {"pid": os.getpid(), "child": child.pid}
"""


def cpu_cgroup_of(pid: int) -> str:
    """The process's cgroup in the hierarchy with the cpu controller (v1), else its v2 cgroup."""
    entries = [line.split(":", 2) for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines()]
    for _, controllers, path in entries:
        if "cpu" in controllers.split(","):
            return path
    return next((path for _, controllers, path in entries if controllers == ""), "")


def quota_of(group: Path) -> int:
    if (group / "cpu.max").exists():
        return int((group / "cpu.max").read_text().split()[0])
    return int((group / "cpu.cfs_quota_us").read_text())


def gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return True
    return state in ("Z", "X")  # a zombie waiting for init to reap it is gone too


def test_vcpus_follow_memory_up_to_the_machine():
    assert vcpus_for(1769) == pytest.approx(min(1.0, usable_cpus()))
    assert vcpus_for(128) == pytest.approx(128 / MB_PER_VCPU)
    assert vcpus_for(10240) == pytest.approx(min(vcpu_share(10240), usable_cpus()))
    assert vcpus_for(10240, ceiling=0.5) == 0.5


def test_unavailable_cgroups_leave_environments_uncapped(make_function, executor_factory, tmp_path):
    limiter = CpuLimiter(base=tmp_path / "no-such-cgroup", version=1)
    spec = make_function(BUSY, timeout=10)
    ex = executor_factory(spec, scale_cpu=True, cpu_limiter=limiter)
    result = ex.invoke(spec.name, json.dumps({"cpu_s": 0.01}))
    assert result.function_error is None
    assert not limiter.available() and limiter.reason
    assert ex.cpu_scaling_active is False
    assert limiter.attach(os.getpid(), 128) is None and limiter.vcpus(128) is None
    limiter.release(None)


def test_scale_cpu_is_off_by_default(make_function, executor_factory):
    spec = make_function(BUSY)
    ex = executor_factory(spec)
    assert ex.scale_cpu is False and ex.cpu_scaling_active is False
    pid = json.loads(ex.invoke(spec.name, json.dumps({"cpu_s": 0.0})).payload)["pid"]
    assert "lambdatui/env-" not in cpu_cgroup_of(pid)


@needs_cgroups
def test_128_mb_runs_a_cpu_bound_handler_much_slower_than_1769_mb(make_function, executor_factory):
    small = make_function(BUSY, memory_size=128, timeout=30)
    large = make_function(BUSY, memory_size=1769, timeout=30)
    ex = executor_factory(small, large, scale_cpu=True)
    assert ex.cpu_scaling_active
    limiter = ex.cpu_limiter

    durations = {}
    for spec in (small, large):
        ex.invoke(spec.name, json.dumps({"cpu_s": 0.01}))  # cold start: not measured
        result = ex.invoke(spec.name, json.dumps({"cpu_s": 0.2}))
        assert result.function_error is None and not result.cold_start
        durations[spec.memory_size] = result.duration_ms
        pid = json.loads(result.payload)["pid"]
        # The runtime's process sits in a cgroup of its own with the quota for its memory.
        group = cpu_cgroup_of(pid)
        assert f"/{os.path.basename(str(limiter.parent))}/env-{os.getpid()}-" in group
        own = limiter.parent / group.rsplit("/", 1)[1]
        assert own in limiter.cgroups()
        assert quota_of(own) == max(1000, int(100_000 * limiter.vcpus(spec.memory_size)))

    assert durations[128] >= 3 * durations[1769], durations
    assert len(limiter.cgroups()) == 2  # one per warm environment
    ex.close()
    assert limiter.cgroups() == []


@needs_cgroups
def test_an_environment_cgroup_goes_with_it_and_takes_escaped_children(make_function, executor_factory):
    spec = make_function(ESCAPES, memory_size=512, timeout=10)
    ex = executor_factory(spec, scale_cpu=True)
    out = json.loads(ex.invoke(spec.name).payload)
    group = cpu_cgroup_of(out["child"])
    assert "/env-" in group  # children inherit the environment's cgroup
    ex.retire(spec.name)
    deadline = time.monotonic() + 5
    while not gone(out["child"]) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert gone(out["pid"]) and gone(out["child"])
    assert ex.cpu_limiter.cgroups() == []


@needs_cgroups
def test_switching_scale_cpu_applies_to_new_environments(make_function, executor_factory):
    spec = make_function(BUSY, memory_size=256, timeout=10)
    ex = executor_factory(spec)
    first = json.loads(ex.invoke(spec.name, json.dumps({"cpu_s": 0.0})).payload)["pid"]
    assert "/env-" not in cpu_cgroup_of(first)
    ex.scale_cpu = True
    ex.retire(spec.name)
    second = json.loads(ex.invoke(spec.name, json.dumps({"cpu_s": 0.0})).payload)["pid"]
    assert "/env-" in cpu_cgroup_of(second)
    ex.scale_cpu = False
    ex.retire(spec.name)
    assert ex.cpu_limiter.cgroups() == []


@needs_cgroups
def test_a_new_limiter_removes_empty_cgroups_of_dead_owners():
    parent = default_limiter().parent
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    parent.mkdir(exist_ok=True)  # the last executor to close removed it
    stale = parent / f"env-{dead.pid}-0"
    stale.mkdir(exist_ok=True)
    mine = parent / f"env-{os.getpid()}-999999"
    mine.mkdir(exist_ok=True)
    fresh = CpuLimiter()
    try:
        assert fresh.available()
        assert not stale.exists()
        assert mine.exists()  # ours (a live owner): left alone
    finally:
        for path in (stale, mine):
            try:
                path.rmdir()
            except OSError:
                pass
        fresh.close()
