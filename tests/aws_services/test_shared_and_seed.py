"""Several processes, one set of services: `serve --aws-services` starts them with the seed, an
`invoke` in another process reuses them, `aws-services env` prints them and `aws-services reset`
returns them to the seed; a bad seed is one located error, exit 1."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest
from serve_process import ServeProcess  # tests/ is on sys.path (its conftest.py)

from lambdatui.aws_services import EmbeddedServices, ServicesError
from lambdatui.aws_services.seed import SeedError, load_seed

from .support import cli_env, lambdatui, write_project


class Serve(ServeProcess):
    def __init__(self, config: Path, env: dict[str, str]) -> None:
        super().__init__(["--config", str(config), "--port", "0", "--http-port", "0", "--aws-services"], env, cwd=str(config.parent))


def _client(env: dict[str, str], service: str):
    return boto3.client(
        service, endpoint_url=env["AWS_ENDPOINT_URL"], region_name=env["AWS_REGION"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"], aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"], aws_session_token=env["AWS_SESSION_TOKEN"],
    )


def test_serve_invoke_env_and_reset_share_one_set_of_services_started_from_the_seed(tmp_path):
    config = write_project(tmp_path)
    env = cli_env(tmp_path / "state")
    serve = Serve(config, env)
    try:
        url = serve.wait_for("AWS services").split()[2]
        serve.wait_for("Ready.")
        shown = lambdatui("aws-services", "env", "--json", env=env, cwd=tmp_path)
        assert shown.returncode == 0, shown.stderr
        services = json.loads(shown.stdout)
        assert services["AWS_ENDPOINT_URL"] == url
        exports = lambdatui("aws-services", "env", env=env, cwd=tmp_path).stdout
        assert f"export AWS_ENDPOINT_URL={url}" in exports and "export AWS_SECRET_ACCESS_KEY=" in exports

        # The seed is there: a table with its stream and item, a bucket's object, a queue, a parameter, a secret.
        ddb = _client(services, "dynamodb")
        table = ddb.describe_table(TableName="orders")["Table"]
        assert table["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
        assert ddb.get_item(TableName="orders", Key={"pk": {"S": "seeded"}, "sk": {"S": "1"}})["Item"]["total"] == {"N": "12.5"}
        assert _client(services, "s3").get_object(Bucket="uploads", Key="hello.txt")["Body"].read() == b"hello from the seed"
        assert _client(services, "sqs").get_queue_url(QueueName="jobs")["QueueUrl"].endswith("/jobs")
        assert _client(services, "ssm").get_parameter(Name="/app/table")["Parameter"]["Value"] == "orders"
        assert json.loads(_client(services, "secretsmanager").get_secret_value(SecretId="db")["SecretString"]) == {"user": "app", "password": "pw"}

        # Another process's invoke uses serve's services, not its own.
        done = lambdatui("invoke", "calls-aws", "--config", str(config), "--event", "-", "--json", input='{"id": "from-cli"}', env=env, cwd=tmp_path, timeout=120)
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["payload"]["endpoint"] == url
        assert "Item" in ddb.get_item(TableName="orders", Key={"pk": {"S": "from-cli"}, "sk": {"S": "1"}})

        reset = lambdatui("aws-services", "reset", env=env, cwd=tmp_path, timeout=120)
        assert reset.returncode == 0, reset.stderr
        assert "Item" not in ddb.get_item(TableName="orders", Key={"pk": {"S": "from-cli"}, "sk": {"S": "1"}})
        assert "Item" in ddb.get_item(TableName="orders", Key={"pk": {"S": "seeded"}, "sk": {"S": "1"}})
        assert [o["Key"] for o in _client(services, "s3").list_objects_v2(Bucket="uploads")["Contents"]] == ["hello.txt"]
    finally:
        serve.stop()
    gone = lambdatui("aws-services", "env", env=env, cwd=tmp_path)
    assert gone.returncode == 1
    assert "no AWS services are running" in gone.stderr and "Traceback" not in gone.stderr
    assert lambdatui("aws-services", "reset", env=env, cwd=tmp_path).returncode == 1


def test_a_second_ensure_reuses_the_running_services_and_a_dead_owner_is_replaced(tmp_path):
    first = EmbeddedServices.ensure(tmp_path / "state", "us-east-1")
    second = EmbeddedServices.ensure(tmp_path / "state", "us-east-1")
    assert second.endpoint.url == first.endpoint.url and not second.owner and first.owner
    second.close()  # not the owner: the services keep running
    first.endpoint.client("sqs").create_queue(QueueName="still-here")
    first.close()
    third = EmbeddedServices.ensure(tmp_path / "state", "us-east-1")
    try:
        assert third.owner
    finally:
        third.close()


BAD_SEEDS = [
    ("tables:\n  - name: orders\n    key: {pk: X}\n", 3, "tables[0].key.pk", "is not one of: S, N, B"),
    ("tables:\n  - name: orders\n    key: {pk: S}\n    items:\n      - {other: 1}\n", 5, "tables[0].items[0].pk", "required"),
    ("buckets:\n  - name: Bad_Bucket\n", 2, "buckets[0].name", "bucket name"),
    ("queues:\n  - name: q\n    fifo: true\n", 2, "queues[0].name", ".fifo"),
    ("parameters:\n  /p: {value: v, type: Secret}\n", 2, "parameters./p.type", "SecureString"),
    ("tabels: []\n", 1, "tabels", "did you mean 'tables'"),
    ("buckets:\n  - name: good-bucket\n    objects:\n      a.txt: {file: missing.txt}\n", 4, "buckets[0].objects.a.txt.file", "cannot read"),
]


@pytest.mark.parametrize(("text", "line", "key", "message"), BAD_SEEDS)
def test_a_bad_seed_names_the_file_line_and_key(tmp_path, text, line, key, message):
    path = tmp_path / "seed.yaml"
    path.write_text(text)
    with pytest.raises(SeedError) as caught:
        load_seed(path)
    assert f"{path}:{line}: {key}:" in str(caught.value)
    assert message in str(caught.value)


def test_a_bad_seed_stops_invoke_and_serve_with_one_line_and_exit_1(tmp_path):
    config = write_project(tmp_path, seed="tables:\n  - name: orders\n    stream: EVERYTHING\n    key: {pk: S}\n")
    env = cli_env(tmp_path / "state")
    for args in (("invoke", "calls-aws"), ("serve", "--port", "0", "--http-port", "0")):
        done = lambdatui(*args, "--config", str(config), env=env, cwd=tmp_path)
        assert done.returncode == 1, (args, done.stderr)
        assert f"{tmp_path / 'seed.yaml'}:3: tables[0].stream: 'EVERYTHING' is not one of" in done.stderr
        assert "Traceback" not in done.stderr


def test_without_moto_installed_the_flag_is_one_error_naming_the_extra(tmp_path, monkeypatch, capsys):
    import lambdatui.aws_services as services
    from lambdatui.cli.main import main

    config = write_project(tmp_path, seed=None, aws_services="false")
    monkeypatch.setattr(services, "_REQUIRED_MODULES", ("moto", "lambdatui_no_such_module"))
    assert main(["invoke", "calls-aws", "--config", str(config), "--aws-services"]) == 1
    err = capsys.readouterr().err
    assert "pip install 'lambdatui[aws-services]'" in err and err.count("\n") == 1
    with pytest.raises(ServicesError):
        EmbeddedServices.ensure(tmp_path / "state", "us-east-1")
