"""Reading a store's list pages back as `Memory` objects."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import TypeAdapter

from mnemo.models import Memory
from mnemo.store import Store

_PAGE = TypeAdapter(list[Memory])


async def listed(
    store: Store, user_id: str, categories: Sequence[str], limit: int, offset: int
) -> list[Memory]:
    """`store.list_memories_json(...)`, parsed as the API's clients parse it."""
    return _PAGE.validate_json(await store.list_memories_json(user_id, categories, limit, offset))
