"""The seed file (`local.aws_services.seed`): the tables, buckets, queues, parameters and secrets the
embedded AWS services start with, and return to on `lambdatui aws-services reset`.

```yaml
tables:
  - name: orders
    key: {pk: S, sk: S}            # partition key, then sort key; S, N or B. Or AWS's shape:
                                   # KeySchema: [...] and AttributeDefinitions: [...]
    stream: NEW_AND_OLD_IMAGES     # NEW_IMAGE, OLD_IMAGE, KEYS_ONLY; none when left out
    items:
      - {pk: "a", sk: "1", total: 12.5, tags: [x, y]}   # plain YAML values, typed as boto3 types them
buckets:
  - name: uploads
    objects:
      hello.txt: "some text"
      photo.jpg: {file: photo.jpg}   # a file, relative to the seed file's folder
queues:
  - name: jobs
  - name: events.fifo
    fifo: true                     # a FIFO queue's name ends in .fifo, as on AWS
parameters:
  /app/table: orders
  /app/api-key: {value: s3cret, type: SecureString}   # String (default), StringList, SecureString
secrets:
  db: "a string"
  api: {user: app, password: pw}   # a mapping is stored as its JSON
```

Read whole at start (`load_seed`), so a mistake is one error naming the file, line and key before
anything listens; applied (`Seed.apply`) through the services' own API with boto3, the way a user's
script would create them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from ..yaml_nodes import ConfigError, NodeReader, is_null

__all__ = ["Seed", "SeedError", "load_seed"]

STREAM_VIEW_TYPES = ("NEW_AND_OLD_IMAGES", "NEW_IMAGE", "OLD_IMAGE", "KEYS_ONLY")
KEY_TYPES = ("S", "N", "B")
PARAMETER_TYPES = ("String", "StringList", "SecureString")
# AWS's naming rules (CreateTable, CreateBucket, CreateQueue, PutParameter, CreateSecret).
TABLE_NAME = re.compile(r"[a-zA-Z0-9_.-]{3,255}")
BUCKET_NAME = re.compile(r"(?!xn--)(?!.*\.\.)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
QUEUE_NAME = re.compile(r"[a-zA-Z0-9_-]{1,80}")
PARAMETER_NAME = re.compile(r"[a-zA-Z0-9_.\-/]{1,2048}")
SECRET_NAME = re.compile(r"[a-zA-Z0-9/_+=.@-]{1,512}")


_PYTHON_TYPES: dict[str, type | tuple[type, ...]] = {"S": str, "N": (int, float), "B": bytes}


class SeedError(Exception):
    """The seed file is wrong (located: file:line: key: message), or the services refused part of it."""


@dataclass
class Table:
    name: str
    key_schema: list[dict[str, str]]
    attributes: list[dict[str, str]]
    stream: str | None
    items: list[dict[str, Any]]
    line: int


@dataclass
class Bucket:
    name: str
    objects: dict[str, bytes]
    line: int


@dataclass
class Queue:
    name: str
    fifo: bool
    line: int


@dataclass
class Seed:
    path: Path
    tables: list[Table] = field(default_factory=list)
    buckets: list[Bucket] = field(default_factory=list)
    queues: list[Queue] = field(default_factory=list)
    parameters: dict[str, tuple[str, str, int]] = field(default_factory=dict)  # name -> (value, type, line)
    secrets: dict[str, tuple[str, int]] = field(default_factory=dict)  # name -> (string, line)

    def apply(self, endpoint: Any, extra_headers: dict[str, str] | None = None) -> None:
        """Create everything through `endpoint` (a ServicesEndpoint). SeedError names the entry the
        services refused."""
        from botocore.exceptions import BotoCoreError, ClientError

        def client(service: str) -> Any:
            c = endpoint.client(service)
            if extra_headers:
                def add(request: Any, **_: Any) -> None:
                    for k, v in extra_headers.items():
                        request.headers[k] = v

                c.meta.events.register("before-sign", add)
            return c

        where = (0, "")
        try:
            if self.tables:
                from boto3.dynamodb.types import TypeSerializer

                ddb = client("dynamodb")
                serializer = TypeSerializer()
                for t in self.tables:
                    where = (t.line, f"tables.{t.name}")
                    spec: dict[str, Any] = {
                        "TableName": t.name, "KeySchema": t.key_schema, "AttributeDefinitions": t.attributes,
                        "BillingMode": "PAY_PER_REQUEST",
                    }
                    if t.stream:
                        spec["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": t.stream}
                    ddb.create_table(**spec)
                    for start in range(0, len(t.items), 25):  # BatchWriteItem's limit
                        batch = [{"PutRequest": {"Item": {k: serializer.serialize(v) for k, v in item.items()}}} for item in t.items[start : start + 25]]
                        ddb.batch_write_item(RequestItems={t.name: batch})
            if self.buckets:
                s3 = client("s3")
                for b in self.buckets:
                    where = (b.line, f"buckets.{b.name}")
                    if endpoint.region == "us-east-1":
                        s3.create_bucket(Bucket=b.name)
                    else:
                        s3.create_bucket(Bucket=b.name, CreateBucketConfiguration={"LocationConstraint": endpoint.region})
                    for key, body in b.objects.items():
                        s3.put_object(Bucket=b.name, Key=key, Body=body)
            if self.queues:
                sqs = client("sqs")
                for q in self.queues:
                    where = (q.line, f"queues.{q.name}")
                    sqs.create_queue(QueueName=q.name, Attributes={"FifoQueue": "true"} if q.fifo else {})
            if self.parameters:
                ssm = client("ssm")
                for name, (value, kind, line) in self.parameters.items():
                    where = (line, f"parameters.{name}")
                    ssm.put_parameter(Name=name, Value=value, Type=kind, Overwrite=True)
            if self.secrets:
                sm = client("secretsmanager")
                for name, (text, line) in self.secrets.items():
                    where = (line, f"secrets.{name}")
                    sm.create_secret(Name=name, SecretString=text)
        except (BotoCoreError, ClientError) as e:
            raise SeedError(str(ConfigError(f"the services refused it: {e}", self.path, where[0] or None, where[1] or None))) from None


def load_seed(path: Path) -> Seed:
    """The seed file at `path`, checked; SeedError names the file, line and key at fault."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise SeedError(f"{path}: cannot read the seed file: {e.strerror or e}") from None
    except UnicodeDecodeError as e:
        raise SeedError(f"{path}: not UTF-8 text (byte {e.start})") from None
    try:
        return _parse(text, path)
    except ConfigError as e:
        raise SeedError(str(e)) from None


