"""SQLite's small reads on the event loop's thread (store/sqlite_db.py): the hot reads
run there and only they, and they leave no snapshot open that a checkpoint would wait
for."""

from __future__ import annotations

from contextlib import closing
from pathlib import Path

from sqlean import dbapi2 as sqlite3

from mnemo.accounts import issue_key
from mnemo.auth import hash_key
from mnemo.store.bookmarks import MIN_OFFSET
from mnemo.store.sqlite import SQLiteStore
from tests.contract.support import memory


async def _filled(path: Path, count: int) -> tuple[SQLiteStore, str, str, list[str]]:
    """A store with one user's `count` memories: (store, user id, key hash, ids)."""
    store = SQLiteStore(str(path))
    await store.open()
    key, secret = await issue_key(store, "reader")
    memories = [memory(f"fact number {i}") for i in range(count)]
    await store.insert_memories(key.user_id, memories)
    return store, key.user_id, hash_key(secret), [m.id for m in memories]


async def test_the_hot_reads_run_on_the_loops_connection_and_only_they(tmp_path: Path) -> None:
    store, user_id, key_hash, ids = await _filled(tmp_path / "m.db", MIN_OFFSET + 60)
    on_loop: list[str] = []
    assert store._loop_conn is not None
    store._loop_conn.set_trace_callback(on_loop.append)
    try:
        assert await store.key_by_hash(key_hash) is not None
        assert await store.get_memory_json(user_id, ids[0]) is not None
        assert await store.list_memories_json(user_id, [], 25, 0) != b"[]"
        await store.list_memories_json(user_id, [], 25, MIN_OFFSET)  # deep: leaves a bookmark
        hot = len(on_loop)
        assert hot == 3
        await store.list_memories_json(user_id, [], 25, MIN_OFFSET + 25)  # after the bookmark
        assert len(on_loop) == hot + 1
        await store.list_memories_json(user_id, ["system", "work"], 25, 0)  # SQLite sorts
        await store.keyword_search(user_id, "fact", 10)
        assert len(on_loop) == hot + 1
    finally:
        await store.close()


async def test_reads_on_the_loop_leave_no_snapshot_for_a_checkpoint_to_wait_for(
    tmp_path: Path,
) -> None:
    path = tmp_path / "m.db"
    store, user_id, key_hash, ids = await _filled(path, 30)
    try:
        await store.key_by_hash(key_hash)
        await store.get_memory_json(user_id, ids[0])
        await store.list_memories_json(user_id, [], 25, 0)
        with closing(sqlite3.connect(path, isolation_level=None)) as other:
            other.execute("UPDATE users SET created_at = created_at + 1")
            busy, _, _ = other.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        assert busy == 0
    finally:
        await store.close()
