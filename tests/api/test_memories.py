"""The memories routes through the real app: statuses, bodies, ordering, as docs/api.md says."""

from __future__ import annotations

import re
from datetime import datetime

import httpx

from tests.helpers import MEMORIES, MEMORY_FIELDS, create, list_all

RFC3339_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


async def test_create_returns_full_memory_with_defaults(client: httpx.AsyncClient, alice) -> None:
    memory = await create(client, alice, content="  User is vegetarian \n", tags=["food", "food"])
    assert set(memory) == MEMORY_FIELDS
    assert memory["content"] == "User is vegetarian"
    assert memory["visibility"] == "private"
    assert memory["tags"] == ["food"]
    assert memory["manually_added"] is True
    assert memory["reviewed"] is True
    assert memory["user_review"] is True
    assert memory["edited"] is False
    assert memory["category"] in ("system", "interesting")
    assert RFC3339_Z.match(memory["created_at"]) and memory["created_at"] == memory["updated_at"]
    epoch = int(datetime.fromisoformat(memory["created_at"]).timestamp())
    boost = 0 if memory["category"] == "system" else 1
    assert memory["scoring"] == f"01_{999 - boost:03d}_{epoch:010d}"


async def test_given_category_and_legacy_names_are_stored_as_given(client, alice) -> None:
    for category in ("work", "skills", "manual", "interesting", "system", "auto", "workflow"):
        memory = await create(client, alice, content=f"fact about {category}", category=category)
        assert memory["category"] == category
    listed = {m["category"]: m["scoring"][:6] for m in await list_all(client, alice)}
    assert listed["system"] == "01_999" and listed["auto"] == "01_999"
    assert listed["work"] == "01_998" and listed["interesting"] == "01_998"


async def test_tags_keep_order_drop_duplicates_and_strip(client, alice) -> None:
    memory = await create(client, alice, tags=["b", " a ", "b", "a", "c"])
    assert memory["tags"] == ["b", "a", "c"]


async def test_get_by_id_and_list_return_what_create_returned(client, alice) -> None:
    created = await create(
        client,
        alice,
        content="User's sister Sarah lives in Portland",
        visibility="public",
        tags=["family"],
    )
    got = await client.get(f"{MEMORIES}/{created['id']}", headers=alice)
    assert got.status_code == 200 and got.json() == created
    assert await list_all(client, alice) == [created]


async def test_list_order_scoring_then_newest_first(client, alice) -> None:
    first = await create(client, alice, content="a", category="interesting")
    second = await create(client, alice, content="b", category="system")
    third = await create(client, alice, content="c", category="interesting")
    ids = [m["id"] for m in await list_all(client, alice)]
    # system (999) before interesting (998); then newest first.
    assert ids == [second["id"], third["id"], first["id"]]


async def test_batch_creates_in_request_order_and_lists_newest_first(client, alice) -> None:
    body = {"memories": [{"content": f"fact {i}", "category": "system"} for i in range(5)]}
    response = await client.post(f"{MEMORIES}/batch", json=body, headers=alice)
    assert response.status_code == 200
    result = response.json()
    assert result["created_count"] == 5
    assert [m["content"] for m in result["memories"]] == [f"fact {i}" for i in range(5)]
    listed = [m["content"] for m in await list_all(client, alice)]
    assert listed == [f"fact {i}" for i in reversed(range(5))]


async def test_batch_empty_list_creates_nothing(client, alice) -> None:
    response = await client.post(f"{MEMORIES}/batch", json={"memories": []}, headers=alice)
    assert response.status_code == 200
    assert response.json() == {"memories": [], "created_count": 0}


async def test_batch_is_all_or_nothing(client, alice) -> None:
    too_long = {"memories": [{"content": "ok"}, {"content": "x" * 501}]}
    response = await client.post(f"{MEMORIES}/batch", json=too_long, headers=alice)
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "string_too_long"
    blank = {"memories": [{"content": "ok"}, {"content": "   "}]}
    response = await client.post(f"{MEMORIES}/batch", json=blank, headers=alice)
    assert response.status_code == 422
    assert response.json() == {"detail": "All memories must have non-empty content"}
    assert await list_all(client, alice) == []


