"""The web page's store methods (`browse_memories`, the `ui_sessions`), on every
backend: the list's filters, orders, paging and count; a session's life."""

from __future__ import annotations

from mnemo.clock import new_id, now_us
from mnemo.store import ApiKey, Store, User
from mnemo.store.base import MemoryFilter, UiSession
from tests.contract.support import listed
from tests.contract.support import memory as _memory


async def _user(store: Store, name: str) -> User:
    return await store.create_user(User(id=new_id(), name=name, created_at=now_us()))


async def test_browse_filters_orders_pages_and_counts(store: Store) -> None:
    alice, bob = await _user(store, "alice"), await _user(store, "bob")
    base = now_us() - 10_000_000
    made = [
        _memory("old core", category="core", created_us=base, tags=["a", "b"]),
        _memory("new system", category="system", created_us=base + 3, tags=["b"]),
        _memory("mid core", category="core", created_us=base + 2, tags=[]),
        _memory('quote"tag', category="work", created_us=base + 1, tags=['x"y', "%"]),
    ]
    await store.insert_memories(alice.id, made)
    await store.insert_memories(bob.id, [_memory("bob's", tags=["b"])])

    async def contents(
        where: MemoryFilter, limit: int = 10, offset: int = 0
    ) -> tuple[list[str], int]:
        page, total = await store.browse_memories(alice.id, where, limit, offset)
        return [m.content for m in page], total

    important = [m.content for m in await listed(store, alice.id, (), 10, 0)]
    assert await contents(MemoryFilter()) == (important, 4)  # the API's list order
    assert await contents(MemoryFilter(newest=True)) == (
        ["new system", "mid core", 'quote"tag', "old core"],
        4,
    )
    assert await contents(MemoryFilter(newest=True), 2, 1) == (["mid core", 'quote"tag'], 4)
    assert await contents(MemoryFilter(("core",), newest=True)) == (["mid core", "old core"], 2)
    assert await contents(MemoryFilter(("core", "work"), newest=True)) == (
        ["mid core", 'quote"tag', "old core"],
        3,
    )
    assert await contents(MemoryFilter(tag="b", newest=True)) == (["new system", "old core"], 2)
    assert await contents(MemoryFilter(("core",), tag="b")) == (["old core"], 1)
    assert await contents(MemoryFilter(tag='x"y')) == (['quote"tag'], 1)
    assert await contents(MemoryFilter(tag="%")) == (['quote"tag'], 1)  # no pattern
    assert await contents(MemoryFilter(tag="B")) == ([], 0)  # exact
    assert await contents(MemoryFilter(), 10, 10) == ([], 4)
    page, _ = await store.browse_memories(alice.id, MemoryFilter(tag="a"), 10, 0)
    assert page == [made[0]]  # every field read back


async def test_a_session_lives_until_it_ends_expires_or_loses_its_key(store: Store) -> None:
    alice = await _user(store, "alice")
    key = ApiKey(
        id="k1",
        user_id=alice.id,
        user_name="alice",
        name="",
        prefix="omi_dev_abcd",
        scopes=("memories:read",),
        created_at=now_us(),
        last_used_at=None,
        revoked_at=None,
    )
    await store.create_key(key, "h" * 64)
    now = now_us()

    def session(id_hash: str, key_id: str | None, expires_at: int) -> UiSession:
        return UiSession(
            id_hash=id_hash,
            user_id=alice.id if key_id else None,
            key_id=key_id,
            admin_hash=None if key_id else "a" * 64,
            csrf="token",
            created_at=now,
            expires_at=expires_at,
        )

    live = session("s-live", "k1", now + 60_000_000)
    await store.create_ui_session(live)
    await store.create_ui_session(session("s-admin", None, now + 60_000_000))
    assert await store.ui_session("s-live", now) == (live, key)
    assert await store.ui_session("s-admin", now) == (
        session("s-admin", None, now + 60_000_000),
        None,
    )
    assert await store.ui_session("s-live", now + 60_000_000) is None  # expired
    assert await store.ui_session("nope", now) is None

    # a new session prunes the expired ones
    await store.create_ui_session(session("s-old", "k1", now - 1))
    await store.create_ui_session(session("s-new", "k1", now + 60_000_000))
    assert await store.ui_session("s-old", 0) is None

    await store.end_ui_session("s-new")
    assert await store.ui_session("s-new", now) is None
    await store.end_ui_session("s-new")  # twice: nothing

    assert await store.revoke_key("k1", now_us())
    found = await store.ui_session("s-live", now)
    assert found is not None and found[1] is None  # the key is no longer active

    assert await store.delete_user(alice.id) == 0
    assert await store.ui_session("s-live", 0) is None  # erased with the user
    assert await store.ui_session("s-admin", now) is not None  # not the user's
