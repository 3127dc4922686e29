"""The webhook outbox on both backends, through the store: every memory change writes
its deliveries in its own transaction (a rolled-back one writes none); two stores (two
processes' pools) claiming at once never hold the same row; a lease keeps a row from
others until it expires, then anyone takes it over, and the first holder's late outcome
is not recorded."""

from __future__ import annotations

import asyncio

import pytest

from mnemo import Settings
from mnemo.accounts import issue_key
from mnemo.clock import now_us
from mnemo.models import new_memory
from mnemo.store import store_for
from mnemo.store.webhook_rows import DELIVERED, Attempt, Endpoint

EVENTS = ("memory.created", "memory.updated", "memory.deleted")


def _endpoint(user_id: str | None, endpoint_id: str) -> Endpoint:
    at = now_us()
    return Endpoint(
        endpoint_id, user_id, "http://127.0.0.1:9/", EVENTS, "", "whsec_AA==", True, at, at
    )


async def test_two_stores_claim_each_delivery_once(database_url: str) -> None:
    settings = Settings(database_url=database_url)
    first, second = store_for(settings), store_for(settings)
    await first.open()
    await second.open()
    try:
        key, _ = await issue_key(first, "alice")
        assert await first.insert_endpoint(_endpoint(key.user_id, "e1"), 20)
        assert await first.insert_endpoint(_endpoint(None, "admin1"), 20)
        memories = [new_memory(f"User fact {i}") for i in range(150)]
        for start in range(0, 150, 25):
            await first.insert_memories(key.user_id, memories[start : start + 25])
        now = now_us() + 1_000_000

        async def drain(store) -> list[str]:
            got: list[str] = []
            while claimed := await store.claim_deliveries(7, 60_000_000, now):
                got.extend(c.delivery.id for c in claimed)
                await asyncio.sleep(0)
            return got

        a, b = await asyncio.gather(drain(first), drain(second))
        assert not set(a) & set(b)
        assert len(a) + len(b) == len(set(a) | set(b)) == 300  # 150 events x 2 endpoints
        assert await first.claim_deliveries(10, 60_000_000, now) == []  # all leased
    finally:
        await first.close()
        await second.close()


async def test_a_lease_expires_and_a_late_outcome_is_not_recorded(store) -> None:
    key, _ = await issue_key(store, "alice")
    assert await store.insert_endpoint(_endpoint(key.user_id, "e1"), 20)
    await store.insert_memories(key.user_id, [new_memory("User swims")])
    now = now_us() + 1_000_000
    (held,) = await store.claim_deliveries(10, 5_000_000, now)
    assert await store.claim_deliveries(10, 5_000_000, now + 4_000_000) == []
    (taken,) = await store.claim_deliveries(10, 5_000_000, now + 6_000_000)
    assert taken.delivery.id == held.delivery.id
    late = Attempt(DELIVERED, now, now, None)
    assert await store.finish_deliveries([(held.delivery, late)]) == 0
    assert await store.finish_deliveries([(taken.delivery, late)]) == 1
    (row,) = await store.list_deliveries("e1", 10, 0)
    assert row.status == DELIVERED and row.attempts == 1 and row.delivered_at == now
    assert await store.claim_deliveries(10, 5_000_000, now + 60_000_000) == []
    await store.insert_memories(key.user_id, [new_memory("User dives")])  # one pending
    assert await store.prune_deliveries(now, 100) == 0  # last tried at `now`, not before
    assert await store.prune_deliveries(now + 1, 100) == 1  # the delivered one
    assert [r.status for r in await store.list_deliveries("e1", 10, 0)] == ["pending"]


async def test_deliveries_follow_the_changes_transaction(store) -> None:
    key, _ = await issue_key(store, "alice")
    bob, _ = await issue_key(store, "bob")
    assert await store.insert_endpoint(_endpoint(key.user_id, "e1"), 20)
    off = _endpoint(key.user_id, "off")
    assert await store.insert_endpoint(off, 20)
    await store.update_endpoint(
        key.user_id, "off", lambda e: Endpoint(**{**e.__dict__, "enabled": False})
    )
    memory = new_memory("User rows")
    await store.insert_memories(key.user_id, [memory])
    await store.insert_memories(bob.user_id, [new_memory("User bob")])
    await store.update_memory(
        key.user_id, memory.id, lambda m: m.model_copy(update={"content": "User rows boats"})
    )
    await store.delete_memory(key.user_id, memory.id)
    rows = await store.list_deliveries("e1", 10, 0)
    assert [r.event for r in rows] == list(EVENTS[::-1])
    assert {r.memory_id for r in rows} == {memory.id} and {r.user_name for r in rows} == {"alice"}
    assert await store.list_deliveries("off", 10, 0) == []

    def fail(current):
        raise RuntimeError("rolled back")

    other = new_memory("User stays")
    await store.insert_memories(key.user_id, [other])
    with pytest.raises(RuntimeError):
        await store.update_memory(key.user_id, other.id, fail)
    assert len(await store.list_deliveries("e1", 10, 0)) == 4  # the create only
    assert not await store.insert_endpoint(_endpoint(key.user_id, "e3"), 2)  # at the limit
