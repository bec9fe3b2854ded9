"""Benchmark of `lambdatui serve`'s HTTP side, measured against a baseline on the same HTTP stack in
the same run.

Both servers run as their own processes, as a user runs them: `python -m lambdatui serve` on a
project with a no-op python function, and a minimal endpoint — uvicorn (h11) + Starlette through
serve's own `AsgiServer`, answering Invoke's request shape (read the body, answer `null` with
Lambda's headers) with a canned response and no checks, no thread pool, no function.

1. Throughput: one boto3 client invoking in a loop, then 8 threads with a client each; invokes/s
   through serve over invokes/s against the baseline (targets ≥ 0.7×, and ≥ 600/s for one client).
2. 500 idle and half-open connections to each port (half send nothing, half send a request head
   with 19 of its 100 body bytes): serve's RSS and thread count while they are held (bounded: RSS
   within +64 MB, threads within +8), real invokes' median latency while they are held over the
   unloaded median (≤ 2×), and, after the connections are abandoned (half reset, half closed),
   zero invocations that did not come from the benchmark's own invokes (the function appends its
   request id to a file).

It prints a table of figure, target, measured value and PASS/FAIL, and exits 0 whatever the
verdicts: it is a report, not a test.

    .venv/bin/python benchmarks/bench_serve.py [--seconds 5] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

import boto3
import httpx
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config as BotoConfig
from botocore.credentials import Credentials

RUNTIME = f"python{sys.version_info.major}.{sys.version_info.minor}"
CREDENTIALS = {"aws_access_key_id": "AKIDBENCH", "aws_secret_access_key": "bench"}
HELD = 500  # connections held open on each port


# -- the baseline server (run as `bench_serve.py --baseline PORT`) ----------------------------------


def run_baseline(port: int) -> None:
    import uuid

    from starlette.requests import Request
    from starlette.responses import Response

    from lambdatui.serve.asgi_server import AsgiServer

    async def app(scope, receive, send):  # type: ignore[no-untyped-def]
        await Request(scope, receive).body()
        headers = {"Content-Type": "application/json", "x-amzn-RequestId": str(uuid.uuid4()), "X-Amz-Executed-Version": "$LATEST"}
        await Response(b"null", 200, headers)(scope, receive, send)

    server = AsgiServer(app, "127.0.0.1", port, name="baseline")
    server.start()
    print("Ready.", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


# -- helpers ----------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(proc: subprocess.Popen[str], what: str) -> None:
    assert proc.stdout is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError(f"{what} exited: {proc.stderr.read() if proc.stderr else ''}")
        if line.startswith("Ready."):
            # Keep draining its output so a full pipe never blocks it.
            threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True).start()  # type: ignore[union-attr]
            return
    raise RuntimeError(f"{what} did not start")


def lambda_client(port: int):  # type: ignore[no-untyped-def]
    return boto3.client(
        "lambda", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
        config=BotoConfig(retries={"total_max_attempts": 1, "mode": "standard"}, max_pool_connections=4), **CREDENTIALS,
    )


def invokes_per_second(port: int, function: str, threads: int, seconds: float) -> float:
    clients = [lambda_client(port) for _ in range(threads)]
    for c in clients:  # warm-up: connections, the function's environments
        for _ in range(20):
            c.invoke(FunctionName=function, Payload=b"{}")
    counts = [0] * threads
    stop = time.monotonic() + seconds

    def loop(i: int) -> None:
        c = clients[i]
        while time.monotonic() < stop:
            c.invoke(FunctionName=function, Payload=b"{}")
            counts[i] += 1

    started = time.monotonic()
    workers = [threading.Thread(target=loop, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return sum(counts) / (time.monotonic() - started)


def proc_status(pid: int) -> tuple[float, int]:
    """(RSS in MB, thread count) of a process and its children that are not function runtimes:
    the serve process itself."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["Threads"])


