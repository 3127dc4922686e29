"""Search latency through mnemo's own store and ranking, for one user with N memories.

    .venv/bin/python bench/search_latency.py [--memories 10000] [--database-url URL]

Fills a scratch database (SQLite by default) by import, with embeddings, then times
`Retrieval.search` (embed the query, FTS5/tsvector top 50, vector top 50, read the
candidates, rank) for the queries of data/retrieval/queries.jsonl, and prints
p50/p95/p99 per step, with the last step of the ranking shipped before
(`rank.fuse`, then read the 10 returned) timed on the same inputs, and the ratio of
the whole search to that old one (embed + keyword + semantic + old last step);
then 50 searches each right after a write (a memory created with its vector), which
read the changed vectors again instead of using only those the process kept
(store/vector_cache.py); 50 right after a create whose embedding is queued (as the API
creates: the search embeds it with the query);
the cold reads of all the user's vectors: the vector stage of a store that keeps none
(each search reads them all), the first search of a store just opened (20 opens), and
the first search after a write of 100 memories (too many to patch: 20 rounds, so the
user ends with 2,050 more memories); then the same 200 queries as a client sends
them: `mnemo serve` (one worker, not pinned to a core) on that database,
`GET /v1/dev/user/memories/search?query=...&limit=10` one at a time over one
keep-alive connection."""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path

import httpx
from run import ALL_CPUS, MNEMO, Server

from mnemo import Settings
from mnemo.accounts import issue_key
from mnemo.models import Memory, new_memory
from mnemo.retrieval import Retrieval, warm
from mnemo.search.entities import content_query
from mnemo.search.rank import fuse
from mnemo.search.relevance import rank
from mnemo.store import store_for

DATA = Path(__file__).resolve().parent.parent / "data" / "retrieval"


def _memories(n: int) -> list[Memory]:
    texts = [json.loads(line)["content"] for line in (DATA / "memories.jsonl").open()]
    return [
        new_memory(texts[i % len(texts)] + ("" if i < len(texts) else f" (note {i})"))
        for i in range(n)
    ]


def _pct(values: list[float], q: float) -> float:
    return sorted(values)[min(int(q * len(values)), len(values) - 1)] * 1000


def _over_http(url: str, secret: str, queries: list[str], work: Path) -> list[float]:
    """Seconds per search through `mnemo serve`, one request at a time."""
    port = 18_321
    argv = [str(MNEMO), "serve", "--port", str(port), "--database-url", url]
    server = Server("mnemo", [*argv, "--log-level", "warning"], port, ALL_CPUS, work / "serve.log")
    try:
        server.wait_ready("/readyz")
        headers = {"Authorization": f"Bearer {secret}"}
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers) as client:
            times = []
            for i, query in enumerate(queries[:10] + queries):
                t0 = time.perf_counter()
                answer = client.get(
                    "/v1/dev/user/memories/search", params={"query": query, "limit": 10}
                )
                if i >= 10:  # after 10 to warm up
                    times.append(time.perf_counter() - t0)
                answer.raise_for_status()
        return times
    finally:
        server.stop()


