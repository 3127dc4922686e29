"""Helpers for the store contract tests: memories to store, pages read back."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import TypeAdapter

from mnemo.clock import new_id, now_us, scoring, to_datetime
from mnemo.models import Memory
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
    created_us = created_us if created_us is not None else now_us()
    at = to_datetime(created_us)
    return Memory(
        id=new_id(),
        content=content,
        category=category,
        visibility="private",
        tags=list(tags),
        created_at=at,
        updated_at=at,
        manually_added=manually_added,
        scoring=scoring(manually_added=manually_added, category=category, created_us=created_us),
        reviewed=True,
        user_review=None,
        edited=False,
    )
