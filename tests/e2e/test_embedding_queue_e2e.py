"""The embedding queue and dedup through real servers, both backends: identical creates
sent at once store one memory; memories acknowledged before a `kill -9` all get their
embedding after the restart, including those whose lease the killed server held."""

from __future__ import annotations

import asyncio
import time

import httpx

from mnemo.config import Settings
from mnemo.store import store_for
from tests.e2e.server import run_cli, start_server
from tests.helpers import MEMORIES

IDENTICAL = 24
WAIT_S = 120  # the longest the embedder is given to drain the queue after the restart


async def _counts(database_url: str) -> tuple[int, int]:
    """(queued, without a vector), read by a store of this process on the same database."""
    store = store_for(Settings(database_url=database_url))
    await store.open()
    try:
        return await store.count_pending(), await store.count_unindexed()
    finally:
        await store.close()


def test_identical_creates_at_once_store_one(database_url: str) -> None:
    server = start_server(database_url, workers=2)
    try:
        headers = {"Authorization": f"Bearer {server.first_key}"}

        async def create(client: httpx.AsyncClient, n: int) -> httpx.Response:
            # half the requests say it in other words that are the same fact
            content = (
                "User is allergic to penicillin" if n % 2 else "user is ALLERGIC to penicillin!"
            )
            return await client.post(MEMORIES, json={"content": content})

        async def main() -> list[httpx.Response]:
            limits = httpx.Limits(max_connections=IDENTICAL)
            async with httpx.AsyncClient(
                base_url=server.base, headers=headers, timeout=60, limits=limits
            ) as client:
                return await asyncio.gather(*(create(client, n) for n in range(IDENTICAL)))

        answers = asyncio.run(main())
        assert [r.status_code for r in answers] == [200] * IDENTICAL
        bodies = [r.json() for r in answers]
        stored = [b for b in bodies if b.get("duplicate_of") is None]
        assert len(stored) == 1, bodies
        assert {b["duplicate_of"] for b in bodies if b not in stored} == {stored[0]["id"]}
        listed = httpx.get(f"{server.base}{MEMORIES}", headers=headers, timeout=30).json()
        assert [m["id"] for m in listed] == [stored[0]["id"]]
    finally:
        server.stop()


def test_every_acknowledged_memory_gets_its_vector_after_kill_9(database_url: str) -> None:
    # A short lease: the killed server's claims are taken over within seconds.
    env = {"MNEMO_EMBED_LEASE_S": "2"}
    server = start_server(database_url, extra_env=env)
    headers = {"Authorization": f"Bearer {server.first_key}"}
    acked: list[str] = []
    with httpx.Client(base_url=server.base, headers=headers, timeout=30) as client:
        for i in range(8):
            body = {
                "memories": [{"content": f"User fact {i}.{j} of the kill test"} for j in range(25)]
            }
            response = client.post(f"{MEMORIES}/batch", json=body)
            assert response.status_code == 200, response.text
            acked.extend(m["id"] for m in response.json()["memories"])
    server.kill()  # at once after 200 acknowledged creates: most are still queued
    queued, unindexed = asyncio.run(_counts(database_url))
    assert queued > 0 and unindexed == queued, (queued, unindexed)

    restarted = start_server(database_url, extra_env=env)
    try:
        banner = "\n".join(restarted.output)
        assert "memories are queued for embedding: the server embeds them now" in banner
        assert "not in the search index yet" not in banner  # nothing needs a reindex
        deadline = time.monotonic() + WAIT_S
        while asyncio.run(_counts(database_url)) != (0, 0) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert asyncio.run(_counts(database_url)) == (0, 0)
        listed = httpx.get(
            f"{restarted.base}{MEMORIES}", params={"limit": 1000}, headers=headers, timeout=30
        ).json()
        assert sorted(m["id"] for m in listed) == sorted(acked)
        metrics = httpx.get(f"{restarted.base}/metrics", timeout=30).text
        assert "mnemo_embedding_queue_depth 0.0" in metrics
        assert "mnemo_embeddings_computed_total" in metrics
    finally:
        restarted.stop()


def test_reindex_pending_embeds_what_a_killed_server_left(database_url: str) -> None:
    server = start_server(database_url)
    headers = {"Authorization": f"Bearer {server.first_key}"}
    with httpx.Client(base_url=server.base, headers=headers, timeout=30) as client:
        for i in range(4):
            body = {
                "memories": [{"content": f"User keeps note {i}.{j} in a folder"} for j in range(25)]
            }
            assert client.post(f"{MEMORIES}/batch", json=body).status_code == 200
    server.kill()
    queued, _ = asyncio.run(_counts(database_url))
    assert queued > 0
    done = run_cli("reindex", "--pending", "--database-url", database_url)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"embedded {queued} queued memories"
    assert asyncio.run(_counts(database_url)) == (0, 0)
    again = run_cli("reindex", "--pending", "--database-url", database_url)
    assert again.stdout.strip() == "embedded 0 queued memories"
    nobody = run_cli("reindex", "--pending", "--user", "ghost", "--database-url", database_url)
    assert nobody.returncode == 1 and "no user named 'ghost'" in nobody.stderr
    assert len(nobody.stderr.strip().splitlines()) == 1
