"""Admission control and fair shares of the queues (mnemo.admission), in the store: a
user past their share of the embedding queue is refused with 429 and nothing is
written, while other users are not; the whole queue past its bound refuses everyone
with 503; a user's writes waiting for the SQLite writer past their share are refused at
once, and a group takes users' writes in turn, so one user's backlog does not hold up
another's write."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import pytest

from mnemo import admission
from mnemo.categorize import default_categorizer
from mnemo.clock import new_id, now_us
from mnemo.config import Settings
from mnemo.errors import Backlogged, Saturated
from mnemo.models import MemoryCreate, MemoryUpdate
from mnemo.service import MemoryService
from mnemo.store import Store, User, sqlite_db
from mnemo.store.sqlite import SQLiteStore
from tests.contract.support import memory
from tests.contract.test_embedding_queue import _done


async def _user(store: Store, name: str) -> User:
    return await store.create_user(User(id=new_id(), name=name, created_at=now_us()))


@pytest.fixture
def settings(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Bounds of 3 queued memories a user, 5 in all (the `store` fixture's settings)."""
    monkeypatch.setattr(admission, "RECOUNT_S", 0)  # the whole queue counted every time
    return Settings(database_url=database_url, embed_queue_user_limit=3, embed_queue_limit=5)


async def test_a_user_past_their_share_is_refused_and_others_are_not(store: Store) -> None:
    flooder, other = await _user(store, "flooder"), await _user(store, "other")
    await store.insert_memories(flooder.id, [memory(f"User fact {i}") for i in range(3)])
    refused = memory("User fact 3")
    with pytest.raises(Backlogged) as caught:
        await store.insert_memories(flooder.id, [refused])
    assert caught.value.status_code == 429
    assert caught.value.headers == {"Retry-After": str(admission.EMBED_RETRY_AFTER_S)}
    assert "Try again in" in caught.value.detail
    assert await store.get_memory(flooder.id, refused.id) is None  # nothing written
    assert await store.count_pending() == 3
    # a content change queues an embedding too: refused alike, nothing changed
    first = (await store.pending_embeddings(flooder.id))[0]
    with pytest.raises(Backlogged):
        await store.update_memory(
            flooder.id, first.memory_id, lambda m: m.model_copy(update={"content": "x"})
        )
    kept = await store.get_memory(flooder.id, first.memory_id)
    assert kept is not None and kept.content == first.content
    # the other user is not behind the flooder's backlog
    assert await store.insert_memories(other.id, [memory("User likes tea")]) == [None]
    # once the flooder's queue drains, they may write again
    await store.complete_embeddings(_done(await store.pending_embeddings(flooder.id)))
    assert await store.insert_memories(flooder.id, [refused]) == [None]
    # a write with its vector queues nothing, so it is never refused
    await store.insert_memories(flooder.id, [memory(f"more {i}") for i in range(2)])
    with_vector = memory("User has a vector already")
    await store.insert_memories(flooder.id, [with_vector], [_done([first])[0][1]])
    assert await store.get_memory(flooder.id, with_vector.id) is not None


async def test_the_whole_queue_past_its_bound_refuses_everyone(store: Store) -> None:
    users = [await _user(store, f"u{i}") for i in range(3)]
    for n, user in enumerate(users[:2]):
        await store.insert_memories(user.id, [memory(f"User fact {n} {i}") for i in range(3)])
    with pytest.raises(Saturated) as caught:
        await store.insert_memories(users[2].id, [memory("User is new here")])
    assert caught.value.status_code == 503
    assert caught.value.headers == {"Retry-After": str(admission.EMBED_RETRY_AFTER_S)}
    assert await store.count_pending() == 6


