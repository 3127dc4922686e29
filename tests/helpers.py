"""Small helpers for tests that talk HTTP."""

from __future__ import annotations

from typing import Any

import httpx

MEMORIES = "/v1/dev/user/memories"
MEMORY_FIELDS = {
    "id",
    "content",
    "category",
    "visibility",
    "tags",
    "created_at",
    "updated_at",
    "manually_added",
    "scoring",
    "reviewed",
    "user_review",
    "edited",
}


async def create(client: httpx.AsyncClient, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    """Create a memory and return it, failing the test unless the answer is 200."""
    body.setdefault("content", "User is vegetarian")
    response = await client.post(MEMORIES, json=body, headers=headers)
    assert response.status_code == 200, response.text
    memory: dict[str, Any] = response.json()
    return memory


async def list_all(client: httpx.AsyncClient, headers: dict[str, str], **params: Any) -> list[Any]:
    response = await client.get(MEMORIES, params={"limit": 1000, **params}, headers=headers)
    assert response.status_code == 200, response.text
    items: list[Any] = response.json()
    return items
