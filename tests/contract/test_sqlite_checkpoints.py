"""SQLite's WAL checkpoints (store/sqlite_db.py): no commit runs one (the writer never
waits for a checkpoint's copy and sync); the checkpointer thread copies the WAL into
the main file in the background while the store is open."""

from __future__ import annotations

import asyncio
from pathlib import Path

from mnemo.accounts import issue_key
from mnemo.store.sqlite import SQLiteStore
from mnemo.store.sqlite_db import SQLiteDatabase
from tests.contract.support import memory

# Well over SQLite's 1,000-page automatic checkpoint: ~8 MB of content, in 40 writes.
_WRITES, _PER_WRITE = 40, 25


async def _write_a_lot(store: SQLiteStore) -> None:
    key, _ = await issue_key(store, "writer")
    for n in range(_WRITES):
        batch = [memory(f"fact {n}-{i} " + "word " * 1500) for i in range(_PER_WRITE)]
        await store.insert_memories(key.user_id, batch)


async def test_no_commit_checkpoints_the_wal(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(SQLiteDatabase, "_checkpoint_passive", lambda self: None)
    path = tmp_path / "m.db"
    store = SQLiteStore(str(path))
    await store.open()
    try:
        before = path.stat().st_size
        await _write_a_lot(store)
        assert Path(f"{path}-wal").stat().st_size > 8_000_000  # all still in the WAL
        assert path.stat().st_size == before  # nothing was copied into the main file
    finally:
        await store.close()
    assert path.stat().st_size > 8_000_000  # closing checkpoints it all
    wal = Path(f"{path}-wal")
    assert not wal.exists() or wal.stat().st_size == 0


async def test_the_checkpointer_copies_the_wal_while_the_store_is_open(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    store = SQLiteStore(str(path))
    await store.open()
    try:
        await _write_a_lot(store)
        user = await store.get_user("writer")
        assert user is not None
        for n in range(100):  # a write queues one if a second has passed since the last
            if path.stat().st_size > 6_000_000:
                break
            await store.insert_memories(user.id, [memory(f"one more {n}")])
            await asyncio.sleep(0.05)
        assert path.stat().st_size > 6_000_000
    finally:
        await store.close()


async def test_every_connection_leaves_checkpoints_to_the_checkpointer(tmp_path: Path) -> None:
    store = SQLiteStore(str(tmp_path / "m.db"))
    await store.open()
    try:
        assert store._loop_conn is not None
        read = "PRAGMA wal_autocheckpoint"
        assert store._loop_conn.execute(read).fetchone() == (0,)
        assert await store._write(lambda conn: conn.execute(read).fetchone()) == (0,)
        assert await store._read(lambda conn: conn.execute(read).fetchone()) == (0,)
    finally:
        await store.close()