async def test_the_service_refuses_a_batch_whole(store: Store, settings: Settings) -> None:
    service = MemoryService(store, default_categorizer(settings))
    user = await _user(store, "u")
    await store.insert_memories(user.id, [memory(f"User fact {i}") for i in range(3)])
    with pytest.raises(Backlogged):
        await service.create_memories(
            user.id, [MemoryCreate(content=f"User new fact {i}") for i in range(25)]
        )
    with pytest.raises(Backlogged):
        await service.update_memory(
            user.id,
            (await store.pending_embeddings(user.id))[0].memory_id,
            MemoryUpdate(content="User changed"),
        )
    assert await store.count_pending() == 3


class _Blocked:
    """Holds the SQLite writer thread inside a write until released."""

    def __init__(self, store: SQLiteStore) -> None:
        self.entered, self.release = threading.Event(), threading.Event()
        self.task = asyncio.ensure_future(store._write(self._hold))

    def _hold(self, conn: Any) -> None:
        self.entered.set()
        self.release.wait(10)

    async def started(self) -> None:
        assert await asyncio.to_thread(self.entered.wait, 10)

    async def finish(self) -> None:
        self.release.set()
        await self.task


async def test_writer_queue_share_and_bound(tmp_path: Path) -> None:
    store = SQLiteStore(
        str(tmp_path / "m.db"), bounds=admission.QueueBounds(write_user=2, write_total=3)
    )
    await store.open()
    try:
        a, b, c = [await _user(store, n) for n in "abc"]
        blocked = _Blocked(store)
        await blocked.started()
        waiting = [
            asyncio.ensure_future(store.insert_memories(a.id, [memory(f"a {i}")])) for i in range(2)
        ]
        await asyncio.sleep(0)
        with pytest.raises(Backlogged) as caught:  # at once, not after the wait
            await store.insert_memories(a.id, [memory("a 2")])
        assert caught.value.headers == {"Retry-After": str(admission.WRITE_RETRY_AFTER_S)}
        waiting.append(asyncio.ensure_future(store.insert_memories(b.id, [memory("b 0")])))
        await asyncio.sleep(0)
        with pytest.raises(Saturated):
            await store.insert_memories(c.id, [memory("c 0")])
        await blocked.finish()
        assert [await w for w in waiting] == [[None]] * 3
        assert await store.count_pending() == 3
        # the server's own writes (no user) are never refused
        await store.analyze()
    finally:
        await store.close()


async def test_groups_take_users_writes_in_turn(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_db, "GROUP_WRITES", 4)
    store = SQLiteStore(str(tmp_path / "m.db"))
    await store.open()
    try:
        order: list[str] = []

        def note(conn: Any, name: str) -> None:
            order.append(name)

        blocked = _Blocked(store)
        await blocked.started()
        writes = [store._write(note, f"a{i}", user_id="a") for i in range(10)]
        writes.append(store._write(note, "b0", user_id="b"))
        writes.append(store._write(note, "c0", user_id="c"))
        tasks = [asyncio.ensure_future(w) for w in writes]
        await asyncio.sleep(0.05)
        await blocked.finish()
        await asyncio.gather(*tasks)
        # b's and c's writes go in the first group after the blocked one, not after a's ten
        assert set(order[:4]) == {"a0", "b0", "c0", "a1"}
        assert order[4:] == [f"a{i}" for i in range(2, 10)]
    finally:
        await store.close()


async def test_a_refused_user_is_refused_early_until_retry_after(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(admission, "EMBED_RETRY_AFTER_S", 0.3)
    user, other = await _user(store, "u"), await _user(store, "other")
    await store.insert_memories(user.id, [memory(f"User fact {i}") for i in range(3)])
    with pytest.raises(Backlogged):
        await store.insert_memories(user.id, [memory("User fact 3")])
    await store.complete_embeddings(_done(await store.pending_embeddings(user.id)))
    # the queue has room again, but the user was just told to wait: refused at once
    with pytest.raises(Backlogged) as caught:
        store.admit_early(user.id)
    assert caught.value.headers == {"Retry-After": "1"}
    store.admit_early(other.id)  # others are not
    await asyncio.sleep(0.35)
    store.admit_early(user.id)
    assert await store.insert_memories(user.id, [memory("User fact 3")]) == [None]
