"""The embedding queue and dedup keys of the Store protocol, on every backend: a memory is
queued with its insert, embedded once, queued again by a content change, unqueued by its
deletion; leases keep two workers apart until they expire; claims go round robin between
users; a create that repeats a stored memory is not stored, even when creates race."""

from __future__ import annotations

import asyncio
import threading

import numpy as np

from mnemo.clock import new_id, now_us
from mnemo.config import Settings
from mnemo.models import Memory
from mnemo.retrieval import Retrieval
from mnemo.search.embed import default_embedder
from mnemo.store import Store, User, store_for
from mnemo.store.base import Queued
from tests.contract.support import memory

LEASE = 60_000_000  # a minute, in microseconds


async def _user(store: Store, name: str) -> User:
    return await store.create_user(User(id=new_id(), name=name, created_at=now_us()))


def _vector(seed: int) -> bytes:
    v = np.random.default_rng(seed).standard_normal(384).astype("<f4")
    return (v / np.linalg.norm(v)).astype("<f4").tobytes()


def _done(items: list[Queued]) -> list[tuple[Queued, bytes]]:
    return [(item, _vector(i)) for i, item in enumerate(items)]


async def test_created_pending_then_embedded(store: Store) -> None:
    user = await _user(store, "u")
    fact = memory("User's sister Sarah lives in Portland")
    assert await store.insert_memories(user.id, [fact]) == [None]
    assert await store.count_pending() == 1
    assert await store.count_unindexed() == 1
    queued = await store.pending_embeddings(user.id)
    assert queued == [Queued(user.id, fact.id, fact.content)]

    retrieval = Retrieval(store)
    _, done = await retrieval.embed_queued(queued)
    assert done == 1
    assert (await store.count_pending(), await store.count_unindexed()) == (0, 0)
    (query,) = await retrieval.vectors(["where does my sister live"])
    assert [i for i, _ in await store.semantic_search(user.id, query, 5)] == [fact.id]
    # done twice (another worker, a search) stores nothing more
    assert await store.complete_embeddings(_done(queued)) == 0


async def test_content_patch_queues_again_and_drops_the_stale_vector(store: Store) -> None:
    user = await _user(store, "u")
    fact = memory("User plays chess")
    await store.insert_memories(user.id, [fact])
    stale = await store.pending_embeddings(user.id)
    assert await store.complete_embeddings(_done(stale)) == 1

    def change(current: Memory) -> Memory:
        return current.model_copy(update={"content": "User plays the violin"})

    await store.update_memory(user.id, fact.id, change)
    assert await store.count_unindexed() == 1  # the old content's vector is gone
    (queued,) = await store.pending_embeddings(user.id)
    assert queued.content == "User plays the violin"
    # a worker that embedded the old content stores nothing
    assert await store.complete_embeddings([(stale[0], _vector(9))]) == 0
    assert await store.count_pending() == 1
    assert await store.complete_embeddings([(queued, _vector(1))]) == 1
    assert (await store.count_pending(), await store.count_unindexed()) == (0, 0)

    def retag(current: Memory) -> Memory:
        return current.model_copy(update={"tags": ["music"]})

    await store.update_memory(user.id, fact.id, retag)  # same content: nothing queued
    assert (await store.count_pending(), await store.count_unindexed()) == (0, 0)


async def test_delete_removes_the_queue_row(store: Store) -> None:
    user = await _user(store, "u")
    kept, gone = memory("User likes tea"), memory("User likes jazz")
    await store.insert_memories(user.id, [kept, gone])
    queued = await store.pending_embeddings(user.id)
    assert await store.delete_memory(user.id, gone.id)
    assert [q.memory_id for q in await store.pending_embeddings(user.id)] == [kept.id]
    assert await store.count_pending() == 1
    assert await store.complete_embeddings(_done(queued)) == 1  # the deleted one is skipped


