"""Embedded AWS services (`--aws-services`, `local.aws_services`): moto's server on 127.0.0.1, which
local functions, triggers, the user's scripts and the AWS CLI reach through `ServicesEndpoint`.

This module owns the services' lifetime and their sharing between processes. The dashboard, `serve`
and a CLI `invoke` on the same state folder use one set of services: the process that starts them
records `{url, pid}` in `<state>/aws-services.json` (0600, written whole under
`lambdatui.filelock`), beside the state folder's credentials, generated once at random; another
process reuses them when that pid is alive and the endpoint answers a signed health check, else it
starts its own. Services stop with the process that started them (`close`).

moto keeps everything in memory: nothing survives the process that started the services (moto 5
has no persistence, only a request recorder). The seed file (`seed.py`) is the way to a known
state; `reset` returns to it.

Where the server, the request guard and the signature check live: `server.py`, `sigv4.py`.
"""

from __future__ import annotations

import base64
import contextlib
import importlib.util
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..filelock import lock_file, temp_file

__all__ = ["EXTRA_HINT", "STATE_FILE", "EmbeddedServices", "ServicesEndpoint", "ServicesError", "running_endpoint"]

STATE_FILE = "aws-services.json"
EXTRA_HINT = "pip install 'lambdatui[aws-services]'"
HEALTH_TIMEOUT_S = 3.0
# What the server needs: moto's server extra brings flask, flask-cors and werkzeug.
_REQUIRED_MODULES = ("moto", "werkzeug", "flask", "flask_cors")


class ServicesError(Exception):
    """The AWS services cannot start or be reached: one line for the user, exit status 1."""


@dataclass(frozen=True)
class ServicesEndpoint:
    """Where the services listen, and the state folder's credentials for them."""

    url: str  # "http://127.0.0.1:PORT"
    region: str
    access_key_id: str
    secret_access_key: str
    session_token: str = ""

    def __repr__(self) -> str:  # the secret never shows in a log or a traceback
        return f"ServicesEndpoint(url={self.url!r}, region={self.region!r}, access_key_id={self.access_key_id!r})"

    def client(self, service: str, **kw: Any) -> Any:
        """A boto3 client for `service` at this endpoint, with its region and credentials. Retries
        and timeouts suit a server on loopback: a refused connection fails fast."""
        import boto3
        from botocore.config import Config

        config = Config(
            connect_timeout=2, read_timeout=30, retries={"mode": "standard", "max_attempts": 3},
            s3={"addressing_style": "path"},
            # SigV4 presigned URLs too (botocore presigns S3 with SigV2 in us-east-1 by default); the
            # services accept Signature Version 4 only.
            signature_version="s3v4" if service == "s3" else None,
        )
        if "config" in kw:
            config = config.merge(kw.pop("config"))
        session = boto3.session.Session(
            aws_access_key_id=self.access_key_id, aws_secret_access_key=self.secret_access_key,
            aws_session_token=self.session_token or None, region_name=self.region,
        )
        return session.client(service, endpoint_url=self.url, config=config, **kw)  # type: ignore[call-overload]

    def function_env(self) -> dict[str, str]:
        """What a function's environment gets so that its SDK (boto3, the AWS SDK for JavaScript v3,
        anything botocore-based) calls these services: AWS_ENDPOINT_URL, the credentials, the region."""
        env = {
            "AWS_ENDPOINT_URL": self.url,
            "AWS_ACCESS_KEY_ID": self.access_key_id,
            "AWS_SECRET_ACCESS_KEY": self.secret_access_key,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
        }
        if self.session_token:
            env["AWS_SESSION_TOKEN"] = self.session_token
        return env


def check_installed() -> None:
    """ServicesError naming the extra when moto's server is not installed."""
    missing = [m for m in _REQUIRED_MODULES if importlib.util.find_spec(m) is None]
    if missing:
        raise ServicesError(f"--aws-services needs moto's server ({', '.join(missing)} not installed): {EXTRA_HINT}")


