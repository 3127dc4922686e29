"""Small helpers for tests that talk HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import httpx
from fastapi import FastAPI
from hypothesis import strategies as st

from mnemo import Settings, create_app
from mnemo.accounts import issue_key
from mnemo.models import MemoryCategory

if TYPE_CHECKING:
    from prometheus_client import Metric

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


def metric_samples(families: Iterable[Metric]) -> dict[str, float]:
    """Every sample of these metric families (of a /metrics page parsed by
    `prometheus_client.parser`, or of a worker's file), by `name{label="value",...}`
    with the labels sorted by name."""
    found: dict[str, float] = {}
    for family in families:
        for sample in family.samples:
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(sample.labels.items()))
            found[f"{sample.name}{{{labels}}}" if labels else sample.name] = sample.value
    return found


@asynccontextmanager
async def serving(
    settings: Settings, user: str = "alice"
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient, dict[str, str]]]:
    """A started app of its own, a client for it, and the headers of a key for `user`."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        _, secret = await issue_key(app.state.mnemo.store, user)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://mnemo.test") as client:
            yield app, client, {"Authorization": f"Bearer {secret}"}


def _text(max_size: int) -> st.SearchStrategy[str]:
    """Any text the API accepts: no lone surrogates, no NUL, not only white space."""
    return st.text(
        alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
        min_size=1,
        max_size=max_size,
    ).filter(lambda s: s.strip())


def memory_bodies(max_content: int = 500, max_tags: int = 8) -> st.SearchStrategy[Any]:
    """Create bodies the API accepts, with and without each optional field."""
    return st.fixed_dictionaries(
        {"content": _text(max_content)},
        optional={
            "category": st.sampled_from([c.value for c in MemoryCategory]),
            "visibility": st.sampled_from(["public", "private"]),
            "tags": st.lists(_text(64), max_size=max_tags),
        },
    )