async def test_a_lease_keeps_other_workers_off_until_it_expires(
    store: Store, settings: Settings
) -> None:
    user = await _user(store, "u")
    await store.insert_memories(user.id, [memory(f"User fact number {i}") for i in range(5)])
    other = store_for(settings)  # a second process's store on the same database
    await other.open()
    try:
        at = now_us()
        first = await store.claim_embeddings(3, LEASE, now=at)
        second = await other.claim_embeddings(64, LEASE, now=at + 1)
        assert len(first) == 3 and len(second) == 2
        assert not {q.memory_id for q in first} & {q.memory_id for q in second}
        assert await other.claim_embeddings(64, LEASE, now=at + LEASE // 2) == []
        # the first worker died: after its lease, its rows are taken over
        taken = await other.claim_embeddings(64, LEASE, now=at + LEASE + 1)
        assert {q.memory_id for q in taken} == {q.memory_id for q in first}
        assert await other.complete_embeddings(_done(taken + second)) == 5
        assert await store.count_pending() == 0
    finally:
        await other.close()


async def test_claims_go_round_robin_between_users(store: Store) -> None:
    busy, quiet = await _user(store, "busy"), await _user(store, "quiet")
    for start in range(0, 500, 100):
        await store.insert_memories(
            busy.id, [memory(f"Busy user note {i}") for i in range(start, start + 100)]
        )
    (late,) = [memory("Quiet user has one note")]
    await store.insert_memories(quiet.id, [late])
    batch = await store.claim_embeddings(64, LEASE)
    assert len(batch) == 64
    assert late.id in {q.memory_id for q in batch}  # not behind the other's 500
    assert await store.count_pending() == 501


async def test_a_repeat_is_found_in_the_write_and_not_stored(store: Store) -> None:
    user, other = await _user(store, "u"), await _user(store, "v")
    first = memory("User's sister Sarah lives in Portland")
    assert await store.insert_memories(user.id, [first], dedup=True) == [None]
    repeat = memory("Sarah, User's sister, lives in Portland.")
    different = memory("User's brother Tom lives in Portland")
    found = await store.insert_memories(user.id, [repeat, different], dedup=True)
    assert [m.id if m else None for m in found] == [first.id, None]
    assert await store.get_memory(user.id, repeat.id) is None
    # another user's memory is never a duplicate
    assert await store.insert_memories(other.id, [memory(first.content)], dedup=True) == [None]
    # within one call: the second repeats the first
    a, b = memory("User drinks coffee every morning"), memory("every morning User drinks coffee")
    pair = await store.insert_memories(user.id, [a, b], dedup=True)
    assert [m.id if m else None for m in pair] == [None, a.id]
    # a content change moves the keys: the old text is no longer matched
    await store.update_memory(
        user.id, first.id, lambda m: m.model_copy(update={"content": "User has a cat"})
    )
    again = memory("User's sister Sarah lives in Portland")
    assert await store.insert_memories(user.id, [again], dedup=True) == [None]
    (twin,) = await store.insert_memories(user.id, [memory("user has a CAT")], dedup=True)
    assert twin is not None and twin.id == first.id


async def test_racing_identical_creates_store_one(store: Store, settings: Settings) -> None:
    user = await _user(store, "u")
    others = [store_for(settings) for _ in range(3)]  # other processes' stores
    for s in others:
        await s.open()
    try:
        stores = [store, *others]
        results = await asyncio.gather(
            *(
                stores[i % len(stores)].insert_memories(
                    user.id, [memory("User is allergic to penicillin")], dedup=True
                )
                for i in range(16)
            )
        )
    finally:
        for s in others:
            await s.close()
    assert sum(r == [None] for r in results) == 1
    assert len({r[0].id for r in results if r[0] is not None}) == 1
    assert [(u.name, n) for u, n in await store.list_users()] == [("u", 1)]


async def test_memories_stored_before_the_keys_are_keyed_on_open(
    store: Store, settings: Settings
) -> None:
    user = await _user(store, "u")
    old = memory("User is vegetarian")
    await store.insert_memories(user.id, [old])
    # As the migration leaves a database made before it: no keys, a to-do row instead.
    if settings.database_url.startswith("sqlite"):
        import sqlean

        path = settings.database_url.removeprefix("sqlite:///")
        with sqlean.connect(path) as conn:
            conn.execute("DELETE FROM memory_keys")
            conn.execute("INSERT INTO memory_keys_todo (memory_id) VALUES (?)", (old.id,))
    else:
        from tests import pg

        pg.fetch(
            settings.database_url,
            "WITH gone AS (DELETE FROM memory_keys RETURNING 1)"
            f" INSERT INTO memory_keys_todo (memory_id) VALUES ('{old.id}') RETURNING 1",
        )
    reopened = store_for(settings)
    await reopened.open()
    try:
        found = await reopened.insert_memories(user.id, [memory("User is vegetarian.")], dedup=True)
        assert found[0] is not None and found[0].id == old.id
    finally:
        await reopened.close()


async def test_a_search_does_not_wait_for_the_background_embedders_call(store: Store) -> None:
    """Read-your-writes without waiting on the embedder: its calls run at the lowest CPU
    priority (a busy core may keep them waiting), so a search of a user whose queued
    memory the embedder is embedding embeds it again itself and answers while the
    embedder's call still runs; the embedder's call stores the vector, once."""
    real = default_embedder()
    embedded: list[str] = []
    hold, started = threading.Event(), threading.Event()

    class Counting:  # the real model, counting the texts it is given
        def embed_array(self, texts: list[str], helper: object = None) -> object:
            embedded.extend(texts)
            if fact.content in texts and not started.is_set():
                started.set()
                hold.wait(10)  # the embedder's call runs until released
            return real.embed_array(texts, helper)  # type: ignore[arg-type]

    user = await _user(store, "u")
    fact = memory("User's sister Sarah lives in Portland")
    await store.insert_memories(user.id, [fact])
    retrieval = Retrieval(store, lambda: Counting())  # type: ignore[arg-type, return-value]
    items = await store.claim_embeddings(64, LEASE)
    job = asyncio.create_task(retrieval.embed_queued(items, background=True))
    assert await asyncio.to_thread(started.wait, 10)
    found = await asyncio.wait_for(
        retrieval.search(user.id, "where does my sister live", 5, []), 10
    )
    assert not job.done()  # answered while the embedder's call was still held
    assert [m.id for m, _ in found] == [fact.id]
    hold.set()
    assert (await job)[1] == 1  # the embedder's call stored it
    assert embedded.count(fact.content) == 2
    await retrieval.drain()
    assert await store.count_pending() == 0
