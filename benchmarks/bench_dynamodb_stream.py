"""Benchmark of the DynamoDB stream trigger: a write in one function → the stream-triggered
function invoked, through the real path (a `ServeRunner` with its trigger runner, the real
executor, moto's server on loopback as the embedded services), against a bare baseline measured in
the same run: a `put_item` round trip from this process to the same endpoint.

`writer` (invoked by the benchmark) puts one item with the time it was written; `reader` (the
stream's function) appends, for each record, now − that time to a file. Each of `--writes` writes
is made after the previous one was delivered, so each latency is one write's alone. The stream is
read four times a second when idle (Lambda's base rate), so about 125 ms of the median is the
polling's expected wait.

    .venv/bin/python benchmarks/bench_dynamodb_stream.py [--writes 100] [--json FILE]

It prints median and p90 of both, and their ratio; it is a report, not a test (exit 0).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lambdatui.config import load_config  # noqa: E402
from lambdatui.serve.runner import ServeRunner  # noqa: E402

PY = f"python{sys.version_info[0]}.{sys.version_info[1]}"

CODE = """
import json, os, time, boto3

ddb = boto3.client("dynamodb", endpoint_url=os.environ["SERVICES_URL"], region_name="us-east-1",
                   aws_access_key_id="bench", aws_secret_access_key="bench")

def writer(event, context):
    ddb.put_item(TableName="bench", Item={"pk": {"S": str(event["n"])}, "t": {"N": repr(time.time())}})
    return {}

def reader(event, context):
    now = time.time()
    with open(os.environ["OUT"], "a") as f:
        for r in event["Records"]:
            f.write(f'{r["dynamodb"]["Keys"]["pk"]["S"]} {now - float(r["dynamodb"]["NewImage"]["t"]["N"])}\\n')
    return {}
"""


@dataclass(frozen=True)
class Endpoint:
    url: str
    region: str = "us-east-1"
    access_key_id: str = "bench"
    secret_access_key: str = "bench"

    def client(self, service: str, **kw: Any) -> Any:
        return boto3.client(service, endpoint_url=self.url, region_name=self.region,
                            aws_access_key_id=self.access_key_id, aws_secret_access_key=self.secret_access_key, **kw)


@dataclass(frozen=True)
class Handle:
    endpoint: Endpoint


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--writes", type=int, default=100)
    ap.add_argument("--json", metavar="FILE")
    args = ap.parse_args()
    import logging

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # not a line per request of moto's server
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = Endpoint(f"http://{host}:{port}")
    ddb = endpoint.client("dynamodb")
    ddb.create_table(
        TableName="bench", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )
    # The baseline: a put_item round trip from here to the same endpoint.
    for i in range(10):
        ddb.put_item(TableName="bench", Item={"pk": {"S": f"warm{i}"}})
    baseline = []
    for i in range(args.writes):
        started = time.perf_counter()
        ddb.put_item(TableName="bench", Item={"pk": {"S": f"base{i}"}, "t": {"N": "0"}})
        baseline.append(time.perf_counter() - started)

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "code").mkdir()
        (root / "code" / "app.py").write_text(textwrap.dedent(CODE))
        out = root / "latency.txt"
        env = json.dumps({"SERVICES_URL": endpoint.url, "OUT": str(out)})
        (root / "lambdatui.yaml").write_text(textwrap.dedent(f"""\
            backend: local
            local:
              keep_warm_seconds: 600
              functions:
                writer: {{runtime: {PY}, handler: app.writer, code: code, timeout: 30, environment: {env}}}
                reader:
                  runtime: {PY}
                  handler: app.reader
                  code: code
                  timeout: 30
                  environment: {env}
                  triggers: [{{type: dynamodb, table: bench, starting_position: LATEST}}]
            """))
        runner = ServeRunner(load_config(root / "lambdatui.yaml"), port=0, http_port=0, state_dir=root / "state",
                             aws_services_handle=Handle(endpoint))
        runner.start()
        poller = [r for _, _, r in runner._triggers][0]
        try:
            assert runner.backend is not None
            runner.backend.invoke("writer", b'{"n": -1}')  # warm both functions (cold starts are not the point)
            deadline = time.monotonic() + 60
            while poller.delivered < 1 and time.monotonic() < deadline:
                time.sleep(0.01)
            out.write_text("")
            for i in range(args.writes):
                result = runner.backend.invoke("writer", json.dumps({"n": i}).encode())
                assert not result.function_error, result.payload
                deadline = time.monotonic() + 30
                while poller.delivered < i + 2 and time.monotonic() < deadline:
                    time.sleep(0.002)
        finally:
            runner.stop()
        latencies = [float(line.split()[1]) for line in out.read_text().splitlines() if line.strip()]
    server.stop()

    figures = {
        "writes": args.writes, "delivered": len(latencies),
        "write_to_invoke_median_ms": statistics.median(latencies) * 1000, "write_to_invoke_p90_ms": pct(latencies, 90) * 1000,
        "baseline_put_item_median_ms": statistics.median(baseline) * 1000, "baseline_put_item_p90_ms": pct(baseline, 90) * 1000,
    }
    figures["ratio_median"] = figures["write_to_invoke_median_ms"] / figures["baseline_put_item_median_ms"]
    print(f"DynamoDB write → stream function invoked, {len(latencies)} of {args.writes} writes")
    print(f"  write → invoke   median {figures['write_to_invoke_median_ms']:7.1f} ms   p90 {figures['write_to_invoke_p90_ms']:7.1f} ms")
    print(f"  put_item (bare)  median {figures['baseline_put_item_median_ms']:7.1f} ms   p90 {figures['baseline_put_item_p90_ms']:7.1f} ms")
    print(f"  ratio of medians {figures['ratio_median']:.1f}×  (the stream is read every 250 ms when idle, as Lambda reads it)")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
