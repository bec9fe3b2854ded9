"""Everything `lambdatui serve` runs, started and stopped together: the local backend, the Lambda
API and its asynchronous queue, every function's triggers, and the HTTP server that answers the
routes HTTP triggers add.

The backend `serve` makes changes the running functions only: `UpdateFunctionConfiguration` and
the concurrency calls reach the config file only with `persist_changes` (`--persist-changes`).

Triggers start themselves (`Trigger.start`) through a `_Host`: the backend to invoke, the state
folder, and the services triggers share (the HTTP route table, the SQS queue store).
"""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..backends.local import LocalBackend, default_state_dir
from ..config import Config
from ..triggers import Running, Trigger, TriggerWhere
from ..triggers.sqs_queue import QueueStore

if TYPE_CHECKING:  # imported when started
    from ..aws_services import EmbeddedServices, ServicesEndpoint
    from ..executor.spec import InvokeResult
    from ..triggers.http import HttpCors
    from .async_invoke import AsyncInvoker
    from .http_triggers import HttpTriggerServer, Route
    from .lambda_api import LambdaApiServer

log = logging.getLogger("lambdatui.serve")

TRIGGER_LOG_STREAM = "lambdatui/triggers"  # the log stream of the lines triggers write themselves


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _Shared:
    """What every trigger of one `serve` shares: the HTTP routes, one queue store."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self.routes: list[Route] = []
        self.store: QueueStore | None = None

    def close(self) -> None:
        if self.store is not None:
            self.store.close()
            self.store = None


@dataclass(frozen=True)
class _Host:
    """The `TriggerHost` one trigger is started with (its `index` is its own; the rest is shared)."""

    backend: LocalBackend
    shared: _Shared
    region: str
    account_id: str
    index: int = 0
    # The embedded AWS services (`--aws-services`, local.aws_services) when on, else None.
    aws_services_handle: EmbeddedServices | None = None

    @property
    def state_dir(self) -> Path:
        return self.shared.state_dir

    def invoke(self, name: str, payload: bytes = b"{}", *, invocation_type: str = "RequestResponse", source: str | None = None) -> InvokeResult:
        return self.backend.invoke(name, payload, invocation_type=invocation_type, source=source)

    def add_http_route(
        self, function: str, path: str, method: str, payload_format: str, cors: HttpCors | None = None, stage: str | None = None
    ) -> None:
        from .http_triggers import Route

        self.shared.routes.append(Route(function, path, method, payload_format, cors=cors, stage=stage))

    def function_log(self, function: str, message: str) -> None:
        self.backend.logs.append(function, TRIGGER_LOG_STREAM, message)

    def aws_services(self) -> ServicesEndpoint | None:
        return self.aws_services_handle.endpoint if self.aws_services_handle else None

    def queue_store(self) -> QueueStore:
        if self.shared.store is None:
            self.shared.store = QueueStore(self.state_dir / "sqs.db")
        return self.shared.store


@dataclass
class ServeRunner:
    config: Config
    host: str = "127.0.0.1"
    port: int = 3001
    http_port: int = 3000
    state_dir: Path | None = None
    backend: LocalBackend | None = None
    async_retry_delays: tuple[float, ...] = (60.0, 120.0)
    # Whether API edits (UpdateFunctionConfiguration, concurrency) are written to the config file;
    # only for the backend made here (a backend passed in keeps its own setting).
    persist_changes: bool = False
    _parts: list[LambdaApiServer | HttpTriggerServer] = field(default_factory=list)
    _triggers: list[tuple[str, Trigger, Running | None]] = field(default_factory=list)
    _shared: _Shared | None = None
    lambda_api: LambdaApiServer | None = None
    http: HttpTriggerServer | None = None
    async_invoker: AsyncInvoker | None = None
    aws_services_handle: EmbeddedServices | None = None  # the backend's, when the services are on

    def start(self) -> None:
        local = self.config.local
        state = self.state_dir or default_state_dir()
        if self.backend is None:
            self.backend = LocalBackend(
                self.config, state_dir=state, watch_code=True, persist_config=self.persist_changes,
                aws_services=local.aws_services is not None,
            )
        if self.aws_services_handle is None:  # (one given is used as it is: an embedding's own)
            self.aws_services_handle = self.backend.aws_services
            if self.aws_services_handle is not None:
                self.aws_services_handle.preload()  # in the background: triggers and functions will call them
        from .async_invoke import FILE_NAME, AsyncInvoker
        from .lambda_api import LambdaApiServer
        from .trust import SigningKey

        keys = self.config.serve
        signing_key = (
            SigningKey(keys.access_key_id, keys.secret_access_key)
            if keys.access_key_id is not None and keys.secret_access_key is not None
            else None
        )
        # Durable Event invokes: accepted into <state>/async.db, replayed from there at every start.
        self.async_invoker = AsyncInvoker(
            self.backend, state / FILE_NAME, retry_delays=self.async_retry_delays,
            region=local.region, account_id=local.account_id,
        )
        self.lambda_api = LambdaApiServer(
            self.backend, self.host, self.port, async_invoker=self.async_invoker,
            region=local.region, account_id=local.account_id, signing_key=signing_key,
            persist_changes=self.persist_changes,
        )
        try:
            self.lambda_api.start()
        except BaseException:
            self.async_invoker.stop()  # the port is taken: nothing was accepted, nothing is lost
            self.async_invoker = None
            raise
        self.async_invoker.start()
        self._parts.append(self.lambda_api)
        self._shared = _Shared(state)
        for name, f in local.functions.items():
            for i, trigger in enumerate(f.triggers):
                host = _Host(
                    self.backend, self._shared, region=local.region, account_id=local.account_id, index=i,
                    aws_services_handle=self.aws_services_handle,
                )
                self._triggers.append((name, trigger, trigger.start(name, host)))
        if self._shared.routes:
            from .http_triggers import HttpTriggerServer, distinct_routes

            # Started once every HTTP trigger has added its route: the server's table is fixed.
            self.http = HttpTriggerServer(
                self.backend, distinct_routes(self._shared.routes), self.host, self.http_port,
                region=local.region, account_id=local.account_id,
            )
            self.http.start()
            self._parts.append(self.http)

    def describe(self) -> list[str]:
        """What is listening and what will fire, one line each, for the console."""
        assert self.lambda_api is not None, "describe() after start()"
        key = self.lambda_api.signing_key
        signing = f"SigV4 with access key {key.access_key_id}" if key else "SigV4, any key"
        lines = [f"Lambda API   {self.lambda_api.url}  (boto3/AWS CLI: --endpoint-url {self.lambda_api.url}; {signing})"]
        if self.aws_services_handle is not None:
            url = self.aws_services_handle.endpoint.url
            shared = "" if self.aws_services_handle.owner else ", another process's"
            lines.append(f"AWS services {url}  (every function's AWS_ENDPOINT_URL{shared}; `lambdatui aws-services env` for your shell)")
        where = TriggerWhere(
            host=self.host,
            http_port=self.http.port if self.http is not None else self.http_port,
            state_dir=self._shared.state_dir if self._shared else None,
        ).at_now()
        for function, trigger, running in self._triggers:
            line = trigger.serve_line(function, running, where)
            if line:
                lines.append(line)
        return lines

    def stop(self) -> None:
        # Triggers first, last started first: nothing fires into a server that is going away.
        for function, trigger, running in reversed(self._triggers):
            if running is None:
                continue
            try:
                running.stop()
            except Exception as e:  # stopping must go on whatever one part does
                log.warning("stopping the %s trigger of %s: %s", trigger.type, function, e)
        self._triggers.clear()
        for part in reversed(self._parts):
            try:
                part.stop()
            except Exception as e:  # stopping must go on whatever one part does
                log.warning("stopping %s: %s", type(part).__name__, e)
        self._parts.clear()
        if self.async_invoker is not None:
            # After the Lambda API: nothing is accepted any more. Queued events stay in the store.
            try:
                self.async_invoker.stop()
            except Exception as e:  # stopping must go on whatever one part does
                log.warning("stopping the asynchronous invoker: %s", e)
            self.async_invoker = None
        if self._shared is not None:
            self._shared.close()
            self._shared = None
        if self.backend is not None:
            self.backend.close()