class EmbeddedServices:
    """A running moto server: this process's own, or a handle on another process's."""

    def __init__(self, endpoint: ServicesEndpoint, state_dir: Path, server: Any = None) -> None:
        self.endpoint = endpoint
        self.state_dir = state_dir
        self._server = server  # a server.ServicesServer when this process started the services
        self._closed = False

    @property
    def owner(self) -> bool:
        """Whether this process started the services (and stops them on close)."""
        return self._server is not None

    @property
    def load_seconds(self) -> float | None:
        """How long moto's import, reset and seed took here, once done (None for another process's)."""
        return None if self._server is None else self._server.load_seconds

    @classmethod
    def ensure(cls, state_dir: Path, region: str, seed: Path | None = None, *, port: int = 0) -> EmbeddedServices:
        """The services of `state_dir`: another process's when they are running and answer, else
        new ones on 127.0.0.1:`port` (0: any free port) with the `seed` file applied on first use.

        ServicesError when moto's server is not installed, the seed file is wrong (file:line:
        key), or the port cannot be bound."""
        check_installed()
        from .seed import SeedError, load_seed

        try:
            parsed = load_seed(seed) if seed is not None else None
        except SeedError as e:
            raise ServicesError(str(e)) from None
        state_dir.mkdir(parents=True, exist_ok=True)
        path = state_dir / STATE_FILE
        _create_private(path)
        with lock_file(path):
            state = _read_state(path)
            credentials: dict[str, str] = state.get("credentials")  # type: ignore[assignment]
            if not _valid_credentials(credentials):
                credentials = _new_credentials()
                state = {"credentials": credentials}
            endpoint = ServicesEndpoint(
                url="", region=region, access_key_id=credentials["access_key_id"],
                secret_access_key=credentials["secret_access_key"], session_token=credentials["session_token"],
            )
            running = state.get("server")
            if isinstance(running, dict) and _alive(running.get("pid")) and isinstance(running.get("url"), str):
                other = ServicesEndpoint(running["url"], region, endpoint.access_key_id, endpoint.secret_access_key, endpoint.session_token)
                if _healthy(other, state_dir):
                    return cls(other, state_dir)
            from .server import ServicesServer

            try:
                server = ServicesServer(
                    port=port, access_key_id=endpoint.access_key_id, secret_access_key=endpoint.secret_access_key,
                    session_token=endpoint.session_token, region=region, state_dir=state_dir, seed=parsed,
                )
            except OSError as e:
                raise ServicesError(f"the AWS services cannot listen on 127.0.0.1:{port}: {e.strerror or e}") from None
            state["server"] = {"url": server.url, "pid": os.getpid()}
            _write_state(path, state)
        endpoint = ServicesEndpoint(server.url, region, endpoint.access_key_id, endpoint.secret_access_key, endpoint.session_token)
        return cls(endpoint, state_dir, server)

    def preload(self, wait: bool = False) -> None:
        """Load moto and apply the seed now rather than on the first request (services this process
        started; another process's are loaded already or load there). `wait`: here, raising
        ServicesError when the seed cannot be applied."""
        if self._server is not None:
            self._server.preload(wait=wait)

    def reset(self) -> None:
        """Back to the seed state: moto's reset, then the seed again (in whichever process runs them)."""
        if self._server is not None:
            self._server.reset()
            return
        _call(self.endpoint, "POST", "/lambdatui/reset", timeout=120)

    def close(self) -> None:
        """Stop the services if this process started them (and forget them in the state file)."""
        if self._closed:
            return
        self._closed = True
        if self._server is None:
            return
        path = self.state_dir / STATE_FILE
        try:
            with lock_file(path):
                state = _read_state(path)
                running = state.get("server")
                if isinstance(running, dict) and running.get("pid") == os.getpid() and running.get("url") == self.endpoint.url:
                    state.pop("server", None)
                    _write_state(path, state)
        except OSError:
            pass  # the state folder went away: nothing to forget
        self._server.close()


