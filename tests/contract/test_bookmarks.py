"""Deep pages read from remembered positions (mnemo.store.bookmarks) are exactly the
pages OFFSET gives, and a position is never used once the list has changed."""

from __future__ import annotations

from mnemo.clock import new_id, now_us, to_datetime
from mnemo.models import Memory
from mnemo.store import Store, User
from mnemo.store.bookmarks import MIN_OFFSET
from tests import pg
from tests.contract.support import listed, memory

_PAGE = 50
_COUNT = MIN_OFFSET + 7 * _PAGE + 13


def _memories(n: int, start_us: int) -> list[Memory]:
    # Runs of equal created_at and scoring, so ties are broken by id.
    return [
        memory(
            f"memory {i}",
            category=("work", "system", "interesting")[i % 3],
            created_us=start_us - (i // 3) * 1_000_000,
            manually_added=i % 2 == 0,
            tags=(),
        )
        for i in range(n)
    ]


async def _walk(store: Store, user_id: str, categories: list[str]) -> list[str]:
    ids: list[str] = []
    while page := await listed(store, user_id, categories, _PAGE, len(ids)):
        ids.extend(m.id for m in page)
    return ids


async def _truth(store: Store, user_id: str, categories: list[str]) -> list[str]:
    return [m.id for m in await listed(store, user_id, categories, 1000, 0)]


async def test_walking_deep_pages_again_gives_the_same_pages(store: Store) -> None:
    user = await store.create_user(User(id=new_id(), name="deep", created_at=now_us()))
    await store.insert_memories(user.id, _memories(_COUNT, now_us()))
    for categories in ([], ["work", "interesting"]):
        truth = await _truth(store, user.id, categories)
        assert await _walk(store, user.id, categories) == truth  # remembers positions
        assert store._bookmarks.find(user.id, categories, MIN_OFFSET + _PAGE) is not None  # type: ignore[attr-defined]
        assert await _walk(store, user.id, categories) == truth  # reads from them
        # a jump to a remembered offset, and to one that is not
        assert [m.id for m in await listed(store, user.id, categories, 7, 300)] == truth[300:307]
        assert [m.id for m in await listed(store, user.id, categories, 7, 301)] == truth[301:308]


async def test_a_change_to_the_list_is_never_read_from_an_old_position(
    store: Store, database_url: str
) -> None:
    user = await store.create_user(User(id=new_id(), name="moving", created_at=now_us()))
    memories = _memories(_COUNT, now_us())
    await store.insert_memories(user.id, memories)
    other = await store.create_user(User(id=new_id(), name="other", created_at=now_us()))

    def version() -> int:
        rows = pg.fetch(database_url, f"SELECT memories_version FROM users WHERE id = '{user.id}'")
        return int(rows[0][0])  # type: ignore[call-overload]

    async def check() -> None:
        truth = await _truth(store, user.id, [])
        deep = [m.id for m in await listed(store, user.id, [], _PAGE, MIN_OFFSET + _PAGE)]
        assert deep == truth[MIN_OFFSET + _PAGE : MIN_OFFSET + 2 * _PAGE]

    await _walk(store, user.id, [])
    await check()
    before = version()

    # a new memory at the top shifts every page by one
    await store.insert_memories(user.id, _memories(1, now_us() + 10_000_000))
    assert version() > before
    await check()

    # a deleted memory near the top shifts them back
    truth = await _truth(store, user.id, [])
    before = version()
    assert await store.delete_memory(user.id, truth[3])
    assert version() > before
    await check()

    # a memory moved down the order (older created_at, as an import could do)
    before = version()
    top = truth[0]
    moved = await store.update_memory(
        user.id,
        top,
        lambda m: m.model_copy(
            update={"created_at": to_datetime(0), "scoring": "00_" + m.scoring[3:]}
        ),
    )
    assert moved is not None and version() > before
    await check()

    # editing content leaves the order, and the version, alone
    before = version()
    await store.update_memory(user.id, truth[5], lambda m: m.model_copy(update={"content": "x"}))
    assert version() == before
    await check()

    # another user's writes do not touch this user's version
    await store.insert_memories(other.id, _memories(3, now_us()))
    assert version() == before
