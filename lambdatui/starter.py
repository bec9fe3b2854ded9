"""New projects and new functions: `lambdatui init` and `lambdatui new` (and the palette's "New
function").

`init` writes a starter project: a `lambdatui.yaml` whose comments explain every key, a
hello-world in the chosen runtime plus a Python and a Node.js function, a saved event per
function and a `.gitignore`. `new` adds one function to an existing configuration: a folder with
a handler for the runtime and template, a saved event, and an entry in the file written with the
comment-preserving writer (`config_writer.add_function_to_file`). Neither ever overwrites a file
it did not create unless asked (`force`), and each names what is in the way.
"""

from __future__ import annotations

import json
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from .config_writer import add_function_to_file
from .eventtemplates import template_text
from .yaml_nodes import ConfigError

INIT_RUNTIMES = ("python3.12", "nodejs20.x", "provided.al2023")
TEMPLATES = ("hello", "api", "sqs", "s3", "schedule")
# The event each template's function is first invoked with (an `eventtemplates` id; None: a small JSON).
_TEMPLATE_EVENTS = {"hello": None, "api": "apigateway-http", "sqs": "sqs", "s3": "s3-put", "schedule": "eventbridge-scheduled"}


class StarterError(Exception):
    """Files in the way, or a name or runtime that cannot be used: one line for the user."""


@dataclass(frozen=True)
class Written:
    path: Path
    what: str


def family(runtime: str) -> str:
    if runtime.startswith("python"):
        return "python"
    if runtime.startswith("nodejs"):
        return "node"
    if runtime.startswith("provided"):
        return "provided"
    raise StarterError(f"{runtime} has no starter handler (python3.x, nodejs*.x or provided.*)")


# -- handlers -------------------------------------------------------------------------------------

_PYTHON = {
    "hello": '''"""{name}: says hello. `lambdatui invoke {name}`, or ctrl+r in the dashboard."""

import json
import os


def lambda_handler(event, context):
    who = event.get("name", "world") if isinstance(event, dict) else "world"
    greeting = os.environ.get("GREETING", "Hello")
    print(f"{{greeting}}, {{who}}! (request {{context.aws_request_id}})")
    return {{"statusCode": 200, "body": json.dumps({{"message": f"{{greeting}}, {{who}}!"}})}}
''',
    "api": '''"""{name}: an HTTP API (API Gateway payload 2.0) handler."""

import json


def lambda_handler(event, context):
    method = event.get("requestContext", {{}}).get("http", {{}}).get("method", "GET")
    path = event.get("rawPath", "/")
    return {{
        "statusCode": 200,
        "headers": {{"content-type": "application/json"}},
        "body": json.dumps({{"method": method, "path": path, "query": event.get("queryStringParameters") or {{}}}}),
    }}
''',
    "sqs": '''"""{name}: an SQS consumer reporting partial batch failures (ReportBatchItemFailures)."""

import json


def lambda_handler(event, context):
    failures = []
    for record in event.get("Records", []):
        try:
            body = json.loads(record["body"])
            print("processing", record["messageId"], body)
        except ValueError:
            failures.append({{"itemIdentifier": record["messageId"]}})
    return {{"batchItemFailures": failures}}
''',
    "s3": '''"""{name}: handles S3 object notifications."""

from urllib.parse import unquote_plus


def lambda_handler(event, context):
    for record in event.get("Records", []):
        bucket = record["s3"]["bucket"]["name"]
        key = unquote_plus(record["s3"]["object"]["key"])
        print(f"{{record['eventName']}}: s3://{{bucket}}/{{key}}")
    return {{"processed": len(event.get("Records", []))}}
''',
    "schedule": '''"""{name}: runs on an EventBridge schedule."""


def lambda_handler(event, context):
    print("scheduled run at", event.get("time"), "for", event.get("resources"))
    return {{"ok": True}}
''',
}

