"""`Idempotency-Key` through a real `mnemo serve` on 2 workers, both backends: a retry
answers the first answer's bytes and writes once, even when the copies arrive at once on
different processes; another body with the key, or a malformed key, is a 422."""

from __future__ import annotations

import asyncio
import uuid

import httpx

from tests.e2e.server import start_server
from tests.helpers import MEMORIES

COPIES = 12  # requests with one key at once


def test_keyed_creates_store_once_across_workers(database_url: str) -> None:
    # deduplication off: only the key can keep the copies out
    server = start_server(database_url, workers=2, extra_env={"MNEMO_DEDUP_ENABLED": "false"})
    try:
        headers = {"Authorization": f"Bearer {server.first_key}"}

        async def main() -> None:
            limits = httpx.Limits(max_connections=2 * COPIES)
            async with httpx.AsyncClient(
                base_url=server.base, headers=headers, timeout=60, limits=limits
            ) as client:
                for round_ in range(5):
                    key = str(uuid.uuid4())
                    single = {"content": f"User's locker {round_} is blue"}
                    batch = {"memories": [{"content": f"User note {round_}"}]}
                    answers = await asyncio.gather(
                        *[
                            client.post(MEMORIES, json=single, headers={"Idempotency-Key": key})
                            for _ in range(COPIES)
                        ],
                        *[
                            client.post(
                                f"{MEMORIES}/batch",
                                json=batch,
                                headers={"Idempotency-Key": key + "-batch"},
                            )
                            for _ in range(COPIES)
                        ],
                    )
                    assert [a.status_code for a in answers] == [200] * 2 * COPIES
                    assert len({a.content for a in answers[:COPIES]}) == 1
                    assert len({a.content for a in answers[COPIES:]}) == 1
                    fresh = [a for a in answers if "idempotent-replayed" not in a.headers]
                    assert len(fresh) == 2  # one first answer per key
                    other = await client.post(
                        MEMORIES,
                        json={"content": "User is vegan"},
                        headers={"Idempotency-Key": key},
                    )
                    assert (other.status_code, other.json()) == (
                        422,
                        {"detail": "Idempotency-Key reused with a different request"},
                    )
                malformed = await client.post(
                    MEMORIES,
                    json={"content": "User is vegan"},
                    headers={"Idempotency-Key": "k" * 256},
                )
                assert malformed.status_code == 422
                listed = await client.get(MEMORIES, params={"limit": 1000})
                assert listed.status_code == 200
                assert len(listed.json()) == 5 * 2

        asyncio.run(main())
    finally:
        server.stop()
