"""Shared fixtures: functions written into temporary folders, and executors that clean up."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from lambdatui.executor import Executor, FunctionSpec, LogStore

REPO = Path(__file__).resolve().parent.parent
PY = f"python{sys.version_info[0]}.{sys.version_info[1]}"  # the runtime matching this interpreter


@pytest.fixture(autouse=True)
def _state_dir(tmp_path, monkeypatch):
    # Nothing a test does may write to the user's real state or config folders.
    monkeypatch.setenv("LAMBDATUI_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("LAMBDATUI_SAMPLE_DIR", str(tmp_path / "user-data" / "sample"))
    monkeypatch.delenv("LAMBDATUI_CONFIG", raising=False)


@pytest.fixture(scope="session")
def _offline_wheels(tmp_path_factory):
    from deps_support import write_wheel

    folder = tmp_path_factory.mktemp("wheels")
    # The sam-init-like fixtures' requirements.txt names `requests` (their handlers do not import it).
    write_wheel(folder, "requests", "2.32.0", "# a stand-in: tests install nothing from an index\n")
    return folder


@pytest.fixture(autouse=True)
def _offline_installs(_offline_wheels, monkeypatch):
    # A function's requirements.txt / package.json is installed on its first invoke: pip and npm
    # (which read these from the environment, in subprocesses too) must not reach a network.
    from deps_support import offline_env

    for key, value in offline_env(_offline_wheels).items():
        monkeypatch.setenv(key, value)


@pytest.fixture
def make_function(tmp_path):
    """Write handler source into a fresh folder and return a FunctionSpec for it."""
    counter = iter(range(1000))

    def make(source: str, name: str | None = None, handler: str = "app.handler", module: str = "app", **settings) -> FunctionSpec:
        n = next(counter)
        code = tmp_path / f"fn{n}"
        code.mkdir()
        (code / f"{module}.py").write_text(textwrap.dedent(source))
        settings.setdefault("runtime", PY)
        return FunctionSpec(name=name or f"fn{n}", handler=handler, code=code, **settings)

    return make


@pytest.fixture
def executor_factory(tmp_path):
    """Executors bound to a temporary cache; all are closed when the test ends."""
    made: list[Executor] = []

    def make(*specs: FunctionSpec, start: bool = False, **options) -> Executor:
        options.setdefault("cache_dir", tmp_path / "cache")
        options.setdefault("logs", LogStore())
        ex = Executor(specs, **options)
        made.append(ex)
        if start:
            ex.start()
        return ex

    yield make
    for ex in made:
        ex.close()


@pytest.fixture(scope="session")
def moto_server():
    """moto's server on 127.0.0.1 (a free port), shared by the session; reset by `aws_env`."""
    from aws_support import CREDENTIALS, MotoServer

    patch = pytest.MonkeyPatch()
    for key, value in CREDENTIALS.items():
        patch.setenv(key, value)
    server = MotoServer()
    yield server
    server.stop()
    patch.undo()


@pytest.fixture
def aws_env(moto_server, monkeypatch):
    """A clean moto, and credentials that can only ever reach it."""
    from aws_support import CREDENTIALS

    for key, value in CREDENTIALS.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    moto_server.reset()
    return moto_server
