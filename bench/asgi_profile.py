"""CPU cost per request of each route, in process, without HTTP or a load generator.

    .venv/bin/python bench/asgi_profile.py [--backend sqlite] [--requests 3000]
    .venv/bin/python bench/asgi_profile.py --route list --pyinstrument   # where it goes

Builds mnemo's app with `create_app(Settings(...))`, runs its lifespan, and calls it
as an ASGI application directly, 32 requests in flight at a time, exactly as a server
would (same scope, same body messages). Reports CPU microseconds per request
(process time, every thread included) next to the minimal FastAPI app's, so the
figures hold on a busy machine: CPU time, unlike wall time, is not stolen by other
processes. With --pyinstrument, prints the call tree of one route (async mode).

The HTTP layer (Granian: parsing, writing, the socket) is not included;
bench/run.py measures it end to end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import run  # noqa: E402

Request = tuple[str, str, str, str]  # method, target, key, body


def scope_of(method: str, target: str, key: str, body: bytes) -> dict[str, Any]:
    path, _, query = target.partition("?")
    headers = [(b"host", b"127.0.0.1:8080"), (b"user-agent", b"bench"), (b"accept", b"*/*")]
    if key:
        headers.append((b"authorization", f"Bearer {key}".encode()))
    if body:
        headers += [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ]
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8080),
        "state": {},
    }


async def call(app: Callable[..., Any], request: Request) -> int:
    method, target, key, body_text = request
    body = body_text.encode()
    sent = False
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Event().wait()  # a disconnect never comes
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope_of(method, target, key, body), receive, send)
    return status


async def drive(
    app: Callable[..., Any], requests: list[Request], n: int, concurrency: int
) -> tuple[float, float, dict[int, int]]:
    """(CPU µs per request, wall µs per request, status counts) over n requests."""
    statuses: dict[int, int] = {}
    index = 0

    async def worker() -> None:
        nonlocal index
        while index < n:
            request = requests[index % len(requests)]
            index += 1
            status = await call(app, request)
            statuses[status] = statuses.get(status, 0) + 1

    cpu0, wall0 = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    return cpu / n * 1e6, wall / n * 1e6, statuses


def read_plan(path: Path) -> list[Request]:
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        method, target, key, body = line.split("\t", 3)
        lines.append((method, target, key, body))
    return lines


async def measure(
    url: str,
    plans: dict[str, Path],
    routes: list[str],
    n: int,
    concurrency: int,
    profile_route: str | None,
) -> dict[str, Any]:
    import floor

    from mnemo.app import create_app
    from mnemo.config import Settings

    results: dict[str, Any] = {}
    floor_app = floor.fastapi_app()
    get_root: list[Request] = [("GET", "/", "", "")]
    await drive(floor_app, get_root, n // 4, concurrency)
    results["fastapi floor"] = await drive(floor_app, get_root, n, concurrency)
    app = create_app(Settings(database_url=url, rate_limit_enabled=False, log_level="warning"))
    async with app.router.lifespan_context(app):
        for route in routes:
            requests = read_plan(plans[route])
            if route not in ("create", "batch", "patch"):
                # Deep plans warm up on pages of their own (see run.PAGE): a replay of the
                # measured pages would leave bookmarks for them.
                warmup = plans.get(f"{route}_warmup", plans[route])
                await drive(app, read_plan(warmup), n // 4, concurrency)
            count = n if route != "batch" else max(50, n // 10)
            if route == profile_route:
                from pyinstrument import Profiler

                profiler = Profiler(async_mode="enabled", interval=0.0005)
                profiler.start()
                results[route] = await drive(app, requests, count, concurrency)
                profiler.stop()
                print(profiler.output_text(unicode=True, color=False))
                flat = profiler.output_text(flat=True, flat_time="total", time="percent_of_total")
                print("\n".join(flat.splitlines()[:70]))
            else:
                results[route] = await drive(app, requests, count, concurrency)
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--route", action="append", help="default: every route")
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--pyinstrument", action="store_true", help="profile the (first) route")
    parser.add_argument("--workdir", help="reuse data here (default: a temp dir)")
    args = parser.parse_args()
    work = Path(args.workdir or tempfile.mkdtemp(prefix="mnemo-asgi-"))
    work.mkdir(parents=True, exist_ok=True)
    data_path, plans = run.profile_data(work)
    routes = args.route or [
        "healthz",
        "list",
        "list_deep",
        "list_big",
        "list_big_deep",
        "list_big_cold",
        "list_big_walk",
        "get",
        "patch",
        "create",
        "batch",
    ]
    db = run.Database(args.backend, "asgi", work)
    try:
        db.fill(data_path)
        results = asyncio.run(
            measure(
                db.url,
                plans,
                routes,
                args.requests,
                args.concurrency,
                routes[0] if args.pyinstrument else None,
            )
        )
    finally:
        db.drop()
    floor_cpu = results["fastapi floor"][0]
    print(f"\n{args.backend}: CPU per request, in process (no HTTP), {args.concurrency} in flight")
    print(f"{'route':<16} {'CPU µs':>8} {'× floor':>8} {'wall µs':>8}  statuses")
    for route, (cpu, wall, statuses) in results.items():
        print(f"{route:<16} {cpu:8.0f} {cpu / floor_cpu:8.1f} {wall:8.0f}  {json.dumps(statuses)}")


if __name__ == "__main__":
    main()
