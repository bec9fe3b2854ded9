"""What `--aws-services` adds to start-up, against a bare baseline measured in the same run.

    .venv/bin/python benchmarks/bench_aws_services_start.py [--runs 7]

Figures (medians over --runs, the variants alternating, each a fresh process, one warm-up each):
- `lambdatui invoke hello` (a handler that calls no AWS), process start to exit, without and with
  --aws-services: the services start lazily, so this is the bind and the bookkeeping only;
- `lambdatui invoke ddb` (a handler that reads one DynamoDB item), with --aws-services: the first
  call loads moto (import, reset, seed of one table) inside the invoke; against the bare hello;
- in-process: EmbeddedServices.ensure (bind), then preload(wait=True) (moto's import + reset + a
  one-table seed), on a fresh interpreter each run;
- the signature check's cost per request: `sigv4.verify` on a signed ListTables request.
Target: the services add under 1 s to a start-up that does not use them (the lazy design), and the
full load is reported as is. A report, not a test: exits 0 whatever the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

PY = f"python{sys.version_info[0]}.{sys.version_info[1]}"
HELLO = "def handler(event, context):\n    return {'ok': True}\n"
DDB = textwrap.dedent("""\
    import boto3
    def handler(event, context):
        return boto3.client("dynamodb").get_item(TableName="items", Key={"pk": {"S": "a"}})["Item"]["pk"]["S"]
    """)
SEED = "tables:\n  - name: items\n    key: {pk: S}\n    items:\n      - {pk: a}\n"


def project(root: Path) -> Path:
    for name, source in (("hello", HELLO), ("ddb", DDB)):
        (root / name).mkdir()
        (root / name / "app.py").write_text(source)
    (root / "seed.yaml").write_text(SEED)
    config = root / "lambdatui.yaml"
    config.write_text(textwrap.dedent(f"""\
        local:
          functions:
            hello: {{runtime: {PY}, handler: app.handler, code: hello}}
            ddb: {{runtime: {PY}, handler: app.handler, code: ddb, timeout: 60}}
        """))
    return config


def run_cli(args: list[str], env: dict[str, str], cwd: Path) -> float:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "lambdatui", *args], env=env, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"lambdatui {' '.join(args)} failed: {done.stderr.strip()}")
    return elapsed


IN_PROCESS = """
import sys, time, json, pathlib
t0 = time.perf_counter()
from lambdatui.aws_services import EmbeddedServices
s = EmbeddedServices.ensure(pathlib.Path(sys.argv[1]), "us-east-1", pathlib.Path(sys.argv[2]))
t1 = time.perf_counter()
s.preload(wait=True)
t2 = time.perf_counter()
s.close()
print(json.dumps({"ensure": t1 - t0, "load": t2 - t1}))
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        config = project(root)
        base_env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k != "LAMBDATUI_CONFIG"}
        variants = {
            "invoke hello (bare)": (["invoke", "hello", "--config", str(config)], "bare"),
            "invoke hello --aws-services": (["invoke", "hello", "--config", str(config), "--aws-services"], "svc"),
            "invoke ddb --aws-services (first call loads moto)": (
                ["invoke", "ddb", "--config", str(config.parent / "seeded.yaml"), "--aws-services"], "seeded"),
        }
        (root / "seeded.yaml").write_text(config.read_text().replace("local:\n", "local:\n  aws_services: {seed: seed.yaml}\n", 1))
        times: dict[str, list[float]] = {name: [] for name in variants}
        for i in range(args.runs + 1):  # the first round warms the caches (bytecode, the SDK copy)
            for name, (cli_args, state) in variants.items():
                # A state dir per variant, so no run reuses services another left running.
                env = dict(base_env, LAMBDATUI_STATE_DIR=str(root / f"state-{state}"))
                elapsed = run_cli(cli_args, env, root)
                if i:
                    times[name].append(elapsed)
        loads = []
        for i in range(max(3, args.runs // 2)):
            out = subprocess.run([sys.executable, "-c", IN_PROCESS, str(root / f"state-inproc-{i}"), str(root / "seed.yaml")],
                                 capture_output=True, text=True, check=True)
            loads.append(json.loads(out.stdout))

    verify_us = _verify_cost()
    bare = statistics.median(times["invoke hello (bare)"])
    print(f"{'figure':<52} {'median':>10} {'vs bare':>9}")
    for name, values in times.items():
        m = statistics.median(values)
        print(f"{name:<52} {m * 1000:>8.0f}ms {m / bare:>8.2f}x   (+{(m - bare) * 1000:.0f} ms)")
    print(f"{'in-process ensure (bind, state file)':<52} {statistics.median(x['ensure'] for x in loads) * 1000:>8.0f}ms")
    print(f"{'in-process preload (moto import+reset+seed)':<52} {statistics.median(x['load'] for x in loads) * 1000:>8.0f}ms")
    print(f"{'sigv4.verify per request':<52} {verify_us:>8.1f}us")
    added = statistics.median(times["invoke hello --aws-services"]) - bare
    print(f"start-up added to an invoke that calls no AWS: {added * 1000:.0f} ms -> {'PASS' if added < 1.0 else 'FAIL'} (< 1 s)")


def _verify_cost() -> float:
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    from lambdatui.aws_services.sigv4 import verify

    request = AWSRequest("POST", "http://127.0.0.1:4566/", data=b'{"Limit": 5}',
                         headers={"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "DynamoDB_20120810.ListTables"})
    SigV4Auth(Credentials("LKIAKEY", "secret"), "dynamodb", "us-east-1").add_auth(request)
    headers = {k.lower(): v for k, v in request.headers.items()}
    headers["host"] = "127.0.0.1:4566"
    n = 5000
    started = time.perf_counter()
    for _ in range(n):
        verify(method="POST", raw_path="/", raw_query="", headers=headers, body=lambda: b'{"Limit": 5}',
               access_key_id="LKIAKEY", secret_access_key="secret")
    return (time.perf_counter() - started) / n * 1e6


if __name__ == "__main__":
    main()
