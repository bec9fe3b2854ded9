"""Power tuning over both backends: each size measured, the rule for cheapest/fastest, and the
original memory size put back on success, on a failure and on cancel."""

from __future__ import annotations

import json
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from lambdatui.backends import make_backend
from lambdatui.config import parse_config
from lambdatui.executor.cpu import CpuLimiter
from lambdatui.powertune import PowerTuneError, TuneResult, _choose, power_tune

PY = f"python{sys.version_info[0]}.{sys.version_info[1]}"
SIZES = (128, 256, 512)

BURN = """
    import time
    def handler(event, context):
        started = time.process_time()
        while time.process_time() - started < 0.02:  # ~20 ms of CPU
            pass
        return {"ok": True}
    """

# Fails at 512 MB: Lambda sets AWS_LAMBDA_FUNCTION_MEMORY_SIZE, and so does the executor.
FAILS_AT_512 = """
    import os
    def handler(event, context):
        if os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "512":
            raise RuntimeError("no good at 512 MB")
        return {"ok": True}
    """


def write_config(root: Path, source: str, *, memory_line: bool = True) -> Path:
    folder = root / "fn"
    folder.mkdir(parents=True)
    (folder / "app.py").write_text(textwrap.dedent(source))
    memory = "      memory_size: 128   # the size we run at\n" if memory_line else ""
    text = (
        "# power tuning test\n"
        "backend: local\n"
        "local:\n"
        "  keep_warm_seconds: 600\n"
        "  functions:\n"
        "    tuned:\n"
        f"      runtime: {PY}\n"
        "      handler: app.handler  # module.function\n"
        "      code: fn\n"
        f"{memory}"
        "      timeout: 10\n"
    )
    path = root / "lambdatui.yaml"
    path.write_text(text)
    return path


@pytest.fixture
def local(tmp_path):
    made = []

    def make(source: str = BURN, **options):
        path = write_config(tmp_path / f"project{len(made)}", source, **options)
        backend = make_backend(parse_config(path.read_text(), path), state_dir=tmp_path / "state")
        made.append(backend)
        return backend, path

    yield make
    for b in made:
        b.close()


def expected_choice(results: list[TuneResult]) -> tuple[int, int]:
    clean = [r for r in results if r.errors == 0]
    least = min(r.cost_per_invocation_usd for r in clean)
    tied = [r for r in clean if r.cost_per_invocation_usd <= least * (1 + 1e-9)]
    cheapest = min(tied, key=lambda r: (r.duration_p50_ms, r.memory_mb)).memory_mb
    fastest = min(clean, key=lambda r: (r.duration_p50_ms, r.cost_per_invocation_usd, r.memory_mb)).memory_mb
    return cheapest, fastest


# -- local -------------------------------------------------------------------------------------


def test_local_tune_measures_each_size_and_restores_the_config_byte_for_byte(local):
    backend, path = local()
    before = path.read_bytes()
    seen_during: list[bytes] = []
    progress = []

    def on_progress(p):
        progress.append(p)
        seen_during.append(path.read_bytes())

    report = power_tune(backend, "tuned", b"{}", SIZES, invocations=2, progress=on_progress)

    assert [r.memory_mb for r in report.results] == list(SIZES)
    for r in report.results:
        assert r.invocations == 2 and r.errors == 0
        assert r.duration_p50_ms >= 15 and r.duration_avg_ms >= 15  # the handler burns ~20 ms of CPU
        assert r.billed_avg_ms >= r.duration_avg_ms
        assert r.cost_per_invocation_usd > 0
    assert (report.cheapest, report.fastest) == expected_choice(report.results)
    assert report.restored and not report.cancelled
    assert report.original_memory_mb == 128
    assert backend.get_function("tuned").memory_size == 128
    assert backend.executor.function("tuned").memory_size == 128
    assert path.read_bytes() == before
    assert all(seen == before for seen in seen_during)  # never written, not even mid-run
    assert backend.executor.scale_cpu is False  # switched on for the run only
    assert progress[-1].message == "Done" and progress[-1].done == progress[-1].total == 9
    assert [p.result for p in progress if p.result] == report.results  # each size as it completes

    assert report.cpu_scaled == backend.executor.cpu_limiter.available()
    if report.cpu_scaled:
        assert "CPU scaled to memory (1,769 MB = 1 vCPU) with cgroups" in report.note
        # Lambda's shape: 4x the memory, 4x the CPU, so a CPU-bound handler runs much faster.
        assert report.result(128).duration_p50_ms > 2 * report.result(512).duration_p50_ms
        assert report.result(512).vcpus == pytest.approx(512 / 1769)
        # The tune's environments were retired when it ended, and their cgroups with them.
        assert backend.executor.cpu_limiter.cgroups() == []
    else:
        assert "does not scale with memory" in report.note


