"""Hypothesis round trips: what is created is what is fetched and listed."""

from __future__ import annotations

import httpx
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from mnemo import Settings
from tests.helpers import MEMORIES, memory_bodies

_body = memory_bodies()


@pytest.fixture
def settings(database_url: str) -> Settings:
    """Round trips of storage itself: deduplication (tested on its own) is off."""
    return Settings(database_url=database_url, dedup_enabled=False)


@hypothesis_settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(bodies=st.lists(_body, min_size=1, max_size=5))
async def test_created_is_fetched_and_listed(client: httpx.AsyncClient, make_key, bodies) -> None:
    headers = await make_key("prop")
    response = await client.post(f"{MEMORIES}/batch", json={"memories": bodies}, headers=headers)
    assert response.status_code == 200, response.text
    created = response.json()["memories"]
    for body, memory in zip(bodies, created, strict=True):
        assert memory["content"] == body["content"].strip()
        assert memory["category"] == body.get("category", memory["category"])
        assert memory["visibility"] == body.get("visibility", "private")
        assert memory["tags"] == list(dict.fromkeys(t.strip() for t in body.get("tags", [])))
        fetched = await client.get(f"{MEMORIES}/{memory['id']}", headers=headers)
        assert fetched.json() == memory
    page = await client.get(MEMORIES, params={"limit": 1000}, headers=headers)
    listed = {m["id"]: m for m in page.json()}
    for memory in created:
        assert listed[memory["id"]] == memory
        # The list and the get by id answer the same bytes for a memory.
        fetched = await client.get(f"{MEMORIES}/{memory['id']}", headers=headers)
        assert fetched.content in page.content
    for memory in created:
        assert (
            await client.delete(f"{MEMORIES}/{memory['id']}", headers=headers)
        ).status_code == 200