async def test_batch_over_25_items_is_rejected(client, alice) -> None:
    body = {"memories": [{"content": f"m{i}"} for i in range(26)]}
    response = await client.post(f"{MEMORIES}/batch", json=body, headers=alice)
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "too_long"
    assert await list_all(client, alice) == []


async def test_create_validation_bodies(client, alice) -> None:
    cases = [
        ({"content": ""}, "string_too_short"),
        ({"content": "x" * 501}, "string_too_long"),
        ({"content": "ok", "category": "nonsense"}, "enum"),
        ({"content": "ok", "visibility": "friends"}, "enum"),
        ({}, "missing"),
    ]
    for body, error_type in cases:
        response = await client.post(MEMORIES, json=body, headers=alice)
        assert response.status_code == 422, body
        detail = response.json()["detail"]
        assert detail[0]["type"] == error_type, (body, detail)
        assert detail[0]["loc"][0] == "body"
    response = await client.post(MEMORIES, json={"content": " \t\n "}, headers=alice)
    assert response.status_code == 422
    assert response.json() == {"detail": "content cannot be empty"}
    assert await list_all(client, alice) == []


async def test_content_bound_applies_to_text_as_sent(client, alice) -> None:
    exactly = await create(client, alice, content="y" * 500)
    assert len(exactly["content"]) == 500
    padded = await client.post(MEMORIES, json={"content": " " + "y" * 500}, headers=alice)
    assert padded.status_code == 422


async def test_list_limit_and_offset_clamps(client, alice) -> None:
    for i in range(5):
        await create(client, alice, content=f"m{i}", category="system")

    async def page(**params) -> list:
        response = await client.get(MEMORIES, params=params, headers=alice)
        assert response.status_code == 200, response.text
        return response.json()

    assert len(await page()) == 5
    assert len(await page(limit=0)) == 1
    assert len(await page(limit=-3)) == 1
    assert len(await page(limit=10**30)) == 5
    assert len(await page(offset=-10)) == 5
    assert await page(offset=10**30) == []
    assert [m["content"] for m in await page(limit=2, offset=1)] == ["m3", "m2"]
    for bad in ({"limit": "ten"}, {"offset": "1.5"}):
        response = await client.get(MEMORIES, params=bad, headers=alice)
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"][0] == "query"


async def test_pages_never_overlap_or_skip(client, alice) -> None:
    body = {"memories": [{"content": f"m{i}", "category": "system"} for i in range(23)]}
    assert (await client.post(f"{MEMORIES}/batch", json=body, headers=alice)).status_code == 200
    seen: list[str] = []
    for offset in range(0, 30, 4):
        response = await client.get(MEMORIES, params={"limit": 4, "offset": offset}, headers=alice)
        seen += [m["id"] for m in response.json()]
    assert len(seen) == len(set(seen)) == 23


async def test_category_filter_applies_before_paging(client, alice) -> None:
    for i in range(6):
        await create(client, alice, content=f"s{i}", category="system")
        await create(client, alice, content=f"w{i}", category="work")
    response = await client.get(
        MEMORIES, params={"categories": "work,,", "limit": 4, "offset": 2}, headers=alice
    )
    assert [m["content"] for m in response.json()] == ["w3", "w2", "w1", "w0"]
    both = await list_all(client, alice, categories=" work , system ")
    assert len(both) == 12
    blank = await list_all(client, alice, categories=",")
    assert len(blank) == 12


async def test_unknown_category_filter_is_400(client, alice) -> None:
    response = await client.get(MEMORIES, params={"categories": "work,bogus"}, headers=alice)
    assert response.status_code == 400
    assert response.json() == {"detail": "Invalid category 'bogus' is not a valid MemoryCategory"}