def running_endpoint(state_dir: Path, region: str) -> ServicesEndpoint | None:
    """The endpoint of the services running for `state_dir` (in any process), None when none answer:
    for `lambdatui aws-services env/reset`."""
    path = state_dir / STATE_FILE
    if not path.is_file():
        return None
    state = _read_state(path)
    credentials, running = state.get("credentials"), state.get("server")
    if not _valid_credentials(credentials) or not isinstance(running, dict) or not _alive(running.get("pid")):
        return None
    assert credentials is not None  # _valid_credentials
    endpoint = ServicesEndpoint(
        str(running.get("url")), region, credentials["access_key_id"], credentials["secret_access_key"], credentials["session_token"]
    )
    return endpoint if _healthy(endpoint, state_dir) else None


# -- the state file -------------------------------------------------------------------------------


def _create_private(path: Path) -> None:
    with contextlib.suppress(FileExistsError):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write("{}")


def _read_state(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        return {}  # unreadable or half-written by a crash: new credentials, no server
    return data if isinstance(data, dict) else {}


def _write_state(path: Path, state: dict[str, Any]) -> None:
    fd, name = temp_file(path.parent, f".{STATE_FILE}.")  # mkstemp: 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(state, f)
        os.replace(name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(name)
        raise


def _new_credentials() -> dict[str, str]:
    # An AWS-shaped key id whose prefix is none of AWS's (AKIA/ASIA): never mistaken for a real key.
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    return {
        "access_key_id": "LKIA" + "".join(secrets.choice(alphabet) for _ in range(16)),
        "secret_access_key": base64.b64encode(secrets.token_bytes(30)).decode(),
        "session_token": base64.b64encode(secrets.token_bytes(48)).decode(),
    }


def _valid_credentials(c: Any) -> bool:
    return isinstance(c, dict) and all(isinstance(c.get(k), str) and c.get(k) for k in ("access_key_id", "secret_access_key", "session_token"))


def _alive(pid: Any) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process holds the pid: the health check decides
    return True


def _call(endpoint: ServicesEndpoint, method: str, path: str, *, timeout: float = HEALTH_TIMEOUT_S) -> dict[str, Any]:
    """A signed request to one of lambdatui's own routes; ServicesError when it fails."""
    import http.client
    from urllib.parse import urlsplit

    from .sigv4 import sign

    parts = urlsplit(endpoint.url)
    if parts.scheme != "http" or not parts.hostname or parts.port is None:
        raise ServicesError(f"{endpoint.url!r} is not the services' URL")
    headers = sign(
        method, parts.netloc, path, b"", access_key_id=endpoint.access_key_id, secret_access_key=endpoint.secret_access_key,
        region=endpoint.region, service="lambdatui",
    )
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        connection.request(method, path, body=b"", headers=headers)
        response = connection.getresponse()
        body = response.read()
    except OSError as e:
        raise ServicesError(f"the AWS services at {endpoint.url} do not answer: {e.strerror or e}") from None
    finally:
        connection.close()
    try:
        document = json.loads(body)
    except ValueError:
        document = {}
    if response.status != 200 or not isinstance(document, dict):
        message = document.get("message") if isinstance(document, dict) else None
        raise ServicesError(f"the AWS services at {endpoint.url} answered {response.status}: {message or body[:200]!r}")
    return document


def _healthy(endpoint: ServicesEndpoint, state_dir: Path) -> bool:
    """Whether `endpoint` is this state folder's services (the key signs, the folder matches)."""
    try:
        document = _call(endpoint, "GET", "/lambdatui/health")
    except ServicesError:
        return False
    try:
        return Path(document.get("state_dir", "")).resolve() == state_dir.resolve()
    except OSError:
        return False
