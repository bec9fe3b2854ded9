"""`ephemeral_storage` (Lambda's EphemeralStorage.Size, 512–10240 MB, default 512) as a function
setting every backend edits, and `lambdatui list --json`'s `isolation` field."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest
import yaml

from lambdatui.backends import InvalidParameterError, make_backend
from lambdatui.backends.aws import AwsBackend
from lambdatui.config import ConfigError, load_config, parse_config


def _project(tmp_path, settings: str = "") -> str:
    code = tmp_path / "code"
    code.mkdir()
    (code / "app.py").write_text("def handler(e, c):\n    return 1\n")
    path = tmp_path / "lambdatui.yaml"
    py = f"python{sys.version_info[0]}.{sys.version_info[1]}"
    path.write_text(f"local:\n  functions:\n    fn:\n      runtime: {py}\n      handler: app.handler\n      code: code\n{settings}")
    return str(path)


def test_the_config_file_refuses_a_size_outside_lambdas_range_with_file_line_and_key(tmp_path):
    path = _project(tmp_path, "      ephemeral_storage: 20000\n")
    with pytest.raises(ConfigError) as e:
        load_config(path)
    message = str(e.value)
    assert "lambdatui.yaml:7:" in message
    assert "local.functions.fn.ephemeral_storage" in message and "20000 is outside 512–10240 MB" in message


def test_the_local_backend_saves_an_edit_and_refuses_a_bad_one(tmp_path):
    path = _project(tmp_path)
    backend = make_backend(load_config(path), state_dir=tmp_path / "state", start=False, watch_code=False)
    try:
        assert backend.get_function("fn").ephemeral_storage == 512
        assert backend.update_function("fn", {"ephemeral_storage": 4096}).ephemeral_storage == 4096
        with pytest.raises(InvalidParameterError, match="ephemeral_storage: 100 is outside 512–10240 MB"):
            backend.update_function("fn", {"ephemeral_storage": 100})
    finally:
        backend.close()
    assert yaml.safe_load(open(path))["local"]["functions"]["fn"]["ephemeral_storage"] == 4096


def test_the_aws_backend_sets_ephemeral_storage(aws_env):
    aws_env.create_function("alpha", "def handler(e, c):\n    return e\n")
    body = json.dumps({"region": "us-east-1", "endpoint_url": aws_env.endpoint})
    backend = AwsBackend(parse_config(f"backend: aws\naws: {body}\n"))
    sent: list[dict] = []
    backend.lambda_client.meta.events.register(
        "provide-client-params.lambda.UpdateFunctionConfiguration", lambda params, **_: sent.append(dict(params))
    )
    backend.update_function("alpha", {"ephemeral_storage": 1024})
    # What went to the Lambda API (moto accepts it but does not keep it on update).
    assert sent == [{"FunctionName": "alpha", "EphemeralStorage": {"Size": 1024}}]
    with pytest.raises(InvalidParameterError, match="ephemeral_storage: 64 is outside 512–10240 MB"):
        backend.update_function("alpha", {"ephemeral_storage": 64})
    assert len(sent) == 1  # refused before any call
    assert backend.isolation("alpha") is None  # Lambda's own sandbox runs it


def test_list_json_says_which_sandbox_guarantees_hold_for_each_local_function(tmp_path):
    path = _project(tmp_path, "      ephemeral_storage: 1024\n")
    env = {k: v for k, v in os.environ.items() if k != "LAMBDATUI_CONFIG"}
    env["LAMBDATUI_STATE_DIR"] = str(tmp_path / "state")
    proc = subprocess.run([sys.executable, "-m", "lambdatui", "list", "--json", "--config", path],
                          capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    [row] = json.loads(proc.stdout)
    isolation = row["isolation"]
    assert set(isolation) >= {"processes_contained", "memory_cgroup", "private_tmp", "environment_hidden", "open_files_limit"}
    for name, guarantee in isolation.items():
        assert isinstance(guarantee["holds"], bool) and guarantee["how"], name
    if isolation["private_tmp"]["holds"]:
        assert "1024 MB" in isolation["private_tmp"]["how"]  # the function's own size
    # The text listing stays as it was.
    text = subprocess.run([sys.executable, "-m", "lambdatui", "list", "--config", path], capture_output=True, text=True, env=env, timeout=60)
    assert "isolation" not in text.stdout and textwrap.dedent(text.stdout).startswith("NAME")