async def test_patch_changes_fields_and_moves_updated_at(client, alice) -> None:
    memory = await create(client, alice, content="User likes tea", category="system", tags=["x"])
    response = await client.patch(
        f"{MEMORIES}/{memory['id']}",
        json={
            "visibility": "public",
            "tags": ["drinks", "drinks"],
            "category": "interesting",
            "content": None,
        },
        headers=alice,
    )
    assert response.status_code == 200
    patched = response.json()
    assert patched["visibility"] == "public" and patched["tags"] == ["drinks"]
    assert patched["category"] == "interesting" and patched["edited"] is False
    assert patched["content"] == "User likes tea"
    # scoring is recomputed from the new category and keeps the creation epoch
    assert patched["scoring"] == "01_998_" + memory["scoring"][-10:]
    assert patched["created_at"] == memory["created_at"]
    assert patched["updated_at"] > memory["updated_at"]
    response = await client.patch(
        f"{MEMORIES}/{memory['id']}", json={"content": "  User loves green tea "}, headers=alice
    )
    edited = response.json()
    assert edited["content"] == "User loves green tea" and edited["edited"] is True
    assert edited["updated_at"] > patched["updated_at"]
    fetched = await client.get(f"{MEMORIES}/{memory['id']}", headers=alice)
    assert fetched.json() == edited


async def test_patch_checks_in_contract_order_and_changes_nothing(client, alice) -> None:
    memory = await create(client, alice, content="User likes tea")
    path = f"{MEMORIES}/{memory['id']}"
    cases = [
        ({}, "At least one field (content, visibility, tags, or category) must be provided"),
        (
            {"content": None, "tags": None},
            "At least one field (content, visibility, tags, or category) must be provided",
        ),
        (
            {"visibility": "friends", "content": "x" * 600},
            "visibility must be 'public' or 'private'",
        ),
        ({"content": "   ", "tags": ["new"]}, "content cannot be empty"),
    ]
    for body, detail in cases:
        response = await client.patch(path, json=body, headers=alice)
        assert (response.status_code, response.json()) == (422, {"detail": detail}), body
    for body, error_type in [
        ({"content": "x" * 501}, "string_too_long"),
        ({"content": "", "visibility": "public"}, "string_too_short"),
        ({"category": "bogus", "visibility": "public"}, "enum"),
        ({"tags": "not-a-list"}, "list_type"),
        ({"tags": ["ok"], "content": 5}, "string_type"),
    ]:
        response = await client.patch(path, json=body, headers=alice)
        assert response.status_code == 422, body
        assert response.json()["detail"][0]["type"] == error_type
        assert response.json()["detail"][0]["loc"][0] == "body"
    unchanged = await client.get(path, headers=alice)
    assert unchanged.json() == memory
    missing = await client.patch(f"{MEMORIES}/no-such-id", json={"content": "x"}, headers=alice)
    assert (missing.status_code, missing.json()) == (404, {"detail": "Memory not found"})
    invalid_and_missing = await client.patch(
        f"{MEMORIES}/no-such-id", json={"visibility": "bad"}, headers=alice
    )
    assert invalid_and_missing.json() == {"detail": "visibility must be 'public' or 'private'"}


async def test_delete_is_permanent(client, alice) -> None:
    memory = await create(client, alice)
    path = f"{MEMORIES}/{memory['id']}"
    response = await client.delete(path, headers=alice)
    assert (response.status_code, response.json()) == (200, {"success": True})
    for method in ("GET", "DELETE"):
        again = await client.request(method, path, headers=alice)
        assert (again.status_code, again.json()) == (404, {"detail": "Memory not found"})
    gone = await client.patch(path, json={"content": "back"}, headers=alice)
    assert gone.status_code == 404
    assert await list_all(client, alice) == []


async def test_unknown_ids_of_any_shape_are_404(client, alice) -> None:
    for memory_id in ["x", "0" * 36, "a" * 500, "%00", "' OR 1=1 --", "...", "é"]:
        for method in ("GET", "DELETE"):
            response = await client.request(method, f"{MEMORIES}/{memory_id}", headers=alice)
            assert response.status_code == 404, (method, memory_id)
            assert response.json() == {"detail": "Memory not found"}
