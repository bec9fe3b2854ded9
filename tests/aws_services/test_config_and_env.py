"""`local.aws_services` in the config, and what a function's environment gets when the services are
on: their endpoint and credentials over inherited host keys, under the function's own variables."""

from __future__ import annotations

import json

import pytest

from lambdatui.config import ConfigError, parse_config


def _config(tmp_path, block: str):
    (tmp_path / "seed.yaml").write_text("tables: []\n")
    return parse_config(f"local:\n  aws_services: {block}\n", tmp_path / "lambdatui.yaml")


def test_aws_services_true_false_and_a_mapping(tmp_path):
    assert _config(tmp_path, "true").local.aws_services is not None
    assert _config(tmp_path, "false").local.aws_services is None
    s = _config(tmp_path, "{seed: seed.yaml, port: 4566}").local.aws_services
    assert s is not None and s.seed == (tmp_path / "seed.yaml").resolve() and s.port == 4566


@pytest.mark.parametrize(
    ("block", "key", "message"),
    [
        ("{seed: nope.yaml}", "local.aws_services.seed", "is not a file"),
        ("{port: 70000}", "local.aws_services.port", "outside"),
        ("{sead: seed.yaml}", "local.aws_services.sead", "did you mean 'seed'"),
        ("maybe", "local.aws_services", "true or false"),
    ],
)
def test_bad_aws_services_settings_name_the_line_and_key(tmp_path, block, key, message):
    with pytest.raises(ConfigError) as caught:
        _config(tmp_path, block)
    assert caught.value.line == 2 and caught.value.key == key and message in str(caught.value)


def test_service_env_wins_over_inherited_host_keys_and_the_functions_own_endpoint_wins(make_function, executor_factory):
    source = """
    import json, os
    def handler(event, context):
        return {k: os.environ.get(k) for k in ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION")}
    """
    services = {
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_ACCESS_KEY_ID": "LKIAOURS", "AWS_SECRET_ACCESS_KEY": "s",
        "AWS_SESSION_TOKEN": "t", "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1",
    }
    plain = make_function(source, inherit_environment=["AWS_ACCESS_KEY_ID"])
    own = make_function(source, environment={"AWS_ENDPOINT_URL": "http://127.0.0.1:8"})
    ex = executor_factory(plain, own, host_environ={"AWS_ACCESS_KEY_ID": "AKIAHOSTKEY"}, service_env=services)
    got = json.loads(ex.invoke(plain.name, b"{}").payload)
    assert got == {k: services[k] for k in got}  # the host's key, inherited, is replaced by the services'
    assert json.loads(ex.invoke(own.name, b"{}").payload)["AWS_ENDPOINT_URL"] == "http://127.0.0.1:8"
    off = executor_factory(plain, host_environ={})
    assert json.loads(off.invoke(plain.name, b"{}").payload)["AWS_ENDPOINT_URL"] is None
