"""Helpers for the sandbox tests: what this machine allows, and executors with parts of the
sandbox turned off (to test each fallback on a machine that has everything)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from lambdatui.executor import Executor
from lambdatui.executor.cgroups import CgroupFactory
from lambdatui.executor.sandbox import Sandboxes, capabilities


def needs(guarantee: str) -> pytest.MarkDecorator:
    """Skip where this machine cannot give `guarantee` (an Isolation field), saying why."""
    g = getattr(capabilities(), guarantee)
    return pytest.mark.skipif(not g.holds, reason=f"{guarantee} does not hold here: {g.how}")


class NoCgroups(CgroupFactory):
    """A machine without usable cgroups (rootless, macOS, a container without delegation)."""

    def _probe(self) -> bool:
        self.reason = "turned off for this test"
        return False


def without_cgroups(ex: Executor) -> Executor:
    ex.sandboxes = Sandboxes(ex.cache_dir, keep_reset_s=ex.keep_warm_seconds, cgroups=NoCgroups())
    return ex


def without_sandbox(ex: Executor) -> Executor:
    """LAMBDATUI_SANDBOX=off: runtimes started with subprocess.Popen, as before the sandbox."""
    ex.sandboxes = Sandboxes(ex.cache_dir, keep_reset_s=ex.keep_warm_seconds, enabled=False)
    return ex


def growth(path: Path, settle_s: float = 0.3, watch_s: float = 0.5) -> int:
    """Bytes `path` gains over `watch_s`, after `settle_s` for anything in flight to land."""
    time.sleep(settle_s)
    before = path.stat().st_size if path.exists() else 0
    time.sleep(watch_s)
    after = path.stat().st_size if path.exists() else 0
    return after - before


def own_sandbox_cgroups() -> list[str]:
    """This process's environment cgroups that exist now, in every hierarchy."""
    found = []
    for root in ("/sys/fs/cgroup",):
        for dirpath, dirnames, _ in os.walk(root):
            for d in dirnames:
                if d.startswith(f"sbx-{os.getpid()}-"):
                    found.append(os.path.join(dirpath, d))
            if dirpath.count("/") > 8:
                dirnames.clear()
    return found
