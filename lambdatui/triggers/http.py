"""`type: http`: a route of the local API Gateway that `serve` answers on its HTTP port.

The trigger only declares the route; starting it adds the route to the host's route table, and
`serve`'s HTTP server (lambdatui.serve.http_triggers) answers every route registered.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from .base import Running, Trigger, TriggerHost, TriggerWhere

if TYPE_CHECKING:
    import yaml

    from ..yaml_nodes import NodeReader

HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY")
PAYLOAD_FORMATS = ("1.0", "2.0")


def http_url(host: str, port: int, path: str) -> str:
    """Where a route is served, as a client would write it: a wildcard bind is reached on loopback."""
    if host in ("", "0.0.0.0"):
        host = "127.0.0.1"
    elif host == "::":
        host = "[::1]"
    elif ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}{path}"


@dataclass(frozen=True)
class HttpTrigger(Trigger):
    type: ClassVar[str] = "http"
    keys: ClassVar[tuple[str, ...]] = ("type", "path", "method", "payload_format")

    path: str
    method: str = "ANY"
    payload_format: str = "2.0"

    @classmethod
    def parse(cls, reader: NodeReader, mapping: dict[str, yaml.Node], node: yaml.Node, key: str, base_dir: Path) -> HttpTrigger:
        m, v = mapping, reader
        if "path" not in m:
            v.fail(node, f"{key}.path", "is required (e.g. /items/{id})")
        path = v.string(m["path"], f"{key}.path")
        if not path.startswith("/"):
            v.fail(m["path"], f"{key}.path", f"{path!r} must start with /")
        method = str(v.value(m["method"])).upper() if "method" in m else "ANY"
        if method not in HTTP_METHODS:
            v.fail(m["method"], f"{key}.method", f"{method!r} is not one of: {', '.join(HTTP_METHODS)}")
        # str(): YAML reads an unquoted `payload_format: 2.0` as a float.
        payload_format = str(v.value(m["payload_format"])) if "payload_format" in m else "2.0"
        if payload_format not in PAYLOAD_FORMATS:
            v.fail(m["payload_format"], f"{key}.payload_format", f"{payload_format!r} is not one of: \"1.0\", \"2.0\"")
        return cls(path=path, method=method, payload_format=payload_format)

    def describe(self, where: TriggerWhere) -> str:
        return f"HTTP {self.method} http://{where.host}:{where.http_port}{self.path} (payload {self.payload_format})"

    def serve_line(self, function: str, running: Running | None, where: TriggerWhere) -> str:
        url = http_url(where.host, where.http_port, self.path)
        return f"HTTP         {self.method:<7} {url}  → {function} (payload {self.payload_format})"

    def start(self, function: str, host: TriggerHost) -> None:
        host.add_http_route(function, self.path, self.method, self.payload_format)
        return None
