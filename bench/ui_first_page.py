"""Server-side time of the web page's first page for a user with many memories, as a
ratio to the API's list route measured in the same run.

    .venv/bin/python bench/ui_first_page.py [--memories 10000] [--requests 300]
                                            [--database-url URL]

Builds mnemo's app (`create_app`, its lifespan run), fills a scratch database (a
temporary SQLite file by default; a PostgreSQL URL gets a fresh user) with N memories
of one user by import (no embeddings; a tenth carry the tag `music`), opens a page
session for the user's key, then calls the app in process (httpx's ASGI transport, no
sockets), one request at a time, the routes in turn, each `--requests` times:

- `api`: GET /v1/dev/user/memories?limit=50 (the API's list, its fast path);
- `ui`: GET /ui/memories, the whole first page (50 cards, the count of all N);
- `ui newest`: the same, newest first;
- `ui tag`: the same, filtered by a tag (a tenth of the memories);
- `ui more`: the htmx fragment of the page at offset N/2.

Prints, per route, the median and p90 wall time and this process's CPU time per
request in milliseconds, and the median's ratio to `api`'s.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

from mnemo import Settings, create_app
from mnemo.accounts import issue_key
from mnemo.models import new_memory
from mnemo.ui.session import COOKIE, open_session


async def _time(call: Callable[[], Awaitable[Any]], n: int) -> tuple[float, float, float]:
    walls = []
    cpu_start = time.process_time()
    for _ in range(n):
        start = time.perf_counter()
        await call()
        walls.append((time.perf_counter() - start) * 1000)
    cpu = (time.process_time() - cpu_start) * 1000 / n
    walls.sort()
    return statistics.median(walls), walls[int(len(walls) * 0.9)], cpu


async def main(memories: int, requests: int, url: str) -> None:
    app = create_app(Settings(database_url=url, access_log=False))
    async with app.router.lifespan_context(app):
        found = app.state.mnemo
        user = f"bench-{time.time_ns()}"
        record, secret = await issue_key(found.store, user)
        base = time.time_ns() // 1000 - memories * 1_000_000
        batch = [
            new_memory(
                f"User fact number {i}: likes item {i % 97} in place {i % 13}",
                category=("system", "interesting", "core")[i % 3],
                tags=["music"] if i % 10 == 0 else [],
                created_us=base + i * 1_000_000,
            )
            for i in range(memories)
        ]
        for start in range(0, memories, 1000):
            await found.store.import_memories(record.user_id, batch[start : start + 1000])
        await found.store.analyze()
        session = await open_session(found.store, found.settings, record)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
            http.cookies.set(COOKIE, session, path="/ui")
            auth = {"Authorization": f"Bearer {secret}"}
            routes: dict[str, tuple[str, dict[str, str]]] = {
                "api": ("/v1/dev/user/memories?limit=50", auth),
                "ui": ("/ui/memories", {}),
                "ui newest": ("/ui/memories?order=newest", {}),
                "ui tag": ("/ui/memories?tag=music", {}),
                "ui more": (f"/ui/memories?offset={memories // 2}", {"HX-Request": "true"}),
            }
            for target, headers in routes.values():  # warm up; and check each answers
                answer = await http.get(target, headers=headers)
                assert answer.status_code == 200, (target, answer.status_code, answer.text[:300])
            results: dict[str, list[tuple[float, float, float]]] = {name: [] for name in routes}
            rounds = 3
            for _ in range(rounds):  # interleaved, so drift hits every route alike
                for name, (target, headers) in routes.items():

                    async def call(target: str = target, headers: dict[str, str] = headers) -> None:
                        await http.get(target, headers=headers)

                    results[name].append(await _time(call, max(requests // rounds, 1)))
    api_median = statistics.median(r[0] for r in results["api"])
    print(f"{memories} memories, {requests} requests per route, {url.split(':')[0]}")
    print(f"{'route':<10} {'median ms':>10} {'p90 ms':>8} {'cpu ms':>8} {'ratio':>6}")
    for name, rows in results.items():
        median = statistics.median(r[0] for r in rows)
        p90 = statistics.median(r[1] for r in rows)
        cpu = statistics.median(r[2] for r in rows)
        print(f"{name:<10} {median:>10.2f} {p90:>8.2f} {cpu:>8.2f} {median / api_median:>6.1f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--memories", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        database = args.database_url or f"sqlite:///{Path(scratch) / 'bench.db'}"
        asyncio.run(main(args.memories, args.requests, database))
