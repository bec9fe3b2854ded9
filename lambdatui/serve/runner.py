"""Everything `lambdatui serve` runs, started and stopped together: the local backend, the Lambda
API, the HTTP routes, and one runner per schedule, S3 folder and SQS queue.
"""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass, field
from pathlib import Path

from ..backends.local import LocalBackend, default_state_dir
from ..config import Config

log = logging.getLogger("lambdatui.serve")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass
class ServeRunner:
    config: Config
    host: str = "127.0.0.1"
    port: int = 3001
    http_port: int = 3000
    state_dir: Path | None = None
    backend: LocalBackend | None = None
    async_retry_delays: tuple[float, ...] = (60.0, 120.0)
    _parts: list = field(default_factory=list)
    lambda_api: object | None = None
    http: object | None = None

    def start(self) -> None:
        local = self.config.local
        state = self.state_dir or default_state_dir()
        if self.backend is None:
            self.backend = LocalBackend(self.config, state_dir=state, watch_code=True)
        from .lambda_api import LambdaApiServer

        self.lambda_api = LambdaApiServer(
            self.backend, self.host, self.port, region=local.region, account_id=local.account_id,
            async_retry_delays=self.async_retry_delays,
        )
        self.lambda_api.start()
        self._parts.append(self.lambda_api)
        triggers = {name: f.triggers for name, f in local.functions.items()}
        if any(t["type"] == "http" for ts in triggers.values() for t in ts):
            from .http_triggers import HttpTriggerServer, routes_for

            self.http = HttpTriggerServer(
                self.backend, routes_for(triggers), self.host, self.http_port, region=local.region, account_id=local.account_id
            )
            self.http.start()
            self._parts.append(self.http)
        store = None
        for name, ts in triggers.items():
            for i, t in enumerate(ts):
                if t["type"] == "schedule" and t.get("enabled", True):
                    from .schedule import ScheduleRunner

                    runner = ScheduleRunner(
                        self.backend, name, t["expression"], input=t.get("input"),
                        rule_name=t.get("name") or f"{name}-schedule-{i}", region=local.region, account=local.account_id,
                    )
                elif t["type"] == "s3":
                    from .s3_watch import S3Watcher

                    folder = Path(t["path"])
                    folder.mkdir(parents=True, exist_ok=True)
                    runner = S3Watcher(
                        self.backend, name, bucket=t["bucket"], folder=folder, events=tuple(t["events"]),
                        prefix=t["prefix"], suffix=t["suffix"], region=local.region,
                    )
                elif t["type"] == "sqs":
                    from .sqs_queue import QueueStore, SqsPoller

                    if store is None:
                        store = QueueStore(state / "sqs.db")
                    runner = SqsPoller(
                        self.backend, name, store, queue=t["queue"], batch_size=t["batch_size"],
                        maximum_batching_window=t["maximum_batching_window"], visibility_timeout=t["visibility_timeout"],
                        max_receive_count=t.get("max_receive_count"), dead_letter_queue=t.get("dead_letter_queue"),
                        region=local.region, account=local.account_id,
                    )
                else:
                    continue
                runner.start()
                self._parts.append(runner)

    def describe(self) -> list[str]:
        """What is listening and what will fire, one line each, for the console."""
        lines = [f"Lambda API   {self.lambda_api.url}  (boto3/AWS CLI: --endpoint-url {self.lambda_api.url})"]
        if self.http is not None:
            for route in self.http.routes:
                lines.append(f"HTTP         {route.method:<7} {self.http.url_for(route)}  → {route.function} (payload {route.payload_format})")
        for part in self._parts:
            kind = type(part).__name__
            if kind == "ScheduleRunner":
                nxt = part.next_fire.strftime("%Y-%m-%dT%H:%M:%SZ") if part.next_fire else "never"
                lines.append(f"Schedule     {part.expression} → {part.function} (next {nxt})")
            elif kind == "S3Watcher":
                lines.append(f"S3           s3://{part.bucket} = {part.folder} → {part.function}")
            elif kind == "SqsPoller":
                lines.append(f"SQS          {part.queue} → {part.function} (lambdatui send-message {part.queue} BODY)")
        return lines

    def stop(self) -> None:
        for part in reversed(self._parts):
            try:
                part.stop()
            except Exception as e:  # stopping must go on whatever one part does
                log.warning("stopping %s: %s", type(part).__name__, e)
        self._parts.clear()
        if self.backend is not None:
            self.backend.close()