def _parse(text: str, path: Path) -> Seed:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        raise ConfigError(f"YAML syntax error: {e.problem or e.context}", path, mark.line + 1 if mark else None) from None
    except yaml.YAMLError as e:
        raise ConfigError(f"YAML error: {e}", path) from None
    seed = Seed(path=path)
    if root is None or is_null(root):
        return seed
    v = NodeReader(path)
    top = v.mapping(root, "seed")
    v.only_keys(top, ("tables", "buckets", "queues", "parameters", "secrets"), "")
    if "tables" in top and not is_null(top["tables"]):
        for i, node in enumerate(v.sequence(top["tables"], "tables")):
            seed.tables.append(_table(v, node, f"tables[{i}]"))
        _unique(v, [(t.name, n) for t, n in zip(seed.tables, top["tables"].value)], "tables", "table")
    if "buckets" in top and not is_null(top["buckets"]):
        for i, node in enumerate(v.sequence(top["buckets"], "buckets")):
            seed.buckets.append(_bucket(v, node, f"buckets[{i}]", path.parent))
        _unique(v, [(b.name, n) for b, n in zip(seed.buckets, top["buckets"].value)], "buckets", "bucket")
    if "queues" in top and not is_null(top["queues"]):
        for i, node in enumerate(v.sequence(top["queues"], "queues")):
            seed.queues.append(_queue(v, node, f"queues[{i}]"))
        _unique(v, [(q.name, n) for q, n in zip(seed.queues, top["queues"].value)], "queues", "queue")
    if "parameters" in top and not is_null(top["parameters"]):
        params = v.mapping(top["parameters"], "parameters")
        for name, node in params.items():
            key = f"parameters.{name}"
            if not PARAMETER_NAME.fullmatch(name):
                v.fail(v.key_nodes[id(params)][name], key, "a parameter name is 1-2048 letters, digits and _.-/")
            if isinstance(node, yaml.MappingNode):
                m = v.mapping(node, key)
                v.only_keys(m, ("value", "type"), key + ".")
                if "value" not in m:
                    v.fail(node, key + ".value", "is required")
                kind = v.choice(m["type"], key + ".type", PARAMETER_TYPES) if "type" in m else "String"
                value = v.scalar_str(m["value"], key + ".value")
            else:
                kind, value = "String", v.scalar_str(node, key)
            if not value:
                v.fail(node, key, "a parameter's value cannot be empty")
            seed.parameters[name] = (value, kind, node.start_mark.line + 1)
    if "secrets" in top and not is_null(top["secrets"]):
        secret_map = v.mapping(top["secrets"], "secrets")
        for name, node in secret_map.items():
            key = f"secrets.{name}"
            if not SECRET_NAME.fullmatch(name):
                v.fail(v.key_nodes[id(secret_map)][name], key, "a secret name is 1-512 letters, digits and /_+=.@-")
            if isinstance(node, yaml.MappingNode):
                text = json.dumps(v.value(node), default=str)
            else:
                text = v.scalar_str(node, key)
            seed.secrets[name] = (text, node.start_mark.line + 1)
    return seed


