"""The SQLite store's vector search reads sqlite-vec's chunks with numpy
(mnemo.store.vec_chunks); it must rank exactly as sqlite-vec's own KNN query does."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from mnemo.clock import new_id, now_us
from mnemo.models import Memory
from mnemo.search.embed import DIM, to_blob
from mnemo.store import User, vec_chunks
from mnemo.store.sqlite import SQLiteStore, _knn
from tests.contract.support import memory


def _unit(rnd: np.random.Generator) -> bytes:
    v = rnd.standard_normal(DIM).astype(np.float32)
    return to_blob(v / np.linalg.norm(v))


def _memory(i: int) -> Memory:
    return memory(f"memory {i}", category=("work", "system", "interesting")[i % 3], tags=())


@pytest.fixture
async def store(tmp_path: Path):  # type: ignore[no-untyped-def]
    opened = SQLiteStore(str(tmp_path / "m.db"))
    await opened.open()
    yield opened
    await opened.close()


async def test_chunk_scan_ranks_as_sqlite_vec_knn_does(store: SQLiteStore) -> None:
    rnd = np.random.default_rng(7)
    users = []
    for name, count in (("big", 2500), ("small", 300)):  # 3 chunks of 1,024, and 1
        user = await store.create_user(User(id=new_id(), name=name, created_at=now_us()))
        memories = [_memory(i) for i in range(count)]
        await store.insert_memories(user.id, memories, [_unit(rnd) for _ in memories])
        users.append((user, memories))
    big, memories = users[0]
    for gone in random.Random(3).sample(memories, 400):  # empty slots in every chunk
        assert await store.delete_memory(big.id, gone.id)

    assert await store._read(vec_chunks.layout_known)  # else the store uses _knn only
    for user, _ in users:
        for categories in ((), ("work",)):
            for _ in range(10):
                query = _unit(rnd)
                ours = await store.semantic_search(user.id, query, 20, categories)
                theirs = await store._read(
                    _knn, user.id, query, 160 if categories else 20, categories, 20
                )
                assert [i for i, _ in ours] == [i for i, _ in theirs]
                assert np.allclose([s for _, s in ours], [s for _, s in theirs], atol=1e-5)
    # a user without vectors, and one that does not exist
    assert await store.semantic_search(new_id(), _unit(rnd), 5) == []