def test_config_without_a_memory_line_is_left_as_it_was(local):
    # Saving 256 then 128 would add `memory_size: 128`: a tune writes nothing to the file.
    backend, path = local(memory_line=False)
    before = path.read_bytes()
    report = power_tune(backend, "tuned", b"{}", (256,), invocations=1)
    assert report.restored and report.results[0].memory_mb == 256
    assert path.read_bytes() == before
    assert backend.get_function("tuned").memory_size == 128


def test_a_size_whose_invocations_fail_counts_errors_and_still_restores(local):
    backend, path = local(FAILS_AT_512)
    before = path.read_bytes()
    report = power_tune(backend, "tuned", b"{}", SIZES, invocations=2)
    errors = {r.memory_mb: r.errors for r in report.results}
    assert errors == {128: 0, 256: 0, 512: 2}
    assert report.cheapest in (128, 256) and report.fastest in (128, 256)  # failing sizes are not ranked
    assert report.restored
    assert backend.get_function("tuned").memory_size == 128
    assert path.read_bytes() == before


def test_cancel_mid_run_stops_and_restores(local):
    backend, path = local()
    before = path.read_bytes()
    cancel = threading.Event()

    def on_progress(p):
        if p.memory_mb == 256 and "invocation 1" in p.message:
            cancel.set()

    report = power_tune(backend, "tuned", b"{}", SIZES, invocations=2, progress=on_progress, cancel=cancel)
    assert report.cancelled
    assert [r.memory_mb for r in report.results] == [128, 256]
    assert report.result(256).invocations == 1
    assert report.note.startswith("Cancelled after 2 of 3 memory sizes.")
    assert report.restored
    assert backend.get_function("tuned").memory_size == 128
    assert path.read_bytes() == before
    assert backend.executor.scale_cpu is False


def test_an_update_that_fails_stops_the_run_and_restores(local):
    backend, path = local()
    before = path.read_bytes()
    with pytest.raises(PowerTuneError) as caught:
        power_tune(backend, "tuned", b"{}", (256, 20000), invocations=1)
    error = caught.value
    assert "at 20000 MB" in str(error) and "restored to 128 MB" in str(error)
    assert error.report.restored
    assert [r.memory_mb for r in error.report.results] == [256]
    assert backend.get_function("tuned").memory_size == 128
    assert path.read_bytes() == before
    assert backend.persist_config is True and backend.executor.scale_cpu is False


def test_without_cgroups_the_note_says_cpu_does_not_scale(local, tmp_path, monkeypatch):
    backend, _ = local()
    unavailable = CpuLimiter(base=tmp_path / "no-such-cgroup", version=1)
    monkeypatch.setattr(backend.executor, "_cpu_limiter", unavailable)
    report = power_tune(backend, "tuned", b"{}", (128, 256), invocations=1)
    assert not report.cpu_scaled
    assert "does not let lambdatui cap CPU per environment" in report.note
    assert "CPU does not scale with memory here" in report.note
    assert all(r.vcpus is None for r in report.results)
    assert report.restored


def test_an_unknown_function_raises_before_changing_anything(local):
    backend, path = local()
    before = path.read_bytes()
    with pytest.raises(Exception, match="not found"):
        power_tune(backend, "missing", b"{}", SIZES, invocations=1)
    assert path.read_bytes() == before


def test_cheapest_ties_go_to_the_faster_size():
    def r(memory, p50, cost, errors=0):
        return TuneResult(memory, 2, errors, p50, p50, p50, cost)

    # 128 MB at 40 ms and 256 MB at 20 ms bill the same GB-seconds: the faster one wins.
    assert _choose([r(128, 40.0, 5e-7), r(256, 20.0, 5e-7), r(512, 12.0, 6e-7)]) == (256, 512)
    assert _choose([r(128, 40.0, 4e-7), r(256, 20.0, 5e-7)]) == (128, 256)
    assert _choose([r(128, 40.0, 4e-7, errors=1), r(256, 20.0, 5e-7)]) == (256, 256)
    assert _choose([TuneResult(128, 2, 0, None, None, None, None)]) == (None, None)


