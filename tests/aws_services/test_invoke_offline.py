"""A handler that calls AWS works offline through a real local invoke (the real executor) with the
embedded services: boto3 put_item/get_item and S3 put_object/get_object, no code change."""

from __future__ import annotations

import json

from .support import cli_env, lambdatui, write_project


def test_a_boto3_handler_writes_and_reads_dynamodb_and_s3_offline_through_lambdatui_invoke(tmp_path):
    config = write_project(tmp_path)
    env = cli_env(tmp_path / "state")
    done = lambdatui(
        "invoke", "calls-aws", "--config", str(config), "--event", "-", "--json",
        input=json.dumps({"id": "order-7"}), env=env, cwd=tmp_path, timeout=120,
    )
    assert done.returncode == 0, done.stderr + done.stdout
    result = json.loads(done.stdout)  # stdout is the result alone: nothing about the services on it
    payload = result["payload"]
    assert payload["note"] == "written"
    assert payload["body"] == "body of order-7"
    assert payload["seeded_total"] == "12.5"  # the seed was applied before the function's first call
    assert payload["endpoint"].startswith("http://127.0.0.1:")
    assert payload["region"] == "us-east-1"
    assert "AWS services" not in done.stderr  # only with -v


def test_invoke_verbose_names_the_endpoint_on_stderr_only(tmp_path):
    config = write_project(tmp_path, seed=None, aws_services="true")
    (tmp_path / "calls-aws" / "app.py").write_text("import os\ndef handler(event, context):\n    return os.environ['AWS_ENDPOINT_URL']\n")
    done = lambdatui("invoke", "calls-aws", "--config", str(config), "--json", "-v", env=cli_env(tmp_path / "state"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    url = json.loads(done.stdout)["payload"]
    assert f"AWS services {url}" in done.stderr
    assert url not in done.stdout.replace(json.dumps(url), "")  # only inside the function's own answer


def test_the_flag_turns_the_services_on_without_config_and_functions_get_them_only_then(tmp_path):
    config = write_project(tmp_path, seed=None, aws_services="false")
    (tmp_path / "calls-aws" / "app.py").write_text(
        "import os\ndef handler(event, context):\n    return {k: os.environ.get(k) for k in ('AWS_ENDPOINT_URL', 'AWS_ACCESS_KEY_ID')}\n"
    )
    env = cli_env(tmp_path / "state")
    off = lambdatui("invoke", "calls-aws", "--config", str(config), "--json", env=env, cwd=tmp_path)
    assert json.loads(off.stdout)["payload"] == {"AWS_ENDPOINT_URL": None, "AWS_ACCESS_KEY_ID": None}
    on = lambdatui("invoke", "calls-aws", "--config", str(config), "--json", "--aws-services", env=env, cwd=tmp_path)
    got = json.loads(on.stdout)["payload"]
    assert got["AWS_ENDPOINT_URL"].startswith("http://127.0.0.1:")
    assert got["AWS_ACCESS_KEY_ID"].startswith("LKIA") and got["AWS_ACCESS_KEY_ID"] != "test"


def test_aws_services_on_the_aws_backend_is_a_usage_error(tmp_path):
    config = write_project(tmp_path, seed=None, aws_services="false")
    done = lambdatui("invoke", "calls-aws", "--config", str(config), "--backend", "aws", "--aws-services", env=cli_env(tmp_path / "state"), cwd=tmp_path)
    assert done.returncode == 2
    assert "needs the local backend" in done.stderr and "Traceback" not in done.stderr
