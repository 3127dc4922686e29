"""Writers of several processes on one SQLite file take turns on `<file>-writelock`."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from filelock import FileLock

from mnemo.clock import new_id, now_us
from mnemo.errors import StoreUnavailable
from mnemo.store import User
from mnemo.store.sqlite import SQLiteStore


async def test_a_write_waits_for_another_process_lock_then_commits(tmp_path: Path) -> None:
    store = SQLiteStore(str(tmp_path / "m.db"), busy_timeout_ms=10_000)
    await store.open()
    try:
        lock = FileLock(tmp_path / "m.db-writelock")
        lock.acquire()  # as another worker would, mid-write
        write = asyncio.create_task(
            store.create_user(User(id=new_id(), name="waits", created_at=now_us()))
        )
        await asyncio.sleep(0.3)
        assert not write.done()
        assert await store.get_user("waits") is None
        lock.release()
        await asyncio.wait_for(write, 5)
        assert await store.get_user("waits") is not None
    finally:
        await store.close()


async def test_a_lock_held_past_the_busy_timeout_fails_the_write_cleanly(tmp_path: Path) -> None:
    store = SQLiteStore(str(tmp_path / "m.db"), busy_timeout_ms=200)
    await store.open()
    lock = FileLock(tmp_path / "m.db-writelock")
    try:
        lock.acquire()
        with pytest.raises(StoreUnavailable):
            await store.create_user(User(id=new_id(), name="late", created_at=now_us()))
        lock.release()
        assert await store.get_user("late") is None
        await store.create_user(User(id=new_id(), name="later", created_at=now_us()))
        assert await store.get_user("later") is not None
    finally:
        if lock.is_locked:
            lock.release()
        await store.close()


async def test_without_a_lock_file_writes_rely_on_sqlite_locking(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "m.db-writelock").mkdir()  # a lock file cannot be made there
    store = SQLiteStore(str(tmp_path / "m.db"), busy_timeout_ms=2_000)
    await store.open()
    try:
        for name in ("one", "two"):
            await store.create_user(User(id=new_id(), name=name, created_at=now_us()))
            assert await store.get_user(name) is not None
        assert "no write lock file, relying on SQLite's locking" in caplog.text
    finally:
        await store.close()
