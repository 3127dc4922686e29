"""Many concurrent clients on one SQLite file, several workers: no locks, no 500s."""

from __future__ import annotations

import asyncio
from collections import Counter

import httpx

from tests.e2e.server import start_server
from tests.helpers import MEMORIES

CLIENTS = 32
ROUNDS = 12


async def _client(
    base: str, headers: dict[str, str], n: int, statuses: Counter[int], kept: list[str]
) -> None:
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as client:
        for i in range(ROUNDS):
            made = await client.post(MEMORIES, json={"content": f"c{n} fact {i}"})
            statuses[made.status_code] += 1
            assert made.status_code == 200, made.text
            memory_id = made.json()["id"]
            batch = await client.post(
                f"{MEMORIES}/batch",
                json={
                    "memories": [
                        {"content": f"c{n} b{i}.{j}", "category": "system"} for j in range(3)
                    ]
                },
            )
            statuses[batch.status_code] += 1
            patched = await client.patch(f"{MEMORIES}/{memory_id}", json={"tags": [str(i)]})
            statuses[patched.status_code] += 1
            listed = await client.get(MEMORIES, params={"limit": 25})
            statuses[listed.status_code] += 1
            if i % 2:
                deleted = await client.delete(f"{MEMORIES}/{memory_id}")
                statuses[deleted.status_code] += 1
            else:
                kept.append(memory_id)
            assert batch.status_code == 200, batch.text
            kept.extend(m["id"] for m in batch.json()["memories"])


def test_concurrent_clients_on_two_workers(database_url: str) -> None:
    server = start_server(database_url, workers=2)
    try:
        headers = {"Authorization": f"Bearer {server.first_key}"}
        statuses: Counter[int] = Counter()
        kept: list[str] = []

        async def main() -> None:
            await asyncio.gather(
                *(_client(server.base, headers, n, statuses, kept) for n in range(CLIENTS))
            )

        asyncio.run(main())
        assert set(statuses) == {200}, statuses
        assert sum(statuses.values()) == CLIENTS * ROUNDS * 4 + CLIENTS * ROUNDS // 2
        stored: list[str] = []
        while page := httpx.get(
            f"{server.base}{MEMORIES}",
            headers=headers,
            params={"limit": 1000, "offset": len(stored)},
        ).json():
            stored += [m["id"] for m in page]
        assert sorted(stored) == sorted(kept)
        log = "\n".join(server.output)
        assert "database is locked" not in log and "Traceback" not in log
    finally:
        server.stop()