async def main(n: int, url: str) -> None:
    store = store_for(Settings(database_url=url))
    await store.open()
    try:
        key, secret = await issue_key(store, f"bench{time.time_ns()}")
        retrieval = Retrieval(store)
        warm()  # as `mnemo serve` starts: the model loaded, numpy's BLAS on one thread
        memories = _memories(n)
        started = time.perf_counter()
        for start in range(0, n, 500):
            chunk = memories[start : start + 500]
            vectors = await retrieval.vectors([m.content for m in chunk])
            await store.import_memories(key.user_id, chunk, vectors)
        print(f"filled {n:,} memories with embeddings in {time.perf_counter() - started:.0f} s")
        queries = [json.loads(line)["query"] for line in (DATA / "queries.jsonl").open()][:200]
        for query in queries[:10]:
            await retrieval.search(key.user_id, query, 10, [])  # warm up
        totals, embeds, keyword, semantic, old_last, new_last, old_totals = ([] for _ in range(7))
        half = store.keyword_half
        for query in queries:
            t0 = time.perf_counter()
            (vector,) = await retrieval.vectors([query])
            t1 = time.perf_counter()
            found = await store.keyword_search(key.user_id, query, 50)
            t2 = time.perf_counter()
            near = await store.semantic_search(key.user_id, vector, 50)
            t3 = time.perf_counter()
            await retrieval.search(key.user_id, query, 10, [])
            t4 = time.perf_counter()
            ranked = fuse(found, near, 10, keyword_half=half)  # the ranking before
            await store.memories_by_ids(key.user_id, [i for i, _ in ranked])
            t5 = time.perf_counter()
            words = await store.keyword_search(key.user_id, content_query(query), 50)
            t6 = time.perf_counter()
            ids = list(dict.fromkeys(i for i, _ in [*near, *words]))
            rows = await store.memories_by_ids(key.user_id, ids)
            rank(query, words, near, {i: m.content for i, m in rows.items()}, 10, keyword_half=half)
            t7 = time.perf_counter()
            embeds.append(t1 - t0)
            keyword.append(t2 - t1)
            semantic.append(t3 - t2)
            totals.append(t4 - t3)
            old_last.append(t5 - t4)
            new_last.append(t7 - t6)
            old_totals.append(t3 - t0 + t5 - t4)
        # A search right after a write: the process reads the user's vectors again.
        after_write = []
        for i, query in enumerate(queries[:50]):
            memory = new_memory(f"written between searches {i}")
            await store.insert_memories(key.user_id, [memory], await retrieval.vectors([query]))
            t0 = time.perf_counter()
            await retrieval.search(key.user_id, query, 10, [])
            after_write.append(time.perf_counter() - t0)
        # A search right after a create whose embedding is still queued (as the API
        # creates): the search embeds it with the query and ranks it with the others.
        after_create = []
        for i, query in enumerate(queries[:50]):
            await store.insert_memories(key.user_id, [new_memory(f"created before search {i}")])
            t0 = time.perf_counter()
            await retrieval.search(key.user_id, query, 10, [])
            after_create.append(time.perf_counter() - t0)
        await retrieval.drain()
        uncached = store_for(Settings(database_url=url, vector_cache_mb=0))
        await uncached.open()
        try:
            nothing_kept = []
            for query in queries:
                (vector,) = await retrieval.vectors([query])
                t0 = time.perf_counter()
                await uncached.semantic_search(key.user_id, vector, 50)
                nothing_kept.append(time.perf_counter() - t0)
        finally:
            await uncached.close()
        after_open = []
        for query in queries[:20]:
            opened = store_for(Settings(database_url=url))
            await opened.open()
            try:
                t0 = time.perf_counter()
                await Retrieval(opened).search(key.user_id, query, 10, [])
                after_open.append(time.perf_counter() - t0)
            finally:
                await opened.close()
        after_batch = []
        for i, query in enumerate(queries[:20]):
            batch = [new_memory(f"batch {i} memory {j}") for j in range(100)]
            vectors = await retrieval.vectors([query] * 100)
            await store.insert_memories(key.user_id, batch, vectors)
            t0 = time.perf_counter()
            await retrieval.search(key.user_id, query, 10, [])
            after_batch.append(time.perf_counter() - t0)
    finally:
        await store.close()
    with tempfile.TemporaryDirectory() as work:
        http = _over_http(url, secret, queries, Path(work))
    print(f"{len(queries)} queries, one user with {n:,} memories ({url.split(':')[0]})\n")
    print("| step | p50 ms | p95 ms | p99 ms |\n|---|---|---|---|")
    for name, values in (
        ("embed the query", embeds),
        ("keyword top 50", keyword),
        ("semantic top 50", semantic),
        ("last step before: fuse, read the 10 returned", old_last),
        ("last step now: read the candidates, rank", new_last),
        ("whole search before (embed + keyword + semantic + fuse, read)", old_totals),
        ("whole search", totals),
        ("whole search, first after a write (50)", after_write),
        ("whole search, first after a create, its embedding queued (50)", after_create),
        ("semantic top 50, no vectors kept: all read (cold)", nothing_kept),
        ("whole search, first of a store just opened (20)", after_open),
        ("whole search, first after a write of 100 memories: all read (20)", after_batch),
        ("whole search over HTTP (mnemo serve, one client)", http),
    ):
        print(
            f"| {name} | {_pct(values, 0.5):.1f} | {_pct(values, 0.95):.1f} | "
            f"{_pct(values, 0.99):.1f} |"
        )
    print(f"\nmean whole search: {statistics.mean(totals) * 1000:.1f} ms")
    ratio = statistics.median(totals) / statistics.median(old_totals)
    print(f"whole search p50 now / before (same run): {ratio:.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--memories", type=int, default=10_000)
    parser.add_argument("--database-url", default=None)
    options = parser.parse_args()
    url = options.database_url or f"sqlite:///{tempfile.mkdtemp()}/search.db"
    asyncio.run(main(options.memories, url))
