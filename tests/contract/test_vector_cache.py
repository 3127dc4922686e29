"""Both stores keep each user's vectors between searches (store/vector_cache.py): a
search must still see every change at once, made by this process or another one."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from typing import Any

import numpy as np
import pytest

from mnemo.clock import new_id, now_us
from mnemo.config import Settings
from mnemo.search.embed import DIM, to_blob
from mnemo.store import Store, User, postgres, store_for, vector_blocks
from mnemo.store.sqlite import SQLiteStore
from mnemo.store.vector_cache import UserVectors, VectorCache, changed_keys, patched
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


def test_changed_keys_needs_every_record_listed() -> None:
    records = [(4, [1, 2]), (5, [3]), (6, [2])]
    assert changed_keys(records, 3, 6) == {1, 2, 3}
    assert changed_keys(records, 4, 6) == {2, 3}
    assert changed_keys(records[1:], 3, 6) is None  # version 4's record is gone (pruned)
    assert changed_keys([(4, [1]), (5, None)], 3, 5) is None  # too many to list
    assert changed_keys(records, 6, 6) is None  # nothing changed: not a patch
    assert changed_keys([(v, [v]) for v in range(1, 200)], 0, 199) is None  # beyond the window
    many = [(v, list(range(v * 64, v * 64 + 64))) for v in range(1, 6)]
    assert changed_keys(many, 0, 5) is None  # more than MAX_PATCHED vectors


def test_patched_drops_the_changed_rows_and_adds_the_fresh_ones() -> None:
    kept = UserVectors(np.array(["a", "b", "c"]), np.eye(3, DIM, dtype=np.float32))
    fresh = UserVectors(np.array(["b-longer-id"]), np.ones((1, DIM), np.float32))
    out = patched(kept, {"b", "gone", "b-longer-id"}, fresh)
    assert out.keys.tolist() == ["a", "c", "b-longer-id"]
    assert np.array_equal(out.matrix[:2], kept.matrix[[0, 2]])
    assert np.array_equal(out.matrix[2], fresh.matrix[0])
    assert kept.keys.tolist() == ["a", "b", "c"]  # the kept arrays are not touched
    same = patched(kept, set(), UserVectors(np.array([], dtype=str), np.zeros((0, DIM))))
    assert same.keys.tolist() == ["a", "b", "c"]


def _full_reads(store: Store, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Records each time `store` reads all of a user's vectors (not a patch)."""
    calls: list[str] = []
    if isinstance(store, SQLiteStore):
        read = vector_blocks.read_all

        def counting_read(conn: Any, user_id: str) -> UserVectors:
            calls.append(user_id)
            return read(conn, user_id)

        monkeypatch.setattr(vector_blocks, "read_all", counting_read)
    else:
        vectors_of = postgres._vectors_of

        async def counting(conn: Any, user_id: str, ids: Any = None) -> UserVectors:
            if ids is None:
                calls.append(user_id)
            return await vectors_of(conn, user_id, ids)

        monkeypatch.setattr(postgres, "_vectors_of", counting)
    return calls


async def test_after_a_change_only_the_changed_vectors_are_read_again(
    stores: list[Store], monkeypatch: pytest.MonkeyPatch
) -> None:
    searcher, writer = stores
    rnd = np.random.default_rng(3)
    user = await writer.create_user(User(id=new_id(), name="u", created_at=now_us()))
    memories = [memory(f"memory {i}") for i in range(40)]
    await writer.insert_memories(user.id, memories, [_unit(rnd) for _ in memories])
    reads = _full_reads(searcher, monkeypatch)
    query = _unit(rnd)

    async def top() -> str:
        return (await searcher.semantic_search(user.id, query, 5))[0][0]

    await top()
    assert len(reads) == 1
    new = memory("close to the query")
    await writer.insert_memories(user.id, [new], [query])
    assert await top() == new.id
    assert await writer.delete_memory(user.id, new.id)
    assert await top() != new.id
    await writer.set_vectors(user.id, [(memories[0].id, query)])
    assert await top() == memories[0].id
    assert len(reads) == 1  # three changes, each patched in

    batch = [memory(f"batch {i}") for i in range(65)]  # more than one record lists
    await writer.insert_memories(user.id, batch, [_unit(rnd) for _ in batch])
    await top()
    assert len(reads) == 2
    for i in range(101):  # more changes than the records keep
        await writer.insert_memories(user.id, [memory(f"one of many {i}")], [_unit(rnd)])
    await top()
    assert len(reads) == 3


async def test_patched_vectors_rank_as_vectors_read_afresh(
    stores: list[Store], settings: Settings
) -> None:
    searcher, writer = stores
    fresh = store_for(settings.model_copy(update={"vector_cache_mb": 0}))
    await fresh.open()
    try:
        rnd = np.random.default_rng(9)
        pick = random.Random(9)
        user = await writer.create_user(User(id=new_id(), name="u", created_at=now_us()))
        alive: list[str] = []
        for step in range(60):
            action = pick.choice(["insert", "insert", "delete", "reindex", "edit"])
            if action == "insert" or not alive:
                made = [memory(f"m{step}.{i}") for i in range(pick.randint(1, 3))]
                await writer.insert_memories(user.id, made, [_unit(rnd) for _ in made])
                alive += [m.id for m in made]
            elif action == "delete":
                gone = alive.pop(pick.randrange(len(alive)))
                assert await writer.delete_memory(user.id, gone)
            elif action == "reindex":
                await writer.set_vectors(user.id, [(pick.choice(alive), _unit(rnd))])
            else:
                await writer.update_memory(
                    user.id,
                    pick.choice(alive),
                    lambda m, s=step: m.model_copy(update={"content": f"edit {s}"}),
                    _unit(rnd),
                )
            query = _unit(rnd)
            ours = await searcher.semantic_search(user.id, query, 10)
            theirs = await fresh.semantic_search(user.id, query, 10)
            assert [i for i, _ in ours] == [i for i, _ in theirs], step
            assert np.allclose([s for _, s in ours], [s for _, s in theirs], atol=1e-6)
    finally:
        await fresh.close()


async def test_setting_vectors_of_a_user_that_does_not_exist_changes_nothing(
    store: Store,
) -> None:
    vector = _unit(np.random.default_rng(1))
    await store.set_vectors(new_id(), [(new_id(), vector)])
    assert await store.semantic_search(new_id(), vector, 5) == []
