"""The SQLite store keeps vectors in blocks of memory rowids (store/vector_blocks.py): a
search must rank exactly as an exact scan of the vectors each memory was last given,
whatever the writes, deletes and interleaving of users that shaped the blocks."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np

from mnemo.clock import new_id, now_us
from mnemo.search.embed import DIM, to_blob
from mnemo.store import User, vector_blocks
from mnemo.store.sqlite import SQLiteStore
from tests.contract.support import memory


def _unit(rnd: np.random.Generator) -> bytes:
    v = rnd.standard_normal(DIM).astype(np.float32)
    return to_blob(v / np.linalg.norm(v))


async def test_blocks_hold_each_memory_last_vector_and_rank_as_an_exact_scan(
    tmp_path: Path,
) -> None:
    store = SQLiteStore(str(tmp_path / "m.db"), vector_cache_bytes=0)  # every search reads
    await store.open()
    try:
        rnd, pick = np.random.default_rng(4), random.Random(4)
        users = [
            await store.create_user(User(id=new_id(), name=f"u{i}", created_at=now_us()))
            for i in range(3)
        ]
        truth: dict[str, dict[str, bytes]] = {u.id: {} for u in users}  # id -> vector
        for step in range(120):  # users interleaved: their rowids share blocks' ranges
            user = pick.choice(users)
            mine = truth[user.id]
            action = pick.choice(["batch", "one", "one", "delete", "reindex", "bare"])
            if action in ("batch", "one") or not mine:
                made = [memory(f"m{step}.{i}") for i in range(70 if action == "batch" else 1)]
                vectors = [_unit(rnd) for _ in made]
                await store.insert_memories(user.id, made, vectors)
                mine.update((m.id, v) for m, v in zip(made, vectors, strict=True))
            elif action == "delete":
                gone = pick.choice(sorted(mine))
                assert await store.delete_memory(user.id, gone)
                del mine[gone]
            elif action == "reindex":
                again = pick.sample(sorted(mine), min(3, len(mine)))
                vectors = [_unit(rnd) for _ in again]
                await store.set_vectors(user.id, list(zip(again, vectors, strict=True)))
                mine.update(zip(again, vectors, strict=True))
            else:  # a memory without a vector (as imported with --no-embeddings)
                await store.insert_memories(user.id, [memory(f"bare {step}")])
        for user in users:
            ids = sorted(truth[user.id])
            matrix = np.frombuffer(b"".join(truth[user.id][i] for i in ids), "<f4").reshape(-1, DIM)
            for _ in range(5):
                query = _unit(rnd)
                scores = matrix @ np.frombuffer(query, "<f4")
                order = sorted(range(len(ids)), key=lambda i: (-scores[i], ids[i]))[:10]
                ours = await store.semantic_search(user.id, query, 10)
                assert [i for i, _ in ours] == [ids[i] for i in order]
                assert np.allclose([s for _, s in ours], scores[order], atol=1e-6)
        listed = sum(len(t) for t in truth.values())
        assert await store.count_unindexed() == (
            await store._read(lambda c: c.execute("SELECT count(*) FROM memories").fetchone()[0])
            - listed
        )
        # blocks hold only their own range of rowids, ascending, one vector each
        rows = await store._read(
            lambda c: c.execute("SELECT block, keys, vectors FROM memory_vectors").fetchall()
        )
        for block, keys, vectors in rows:
            rowids = np.frombuffer(keys, "<i8")
            assert len(rowids) and (rowids // vector_blocks.BLOCK == block).all()
            assert (np.diff(rowids) > 0).all()
            assert len(vectors) == len(rowids) * DIM * 4
    finally:
        await store.close()
