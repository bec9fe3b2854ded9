"""A Node.js handler using the AWS SDK for JavaScript v3 (@aws-sdk/client-dynamodb) reaches the
embedded services with no code change (AWS_ENDPOINT_URL, the credentials, the region). The package
is installed beforehand, never by the test: `.ci/run` runs
`npm install --prefix .cache/node-aws-sdk @aws-sdk/client-dynamodb` where npm exists."""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path

import pytest

from .support import cli_env, lambdatui

REPO = Path(__file__).resolve().parents[2]
SDK = REPO / ".cache" / "node-aws-sdk" / "node_modules"

HANDLER = """\
const { DynamoDBClient, PutItemCommand, GetItemCommand } = require("@aws-sdk/client-dynamodb");
const client = new DynamoDBClient({});
exports.handler = async (event) => {
  await client.send(new PutItemCommand({ TableName: "orders", Item: { pk: { S: event.id }, note: { S: "from node" } } }));
  const got = await client.send(new GetItemCommand({ TableName: "orders", Key: { pk: { S: event.id } } }));
  return { note: got.Item.note.S };
};
"""


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
@pytest.mark.skipif(not (SDK / "@aws-sdk" / "client-dynamodb").is_dir(), reason=f"@aws-sdk/client-dynamodb is not pre-installed in {SDK} (.ci/run installs it where npm exists)")
def test_a_nodejs_handler_using_the_aws_sdk_v3_puts_and_gets_an_item_offline(tmp_path):
    code = tmp_path / "node-fn"
    code.mkdir()
    (code / "index.js").write_text(HANDLER)
    (code / "node_modules").symlink_to(SDK, target_is_directory=True)
    (tmp_path / "seed.yaml").write_text("tables:\n  - name: orders\n    key: {pk: S}\n")
    (tmp_path / "lambdatui.yaml").write_text(textwrap.dedent("""\
        local:
          aws_services: {seed: seed.yaml}
          functions:
            node-fn: {runtime: nodejs20.x, handler: index.handler, code: node-fn, timeout: 60}
        """))
    done = lambdatui(
        "invoke", "node-fn", "--config", str(tmp_path / "lambdatui.yaml"), "--event", "-", "--json",
        input='{"id": "n1"}', env=cli_env(tmp_path / "state"), cwd=tmp_path, timeout=120,
    )
    assert done.returncode == 0, done.stderr + done.stdout
    assert json.loads(done.stdout)["payload"] == {"note": "from node"}, done.stdout
