"""`lambdatui invoke`: one or many invocations, printed for people or as JSON lines for scripts.

`--repeat` and `--concurrency` run inside one backend, so warm reuse and scale-out show up in the
figures — a small load generator for demos.

What it prints (a contract: scripts and the README rely on it):
- One invocation, text: the response (JSON indented), a blank line, the figures line, the log tail.
- `--json`: one JSON object per invocation, one per line, with the keys of `result_json`, in the
  order the invocations finished; nothing else on stdout.
- `--repeat N` (N > 1), text: one line per invocation, in the order they finished,
  `#K  STATUS  cold|warm|throttled  DURATION ms  billed B ms  MEM MB[  ERROR_TYPE]`, then a blank
  line and the summary, whose first line is `N invocations in S s (R/s): C cold, W warm, E errors,
  T throttled` (S from the first invocation's start to the last one's end).
- While --repeat runs, lines are written in batches at most PRINT_EVERY_S apart (not one write and
  flush per invocation); ctrl+c stops it after the invocations in flight.
- `--invocation-type Event` (queued: 202 and the request id) and `DryRun` (checked: 204) print the
  status line instead of a response and figures; `--qualifier` ($LATEST, a version or an alias)
  selects what runs, as `NAME:ALIAS` does.
- Exit status 0 when every invocation ran (or was accepted: 202, 204) without a function error or
  throttle, 1 otherwise, 2 for bad usage, configuration or event.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from ..backends.base import Backend, BackendError, RequestError, decoded_payload
from ..config import load_config
from ..executor.spec import InvokeResult
from .main import UsageError, open_backend, wants_aws_services


def read_event(source: str | None) -> bytes:
    """The event bytes, checked to be JSON; a bad one names the file and the error's position, or
    says it nests too deeply (json's parser recurses per level and raises RecursionError)."""
    if source is None:
        return b"{}"
    label = "standard input" if source == "-" else f"event file {source}"
    try:
        data = sys.stdin.buffer.read() if source == "-" else open(source, "rb").read()
    except OSError as e:
        raise UsageError(f"{label}: {e.strerror}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise UsageError(f"{label}: not UTF-8 text (byte {e.start})") from None
    if not text.strip():
        raise UsageError(f"{label}: empty, expected a JSON event")
    try:
        json.loads(text)
    except json.JSONDecodeError as e:
        raise UsageError(f"{label}: invalid JSON at line {e.lineno}, column {e.colno}: {e.msg}") from None
    except RecursionError:  # json's parser recurses once per level: a deep event ends it, not a ValueError
        raise UsageError(f"{label}: invalid JSON: nesting too deep") from None
    return data


# Deeper responses are shown as the text they came as: json's encoder, like its parser, recurses
# once per level, and printing one must not end in a RecursionError either.
MAX_PRINTED_DEPTH = 500


def _payload(payload: bytes) -> Any:
    """The response as JSON when it is JSON nested at most MAX_PRINTED_DEPTH deep, else as text (a
    function may answer with anything; a custom runtime, with JSON nested deeper than Python parses)."""
    try:
        value = decoded_payload(payload)
    except RecursionError:
        return payload.decode("utf-8", "replace")
    if _depth(value) > MAX_PRINTED_DEPTH:
        return payload.decode("utf-8", "replace")
    return value


def _depth(value: Any) -> int:
    """How deeply lists and objects nest in a decoded JSON value (without recursing)."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        v, d = stack.pop()
        if isinstance(v, dict):
            v = list(v.values())
        if isinstance(v, list):
            deepest = max(deepest, d)
            stack.extend((item, d + 1) for item in v)
    return deepest


def result_json(r: InvokeResult) -> dict[str, Any]:
    """The `--json` object: these keys are a contract for scripts."""
    out = {
        "function": r.function,
        "request_id": r.request_id,
        "status_code": r.status_code,
        "function_error": r.function_error,
        "payload": _payload(r.payload) if r.payload else None,
        "duration_ms": r.duration_ms,
        "billed_duration_ms": r.billed_duration_ms,
        "init_duration_ms": r.init_duration_ms,
        "cold_start": r.cold_start,
        "memory_size_mb": r.memory_size_mb,
        "max_memory_used_mb": r.max_memory_used_mb,
        "cost_usd": r.cost_usd,
        "log_tail": r.log_tail,
    }
    if r.error:
        out["error"] = r.error
    if not r.has_figures:
        # No REPORT line came back: the figures are unknown, which is not the same as zero.
        for key in ("duration_ms", "billed_duration_ms", "memory_size_mb", "max_memory_used_mb", "cost_usd"):
            out[key] = None
    return out


# Invocation types that run nothing now: their status codes and what the status means.
ACCEPTED = {202: "Accepted (Event): queued; Lambda runs it asynchronously", 204: "Dry run (DryRun): the function and the caller's permission check out; nothing ran"}


def _figures(r: InvokeResult) -> str:
    if r.status_code in ACCEPTED:
        return f"{r.status_code} {ACCEPTED[r.status_code]}" + (f"  request id {r.request_id}" if r.request_id else "")
    if r.status_code == 429:
        assert r.error is not None  # a throttle says why
        return f"throttled: {r.error['type']} ({r.error['reason']})"
    if not r.has_figures:
        return "Figures unknown: the log tail held no REPORT line"
    parts = [f"Duration: {r.duration_ms:.2f} ms", f"Billed: {r.billed_duration_ms} ms"]
    if r.init_duration_ms is not None:
        parts.append(f"Init: {r.init_duration_ms:.2f} ms")
    parts.append("cold start" if r.cold_start else "warm")
    parts.append(f"Memory: {r.max_memory_used_mb}/{r.memory_size_mb} MB")
    parts.append(f"Cost: ${r.cost_usd:.10f}".rstrip("0"))
    return "  ".join(parts)


def _print_one(r: InvokeResult) -> None:
    if r.status_code in ACCEPTED and not r.payload:
        print(_figures(r))
        return
    payload = _payload(r.payload) if r.payload else None
    if r.function_error:
        print(f"Function error ({r.function_error}): {r.error_type or ''}".rstrip())
    if isinstance(payload, (dict, list)):
        print(json.dumps(payload, indent=2, ensure_ascii=False))
    elif payload is not None:
        print(payload if isinstance(payload, str) else json.dumps(payload))
    print()
    print(_figures(r))
    if r.log_tail:
        print("\n--- log tail " + "-" * 40)
        print(r.log_tail.replace("\r", "\n").rstrip("\n"))


def _summary(results: list[InvokeResult], wall_s: float) -> str:
    done = [r for r in results if r.status_code == 200]
    durations = sorted(r.duration_ms for r in done)
    lines = [
        f"{len(results)} invocations in {wall_s:.2f} s ({len(results) / wall_s:.1f}/s): "
        f"{sum(r.cold_start for r in done)} cold, {sum(1 for r in done if not r.cold_start)} warm, "
        f"{sum(1 for r in done if r.function_error)} errors, {sum(1 for r in results if r.status_code == 429)} throttled"
        + "".join(f", {n} {what}" for n, what in ((sum(1 for r in results if r.status_code == 202), "queued"), (sum(1 for r in results if r.status_code == 204), "dry runs")) if n)
    ]
    if durations:

        def p(q: float) -> float:
            return durations[min(len(durations) - 1, int(q * len(durations)))]

        lines.append(
            f"Duration ms: min {durations[0]:.2f}  p50 {p(0.5):.2f}  "
            f"p99 {p(0.99):.2f}  max {durations[-1]:.2f}"
        )
        inits = [r.init_duration_ms for r in done if r.init_duration_ms is not None]
        if inits:
            lines.append(f"Init ms: mean {sum(inits) / len(inits):.2f} over {len(inits)} cold starts")
        lines.append(f"Total cost: ${sum(r.cost_usd for r in done):.10f}".rstrip("0"))
    return "\n".join(lines)


def _progress_line(n: int, r: InvokeResult) -> str:
    """The text line of the n-th invocation to finish (from 1), during --repeat."""
    if r.status_code in ACCEPTED:
        return f"#{n:<4} {r.status_code}  {'queued' if r.status_code == 202 else 'dry run'}  {r.request_id or '-'}"
    state = "throttled" if r.status_code == 429 else ("cold" if r.cold_start else "warm")
    error = f"  {r.error_type}" if r.function_error else ""
    return (
        f"#{n:<4} {r.status_code}  {state:<9} {r.duration_ms:9.2f} ms  billed {r.billed_duration_ms} ms"
        f"  {r.max_memory_used_mb} MB{error}"
    )


class _Repeat:
    """`--repeat N --concurrency C`: C worker threads take turns from one counter and invoke; the
    calling thread prints what finished, in order of finishing, every PRINT_EVERY_S.

    The workers do nothing but invoke and append (a list append is atomic): formatting, JSON
    encoding and the write to stdout happen on the printing thread in one batch per interval, so
    they neither hold the lock the workers share nor cost a write and a flush per invocation.
    Nothing is submitted up front: a worker takes the next turn when it is free.
    """

    def __init__(self, invoke: Callable[[], InvokeResult], repeat: int, concurrency: int) -> None:
        self.invoke = invoke
        self.repeat = repeat
        self.results: list[InvokeResult] = []  # in the order they finished
        self.error: BaseException | None = None  # the first failure of a worker: the run stops
        self.stop = threading.Event()
        self.finished = threading.Event()  # every worker has returned
        self.wall_s = 0.0
        self._turns = itertools.count()  # next() is atomic: each turn is taken once
        self._running = min(concurrency, repeat)
        self._running_lock = threading.Lock()
        self._started = 0.0
        self.workers = [
            threading.Thread(target=self._work, name=f"lambdatui-invoke-{k}", daemon=True) for k in range(self._running)
        ]

    def start(self) -> None:
        self._started = time.perf_counter()
        for w in self.workers:
            w.start()

    def _work(self) -> None:
        try:
            while not self.stop.is_set() and next(self._turns) < self.repeat:
                self.results.append(self.invoke())
        except BaseException as e:  # handed to the printing thread, which raises it
            if self.error is None:
                self.error = e
            self.stop.set()
        finally:
            with self._running_lock:
                self._running -= 1
                if self._running == 0:
                    self.wall_s = time.perf_counter() - self._started
                    self.finished.set()

    def join(self) -> None:
        self.stop.set()
        for w in self.workers:
            w.join()


PRINT_EVERY_S = 0.1  # how often --repeat's lines are written while invocations run


def _run_repeat(backend: Backend, args: argparse.Namespace, payload: bytes) -> tuple[list[InvokeResult], float]:
    """Run --repeat's invocations, printing a line (or a JSON object) per finished invocation."""

    def invoke() -> InvokeResult:
        return backend.invoke(args.name, payload, source="cli", **_options(args))

    run = _Repeat(invoke, args.repeat, args.concurrency)
    out = sys.stdout
    printed = 0

    def print_finished() -> None:
        nonlocal printed
        results, n = run.results, len(run.results)
        if n == printed:
            return
        if args.json:
            lines = [json.dumps(result_json(r), ensure_ascii=False) for r in results[printed:n]]
        else:
            lines = [_progress_line(k + 1, results[k]) for k in range(printed, n)]
        out.write("\n".join(lines) + "\n")
        out.flush()
        printed = n

    run.start()
    try:
        while not run.finished.wait(PRINT_EVERY_S):
            print_finished()
    finally:
        run.join()  # ctrl+c or a closed pipe: the workers stop after the invocations in flight
    print_finished()
    if run.error is not None:
        raise run.error
    return run.results, run.wall_s


def _options(args: argparse.Namespace) -> dict[str, Any]:
    """Invoke's Qualifier and InvocationType from the command line."""
    return {"qualifier": args.qualifier or None, "invocation_type": args.invocation_type}


def run_invoke(args: argparse.Namespace) -> int:
    if args.repeat < 1:
        raise UsageError("--repeat must be at least 1")
    if args.concurrency < 1:
        raise UsageError("--concurrency must be at least 1")
    if args.qualifier is not None and not args.qualifier.strip():
        raise UsageError("--qualifier: empty; give $LATEST, a version or an alias")
    payload = read_event(args.event)
    # Triggers are not read: invoking never fires them, and their types' modules (the schedule
    # parser, the SQS store) are a good part of a one-shot's start-up. `serve` and `list` check them.
    config = load_config(args.config, triggers=False)
    local = (getattr(args, "backend", None) or config.backend) == "local"
    services = wants_aws_services(args, config, local)
    backend = open_backend(args, config, watch_code=False, provision=[args.name], aws_services=services)
    if services and args.verbose:
        from ..backends.local import LocalBackend  # (`services` is only ever true on the local backend)

        assert isinstance(backend, LocalBackend) and backend.aws_services is not None
        print(f"lambdatui: AWS services {backend.aws_services.endpoint.url}", file=sys.stderr, flush=True)  # stdout stays the result's
    try:
        from .confirm import confirm_invoke  # aws.confirm_invoke: ask on the terminal first, or refuse

        confirm_invoke(backend, args)
        if args.repeat == 1:
            started = time.perf_counter()
            results = [backend.invoke(args.name, payload, source="cli", **_options(args))]
            wall = time.perf_counter() - started
            if args.json:
                print(json.dumps(result_json(results[0]), ensure_ascii=False), flush=True)
        else:
            results, wall = _run_repeat(backend, args, payload)
    except RequestError as e:
        raise UsageError(f"{e.code}: {e}") from None
    finally:
        backend.close()
    for r in results:
        if r.warnings:
            print(f"lambdatui: warning: {r.warnings[0]}", file=sys.stderr)
            break
    if not args.json:
        if args.repeat == 1:
            _print_one(results[0])
        else:
            print()
            print(_summary(results, wall))
    failed = any(r.function_error or r.status_code not in (200, *ACCEPTED) for r in results)
    return 1 if failed else 0


__all__ = ["run_invoke", "read_event", "result_json", "BackendError"]