def _unique(v: NodeReader, named: list[tuple[str, yaml.Node]], key: str, what: str) -> None:
    seen: set[str] = set()
    for i, (name, node) in enumerate(named):
        if name in seen:
            v.fail(node, f"{key}[{i}].name", f"another {what} is named {name!r}")
        seen.add(name)


def _table(v: NodeReader, node: yaml.Node, key: str) -> Table:
    m = v.mapping(node, key)
    v.only_keys(m, ("name", "key", "KeySchema", "AttributeDefinitions", "stream", "items"), key + ".")
    if "name" not in m:
        v.fail(node, key + ".name", "is required")
    name = v.string(m["name"], key + ".name")
    if not TABLE_NAME.fullmatch(name):
        v.fail(m["name"], key + ".name", f"{name!r}: a table name is 3-255 letters, digits and _.-")
    if "key" in m and ("KeySchema" in m or "AttributeDefinitions" in m):
        v.fail(m["key"], key + ".key", "give key: or KeySchema:/AttributeDefinitions:, not both")
    schema: list[dict[str, str]] = []
    attributes: list[dict[str, str]] = []
    types: dict[str, str] = {}
    if "key" in m:
        km = v.mapping(m["key"], key + ".key")
        if not 1 <= len(km) <= 2:
            v.fail(m["key"], key + ".key", "names the partition key, and optionally the sort key: {pk: S, sk: S}")
        for (attr, tnode), role in zip(km.items(), ("HASH", "RANGE")):
            kind = v.choice(tnode, f"{key}.key.{attr}", KEY_TYPES)
            schema.append({"AttributeName": attr, "KeyType": role})
            attributes.append({"AttributeName": attr, "AttributeType": kind})
            types[attr] = kind
    elif "KeySchema" in m:
        for i, snode in enumerate(v.sequence(m["KeySchema"], key + ".KeySchema")):
            sm = v.mapping(snode, f"{key}.KeySchema[{i}]")
            v.only_keys(sm, ("AttributeName", "KeyType"), f"{key}.KeySchema[{i}].")
            for k in ("AttributeName", "KeyType"):
                if k not in sm:
                    v.fail(snode, f"{key}.KeySchema[{i}].{k}", "is required")
            schema.append({
                "AttributeName": v.string(sm["AttributeName"], f"{key}.KeySchema[{i}].AttributeName"),
                "KeyType": v.choice(sm["KeyType"], f"{key}.KeySchema[{i}].KeyType", ("HASH", "RANGE")),
            })
        if "AttributeDefinitions" not in m:
            v.fail(node, key + ".AttributeDefinitions", "is required with KeySchema")
        for i, anode in enumerate(v.sequence(m["AttributeDefinitions"], key + ".AttributeDefinitions")):
            am = v.mapping(anode, f"{key}.AttributeDefinitions[{i}]")
            v.only_keys(am, ("AttributeName", "AttributeType"), f"{key}.AttributeDefinitions[{i}].")
            for k in ("AttributeName", "AttributeType"):
                if k not in am:
                    v.fail(anode, f"{key}.AttributeDefinitions[{i}].{k}", "is required")
            attr = v.string(am["AttributeName"], f"{key}.AttributeDefinitions[{i}].AttributeName")
            types[attr] = v.choice(am["AttributeType"], f"{key}.AttributeDefinitions[{i}].AttributeType", KEY_TYPES)
            attributes.append({"AttributeName": attr, "AttributeType": types[attr]})
        roles = [s["KeyType"] for s in schema]
        if roles not in (["HASH"], ["HASH", "RANGE"]):
            v.fail(m["KeySchema"], key + ".KeySchema", "is one HASH key, optionally followed by one RANGE key")
        for s in schema:
            if s["AttributeName"] not in types:
                v.fail(m["AttributeDefinitions"], key + ".AttributeDefinitions", f"has no type for the key {s['AttributeName']!r}")
    else:
        v.fail(node, key + ".key", "is required: the partition key and optional sort key with their types, e.g. {pk: S, sk: S}")
    stream = v.choice(m["stream"], key + ".stream", STREAM_VIEW_TYPES) if "stream" in m and not is_null(m["stream"]) else None
    items: list[dict[str, Any]] = []
    if "items" in m and not is_null(m["items"]):
        for i, inode in enumerate(v.sequence(m["items"], key + ".items")):
            ik = f"{key}.items[{i}]"
            v.mapping(inode, ik)
            item = v.value(inode)
            for s in schema:
                attr = s["AttributeName"]
                value = item.get(attr)
                expected = _PYTHON_TYPES[types[attr]]
                if value is None or isinstance(value, bool) or not isinstance(value, expected):
                    v.fail(inode, f"{ik}.{attr}", f"the key attribute is required, of type {types[attr]}")
            items.append(_dynamo_values(item))
    return Table(name, schema, attributes, stream, items, node.start_mark.line + 1)


