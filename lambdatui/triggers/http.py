"""`type: http`: a route of the local API Gateway that `serve` answers on its HTTP port.

The trigger only declares the route; starting it adds the route to the host's route table, and
`serve`'s HTTP server (lambdatui.serve.http_triggers) answers every route registered.

A route answers cross-origin browsers only when it has a `cors:` mapping, the subset of SAM's
HttpApi `CorsConfiguration` that a local API needs: `allow_origins` (required; `"*"` or full
origins such as `http://localhost:5173`), `allow_methods`, `allow_headers` (`"*"` allowed in both)
and `max_age` (seconds, 0–86400 as API Gateway allows). Without it no CORS header is ever added.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from .base import Running, Trigger, TriggerHost, TriggerWhere

if TYPE_CHECKING:
    import yaml

    from ..yaml_nodes import NodeReader

HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY")
PAYLOAD_FORMATS = ("1.0", "2.0")
CORS_KEYS = ("allow_origins", "allow_methods", "allow_headers", "max_age")
CORS_MAX_AGE_S = 86400  # API Gateway's upper bound for an HTTP API's CORS maxAge
_ORIGIN = re.compile(r"https?://[^/\s?#]+")


@dataclass(frozen=True)
class HttpCors:
    """A route's CORS configuration (SAM HttpApi CorsConfiguration: AllowOrigins, AllowMethods,
    AllowHeaders, MaxAge)."""

    allow_origins: tuple[str, ...]
    allow_methods: tuple[str, ...] = ()
    allow_headers: tuple[str, ...] = ()
    max_age: int | None = None

    def allow_origin(self, origin: str | None) -> str | None:
        """The Access-Control-Allow-Origin for a request from `origin`, or None when it is not allowed."""
        if not origin:
            return None
        if "*" in self.allow_origins:
            return "*"
        return origin if origin.lower() in (o.lower() for o in self.allow_origins) else None

    @classmethod
    def from_mapping(cls, where: str, value: Any) -> HttpCors:
        """From the config's mapping; ValueError saying which key is wrong."""
        if not isinstance(value, dict):
            raise ValueError(f"{where}: must be a mapping with allow_origins (and allow_methods, allow_headers, max_age)")
        unknown = sorted(set(value) - set(CORS_KEYS))
        if unknown:
            raise ValueError(f"{where}.{unknown[0]}: unknown key (allowed: {', '.join(CORS_KEYS)})")

        def strings(key: str) -> tuple[str, ...]:
            items = value.get(key) or []
            if isinstance(items, str):
                items = [items]
            if not isinstance(items, list) or not all(isinstance(i, str) and i for i in items):
                raise ValueError(f"{where}.{key}: must be a list of text")
            return tuple(items)

        origins = strings("allow_origins")
        if not origins:
            raise ValueError(f"{where}.allow_origins: is required (\"*\" or origins such as http://localhost:5173)")
        for origin in origins:
            if origin != "*" and not _ORIGIN.fullmatch(origin):
                raise ValueError(f"{where}.allow_origins: {origin!r} is not \"*\" or an origin such as http://localhost:5173")
        methods = tuple(m.upper() for m in strings("allow_methods"))
        for method in methods:
            if method != "*" and method not in HTTP_METHODS[:-1]:
                raise ValueError(f"{where}.allow_methods: {method!r} is not \"*\" or one of: {', '.join(HTTP_METHODS[:-1])}")
        max_age = value.get("max_age")
        if max_age is not None and (isinstance(max_age, bool) or not isinstance(max_age, int) or not 0 <= max_age <= CORS_MAX_AGE_S):
            raise ValueError(f"{where}.max_age: {max_age!r} is outside 0–{CORS_MAX_AGE_S} seconds")
        return cls(origins, methods, strings("allow_headers"), max_age)


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
    keys: ClassVar[tuple[str, ...]] = ("type", "path", "method", "payload_format", "cors", "stage")

    path: str
    method: str = "ANY"
    payload_format: str = "2.0"
    cors: HttpCors | None = None
    # The API's stage in the events' requestContext (a SAM template's StageName); None: "Prod" for
    # payload 1.0 (SAM's implicit REST API), "$default" for 2.0.
    stage: str | None = None

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
        cors = None
        if "cors" in m:
            try:
                cors = HttpCors.from_mapping(f"{key}.cors", v.value(m["cors"]))
            except ValueError as e:
                where, _, message = str(e).partition(": ")
                v.fail(m["cors"], where, message)
        stage = v.string(m["stage"], f"{key}.stage") if "stage" in m else None
        return cls(path=path, method=method, payload_format=payload_format, cors=cors, stage=stage)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type, "path": self.path, "method": self.method, "payload_format": self.payload_format}
        if self.cors is not None:
            c = self.cors
            cors: dict[str, Any] = {"allow_origins": list(c.allow_origins)}
            if c.allow_methods:
                cors["allow_methods"] = list(c.allow_methods)
            if c.allow_headers:
                cors["allow_headers"] = list(c.allow_headers)
            if c.max_age is not None:
                cors["max_age"] = c.max_age
            out["cors"] = cors
        if self.stage is not None:
            out["stage"] = self.stage
        return out

    def describe(self, where: TriggerWhere) -> str:
        return f"HTTP {self.method} http://{where.host}:{where.http_port}{self.path} (payload {self.payload_format})"

    def serve_line(self, function: str, running: Running | None, where: TriggerWhere) -> str:
        url = http_url(where.host, where.http_port, self.path)
        return f"HTTP         {self.method:<7} {url}  → {function} (payload {self.payload_format})"

    def start(self, function: str, host: TriggerHost) -> None:
        stage = {"stage": self.stage} if self.stage is not None else {}  # hosts without stages still accept the rest
        host.add_http_route(function, self.path, self.method, self.payload_format, cors=self.cors, **stage)
        return None
