"""The database renders a list page byte for byte as pydantic renders `list[Memory]`
(mnemo.store.render), on both backends, whatever the memories hold."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter

from mnemo.clock import new_id, now_us
from mnemo.models import Memory
from mnemo.store import Store, User

# Any text either database can hold: PostgreSQL text has no NUL, and no encoding holds
# a lone surrogate.
_TEXT = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"))
_TIME = st.datetimes(
    min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
)
_MEMORIES = st.builds(
    Memory,
    id=st.builds(new_id),
    content=_TEXT,
    category=st.sampled_from(["system", "interesting", "manual", "work"]),
    visibility=st.sampled_from(["public", "private"]),
    tags=st.lists(_TEXT, max_size=4),
    created_at=_TIME,
    updated_at=_TIME,
    manually_added=st.booleans(),
    scoring=_TEXT,
    reviewed=st.booleans(),
    user_review=st.none() | st.booleans(),
    edited=st.booleans(),
)
_PAGE = TypeAdapter(list[Memory])


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(memories=st.lists(_MEMORIES, min_size=1, max_size=5))
async def test_a_page_renders_as_pydantic_does(store: Store, memories: list[Memory]) -> None:
    user = await store.create_user(User(id=new_id(), name=new_id(), created_at=now_us()))
    await store.insert_memories(user.id, memories)
    page = await store.list_memories_json(user.id, [], 10, 0)
    # The page's order is the store's to choose (and tested elsewhere): compare in it.
    order = [m.id for m in _PAGE.validate_json(page)]
    by_id = {m.id: m for m in memories}
    assert sorted(order) == sorted(by_id)
    assert page == _PAGE.dump_json([by_id[i] for i in order])


async def test_an_empty_page_is_an_empty_array(store: Store) -> None:
    user = await store.create_user(User(id=new_id(), name="empty", created_at=now_us()))
    assert await store.list_memories_json(user.id, [], 10, 0) == b"[]"
    assert await store.list_memories_json(user.id, ["work"], 10, 5) == b"[]"