_NODE = {
    "hello": '''// {name}: says hello. `lambdatui invoke {name}`, or ctrl+r in the dashboard.
export const handler = async (event, context) => {{
  const who = event?.name ?? "world";
  const greeting = process.env.GREETING ?? "Hello";
  console.log(`${{greeting}}, ${{who}}! (request ${{context.awsRequestId}})`);
  return {{ statusCode: 200, body: JSON.stringify({{ message: `${{greeting}}, ${{who}}!` }}) }};
}};
''',
    "api": '''// {name}: an HTTP API (API Gateway payload 2.0) handler.
export const handler = async (event) => ({{
  statusCode: 200,
  headers: {{ "content-type": "application/json" }},
  body: JSON.stringify({{
    method: event.requestContext?.http?.method ?? "GET",
    path: event.rawPath ?? "/",
    query: event.queryStringParameters ?? {{}},
  }}),
}});
''',
    "sqs": '''// {name}: an SQS consumer reporting partial batch failures (ReportBatchItemFailures).
export const handler = async (event) => {{
  const batchItemFailures = [];
  for (const record of event.Records ?? []) {{
    try {{
      console.log("processing", record.messageId, JSON.parse(record.body));
    }} catch {{
      batchItemFailures.push({{ itemIdentifier: record.messageId }});
    }}
  }}
  return {{ batchItemFailures }};
}};
''',
    "s3": '''// {name}: handles S3 object notifications.
export const handler = async (event) => {{
  for (const record of event.Records ?? []) {{
    const key = decodeURIComponent(record.s3.object.key.replace(/\\+/g, " "));
    console.log(`${{record.eventName}}: s3://${{record.s3.bucket.name}}/${{key}}`);
  }}
  return {{ processed: (event.Records ?? []).length }};
}};
''',
    "schedule": '''// {name}: runs on an EventBridge schedule.
export const handler = async (event) => {{
  console.log("scheduled run at", event.time, "for", event.resources);
  return {{ ok: true }};
}};
''',
}

# AWS's custom-runtime tutorial bootstrap, in POSIX sh (no `pipefail`: /bin/sh is not always bash).
_BOOTSTRAP = '''#!/bin/sh
# {name}: a custom runtime (provided.al2023). Lambda runs this file; it asks the Runtime API for
# the next event and posts the answer, forever. See "Building a custom runtime" in AWS's docs.
set -eu
while true; do
  HEADERS="$(mktemp)"
  EVENT_DATA=$(curl -sS -LD "$HEADERS" "http://${{AWS_LAMBDA_RUNTIME_API}}/2018-06-01/runtime/invocation/next")
  REQUEST_ID=$(grep -Fi Lambda-Runtime-Aws-Request-Id "$HEADERS" | tr -d '[:space:]' | cut -d: -f2)
  RESPONSE="{{\\"message\\": \\"Hello from a custom runtime\\", \\"event\\": $EVENT_DATA}}"
  curl -sS -X POST "http://${{AWS_LAMBDA_RUNTIME_API}}/2018-06-01/runtime/invocation/$REQUEST_ID/response" -d "$RESPONSE" > /dev/null
  rm -f "$HEADERS"
done
'''


@dataclass(frozen=True)
class FunctionFiles:
    """A function's handler file(s) and settings, before they are written."""

    files: dict[str, str]  # file name in the function's folder -> text
    handler: str
    executable: tuple[str, ...] = ()


def function_files(name: str, runtime: str, template: str = "hello") -> FunctionFiles:
    if template not in TEMPLATES:
        raise StarterError(f"no template {template!r} (one of: {', '.join(TEMPLATES)})")
    kind = family(runtime)
    if kind == "python":
        return FunctionFiles({"app.py": _PYTHON[template].format(name=name)}, "app.lambda_handler")
    if kind == "node":
        return FunctionFiles({"index.mjs": _NODE[template].format(name=name)}, "index.handler")
    if template != "hello":
        raise StarterError(f"a custom runtime ({runtime}) has only the hello template")
    return FunctionFiles({"bootstrap": _BOOTSTRAP.format(name=name)}, "function.handler", executable=("bootstrap",))


def first_event(name: str, template: str) -> str:
    event_id = _TEMPLATE_EVENTS.get(template)
    if event_id is None:
        return json.dumps({"name": name.replace("-", " ")}, indent=2) + "\n"
    return template_text(event_id)


# -- init -----------------------------------------------------------------------------------------

_CONFIG = """\
# lambdatui project: the functions below run on this machine with Lambda's semantics.
# `lambdatui` opens the dashboard; `lambdatui invoke NAME`, `list`, `logs NAME`, `serve` work headless.
# Every key is described in lambdatui's README (Configuration reference).

backend: local          # where functions run: local (this machine) or aws (your account, see `aws:`)

aws:                    # used with `--backend aws` and by `lambdatui deploy`
  profile: null         # an AWS CLI profile (null: AWS_PROFILE or the default chain)
  region: null          # null: AWS_REGION, AWS_DEFAULT_REGION, the profile's region, else us-east-1
  endpoint_url: null    # another Lambda API (LocalStack, moto, `lambdatui serve`)
  read_only: false      # true: no edits, deploys or power tuning against this account

local:
  region: us-east-1             # what functions see as AWS_REGION
  account_id: "123456789012"    # used in ARNs the functions see
  keep_warm_seconds: 600        # an idle execution environment is reaped after this
  functions:
{functions}
"""

