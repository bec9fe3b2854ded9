"""What dependencies cost a cold start once they are cached, and what the first install costs.

    .venv/bin/python benchmarks/bench_dependencies.py          # about 20 s

Two functions with the same no-op handler, one with a requirements.txt naming a local wheel (pip
runs offline: PIP_NO_INDEX, PIP_FIND_LINKS). Forced cold invokes (`ex.retire` before each) alternate
between them, 30 each: the cached case checks the manifest's hash and finds the cache folder on
every new environment. Reported: median wall time of each, and the ratio (target ≤ 1.10); the
first invoke, which installs, against the bare cold start (information).
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from lambdatui.executor import Executor, FunctionSpec, LogStore

PY = f"python{sys.version_info[0]}.{sys.version_info[1]}"


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        wheels = root / "wheels"
        wheels.mkdir()
        with zipfile.ZipFile(wheels / "tiny-1.0-py3-none-any.whl", "w") as z:
            z.writestr("tiny/__init__.py", "")
            z.writestr("tiny-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: tiny\nVersion: 1.0\n")
            z.writestr("tiny-1.0.dist-info/WHEEL", "Wheel-Version: 1.0\nGenerator: bench\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
            z.writestr("tiny-1.0.dist-info/RECORD", "")
        os.environ.update(PIP_NO_INDEX="1", PIP_FIND_LINKS=str(wheels), PIP_CONFIG_FILE="/dev/null")
        specs = []
        for name, requirements in (("bare", None), ("with-deps", "tiny==1.0\n")):
            code = root / name
            code.mkdir()
            (code / "app.py").write_text("def handler(event, context):\n    return None\n")
            if requirements:
                (code / "requirements.txt").write_text(requirements)
            specs.append(FunctionSpec(name=name, runtime=PY, handler="app.handler", code=code))
        ex = Executor(specs, cache_dir=root / "cache", logs=LogStore())
        try:
            timings: dict[str, list[float]] = {"bare": [], "with-deps": []}
            first: dict[str, float] = {}
            for name in ("bare", "with-deps"):
                started = time.perf_counter()
                ex.invoke(name)
                first[name] = time.perf_counter() - started
            for _ in range(30):
                for name in ("bare", "with-deps"):
                    ex.retire(name)
                    started = time.perf_counter()
                    result = ex.invoke(name)
                    timings[name].append(time.perf_counter() - started)
                    assert result.ok, result.payload
        finally:
            ex.close()
    bare = statistics.median(timings["bare"]) * 1000
    cached = statistics.median(timings["with-deps"]) * 1000
    ratio = cached / bare
    print(f"{'cold invoke, no requirements (baseline)':48} {bare:8.1f} ms")
    print(f"{'cold invoke, requirements cached':48} {cached:8.1f} ms   ratio {ratio:.2f} (target <= 1.10) {'PASS' if ratio <= 1.10 else 'FAIL'}")
    print(f"{'first invoke, installing 1 local wheel':48} {first['with-deps'] * 1000:8.1f} ms   ({first['with-deps'] / first['bare']:.1f}x the first bare cold start)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
