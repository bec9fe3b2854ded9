"""The garbage collector paused while `lambdatui` starts: collecting again (with the start-up's
objects frozen) once the dashboard's first frame is drawn, or before another command runs."""

from __future__ import annotations

import gc
import json
import subprocess
import sys

import pytest

from lambdatui import startup_gc
from lambdatui.tui.app import LambdaTUI

from .conftest import wait_for


@pytest.fixture
def paused_collector():
    """startup_gc.pause() as the entry point calls it; the test process's collector as it was after."""
    assert gc.isenabled()
    frozen = gc.get_freeze_count()
    startup_gc.pause()
    yield frozen
    startup_gc.resume()
    gc.unfreeze()  # (this test process runs many apps: nothing stays frozen)
    gc.enable()


def test_resume_without_a_pause_changes_nothing():
    frozen = gc.get_freeze_count()
    startup_gc.resume()
    assert gc.isenabled() and gc.get_freeze_count() == frozen


async def test_the_dashboard_collects_again_once_its_first_frame_is_drawn(local_backend, paused_collector):
    config, backend = local_backend()
    app = LambdaTUI(backend, config)
    assert not gc.isenabled()
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, gc.isenabled)
        # The start-up's objects (the app, its widgets) were frozen before collections resumed.
        assert gc.get_freeze_count() > paused_collector
        assert not gc.is_tracked(app) or app not in gc.get_objects(generation=0)


def test_a_command_runs_with_the_collector_on_and_the_start_up_frozen(sample_config):
    probe = (
        "import gc, json, sys; from lambdatui.__main__ import main; "
        f"sys.argv = ['lambdatui', '--config', {str(sample_config)!r}, 'list', '--json']; "
        "import lambdatui.cli.listing as listing; run = listing.run_list; "
        "listing.run_list = lambda args: (print(json.dumps({'enabled': gc.isenabled(), 'frozen': gc.get_freeze_count()}), file=sys.stderr), run(args))[1]; "
        "sys.exit(main())"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stderr.strip().splitlines()[-1])
    assert seen["enabled"] is True
    assert seen["frozen"] > 1000  # the modules and classes imported while paused
    assert "hello-world" in done.stdout
