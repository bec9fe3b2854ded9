"""A function's `async:` settings: Lambda's event invoke config (PutFunctionEventInvokeConfig:
MaximumRetryAttempts 0–2, default 2; MaximumEventAgeInSeconds 60–21600, default 21600) and the
on-failure destination, a local SQS queue. Errors name the file, the line and the key."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from lambdatui.config import ConfigError, load_config
from lambdatui.model import AsyncConfig

REPO = Path(__file__).resolve().parent.parent
PY = f"python{sys.version_info.major}.{sys.version_info.minor}"


def function_config(tmp_path: Path, extra: str) -> Path:
    """A one-function config whose function has the given extra settings."""
    (tmp_path / "code").mkdir(exist_ok=True)
    (tmp_path / "code" / "app.py").write_text("def handler(event, context):\n    return event\n")
    path = tmp_path / "lambdatui.yaml"
    path.write_text(
        f"local:\n  functions:\n    fn:\n      runtime: {PY}\n      handler: app.handler\n      code: code\n"
        + textwrap.indent(textwrap.dedent(extra).strip("\n"), "      ") + "\n"
    )
    return path


def line_of(path: Path, needle: str) -> int:
    hits = [i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line]
    assert len(hits) == 1, f"{needle!r} occurs on lines {hits}"
    return hits[0]


def load_error(path: Path) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load_config(path)
    return info.value


def assert_located(err: ConfigError, path: Path, line: int, key: str, text: str) -> None:
    message = str(err)
    assert f"{path}:{line}:" in message, message
    assert key in message and text in message, message
    assert err.line == line and err.key == key


def test_without_async_settings_lambdas_defaults_apply(tmp_path):
    f = load_config(function_config(tmp_path, "timeout: 3")).local.functions["fn"]
    assert f.async_config == AsyncConfig(maximum_retry_attempts=2, maximum_event_age_seconds=21600, on_failure=None)


def test_async_settings_are_read(tmp_path):
    path = function_config(tmp_path, """
        async:
          maximum_retry_attempts: 0
          maximum_event_age_seconds: 60
          on_failure: failed-orders
        """)
    f = load_config(path).local.functions["fn"]
    assert f.async_config == AsyncConfig(maximum_retry_attempts=0, maximum_event_age_seconds=60, on_failure="failed-orders")
    assert f.to_dict()["async_config"] == {"maximum_retry_attempts": 0, "maximum_event_age_seconds": 60, "on_failure": "failed-orders"}


def test_the_range_ends_are_accepted(tmp_path):
    path = function_config(tmp_path, "async: {maximum_retry_attempts: 2, maximum_event_age_seconds: 21600}")
    assert load_config(path).local.functions["fn"].async_config.maximum_event_age_seconds == 21600


@pytest.mark.parametrize(
    "setting, key, text",
    [
        ("maximum_retry_attempts: 3", "maximum_retry_attempts", "3 is outside 0–2"),
        ("maximum_retry_attempts: -1", "maximum_retry_attempts", "-1 is outside 0–2"),
        ("maximum_retry_attempts: 1.5", "maximum_retry_attempts", "1.5 is not a whole number"),
        ("maximum_retry_attempts: true", "maximum_retry_attempts", "True is outside 0–2"),
        ("maximum_event_age_seconds: 59", "maximum_event_age_seconds", "59 is outside 60–21600"),
        ("maximum_event_age_seconds: 21601", "maximum_event_age_seconds", "21601 is outside 60–21600"),
        ("on_failure: 'a queue'", "on_failure", "names a local SQS queue"),
        ("on_failure: 5", "on_failure", "must be text or null"),
    ],
)
def test_bad_async_setting_is_an_error_naming_file_line_key_and_rule(tmp_path, setting, key, text):
    path = function_config(tmp_path, f"async:\n  {setting}\n")
    assert_located(load_error(path), path, line_of(path, setting), f"local.functions.fn.async.{key}", text)


def test_unknown_async_key_gets_a_did_you_mean(tmp_path):
    path = function_config(tmp_path, "async:\n  max_retry_attempts: 1\n")
    err = load_error(path)
    assert_located(err, path, line_of(path, "max_retry_attempts"), "local.functions.fn.async.max_retry_attempts", "unknown key")
    assert "maximum_retry_attempts" in str(err)


def test_async_must_be_a_mapping(tmp_path):
    path = function_config(tmp_path, "async: 2")
    assert_located(load_error(path), path, line_of(path, "async:"), "local.functions.fn.async", "must be a mapping")


def test_a_bad_async_setting_from_the_cli_is_one_line_exit_2(tmp_path):
    path = function_config(tmp_path, "async:\n  maximum_retry_attempts: 5\n")
    done = subprocess.run([sys.executable, "-m", "lambdatui", "list", "--config", str(path)], capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "maximum_retry_attempts" in done.stderr and "5 is outside 0–2" in done.stderr
