"""CPU cost of mnemo's per-request metrics, in process memory and in multiprocess files.

    .venv/bin/python bench/metrics_overhead.py [--requests 20000] [--rounds 3]

Calls `MetricsMiddleware` (mnemo.metrics: the request counter, the latency histogram,
the in-flight gauge) around an ASGI app that answers 200 at once, as a server would
call it, and reports the CPU microseconds a request costs (process time) three ways,
each in a fresh interpreter of its own, alternated `--rounds` times in this session:

- `bare`: the same app without the middleware (the baseline);
- `process`: the middleware with the app's own registry (no `PROMETHEUS_MULTIPROC_DIR`:
  an app built in a test, or served by another ASGI server);
- `multiprocess`: the middleware with `PROMETHEUS_MULTIPROC_DIR` set to a fresh
  directory, as `mnemo serve` runs its workers (values in memory-mapped files).

The figures are medians of the rounds; the ratios divide by `bare` and by `process`.
CPU time, unlike wall time, is not stolen by other processes, though a busy machine
still slows it (caches, frequency). bench/fast_path.py measures a list request end to
end.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

KINDS = ("bare", "process", "multiprocess")


def measure(kind: str, requests: int) -> float:
    """CPU µs per request of `kind` (run in this process: see `main`)."""
    import asyncio
    import time

    from mnemo.metrics import Metrics, MetricsMiddleware

    class Route:
        path = "/v1/dev/user/memories"

    async def app(scope: dict, receive: object, send: object) -> None:  # type: ignore[type-arg]
        scope["route"] = Route
        await send({"type": "http.response.start", "status": 200, "headers": []})  # type: ignore[operator]
        await send({"type": "http.response.body", "body": b"[]"})  # type: ignore[operator]

    served = app if kind == "bare" else MetricsMiddleware(app, Metrics("sqlite"))

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: object) -> None:
        return None

    async def run() -> float:
        scope = {"type": "http", "method": "GET", "path": Route.path}
        for _ in range(1000):  # warm up
            await served(dict(scope), receive, send)
        started = time.process_time()
        for _ in range(requests):
            await served(dict(scope), receive, send)
        return (time.process_time() - started) / requests * 1e6

    return asyncio.run(run())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--one", choices=KINDS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one, args.requests)))
        return
    results: dict[str, list[float]] = {kind: [] for kind in KINDS}
    for _ in range(args.rounds):
        for kind in KINDS:
            env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
            with tempfile.TemporaryDirectory(prefix="mnemo-metrics-bench-") as directory:
                if kind == "multiprocess":
                    env["PROMETHEUS_MULTIPROC_DIR"] = directory
                argv = [sys.executable, __file__, "--one", kind, "--requests", str(args.requests)]
                out = subprocess.run(argv, env=env, capture_output=True, text=True, check=True)
            results[kind].append(json.loads(out.stdout))
    median = {kind: statistics.median(values) for kind, values in results.items()}
    print(f"CPU per request, {args.requests} requests, median of {args.rounds} rounds")
    print("| kind | µs per request (rounds) | × bare | × process |")
    print("|---|---|---|---|")
    for kind in KINDS:
        rounds = ", ".join(f"{v:.1f}" for v in results[kind])
        print(
            f"| {kind} | {median[kind]:.1f} ({rounds}) | {median[kind] / median['bare']:.2f}"
            f" | {median[kind] / median['process']:.2f} |"
        )
    cost = median["multiprocess"] - median["process"]
    print(f"\nmultiprocess files cost {cost:.1f} µs a request more than process memory")


if __name__ == "__main__":
    main()
