"""Durable asynchronous invokes with real processes: `lambdatui serve` killed with SIGKILL in the
middle of a burst of boto3 `InvocationType="Event"` calls, stopped cleanly, and run twice on one
state dir. The handler records the aws_request_id of every attempt to a file."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import threading
import time
from collections import Counter
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from polling import wait_for
from serve_process import ServeProcess  # tests/ is on sys.path (its conftest.py)

from .async_project import attempts, completed, write_project


class Serve(ServeProcess):
    """`lambdatui serve` on free ports over `root`'s project and state dir."""

    def __init__(self, root: Path, who: str = "A") -> None:
        # PYTHONFAULTHANDLER: a serve that does not stop is made to print every thread's stack (SIGABRT).
        env = dict(os.environ, LAMBDATUI_STATE_DIR=str(root / "state"), WHO=who, PYTHONFAULTHANDLER="1")
        super().__init__(["--config", str(root / "lambdatui.yaml"), "--port", "0"], env)
        self.port = int(re.search(r"http://127\.0\.0\.1:(\d+)", self.wait_for("Lambda API")).group(1))
        self.wait_for("Ready.")

    def client(self):
        return boto3.client(
            "lambda", region_name="us-east-1", endpoint_url=f"http://127.0.0.1:{self.port}",
            config=Config(retries={"total_max_attempts": 1, "mode": "standard"}, connect_timeout=2, read_timeout=10),
        )

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(timeout=15)

    def interrupt(self, signum: int = signal.SIGINT) -> int:
        """ctrl+c (or SIGTERM, as systemd and docker stop send): serve stops cleanly."""
        self.proc.send_signal(signum)
        try:
            return self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.send_signal(signal.SIGABRT)  # faulthandler prints where every thread is
            self.proc.wait(timeout=15)
            time.sleep(0.5)  # the reader thread takes the last lines
            stacks = "\n".join(self.output[-150:])
            raise AssertionError(f"serve did not stop within 30 s of signal {signum}; its last output:\n{stacks}") from None


@pytest.fixture
def credentials(monkeypatch, tmp_path):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "y")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))


@pytest.fixture
def servers():
    started: list[Serve] = []

    def start(root: Path, who: str = "A") -> Serve:
        s = Serve(root, who)
        started.append(s)
        return s

    yield start
    for s in started:
        if s.proc.poll() is None:
            s.kill()


def burst(serve: Serve, accepted: list[str], stop: threading.Event, threads: int = 4) -> list[threading.Thread]:
    """Event invokes from `threads` boto3 clients until `stop` or the server goes away; the request
    id of every 202 is appended to `accepted`."""

    def send() -> None:
        client = serve.client()
        while not stop.is_set():
            try:
                response = client.invoke(FunctionName="rec", InvocationType="Event", Payload=json.dumps({"sleep": 0.05}))
            except Exception:
                return  # the server was killed
            assert response["StatusCode"] == 202
            accepted.append(response["ResponseMetadata"]["RequestId"])

    workers = [threading.Thread(target=send, daemon=True) for _ in range(threads)]
    for w in workers:
        w.start()
    return workers


def test_kill_9_during_a_burst_then_restart_runs_every_accepted_event_under_its_202_request_id(tmp_path, credentials, servers):
    write_project(tmp_path, {"rec": ""})
    first = servers(tmp_path)
    accepted: list[str] = []
    stop = threading.Event()
    senders = burst(first, accepted, stop)
    wait_for(lambda: len(accepted) >= 150, timeout=60)
    first.kill()  # SIGKILL, mid-burst: events accepted and not yet run are only in the store
    stop.set()
    for s in senders:
        s.join(15)
    ran_before = {a["id"] for a in completed(tmp_path, "rec")}
    assert len(ran_before) < len(accepted), "the burst outran the kill: nothing was left to replay"

    servers(tmp_path)  # the restart replays the store
    wait_for(lambda: set(accepted) <= {a["id"] for a in completed(tmp_path, "rec")}, timeout=120, interval=0.2)
    # Every accepted event ran, as the id its 202 returned (the ids a function sees are all accepted
    # ones, or events stored while the 202 was being written when the process died).
    seen = {a["id"] for a in attempts(tmp_path, "rec")}
    assert set(accepted) <= seen
    assert len(seen - set(accepted)) <= 4  # at most one in flight per sending thread


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl+c", "sigterm"])
def test_a_clean_stop_keeps_pending_events_and_the_next_start_runs_them(tmp_path, credentials, servers, signum):
    write_project(tmp_path, {"rec": ""})
    first = servers(tmp_path)
    client = first.client()
    ids = [
        client.invoke(FunctionName="rec", InvocationType="Event", Payload=json.dumps({"sleep": 0.05}))["ResponseMetadata"]["RequestId"]
        for _ in range(200)
    ]
    assert first.interrupt(signum) == 0
    ran = [a["id"] for a in completed(tmp_path, "rec")]
    assert len(ran) < 200
    pending = next(line for line in first.output if "event(s) pending" in line)
    assert f"{200 - len(ran)} event(s) pending" in pending and "next start" in pending
    assert not any("Traceback" in line for line in first.output)

    servers(tmp_path)
    wait_for(lambda: len(completed(tmp_path, "rec")) >= 200, timeout=120, interval=0.2)
    assert sorted(a["id"] for a in completed(tmp_path, "rec")) == sorted(ids)  # each once: none lost, none twice


def test_two_serve_processes_on_one_state_dir_never_run_an_event_twice(tmp_path, credentials, servers):
    # The dashboard with --serve and a `lambdatui serve` share a state dir: both take events from
    # the one store, each event runs once.
    write_project(tmp_path, {"rec": "inherit_environment: [WHO]"})
    a = servers(tmp_path, "A")
    servers(tmp_path, "B")
    client = a.client()
    ids = [
        client.invoke(FunctionName="rec", InvocationType="Event", Payload=json.dumps({"sleep": 0.05}))["ResponseMetadata"]["RequestId"]
        for _ in range(200)
    ]
    wait_for(lambda: len(completed(tmp_path, "rec")) >= 200, timeout=120, interval=0.2)
    time.sleep(1)  # any second run would show up now
    runs = Counter(x["id"] for x in attempts(tmp_path, "rec"))
    assert sorted(runs) == sorted(ids)
    assert set(runs.values()) == {1}
    assert {x["who"] for x in completed(tmp_path, "rec")} == {"A", "B"}  # both processes took events
