"""Helpers for the store contract tests: memories to store, pages read back."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import TypeAdapter

from mnemo.models import Memory, new_memory
from mnemo.store import Store

_PAGE = TypeAdapter(list[Memory])


async def listed(
    store: Store, user_id: str, categories: Sequence[str], limit: int, offset: int
) -> list[Memory]:
    """`store.list_memories_json(...)`, parsed as the API's clients parse it."""
    return _PAGE.validate_json(await store.list_memories_json(user_id, categories, limit, offset))


def memory(
    content: str,
    *,
    category: str = "system",
    created_us: int | None = None,
    manually_added: bool = True,
    tags: Sequence[str] = ("t",),
) -> Memory:
    """A new memory as the service would make it (its `scoring` from the same rule)."""
    return new_memory(
        content,
        category=category,
        created_us=created_us,
        manually_added=manually_added,
        tags=tags,
    )