def signed_head(port: int, body_length: int) -> bytes:
    url = f"http://127.0.0.1:{port}/2015-03-31/functions/rec/invocations"
    request = AWSRequest(method="POST", url=url, data=b"x" * body_length)
    SigV4Auth(Credentials(CREDENTIALS["aws_access_key_id"], CREDENTIALS["aws_secret_access_key"]), "lambda", "us-east-1").add_auth(request)
    lines = ["POST /2015-03-31/functions/rec/invocations HTTP/1.1", f"Host: 127.0.0.1:{port}", f"Content-Length: {body_length}"]
    lines += [f"{k}: {v}" for k, v in request.headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def hold(port: int, count: int, half_open: bytes) -> list[socket.socket]:
    """`count` connections: half idle, half with a request head and 19 of its 100 body bytes."""
    held = []
    for i in range(count):
        s = socket.create_connection(("127.0.0.1", port))
        if i % 2:
            s.sendall(half_open + b"x" * 19)
        held.append(s)
    return held


def abandon(held: list[socket.socket]) -> None:
    for i, s in enumerate(held):
        if i % 2 == 0:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # RST
        s.close()


def median_latency_ms(call, n: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(n):
        t = time.perf_counter()
        call()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


# -- the run ----------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="length of each throughput measurement (default 5)")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    parser.add_argument("--baseline", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.baseline:
        run_baseline(args.baseline)
        return 0

    root = Path(tempfile.mkdtemp(prefix="bench-serve-"))
    record = root / "record.txt"
    record.write_text("")
    (root / "code").mkdir()
    (root / "code" / "app.py").write_text(textwrap.dedent(f"""\
        def noop(event, context):
            return None

        def rec(event, context):
            with open({str(record)!r}, "a") as f:
                f.write(context.aws_request_id + "\\n")
            return {{"statusCode": 200, "body": context.aws_request_id}}
        """))
    config = root / "lambdatui.yaml"
    config.write_text(textwrap.dedent(f"""\
        local:
          functions:
            noop: {{runtime: {RUNTIME}, handler: app.noop, code: code}}
            rec:
              runtime: {RUNTIME}
              handler: app.rec
              code: code
              triggers: [{{type: http, path: /rec, method: ANY}}]
        """))
    env = dict(os.environ, LAMBDATUI_STATE_DIR=str(root / "state"), AWS_EC2_METADATA_DISABLED="true")
    api, http, base = free_port(), free_port(), free_port()
    serve = subprocess.Popen(
        [sys.executable, "-m", "lambdatui", "serve", "--config", str(config), "--port", str(api), "--http-port", str(http)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    baseline = subprocess.Popen([sys.executable, __file__, "--baseline", str(base)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    rows: list[tuple[str, str, str, str]] = []
    figures: dict[str, float] = {}
    try:
        wait_ready(serve, "serve")
        wait_ready(baseline, "the baseline")

        # 1. throughput, the baseline and serve alternating
        for threads in (1, 8):
            b = invokes_per_second(base, "noop", threads, args.seconds)
            s = invokes_per_second(api, "noop", threads, args.seconds)
            figures[f"baseline_{threads}"], figures[f"serve_{threads}"] = b, s
            rows.append((f"  baseline, {threads} client(s)", "", f"{b:,.0f} invokes/s", ""))
            rows.append((f"serve, {threads} client(s)", "≥ 600/s" if threads == 1 else "", f"{s:,.0f} invokes/s",
                         ("PASS" if s >= 600 else "FAIL") if threads == 1 else ""))
            ratio = s / b
            figures[f"ratio_{threads}"] = ratio
            rows.append((f"serve / baseline, {threads} client(s)", "≥ 0.7×", f"{ratio:.2f}×", "PASS" if ratio >= 0.7 else "FAIL"))

        # 2. 500 idle and half-open connections on each port
        lam = lambda_client(api)
        web = httpx.Client(base_url=f"http://127.0.0.1:{http}")
        ours: set[str] = set()

        def invoke_api() -> None:
            ours.add(lam.invoke(FunctionName="rec", Payload=b"{}")["ResponseMetadata"]["RequestId"])

        def invoke_http() -> None:
            r = web.get("/rec")
            ours.add(r.text)

        for _ in range(20):
            invoke_api()
            invoke_http()
        unloaded_api = median_latency_ms(invoke_api, 100)
        unloaded_http = median_latency_ms(invoke_http, 100)
        rss0, threads0 = proc_status(serve.pid)
        held = hold(api, HELD, signed_head(api, 100)) + hold(http, HELD, b"POST /rec HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Length: 100\r\n\r\n" % http)
        time.sleep(0.5)
        rss1, threads1 = proc_status(serve.pid)
        loaded_api = median_latency_ms(invoke_api, 100)
        loaded_http = median_latency_ms(invoke_http, 100)
        rss2, threads2 = proc_status(serve.pid)
        abandon(held)
        time.sleep(2.0)
        ran = set(record.read_text().split())
        strays = ran - ours
        figures.update(rss_before=rss0, rss_held=max(rss1, rss2), threads_before=threads0, threads_held=max(threads1, threads2),
                       api_unloaded_ms=unloaded_api, api_loaded_ms=loaded_api, http_unloaded_ms=unloaded_http,
                       http_loaded_ms=loaded_http, stray_invocations=len(strays))
        rows.append((f"RSS with {HELD} idle/half-open per port", "≤ +64 MB", f"{rss0:.0f} → {max(rss1, rss2):.0f} MB",
                     "PASS" if max(rss1, rss2) - rss0 <= 64 else "FAIL"))
        rows.append((f"threads with {HELD} idle/half-open per port", "≤ +8", f"{threads0} → {max(threads1, threads2)}",
                     "PASS" if max(threads1, threads2) - threads0 <= 8 else "FAIL"))
        for name, before, during in (("Invoke (boto3)", unloaded_api, loaded_api), ("HTTP trigger GET", unloaded_http, loaded_http)):
            rows.append((f"  {name} p50 unloaded", "", f"{before:.2f} ms", ""))
            rows.append((f"{name} p50 while held / unloaded", "≤ 2×", f"{during:.2f} ms = {during / before:.2f}×",
                         "PASS" if during <= 2 * before else "FAIL"))
        rows.append(("invocations from abandoned connections", "0", str(len(strays)), "PASS" if not strays else "FAIL"))
    finally:
        for proc in (serve, baseline):
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()

    # Where serve's time per invoke goes beyond the HTTP stack: the backend call itself (the
    # executor, the invocation history's write, the log flush), in-process, on the same function.
    from lambdatui.backends.local import LocalBackend
    from lambdatui.config import load_config

    backend = LocalBackend(load_config(config), state_dir=root / "state-direct", watch_code=False)
    try:
        for _ in range(50):
            backend.invoke("noop", b"{}", source="api")
        direct = median_latency_ms(lambda: backend.invoke("noop", b"{}", source="api"), 1000)
    finally:
        backend.close()
    figures["backend_invoke_ms"] = direct
    if "serve_1" in figures:
        extra = 1000 / figures["serve_1"] - 1000 / figures["baseline_1"]
        figures["serve_extra_ms"] = extra
        rows.insert(3, ("  serve's extra time per invoke (1 client)", "", f"{extra:.2f} ms", ""))
        rows.insert(4, ("  of which LocalBackend.invoke, in-process p50", "", f"{direct:.2f} ms", ""))

    print(f"lambdatui serve benchmark · {platform.python_implementation()} {platform.python_version()} · {os.cpu_count()} CPUs")
    width = max(len(r[0]) for r in rows)
    for figure, target, measured, verdict in rows:
        print(f"{figure:<{width}}  {target:<8}  {measured:<24}  {verdict}")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
