"""The Store protocol's promises; every backend must pass (parametrised by `database_url`)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from mnemo.clock import new_id, now_us
from mnemo.errors import Conflict, MnemoError
from mnemo.models import Memory
from mnemo.store import ApiKey, Store, User
from mnemo.store.bookmarks import MIN_OFFSET
from tests.contract.support import listed
from tests.contract.support import memory as _memory


async def _user(store: Store, name: str) -> User:
    return await store.create_user(User(id=new_id(), name=name, created_at=now_us()))


def _key(user: User, key_id: str) -> ApiKey:
    return ApiKey(
        id=key_id,
        user_id=user.id,
        user_name=user.name,
        name="",
        prefix="omi_dev_abcd",
        scopes=("memories:read",),
        created_at=now_us(),
        last_used_at=None,
        revoked_at=None,
    )


async def test_schema_is_current(store: Store) -> None:
    assert await store.schema_version() >= 1
    await store.ping()


async def test_users_are_unique_by_name(store: Store) -> None:
    alice = await _user(store, "alice")
    with pytest.raises(Conflict):
        await _user(store, "alice")
    assert await store.get_user("alice") == alice
    assert await store.get_user("nobody") is None
    await store.insert_memories(alice.id, [_memory("a"), _memory("b")])
    await _user(store, "bob")
    assert [(u.name, n) for u, n in await store.list_users()] == [("alice", 2), ("bob", 0)]


async def test_memories_round_trip_exactly(store: Store) -> None:
    user = await _user(store, "u")
    memory = _memory("User's sister Sarah lives in Portland 🌲")
    await store.insert_memories(user.id, [memory])
    assert await store.get_memory(user.id, memory.id) == memory
    assert await listed(store, user.id, [], 10, 0) == [memory]


async def test_list_order_filter_and_paging(store: Store) -> None:
    user = await _user(store, "u")
    base = now_us()
    older_system = _memory("old system", created_us=base - 5_000_000)
    newer_work = _memory("new work", category="work", created_us=base)
    newer_system = _memory("new system", created_us=base)
    same_time = [_memory(f"same {i}", created_us=base - 1_000_000) for i in range(3)]
    await store.insert_memories(user.id, [older_system, newer_work, newer_system, *same_time])
    page = await listed(store, user.id, [], 100, 0)
    expected = [newer_system, *reversed(same_time), older_system, newer_work]
    assert [m.content for m in page] == [m.content for m in expected]
    assert [m.content for m in await listed(store, user.id, [], 2, 1)] == [
        m.content for m in expected[1:3]
    ]
    assert await listed(store, user.id, ["work"], 100, 0) == [newer_work]
    assert await listed(store, user.id, ["work", "system"], 1, 4) == [older_system]
    assert await listed(store, user.id, ["manual"], 100, 0) == []
    assert await listed(store, user.id, [], 100, 2**62) == []


async def test_insert_is_all_or_nothing(store: Store) -> None:
    user = await _user(store, "u")
    first = _memory("first")
    await store.insert_memories(user.id, [first])
    clash = [_memory("would be new"), first.model_copy(update={"content": "dup id"})]
    with pytest.raises(MnemoError):
        await store.insert_memories(user.id, clash)
    assert await listed(store, user.id, [], 10, 0) == [first]


async def test_update_is_atomic_and_owned(store: Store) -> None:
    alice, bob = await _user(store, "alice"), await _user(store, "bob")
    memory = _memory("User likes tea")
    await store.insert_memories(alice.id, [memory])

    def change(current: Memory) -> Memory:
        return current.model_copy(
            update={
                "content": "User likes coffee",
                "edited": True,
                "updated_at": current.updated_at + timedelta(seconds=1),
            }
        )

    assert await store.update_memory(bob.id, memory.id, change) is None
    assert await store.get_memory(alice.id, memory.id) == memory

    def failing(current: Memory) -> Memory:
        raise MnemoError("rule failed mid-update")

    with pytest.raises(MnemoError):
        await store.update_memory(alice.id, memory.id, failing)
    assert await store.get_memory(alice.id, memory.id) == memory

    updated = await store.update_memory(alice.id, memory.id, change)
    assert updated is not None and updated.content == "User likes coffee"
    assert await store.get_memory(alice.id, memory.id) == updated


async def test_delete_is_owned_and_final(store: Store) -> None:
    alice, bob = await _user(store, "alice"), await _user(store, "bob")
    memory = _memory("secret")
    await store.insert_memories(alice.id, [memory])
    assert await store.get_memory(bob.id, memory.id) is None
    assert await listed(store, bob.id, [], 10, 0) == []
    assert not await store.delete_memory(bob.id, memory.id)
    assert await store.get_memory(alice.id, memory.id) == memory
    assert await store.delete_memory(alice.id, memory.id)
    assert not await store.delete_memory(alice.id, memory.id)
    assert await store.get_memory(alice.id, memory.id) is None


async def test_keys_lookup_revoke_touch(store: Store) -> None:
    user = await _user(store, "alice")
    key = _key(user, "k1")
    await store.create_key(key, "hash-1")
    assert await store.key_by_hash("hash-1") == (key, "hash-1")
    assert await store.key_by_hash("hash-2") is None
    assert await store.count_active_keys() == 1
    await store.touch_key("k1", key.created_at + 5)
    (listed,) = await store.list_keys(user.id)
    assert listed.last_used_at == key.created_at + 5
    assert await store.list_keys("someone-else") == []
    assert await store.revoke_key("k1", now_us())
    assert not await store.revoke_key("k1", now_us())
    assert await store.key_by_hash("hash-1") is None
    assert await store.count_active_keys() == 0
    (revoked,) = await store.list_keys()
    assert revoked.revoked_at is not None


async def test_ensure_user_is_safe_when_processes_race(store: Store) -> None:
    import asyncio

    from mnemo.accounts import issue_key

    results = await asyncio.gather(*(issue_key(store, "racer") for _ in range(8)))
    assert len({key.user_id for key, _ in results}) == 1
    assert [(u.name, n) for u, n in await store.list_users()] == [("racer", 0)]


async def test_count_unindexed_follows_imports_reindex_and_deletes(store: Store) -> None:
    from mnemo.retrieval import Retrieval

    user = await _user(store, "u")
    embedded, bare = _memory("User likes tea"), _memory("User likes coffee")
    (vector,) = await Retrieval(store).vectors([embedded.content])
    await store.insert_memories(user.id, [embedded], [vector])
    assert await store.count_unindexed() == 0
    await store.import_memories(user.id, [bare])
    assert await store.count_unindexed() == 1
    assert await Retrieval(store).reindex(user.id) == 2
    assert await store.count_unindexed() == 0
    await store.delete_memory(user.id, embedded.id)
    assert await store.count_unindexed() == 0


async def test_a_key_and_its_users_read_in_one_call(store: Store) -> None:
    """`key_and_page` / `key_and_memory` (the fast path's one round trip) find the key as
    `key_by_hash` does and read as `list_memories_json` / `get_memory_json` do, for the
    key's own user only; a revoked or unknown key reads nothing."""
    alice, bob = await _user(store, "alice"), await _user(store, "bob")
    alices = [_memory(f"alice fact {i}", created_us=now_us() - i) for i in range(MIN_OFFSET + 30)]
    bobs = _memory("bob's secret")
    await store.insert_memories(alice.id, alices)
    await store.insert_memories(bob.id, [bobs])
    key, other = _key(alice, "ka"), _key(bob, "kb")
    await store.create_key(key, "hash-a")
    await store.create_key(other, "hash-b")
    for limit, offset in [
        (25, 0),
        (1, 0),
        (7, 3),
        (25, MIN_OFFSET - 25),
        (25, MIN_OFFSET),
        (10, 10**6),
    ]:
        page = await store.list_memories_json(alice.id, [], limit, offset)
        assert await store.key_and_page("hash-a", limit, offset) == ((key, "hash-a"), page)
    assert await store.key_and_page("hash-b", 25, 0) == (
        (other, "hash-b"),
        await store.list_memories_json(bob.id, [], 25, 0),
    )
    own = alices[3].id
    assert await store.key_and_memory("hash-a", own) == (
        (key, "hash-a"),
        await store.get_memory_json(alice.id, own),
    )
    assert await store.key_and_memory("hash-a", bobs.id) == ((key, "hash-a"), None)
    assert await store.key_and_memory("hash-a", new_id()) == ((key, "hash-a"), None)
    assert await store.key_and_page("hash-x", 25, 0) == (None, None)
    assert await store.key_and_memory("hash-x", own) == (None, None)
    assert await store.revoke_key("ka", now_us())
    assert await store.key_and_page("hash-a", 25, 0) == (None, None)
    assert await store.key_and_memory("hash-a", own) == (None, None)


async def test_users_page_by_name_with_their_counts(store: Store) -> None:
    for name in ("carol", "alice", "bob"):
        await _user(store, name)
    alice = await store.get_user("alice")
    assert alice is not None
    await store.insert_memories(alice.id, [_memory("a"), _memory("b")])
    assert [u.name for u, _ in await store.list_users(2, 0)] == ["alice", "bob"]
    assert [u.name for u, _ in await store.list_users(2, 2)] == ["carol"]
    assert [u.name for u, _ in await store.list_users(0, 1)] == ["bob", "carol"]
    assert await store.count_memories(alice.id) == 2
    assert await store.count_memories("nobody") == 0


async def test_delete_all_memories_and_delete_user_erase_one_user_only(store: Store) -> None:
    alice, bob = await _user(store, "alice"), await _user(store, "bob")
    vector = b"\x00\x00\x80\x3f" * 384
    await store.insert_memories(alice.id, [_memory("a1"), _memory("a2")], [vector, vector])
    await store.insert_memories(alice.id, [_memory("a3")])  # queued for its embedding
    await store.insert_memories(bob.id, [_memory("b1")], [vector])
    await store.create_key(_key(alice, "ka"), "a" * 64)
    await store.create_key(_key(bob, "kb"), "b" * 64)
    assert await store.delete_all_memories(alice.id) == 3
    assert await listed(store, alice.id, [], 10, 0) == []
    assert await store.pending_embeddings(alice.id) == []
    assert await store.semantic_search(alice.id, vector, 10) == []
    assert await store.keyword_search(alice.id, "a1", 10) == []
    assert await store.key_by_hash("a" * 64) is not None  # the account stays
    assert await store.delete_all_memories(alice.id) == 0
    await store.insert_memories(alice.id, [_memory("again")], [vector])
    assert await store.delete_user(alice.id) == 1
    assert await store.get_user("alice") is None
    assert await store.key_by_hash("a" * 64) is None
    assert [k.id for k in await store.list_keys()] == ["kb"]
    assert await store.delete_user(alice.id) is None
    assert [m.content for m in await listed(store, bob.id, [], 10, 0)] == ["b1"]
    assert [i for i, _ in await store.semantic_search(bob.id, vector, 10)] != []
    assert await store.key_by_hash("b" * 64) is not None