# -- AWS (moto) --------------------------------------------------------------------------------


def aws_backend(moto):
    config = parse_config(f"backend: aws\naws: {{region: us-east-1, endpoint_url: '{moto.endpoint}'}}\n")
    return make_backend(config)


def test_aws_a_failing_update_restores_the_original_memory(aws_env):
    aws_env.create_function("tuned", "def handler(event, context):\n    return event\n", memory=384)
    backend = aws_backend(aws_env)
    try:
        with pytest.raises(PowerTuneError) as caught:
            power_tune(backend, "tuned", b'{"n": 1}', (128, 512, 20000), invocations=1)
        assert caught.value.report.restored
        assert [r.memory_mb for r in caught.value.report.results] == [128, 512]
    finally:
        backend.close()
    config = aws_env.client("lambda").get_function_configuration(FunctionName="tuned")
    assert config["MemorySize"] == 384


def test_aws_run_without_figures_says_so_and_restores(aws_env):
    aws_env.create_function("tuned", "def handler(event, context):\n    return event\n", memory=384)
    backend = aws_backend(aws_env)
    try:
        report = power_tune(backend, "tuned", json.dumps({"n": 1}).encode(), (128, 256), invocations=1)
    finally:
        backend.close()
    assert [r.memory_mb for r in report.results] == [128, 256]
    assert report.restored and report.cpu_scaled
    if not any(r.has_figures for r in report.results):  # moto runs no code: no REPORT lines
        assert report.cheapest is None and "durations and costs are unknown" in report.note
    assert aws_env.client("lambda").get_function_configuration(FunctionName="tuned")["MemorySize"] == 384


# -- the dialog --------------------------------------------------------------------------------


async def test_power_tune_screen_shows_the_table_and_the_note(local):
    from textual.app import App

    from lambdatui.tui.powertune_screen import PowerTuneScreen

    backend, path = local()
    before = path.read_bytes()
    screen = PowerTuneScreen(backend, "tuned", b"{}", memory_sizes=(128, 256), invocations=1)

    class Host(App):
        def on_mount(self) -> None:
            self.push_screen(screen)

    app = Host()
    async with app.run_test(size=(120, 50)) as pilot:
        await pilot.pause()
        assert "Sets tuned's memory to each of 128, 256 MB" in str(screen.query_one("#pt-plan").render())
        await pilot.click("#pt-start")
        for _ in range(400):
            if screen.report is not None or screen.error is not None:
                break
            await pilot.pause(0.05)
        assert screen.error is None and screen.report is not None
        rows = screen.table_rows()
        assert [row[0] for row in rows] == ["128 MB", "256 MB"]
        assert all(row[3].startswith("$0.") for row in rows)
        note = screen.query_one("#pt-note")
        assert note.has_class("-shown") and str(note.render()) == screen.report.note
        assert str(note.render()).startswith("Local run:")
        verdict = str(screen.query_one("#pt-verdict").render())
        assert f"Cheapest: {screen.report.cheapest:,} MB" in verdict and "Fastest:" in verdict
        chart = str(screen.query_one("#pt-duration-chart").render())
        assert "128 MB │█" in chart
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is not screen
    assert path.read_bytes() == before
    assert backend.get_function("tuned").memory_size == 128


async def test_escape_during_a_run_cancels_restores_then_closes(local):
    from textual.app import App

    from lambdatui.tui.powertune_screen import PowerTuneScreen

    backend, _ = local()
    screen = PowerTuneScreen(backend, "tuned", b"{}", memory_sizes=SIZES, invocations=3, autostart=True)
    results = []

    class Host(App):
        def on_mount(self) -> None:
            self.push_screen(screen, results.append)

    app = Host()
    async with app.run_test(size=(120, 50)) as pilot:
        for _ in range(200):
            if "128 MB: invocation" in str(screen.query_one("#pt-status").render()):
                break
            await pilot.pause(0.02)
        await pilot.press("escape")
        for _ in range(400):
            if results:
                break
            await pilot.pause(0.05)
        assert results and results[0] is not None and results[0].cancelled and results[0].restored
    assert backend.get_function("tuned").memory_size == 128