_FUNCTION = """\
    {name}:
      runtime: {runtime}{runtime_note}
      handler: {handler}{handler_note}
      code: functions/{name}{code_note}
      memory_size: 128          # MB, 128-10240; CPU grows with it (1,769 MB = 1 vCPU)
      timeout: 3                # seconds, 1-900
      architecture: x86_64      # x86_64 or arm64 (priced differently)
      environment: {{GREETING: Hello}}   # what the handler sees in os.environ / process.env
      reserved_concurrency: null        # at most this many at once (0: always throttled)
      provisioned_concurrency: 0        # environments initialised ahead of time, never cold
      async: {{maximum_retry_attempts: 2, maximum_event_age_seconds: 21600, on_failure: null}}   # Event invokes: retries 0-2, kept 60-21600 s, failures to a local queue
      description: {description}
"""


def init_project(folder: Path, runtime: str = "python3.12", force: bool = False) -> list[Written]:
    """Write a starter project into `folder`; refuses to overwrite files unless `force`."""
    if runtime not in INIT_RUNTIMES:
        raise StarterError(f"--runtime must be one of {', '.join(INIT_RUNTIMES)}, not {runtime!r}")
    functions = [("hello-world", runtime, "Says hello (the starter function)")]
    if family(runtime) != "python":
        functions.append(("hello-python", "python3.12", "Says hello, in Python"))
    if family(runtime) != "node":
        functions.append(("hello-node", "nodejs20.x", "Says hello, in Node.js"))
    files: dict[Path, tuple[str, bool]] = {}  # path -> (text, executable)
    entries = []
    for i, (name, rt, description) in enumerate(functions):
        made = function_files(name, rt)
        for file_name, text in made.files.items():
            files[folder / "functions" / name / file_name] = (text, file_name in made.executable)
        files[folder / "events" / name / "hello.json"] = (first_event(name, "hello"), False)
        entry = _FUNCTION.format(
            name=name, runtime=rt, handler=made.handler, description=json.dumps(description),
            runtime_note="        # python3.x, nodejs*.x, provided.al2023 ...",
            handler_note="  # file.function the runtime calls",
            code_note="  # the folder with the handler, relative to this file",
        )
        if i:  # the first function's comments explain the keys; the others need not repeat them
            entry = re.sub(r" +#[^\n]*", "", entry)
        entries.append(entry)
    files[folder / "lambdatui.yaml"] = (_CONFIG.format(functions="".join(entries).rstrip("\n")), False)
    files[folder / ".gitignore"] = (
        "# lambdatui: screenshots (F9), caches; saved events (events/) are meant to be committed\n"
        "lambdatui-*.svg\n__pycache__/\nnode_modules/\n.aws-sam/\n",
        False,
    )
    in_the_way = sorted(p for p in files if p.exists())
    if in_the_way and not force:
        names = ", ".join(str(p.relative_to(folder)) for p in in_the_way)
        raise StarterError(f"{folder} already has {names}: nothing was written (--force overwrites them)")
    written = []
    for path, (text, executable) in files.items():
        _write(path, text, executable)
        written.append(Written(path, "replaced" if path in in_the_way else "created"))
    return written


def _write(path: Path, text: str, executable: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    if executable:
        path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


# -- new ------------------------------------------------------------------------------------------


def new_function(config_path: Path, name: str, runtime: str, template: str = "hello") -> list[Written]:
    """Add function `name` to the configuration at `config_path`: `functions/NAME/` beside it with
    a handler, a saved event, and the entry in the file (comments and order kept)."""
    from .config import FUNCTION_NAME_PATTERN, validate_function_field

    if not FUNCTION_NAME_PATTERN.fullmatch(name):
        raise StarterError(f"{name!r} is not a function name (1-64 letters, digits, hyphens or underscores)")
    try:
        validate_function_field("runtime", runtime)
    except ValueError as e:
        raise StarterError(f"--runtime: {e}") from None
    made = function_files(name, runtime, template)
    base = config_path.parent
    code = base / "functions" / name
    if code.exists():
        raise StarterError(f"{code} already exists: choose another name, or add it to {config_path.name} by hand")
    event = base / "events" / name / f"{template}.json"
    settings = {
        "runtime": runtime,
        "handler": made.handler,
        "code": f"functions/{name}",
        "memory_size": 128,
        "timeout": 3,
        "description": f"{template} ({runtime})",
    }
    for file_name, text in made.files.items():
        _write(code / file_name, text, file_name in made.executable)
    try:
        add_function_to_file(config_path, name, settings)
    except ConfigError:
        for file_name in made.files:  # the entry could not be added: leave nothing half-made behind
            (code / file_name).unlink(missing_ok=True)
        code.rmdir()
        raise
    if not event.exists():
        _write(event, first_event(name, template))
    return [Written(code, "created"), Written(event, "created"), Written(config_path, f"added {name}")]
