"""Both stores keep each user's vectors between searches (store/vector_cache.py): a
search must still see every change at once, made by this process or another one."""

from __future__ import annotations

from collections.abc import AsyncIterator

import numpy as np
import pytest

from mnemo.clock import new_id, now_us
from mnemo.config import Settings
from mnemo.search.embed import DIM, to_blob
from mnemo.store import Store, User, store_for
from mnemo.store.vector_cache import UserVectors, VectorCache
from tests.contract.support import memory


def _unit(rnd: np.random.Generator) -> bytes:
    v = rnd.standard_normal(DIM).astype(np.float32)
    return to_blob(v / np.linalg.norm(v))


def _vectors(n: int) -> UserVectors:
    return UserVectors(np.arange(n, dtype=np.int64), np.zeros((n, DIM), np.float32))


def test_cache_keeps_one_version_per_user_and_evicts_the_least_recent() -> None:
    one = _vectors(10).nbytes
    cache = VectorCache(max_bytes=2 * one)
    a, b, c = _vectors(10), _vectors(10), _vectors(10)
    cache.put("a", 1, a)
    cache.put("b", 1, b)
    assert cache.get("a", 1) is a
    assert cache.get("a", 2) is None  # another version: not these vectors
    cache.put("c", 1, c)  # over the cap: "b" was searched least recently
    assert cache.get("b", 1) is None
    assert cache.get("a", 1) is a and cache.get("c", 1) is c
    assert cache.nbytes == 2 * one
    cache.put("a", 2, b)  # a newer version replaces the older
    assert cache.get("a", 1) is None and cache.get("a", 2) is b
    assert cache.nbytes == 2 * one


def test_cache_never_keeps_what_exceeds_it() -> None:
    cache = VectorCache(max_bytes=_vectors(10).nbytes - 1)
    cache.put("a", 1, _vectors(10))
    assert cache.get("a", 1) is None and cache.nbytes == 0
    off = VectorCache(max_bytes=0)
    off.put("a", 1, _vectors(1))
    assert off.get("a", 1) is None


@pytest.fixture
async def stores(settings: Settings) -> AsyncIterator[list[Store]]:
    """Two stores on one database, as two server workers: one searches, one writes."""
    pair = [store_for(settings) for _ in range(2)]
    for store in pair:
        await store.open()
    yield pair
    for store in pair:
        await store.close()


def _kept(store: Store) -> int:
    cache: VectorCache = store._vector_cache  # type: ignore[attr-defined]
    return cache.nbytes


@pytest.mark.parametrize("writer_index", [0, 1], ids=["same process", "other process"])
async def test_search_sees_every_change_to_kept_vectors(
    stores: list[Store], writer_index: int
) -> None:
    searcher, writer = stores[0], stores[writer_index]
    rnd = np.random.default_rng(11)
    user = await writer.create_user(User(id=new_id(), name="u", created_at=now_us()))
    memories = [memory(f"memory {i}", category=("work", "system")[i % 2]) for i in range(30)]
    await writer.insert_memories(user.id, memories, [_unit(rnd) for _ in memories])
    query = _unit(rnd)

    async def found(limit: int = 5, categories: tuple[str, ...] = ()) -> list[str]:
        return [i for i, _ in await searcher.semantic_search(user.id, query, limit, categories)]

    first = (await found())[0]
    assert _kept(searcher) > 0  # the searcher keeps the user's vectors now

    new = memory("the query itself", category="work")  # created: found at once
    await writer.insert_memories(user.id, [new], [query])
    assert (await found())[0] == new.id
    assert (await found(categories=("work",)))[0] == new.id
    assert new.id not in await found(30, ("system",))

    opposite = to_blob(-np.frombuffer(query, dtype="<f4"))
    await writer.set_vectors(user.id, [(new.id, opposite)])  # reindexed: moves away
    assert (await found())[0] == first

    edited = await writer.update_memory(
        user.id, first, lambda m: m.model_copy(update={"content": "edited"}), opposite
    )
    assert edited is not None  # its content changed, and its vector with it
    assert first not in await found()

    await writer.update_memory(
        user.id, first, lambda m: m.model_copy(update={"content": "back"}), query
    )
    assert (await found())[0] == first
    assert await writer.delete_memory(user.id, first)  # deleted: gone at once
    assert first not in await found(31)
    assert await searcher.semantic_search(new_id(), query, 5) == []  # no such user


async def test_search_without_a_cache_gives_the_same_results(settings: Settings) -> None:
    cached = store_for(settings)
    uncached = store_for(settings.model_copy(update={"vector_cache_mb": 0}))
    await cached.open()
    await uncached.open()
    try:
        rnd = np.random.default_rng(5)
        user = await cached.create_user(User(id=new_id(), name="u", created_at=now_us()))
        memories = [memory(f"memory {i}") for i in range(200)]
        await cached.insert_memories(user.id, memories, [_unit(rnd) for _ in memories])
        for _ in range(5):
            query = _unit(rnd)
            for _ in range(2):  # the second search uses the kept vectors
                assert await cached.semantic_search(user.id, query, 10) == (
                    await uncached.semantic_search(user.id, query, 10)
                )
        assert _kept(cached) > 0 and _kept(uncached) == 0
    finally:
        await cached.close()
        await uncached.close()
