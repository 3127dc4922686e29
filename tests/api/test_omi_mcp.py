"""Omi's MCP REST routes (`/v1/mcp/memories`), on both backends: Omi's shapes over the
same service, keys, scopes and limits as `/v1/dev/user/memories`."""

from __future__ import annotations

import httpx
import pytest

from mnemo.store import READ_SCOPE, WRITE_SCOPE
from tests.conftest import MakeKey
from tests.helpers import MEMORIES, create, list_all

MCP = "/v1/mcp/memories"
ALL_CATEGORIES = ("system", "interesting", "work", "core", "hobbies", "lifestyle")


async def test_list_answers_omi_mcp_items_in_the_list_order(
    client: httpx.AsyncClient, alice: dict[str, str]
) -> None:
    for content in ("User is vegetarian", "User works at Acme", "User plays the cello"):
        await create(client, alice, content=content)
    response = await client.get(MCP, headers=alice)
    assert response.status_code == 200, response.text
    items = response.json()
    full = await list_all(client, alice)
    assert items == [{k: m[k] for k in ("id", "content", "category")} for m in full]
    assert response.headers["X-RateLimit-Limit"]  # a read, counted like one
    page = (await client.get(MCP, params={"limit": 1, "offset": 1}, headers=alice)).json()
    assert page == items[1:2]


async def test_list_filters_by_category_and_refuses_an_unknown_one(
    client: httpx.AsyncClient, alice: dict[str, str]
) -> None:
    await create(client, alice, content="User works at Acme", category="work")
    await create(client, alice, content="User is vegetarian", category="lifestyle")
    work = (await client.get(MCP, params={"categories": "work"}, headers=alice)).json()
    assert [m["content"] for m in work] == ["User works at Acme"]
    bad = await client.get(MCP, params={"categories": "work,nope"}, headers=alice)
    assert bad.status_code == 400 and "nope" in bad.json()["detail"]


@pytest.mark.parametrize(
    ("params", "where"),
    [({"limit": "ten"}, "limit"), ({"offset": "1.5"}, "offset"), ({"limit": "+5"}, "limit")],
)
async def test_list_refuses_malformed_integers(
    client: httpx.AsyncClient, alice: dict[str, str], params: dict[str, str], where: str
) -> None:
    response = await client.get(MCP, params=params, headers=alice)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", where]


async def test_create_is_always_categorised_by_the_server(
    client: httpx.AsyncClient, alice: dict[str, str], bob: dict[str, str]
) -> None:
    """Omi's route ignores a sent category; so does this one. The answer is the memory
    as `createMemory` answers it, and the memory is stored exactly once."""
    sent = {"content": "User works as a nurse at the county hospital", "category": "hobbies"}
    response = await client.post(MCP, json=sent, headers=alice)
    assert response.status_code == 200, response.text
    memory = response.json()
    chosen = await create(client, bob, content=sent["content"])  # no category sent
    assert memory["category"] == chosen["category"] in ("system", "interesting")
    stored = await client.get(f"{MEMORIES}/{memory['id']}", headers=alice)
    assert stored.json() == memory and memory["manually_added"] is True
    again = await client.post(MCP, json=sent, headers=alice)
    assert again.json()["duplicate_of"] == memory["id"]  # the same deduplication


async def test_create_validates_like_create_memory(
    client: httpx.AsyncClient, alice: dict[str, str]
) -> None:
    for body in ({}, {"content": ""}, {"content": "   "}, {"content": "x" * 501}, []):
        response = await client.post(MCP, json=body, headers=alice)
        assert response.status_code == 422, (body, response.text)
        assert "detail" in response.json()
    bad_json = await client.post(
        MCP, content=b"{not json", headers={**alice, "Content-Type": "application/json"}
    )
    assert bad_json.status_code == 422
    assert await list_all(client, alice) == []  # nothing stored


async def test_create_honours_an_idempotency_key(
    client: httpx.AsyncClient, alice: dict[str, str]
) -> None:
    headers = {**alice, "Idempotency-Key": "mcp-create-1"}
    first = await client.post(MCP, json={"content": "User is left-handed"}, headers=headers)
    second = await client.post(MCP, json={"content": "User is left-handed"}, headers=headers)
    assert second.headers.get("Idempotent-Replayed") == "true"
    assert second.json() == first.json()
    assert len(await list_all(client, alice)) == 1


async def test_edit_takes_the_content_as_value_and_answers_status_ok(
    client: httpx.AsyncClient, alice: dict[str, str]
) -> None:
    memory = await create(client, alice, content="User lives in Lisbon")
    url = f"{MCP}/{memory['id']}"
    response = await client.patch(url, params={"value": "User lives in Porto"}, headers=alice)
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "ok"}
    now = (await client.get(f"{MEMORIES}/{memory['id']}", headers=alice)).json()
    assert now["content"] == "User lives in Porto" and now["edited"] is True
    search = await client.get(f"{MCP}/search", params={"query": "Porto"}, headers=alice)
    assert [m["id"] for m in search.json()][:1] == [memory["id"]]


@pytest.mark.parametrize("value", [None, "", "   ", "x" * 501])
async def test_edit_refuses_a_bad_value_and_changes_nothing(
    client: httpx.AsyncClient, alice: dict[str, str], value: str | None
) -> None:
    memory = await create(client, alice, content="User lives in Lisbon")
    params = {} if value is None else {"value": value}
    response = await client.patch(f"{MCP}/{memory['id']}", params=params, headers=alice)
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    if isinstance(detail, list):
        assert detail[0]["loc"][:2] == ["query", "value"]
    else:
        assert detail == "content cannot be empty"
    assert (await client.get(f"{MEMORIES}/{memory['id']}", headers=alice)).json() == memory


