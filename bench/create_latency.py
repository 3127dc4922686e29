"""Create latency as one client sees it, and a search right after each create.

    .venv/bin/python bench/create_latency.py [--creates 300] [--database-url URL]

Starts `mnemo serve` (one worker, rate limits off) on a scratch database (SQLite by
default), then over one keep-alive connection, one request at a time: `--creates`
single creates, 60 batches of 25, then (once the embedding queue is empty) 100 rounds
of a create followed at once by a search for its one rare word (the search pays for
the memory's pending embedding). Every
create has fresh content (repeated content would measure dedup, not writes). Prints
p50/p95/p99 of each and the batches' memories per second.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import uuid
from pathlib import Path

import httpx
from run import ALL_CPUS, MNEMO, Server

from mnemo import Settings
from mnemo.accounts import issue_key
from mnemo.store import store_for

MEMORIES = "/v1/dev/user/memories"
_WORDS = ["tea", "chess", "violin", "Lisbon", "marathon", "cello", "penguins", "sourdough"]


def _fresh(i: int) -> str:
    tag = uuid.uuid4().hex[:8]
    return (
        f"User note {i} {tag}: likes {_WORDS[i % len(_WORDS)]} and {_WORDS[(i * 7) % len(_WORDS)]}"
    )


def _drained(client: httpx.Client, timeout_s: float = 600) -> None:
    """Wait until the embedding queue is empty (a mnemo without one: at once)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        metrics = client.get("/metrics").text
        if "mnemo_embedding_queue_depth 0.0" in metrics or "queue_depth" not in metrics:
            return
        time.sleep(0.2)


def _pct(values: list[float], q: float) -> float:
    return sorted(values)[min(int(q * len(values)), len(values) - 1)] * 1000


async def _key(url: str) -> str:
    store = store_for(Settings(database_url=url))
    await store.open()
    try:
        _, secret = await issue_key(store, f"bench{time.time_ns()}")
        return secret
    finally:
        await store.close()


def main(creates: int, url: str) -> None:
    secret = asyncio.run(_key(url))
    port = 18_322
    argv = [str(MNEMO), "serve", "--port", str(port), "--database-url", url]
    with tempfile.TemporaryDirectory() as work:
        server = Server(
            "mnemo",
            [*argv, "--log-level", "warning"],
            port,
            ALL_CPUS,
            Path(work) / "serve.log",  # (run.ENV: no rate limits, no queue bounds)
        )
        try:
            server.wait_ready("/readyz")
            headers = {"Authorization": f"Bearer {secret}"}
            with httpx.Client(
                base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=60
            ) as client:
                single, batch, search = [], [], []
                for i in range(creates + 20):
                    t0 = time.perf_counter()
                    client.post(MEMORIES, json={"content": _fresh(i)}).raise_for_status()
                    if i >= 20:  # after 20 to warm up
                        single.append(time.perf_counter() - t0)
                for i in range(60):
                    body = {
                        "memories": [{"content": _fresh(10_000 + 25 * i + j)} for j in range(25)]
                    }
                    t0 = time.perf_counter()
                    client.post(f"{MEMORIES}/batch", json=body).raise_for_status()
                    batch.append(time.perf_counter() - t0)
                _drained(client)
                for _ in range(100):
                    word = f"zq{uuid.uuid4().hex[:10]}"
                    made = client.post(MEMORIES, json={"content": f"User's locker code is {word}"})
                    made.raise_for_status()
                    t0 = time.perf_counter()
                    found = client.get(f"{MEMORIES}/search", params={"query": word})
                    search.append(time.perf_counter() - t0)
                    found.raise_for_status()
        finally:
            server.stop()
    print(f"one client over HTTP, mnemo serve (1 worker), {url.split(':')[0]}\n")
    print("| request | p50 ms | p95 ms | p99 ms |\n|---|---|---|---|")
    for name, values in (
        (f"create ({creates}, fresh content)", single),
        ("batch of 25 (60)", batch),
        ("search right after a create (100)", search),
    ):
        print(
            f"| {name} | {_pct(values, 0.5):.1f} | {_pct(values, 0.95):.1f} | "
            f"{_pct(values, 0.99):.1f} |"
        )
    print(f"\nbatches: {25 * len(batch) / sum(batch):.0f} memories/s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--creates", type=int, default=300)
    parser.add_argument("--database-url", default=None)
    options = parser.parse_args()
    main(options.creates, options.database_url or f"sqlite:///{tempfile.mkdtemp()}/create.db")
