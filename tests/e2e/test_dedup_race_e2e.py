"""Concurrent identical creates through a real server on 2 workers, both backends, for
many rounds: whichever create lands first, the fact is stored once and every other
create (single or in a batch, in the same or other words) is answered with it; two
facts that only a role reversal tells apart are both stored."""

from __future__ import annotations

import asyncio

import httpx

from tests.e2e.server import start_server
from tests.helpers import MEMORIES

ROUNDS = 30
SINGLES = 12  # identical single creates at once, each round
BATCHES = 4  # and batches holding the same fact, at the same moment
REVERSED = 6  # and this many of each of two role-reversed facts


def _wordings(r: int) -> list[str]:
    return [
        f"User's locker {r} is blue",
        f"user's LOCKER {r} is blue!",
        f"User's locker {r} is blue.",
    ]


async def _round(client: httpx.AsyncClient, r: int) -> None:
    fact = _wordings(r)
    mother = f"Anna{r} is Bob{r}'s mother"
    son = f"Bob{r} is Anna{r}'s mother"
    singles = [client.post(MEMORIES, json={"content": fact[n % 3]}) for n in range(SINGLES)]
    batches = [
        client.post(
            f"{MEMORIES}/batch",
            json={"memories": [{"content": f"User note {r}.{n}"}, {"content": fact[n % 3]}]},
        )
        for n in range(BATCHES)
    ]
    reversed_ = [
        client.post(MEMORIES, json={"content": mother if n % 2 else son})
        for n in range(2 * REVERSED)
    ]
    answers = await asyncio.gather(*singles, *batches, *reversed_)
    assert [a.status_code for a in answers] == [200] * len(answers), [a.text for a in answers]
    bodies = [a.json() for a in answers]
    of_fact = bodies[:SINGLES] + [b["memories"][1] for b in bodies[SINGLES : SINGLES + BATCHES]]
    stored = [m for m in of_fact if "duplicate_of" not in m]
    assert len(stored) == 1, (r, of_fact)
    assert all(m["id"] == stored[0]["id"] for m in of_fact)
    assert all(m["duplicate_of"] == stored[0]["id"] for m in of_fact if m is not stored[0])
    notes = [b["memories"][0] for b in bodies[SINGLES : SINGLES + BATCHES]]
    assert all("duplicate_of" not in m for m in notes)
    roles = bodies[SINGLES + BATCHES :]
    assert len({m["id"] for m in roles}) == 2, (r, roles)
    assert sum("duplicate_of" not in m for m in roles) == 2


def test_identical_creates_at_once_store_one_every_round(database_url: str) -> None:
    server = start_server(database_url, workers=2)
    try:
        headers = {"Authorization": f"Bearer {server.first_key}"}

        async def main() -> list[dict[str, object]]:
            limits = httpx.Limits(max_connections=SINGLES + BATCHES + 2 * REVERSED)
            async with httpx.AsyncClient(
                base_url=server.base, headers=headers, timeout=60, limits=limits
            ) as client:
                for r in range(ROUNDS):
                    await _round(client, r)
                listed = await client.get(MEMORIES, params={"limit": 1000})
                assert listed.status_code == 200
                return list(listed.json())

        listed = asyncio.run(main())
        # per round: the fact, 4 notes, the two reversed facts
        assert len(listed) == ROUNDS * (1 + BATCHES + 2)
        for r in range(ROUNDS):
            assert sum(m["content"] in _wordings(r) for m in listed) == 1
    finally:
        server.stop()