async def test_delete_answers_status_ok_and_is_permanent(
    client: httpx.AsyncClient, alice: dict[str, str]
) -> None:
    memory = await create(client, alice)
    response = await client.delete(f"{MCP}/{memory['id']}", headers=alice)
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    assert (await client.get(f"{MEMORIES}/{memory['id']}", headers=alice)).status_code == 404
    again = await client.delete(f"{MCP}/{memory['id']}", headers=alice)
    assert again.status_code == 404 and again.json() == {"detail": "Memory not found"}


async def test_search_answers_scored_items_clamped_to_twenty(
    client: httpx.AsyncClient, alice: dict[str, str]
) -> None:
    batch = [{"content": f"User has pet number {i} called Rex{i}"} for i in range(25)]
    response = await client.post(f"{MEMORIES}/batch", json={"memories": batch}, headers=alice)
    assert response.status_code == 200, response.text
    await create(client, alice, content="User is vegetarian")
    found = await client.get(f"{MCP}/search", params={"query": "pet"}, headers=alice)
    assert found.status_code == 200, found.text
    items = found.json()
    assert len(items) == 10  # Omi's default
    assert set(items[0]) == {"id", "content", "category", "relevance_score"}
    scores = [m["relevance_score"] for m in items]
    assert scores == sorted(scores, reverse=True)
    many = await client.get(f"{MCP}/search", params={"query": "pet", "limit": 500}, headers=alice)
    assert len(many.json()) == 20
    one = await client.get(f"{MCP}/search", params={"query": "pet", "limit": 0}, headers=alice)
    assert len(one.json()) == 1
    plain = await client.get(
        f"{MEMORIES}/search", params={"query": "pet", "limit": 20}, headers=alice
    )
    assert [m["id"] for m in many.json()] == [m["id"] for m in plain.json()["items"]]


@pytest.mark.parametrize(
    "params", [{}, {"query": ""}, {"query": "x" * 5000}, {"query": "pet", "limit": "1e3"}]
)
async def test_search_refuses_bad_parameters(
    client: httpx.AsyncClient, alice: dict[str, str], params: dict[str, str]
) -> None:
    response = await client.get(f"{MCP}/search", params=params, headers=alice)
    assert response.status_code == 422, response.text
    assert isinstance(response.json()["detail"], list)


async def test_another_users_memory_is_an_unknown_id(
    client: httpx.AsyncClient, alice: dict[str, str], bob: dict[str, str]
) -> None:
    memory = await create(client, alice, content="User's sister Sarah lives in Portland")
    unknown = "01a23376-dea8-7c43-b3af-1b1ee35fdd30"
    for target in (memory["id"], unknown):
        edit = await client.patch(f"{MCP}/{target}", params={"value": "x"}, headers=bob)
        gone = await client.delete(f"{MCP}/{target}", headers=bob)
        assert (edit.status_code, edit.json()) == (404, {"detail": "Memory not found"})
        assert (gone.status_code, gone.json()) == (404, {"detail": "Memory not found"})
    assert (await client.get(MCP, headers=bob)).json() == []
    found = await client.get(f"{MCP}/search", params={"query": "Sarah Portland"}, headers=bob)
    assert found.json() == []
    assert (await client.get(f"{MEMORIES}/{memory['id']}", headers=alice)).json() == memory


async def test_scopes_are_the_memories_scopes(
    client: httpx.AsyncClient, alice: dict[str, str], make_key: MakeKey
) -> None:
    memory = await create(client, alice)
    reader = await make_key("alice", scopes=[READ_SCOPE])
    writer = await make_key("alice", scopes=[WRITE_SCOPE])
    assert (await client.get(MCP, headers=reader)).status_code == 200
    search = await client.get(f"{MCP}/search", params={"query": "food"}, headers=reader)
    assert search.status_code == 200
    refused = [
        await client.post(MCP, json={"content": "User is tall"}, headers=reader),
        await client.patch(f"{MCP}/{memory['id']}", params={"value": "x y"}, headers=reader),
        await client.delete(f"{MCP}/{memory['id']}", headers=reader),
        await client.get(MCP, headers=writer),
        await client.get(f"{MCP}/search", params={"query": "food"}, headers=writer),
    ]
    assert [r.status_code for r in refused] == [403] * 5
    assert (await client.get(f"{MEMORIES}/{memory['id']}", headers=alice)).json() == memory


async def test_every_route_needs_a_key(client: httpx.AsyncClient) -> None:
    some = "01a23376-dea8-7c43-b3af-1b1ee35fdd30"
    for method, url in (
        ("GET", MCP),
        ("POST", MCP),
        ("GET", f"{MCP}/search?query=x"),
        ("PATCH", f"{MCP}/{some}?value=x"),
        ("DELETE", f"{MCP}/{some}"),
    ):
        for headers in ({}, {"Authorization": "Bearer omi_dev_" + "0" * 32}):
            response = await client.request(method, url, headers=headers)
            assert response.status_code == 401, (method, url, response.text)


@pytest.mark.parametrize(
    "value", ["User likes \u00e9t\u00e9 \U0001f600", "a\x00b", "<script>alert(1)</script>"]
)
async def test_hostile_values_are_stored_as_text_or_refused(
    client: httpx.AsyncClient, alice: dict[str, str], value: str
) -> None:
    memory = await create(client, alice, content="User lives in Lisbon")
    response = await client.patch(f"{MCP}/{memory['id']}", params={"value": value}, headers=alice)
    assert response.status_code in (200, 422), response.text
    now = (await client.get(f"{MEMORIES}/{memory['id']}", headers=alice)).json()
    if response.status_code == 200:
        assert now["content"] == value.strip()
    else:
        assert now == memory