def _dynamo_values(value: Any) -> Any:
    """YAML values as boto3's TypeSerializer takes them: numbers as Decimal (it refuses floats), and
    dates (YAML reads 2024-01-01 as one) as text."""
    if isinstance(value, bool) or value is None or isinstance(value, (str, bytes)):
        return value
    if isinstance(value, (int, float)):
        return Decimal(str(value))
    if isinstance(value, dict):
        return {str(k): _dynamo_values(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_dynamo_values(v) for v in value]
    return str(value)


def _bucket(v: NodeReader, node: yaml.Node, key: str, base: Path) -> Bucket:
    m = v.mapping(node, key)
    v.only_keys(m, ("name", "objects"), key + ".")
    if "name" not in m:
        v.fail(node, key + ".name", "is required")
    name = v.string(m["name"], key + ".name")
    if not BUCKET_NAME.fullmatch(name):
        v.fail(m["name"], key + ".name", f"{name!r}: a bucket name is 3-63 lower-case letters, digits, dots and hyphens")
    objects: dict[str, bytes] = {}
    if "objects" in m and not is_null(m["objects"]):
        om = v.mapping(m["objects"], key + ".objects")
        for object_key, onode in om.items():
            ok = f"{key}.objects.{object_key}"
            if isinstance(onode, yaml.MappingNode):
                fm = v.mapping(onode, ok)
                v.only_keys(fm, ("file",), ok + ".")
                if "file" not in fm:
                    v.fail(onode, ok + ".file", "is required (or give the object's text)")
                rel = v.string(fm["file"], ok + ".file")
                try:
                    objects[object_key] = (base / rel).read_bytes()
                except OSError as e:
                    v.fail(fm["file"], ok + ".file", f"cannot read {rel!r} (looked for {(base / rel).resolve()}): {e.strerror or e}")
            else:
                objects[object_key] = v.scalar_str(onode, ok).encode("utf-8")
    return Bucket(name, objects, node.start_mark.line + 1)


def _queue(v: NodeReader, node: yaml.Node, key: str) -> Queue:
    m = v.mapping(node, key)
    v.only_keys(m, ("name", "fifo"), key + ".")
    if "name" not in m:
        v.fail(node, key + ".name", "is required")
    name = v.string(m["name"], key + ".name")
    fifo = v.boolean(m["fifo"], key + ".fifo") if "fifo" in m else name.endswith(".fifo")
    base = name[: -len(".fifo")] if name.endswith(".fifo") else name
    if not QUEUE_NAME.fullmatch(base):
        v.fail(m["name"], key + ".name", f"{name!r}: a queue name is 1-80 letters, digits, hyphens and underscores")
    if fifo != name.endswith(".fifo"):
        v.fail(m["name"], key + ".name", "a FIFO queue's name ends in .fifo, and only a FIFO queue's does (as on AWS)")
    return Queue(name, fifo, node.start_mark.line + 1)
