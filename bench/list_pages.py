"""Microbenchmark of a list page and of inserts through the store alone (no HTTP).

    .venv/bin/python bench/list_pages.py [--memories 10000] [--database-url URL]

Fills a scratch database (a temporary SQLite file by default; a PostgreSQL URL uses
a fresh user in that database) with N memories by import (no embeddings), then times,
as the list route calls it, `store.list_memories_json`:
- the first page (limit 25, offset 0), 2,000 times;
- a bookmarked deep page (limit 25 at offset N/2 + 25, after the page before it was
  read once, so each call continues from a remembered row: store/bookmarks.py),
  2,000 times;
- a get by id as the route answers it (the stored JSON; before it existed, the memory
  read and dumped by pydantic), 2,000 times;
and the writes: `insert_memories` of 1 memory (500 times) and of 25 (100 times), fresh
content each. SQLite runs with `synchronous=NORMAL` here, so that the figures are the
write's work, not the disk's fsync. Prints the median and p90 of the wall time and the
CPU time of this process per call (all its threads; for PostgreSQL the server's CPU is
not in it), in microseconds: on a shared machine the CPU time is the steadier figure.
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

from pydantic import TypeAdapter

from mnemo.accounts import issue_key
from mnemo.models import Memory, new_memory


def _store(url: str) -> Any:
    if url.startswith("sqlite:///"):
        from mnemo.store.sqlite import SQLiteStore

        return SQLiteStore(url.removeprefix("sqlite:///"), synchronous="NORMAL")
    from mnemo.store.postgres import PostgresStore

    return PostgresStore(url)


async def _times(call: Callable[[], Awaitable[Any]], n: int) -> tuple[float, float, float]:
    """Median and p90 of the wall time, and this process's CPU time (all its threads)
    per call, in microseconds."""
    for _ in range(min(50, n)):  # warm up (statement caches, pages)
        await call()
    spent = []
    cpu = time.process_time_ns()
    for _ in range(n):
        t0 = time.perf_counter_ns()
        await call()
        spent.append((time.perf_counter_ns() - t0) / 1000)
    cpu = (time.process_time_ns() - cpu) / 1000 / n
    spent.sort()
    return statistics.median(spent), spent[int(0.9 * len(spent))], cpu


async def main(n: int, url: str) -> None:
    store = _store(url)
    await store.open()
    try:
        key, _ = await issue_key(store, f"bench{time.time_ns()}")
        user = key.user_id
        memories = [
            new_memory(f"Bench memory {i}: the user likes item {i * 7919 % 100_003}")
            for i in range(n)
        ]
        for start in range(0, n, 500):
            await store.import_memories(user, memories[start : start + 500])
        await store.analyze()
        deep = n // 2
        await store.list_memories_json(user, [], 25, deep)  # remembers where deep+25 starts
        first = await _times(lambda: store.list_memories_json(user, [], 25, 0), 2000)
        marked = await _times(lambda: store.list_memories_json(user, [], 25, deep + 25), 2000)
        some = memories[n // 3].id
        if hasattr(store, "get_memory_json"):  # the stored JSON (mnemo.store.render)
            get = await _times(lambda: store.get_memory_json(user, some), 2000)
        else:  # before it: the memory read, then dumped by pydantic, as the route did
            adapter = TypeAdapter(Memory)

            async def read_and_dump() -> bytes:
                return adapter.dump_json(await store.get_memory(user, some))

            get = await _times(read_and_dump, 2000)
        counter = iter(range(10**9))

        def fresh(count: int) -> list[Any]:
            return [
                new_memory(f"Fresh memory {next(counter)} {time.time_ns()}") for _ in range(count)
            ]

        one = await _times(lambda: store.insert_memories(user, fresh(1)), 500)
        batch = await _times(lambda: store.insert_memories(user, fresh(25)), 100)
    finally:
        await store.close()
    for name, (median, p90, cpu) in (
        ("first page (25)", first),
        (f"bookmarked page (25 at {deep + 25})", marked),
        ("get by id, as answered", get),
        ("insert 1", one),
        ("insert 25", batch),
    ):
        print(f"{name:36} median {median:7.0f} us  p90 {p90:7.0f} us  cpu {cpu:7.0f} us")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--memories", type=int, default=10_000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        url = args.database_url or f"sqlite:///{Path(work) / 'bench.db'}"
        asyncio.run(main(args.memories, url))
