"""The async client against the real app in process (httpx's ASGI transport), on every
backend: each method, typed answers, the server's errors as the client's classes,
isolation between users and scopes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from fastapi import FastAPI

from mnemo.store import READ_SCOPE
from mnemo_client import (
    AsyncClient,
    AuthenticationError,
    BadRequestError,
    Memory,
    MemoryCategory,
    MemoryCreate,
    MemoryCreated,
    NotFoundError,
    PermissionDeniedError,
    SearchResult,
    UnprocessableEntityError,
)
from tests.conftest import Headers, MakeKey

ClientFor = Callable[[Headers], AsyncClient]


@pytest.fixture
async def client_for(app: FastAPI) -> AsyncIterator[ClientFor]:
    """Clients of the app in process, one per key (headers as `make_key` gives them)."""
    made: list[AsyncClient] = []

    def make(headers: Headers) -> AsyncClient:
        http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app))
        key = headers["Authorization"].removeprefix("Bearer ")
        client = AsyncClient(base_url="http://mnemo.test", api_key=key, http_client=http)
        made.append(client)
        return client

    yield make
    for client in made:
        await client.close()


@pytest.fixture
async def alice_client(client_for: ClientFor, alice: Headers) -> AsyncClient:
    return client_for(alice)


async def test_every_method_round_trips_typed_memories(alice_client: AsyncClient) -> None:
    memories = alice_client.memories
    created = await memories.create(
        "User is vegetarian", category=MemoryCategory.system, tags=["food", "food"]
    )
    assert isinstance(created, MemoryCreated)
    assert (created.content, created.category, created.tags) == (
        "User is vegetarian",
        "system",
        ["food"],
    )
    assert created.duplicate_of is None and created.manually_added and not created.edited

    again = await memories.create("user is vegetarian!")  # a repeat: mnemo does not store it
    assert again.duplicate_of == created.id

    batch = await memories.create_batch(
        [MemoryCreate(content="User works at Acme", category="work"), {"content": "User runs"}]
    )
    assert batch.created_count == 2
    assert [m.content for m in batch.memories] == ["User works at Acme", "User runs"]

    got = await memories.get(created.id)
    assert got == Memory.model_validate(created.model_dump(exclude={"duplicate_of"}))

    updated = await memories.update(created.id, content="User is vegan", visibility="public")
    assert (updated.content, updated.visibility) == ("User is vegan", "public")
    assert updated.edited
    assert updated.updated_at > created.updated_at

    listed = await memories.list(limit=2)
    assert len(listed) == 2 and all(isinstance(m, Memory) for m in listed)
    assert [m.category for m in await memories.list(categories=["work"])] == ["work"]

    found = await memories.search("what does the user eat", limit=1)
    assert isinstance(found, SearchResult)
    assert found.returned_count == 1 and found.items[0].id == created.id
    assert 0 <= found.items[0].relevance_score <= 1
    assert (await memories.search("what does the user eat", min_score=1)).items == []

    assert (await memories.delete(created.id)).success is True
    with pytest.raises(NotFoundError) as raised:
        await memories.get(created.id)
    assert (raised.value.status_code, raised.value.detail) == (404, "Memory not found")


async def test_iter_all_walks_every_page_in_list_order(alice_client: AsyncClient) -> None:
    memories = alice_client.memories
    for start in range(0, 30, 10):
        items = [{"content": f"User owns item number {n}"} for n in range(start, start + 10)]
        await memories.create_batch(items)
    await memories.create("User works at Acme", category="work")
    walked = [m async for m in memories.iter_all(page_size=7)]
    assert len(walked) == 31 and len({m.id for m in walked}) == 31
    assert walked == await memories.list(limit=1000)  # the same order as one big page
    work = [m.content async for m in memories.iter_all(page_size=1, categories="work")]
    assert work == ["User works at Acme"]


@pytest.mark.parametrize(
    "memory_id",
    ["..", ".", "../search?query=x", "a/b", "%2E%2E", "x" * 200, "\x00", "\ud800", "é #1", " "],
)
async def test_any_id_names_one_memory_never_another_route(
    alice_client: AsyncClient, memory_id: str
) -> None:
    await alice_client.memories.create("User is vegetarian")
    for call in (
        alice_client.memories.get(memory_id),
        alice_client.memories.update(memory_id, content="User is vegan"),
        alice_client.memories.delete(memory_id),
    ):
        with pytest.raises(NotFoundError):
            await call
    assert [m.content for m in await alice_client.memories.list()] == ["User is vegetarian"]


async def test_a_user_never_reaches_another_users_memory(
    client_for: ClientFor, alice: Headers, bob: Headers
) -> None:
    alice_client, bob_client = client_for(alice), client_for(bob)
    mine = await alice_client.memories.create("User is vegetarian")
    for call in (
        bob_client.memories.get(mine.id),
        bob_client.memories.update(mine.id, content="User eats meat"),
        bob_client.memories.delete(mine.id),
    ):
        with pytest.raises(NotFoundError):
            await call
    assert await bob_client.memories.list() == []
    assert (await bob_client.memories.search("vegetarian")).items == []
    assert (await alice_client.memories.get(mine.id)).content == "User is vegetarian"


async def test_the_servers_errors_arrive_as_the_clients_classes(
    client_for: ClientFor, alice_client: AsyncClient, make_key: MakeKey
) -> None:
    memories = alice_client.memories
    with pytest.raises(UnprocessableEntityError) as raised:
        await memories.create("x" * 501)
    assert raised.value.issues[0].type == "string_too_long"
    assert raised.value.issues[0].loc == ["body", "content"]
    with pytest.raises(UnprocessableEntityError) as raised:
        await memories.create("   ")
    assert raised.value.detail == "content cannot be empty" and raised.value.issues == []
    with pytest.raises(UnprocessableEntityError) as raised:
        await memories.update("any")
    assert raised.value.detail == (
        "At least one field (content, visibility, tags, or category) must be provided"
    )
    with pytest.raises(UnprocessableEntityError):
        await memories.create("User is vegetarian", category="nope")
    for text in ("User \ud800", "User \x00"):  # no database stores either faithfully
        with pytest.raises(UnprocessableEntityError) as raised:
            await memories.create(text)
        assert raised.value.issues[0].loc == ["body", "content"]
        with pytest.raises(UnprocessableEntityError):
            await memories.create("User is vegetarian", tags=[text])
    with pytest.raises(BadRequestError) as bad:
        await memories.list(categories="nope")
    assert bad.value.detail == "Invalid category 'nope' is not a valid MemoryCategory"
    with pytest.raises(UnprocessableEntityError):
        await memories.search("food", limit=101)
    with pytest.raises(UnprocessableEntityError):
        await memories.search("food", min_score=-0.5)
    assert await memories.list() == []  # nothing of that was stored

    reader = client_for(await make_key("alice", scopes=[READ_SCOPE]))
    assert await reader.memories.list() == []
    with pytest.raises(PermissionDeniedError) as denied:
        await reader.memories.create("User is vegetarian")
    assert denied.value.detail == "Insufficient permissions. Required scope: memories:write"

    stranger = client_for({"Authorization": "Bearer omi_dev_" + "0" * 32})
    with pytest.raises(AuthenticationError) as refused:
        await stranger.memories.list()
    assert (refused.value.status_code, refused.value.detail) == (401, "Invalid API Key")


class _LosesFirstAnswers(httpx.AsyncBaseTransport):
    """The app's transport, except that the first `lost` answers never arrive: the
    request reached the app (and did its work), then the connection broke."""

    def __init__(self, app: FastAPI, lost: int) -> None:
        self.inner = httpx.ASGITransport(app=app)
        self.lost = lost

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if self.lost:
            self.lost -= 1
            await response.aclose()
            raise httpx.ReadError("connection reset after the request was handled")
        return response


async def test_a_create_whose_answers_were_lost_is_stored_once(
    app: FastAPI, alice: Headers
) -> None:
    key = alice["Authorization"].removeprefix("Bearer ")
    transport = _LosesFirstAnswers(app, lost=2)
    http = httpx.AsyncClient(transport=transport)
    async with AsyncClient(
        base_url="http://mnemo.test", api_key=key, http_client=http, max_retries=2
    ) as client:
        created = await client.memories.create("User is vegetarian", tags=["food"])
        transport.lost = 1
        batch = await client.memories.create_batch(
            [MemoryCreate(content="User works at Acme"), MemoryCreate(content="User has a cat")]
        )
        listed = await client.memories.list()
    assert created.duplicate_of is None  # the first answer, not "a duplicate of itself"
    assert batch.created_count == 2
    assert sorted(m.id for m in listed) == sorted([created.id, *(m.id for m in batch.memories)])
