"""The action items routes (Omi's shapes) on both backends: every route, the filters
and bounds of the list, `completed_at` following `completed`, isolation, scopes, hostile
input, and the deletion of a description from every SQLite file."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from mnemo.models import MAX_ACTION_ITEM_BATCH

URL = "/v1/dev/user/action-items"


async def _create(client, headers, **body):
    body.setdefault("description", "Call the dentist")
    response = await client.post(URL, json=body, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def test_create_get_update_delete(client, alice) -> None:
    item = await _create(
        client, alice, description="  Pay rent  ", due_at="2026-12-04T09:00:00+02:00"
    )
    assert item["description"] == "Pay rent"
    assert item["completed"] is False and item["completed_at"] is None
    assert item["due_at"] == "2026-12-04T07:00:00Z" and item["conversation_id"] is None
    assert item["created_at"] == item["updated_at"]
    listed = (await client.get(URL, headers=alice)).json()
    assert listed == [item]

    done = await client.patch(f"{URL}/{item['id']}", json={"completed": True}, headers=alice)
    assert done.status_code == 200
    assert done.json()["completed"] is True
    assert done.json()["completed_at"] == done.json()["updated_at"] > item["updated_at"]
    again = await client.patch(
        f"{URL}/{item['id']}",
        json={"completed": False, "description": "Pay the rent"},
        headers=alice,
    )
    assert again.json()["completed_at"] is None and again.json()["description"] == "Pay the rent"
    assert again.json()["due_at"] == item["due_at"]  # not given: unchanged
    assert (await client.get(URL, headers=alice)).json() == [again.json()]

    deleted = await client.delete(f"{URL}/{item['id']}", headers=alice)
    assert deleted.status_code == 200 and deleted.json() == {"success": True}
    assert (await client.get(URL, headers=alice)).json() == []
    gone = await client.delete(f"{URL}/{item['id']}", headers=alice)
    assert gone.status_code == 404 and gone.json() == {"detail": "Action item not found"}


async def test_created_completed_has_completed_at(client, alice) -> None:
    item = await _create(client, alice, completed=True)
    assert item["completed_at"] == item["created_at"]


async def test_batch_is_all_or_nothing(client, alice) -> None:
    bodies = [{"description": f"Task {i}"} for i in range(MAX_ACTION_ITEM_BATCH)]
    made = await client.post(f"{URL}/batch", json={"action_items": bodies}, headers=alice)
    assert made.status_code == 200
    assert made.json()["created_count"] == MAX_ACTION_ITEM_BATCH
    assert [i["description"] for i in made.json()["action_items"]] == [
        b["description"] for b in bodies
    ]

    over = await client.post(
        f"{URL}/batch", json={"action_items": [*bodies, {"description": "one more"}]}, headers=alice
    )
    assert over.status_code == 422
    blank = await client.post(
        f"{URL}/batch",
        json={"action_items": [{"description": "fine"}, {"description": "   "}]},
        headers=alice,
    )
    assert blank.status_code == 422
    assert blank.json() == {"detail": "All action items must have non-empty descriptions"}
    empty = await client.post(f"{URL}/batch", json={"action_items": []}, headers=alice)
    assert empty.json() == {"action_items": [], "created_count": 0}
    page = (await client.get(URL, params={"limit": 1000}, headers=alice)).json()
    assert len(page) == MAX_ACTION_ITEM_BATCH  # neither refused batch stored anything


async def test_list_filters_order_and_bounds(client, alice) -> None:
    first = await _create(client, alice, description="first")
    await asyncio.sleep(0.01)
    second = await _create(client, alice, description="second", completed=True)
    await asyncio.sleep(0.01)
    third = await _create(client, alice, description="third")

    async def ids(**params) -> list[str]:
        response = await client.get(URL, params=params, headers=alice)
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()]

    assert await ids() == [third["id"], second["id"], first["id"]]
    assert await ids(completed="true") == [second["id"]]
    assert await ids(completed="false") == [third["id"], first["id"]]
    assert await ids(start_date=second["created_at"]) == [third["id"], second["id"]]
    assert await ids(end_date=second["created_at"]) == [second["id"], first["id"]]
    assert await ids(start_date=second["created_at"], end_date=second["created_at"]) == [
        second["id"]
    ]
    assert await ids(conversation_id="no-such-conversation") == []
    assert await ids(limit=1) == [third["id"]]
    assert await ids(limit=0) == [third["id"]]  # clamped to 1
    assert await ids(limit=10**6) == await ids()  # clamped to 1000
    assert await ids(limit=1, offset=1) == [second["id"]]
    assert await ids(offset=-5) == await ids()
    assert await ids(offset=10**9) == []


async def test_update_errors(client, alice) -> None:
    item = await _create(client, alice)
    url = f"{URL}/{item['id']}"
    for body in ({}, {"description": None, "completed": None, "due_at": None}):
        response = await client.patch(url, json=body, headers=alice)
        assert response.status_code == 422
        assert response.json() == {"detail": "At least one field must be provided"}
    blank = await client.patch(url, json={"description": " \t "}, headers=alice)
    assert blank.json() == {"detail": "description cannot be empty"}
    unknown = await client.patch(f"{URL}/nope", json={"completed": True}, headers=alice)
    assert unknown.status_code == 404 and unknown.json() == {"detail": "Action item not found"}
    assert (await client.get(URL, headers=alice)).json() == [item]  # nothing changed


async def test_another_users_item_is_an_unknown_one(client, alice, bob) -> None:
    item = await _create(client, alice)
    for method, body in (("PATCH", {"completed": True}), ("DELETE", None)):
        theirs = await client.request(method, f"{URL}/{item['id']}", json=body, headers=bob)
        unknown = await client.request(
            method, f"{URL}/01a236ba-af9c-7ea0-85c9-196b3c5b3776", json=body, headers=bob
        )
        assert theirs.status_code == unknown.status_code == 404
        assert theirs.json() == unknown.json() == {"detail": "Action item not found"}
    assert (await client.get(URL, headers=bob)).json() == []
    assert (await client.get(URL, headers=alice)).json() == [item]


async def test_scopes(client, make_key) -> None:
    memories_only = await make_key("carol", scopes=["memories:read", "memories:write"])
    reader = await make_key("carol", scopes=["action_items:read"])
    writer = await make_key("carol", scopes=["action_items:write"])
    for headers, method, path, body in (
        (memories_only, "GET", URL, None),
        (memories_only, "POST", URL, {"description": "x"}),
        (reader, "POST", URL, {"description": "x"}),
        (reader, "POST", f"{URL}/batch", {"action_items": []}),
        (reader, "PATCH", f"{URL}/x", {"completed": True}),
        (reader, "DELETE", f"{URL}/x", None),
        (writer, "GET", URL, None),
    ):
        response = await client.request(method, path, json=body, headers=headers)
        assert response.status_code == 403, (method, path, headers)
        assert "action_items:" in response.json()["detail"]
    assert (await client.post(URL, json={"description": "x"}, headers=writer)).status_code == 200
    assert len((await client.get(URL, headers=reader)).json()) == 1
    memories = await client.get("/v1/dev/user/memories", headers=reader)
    assert memories.status_code == 403


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"description": ""},
        {"description": "x" * 501},
        {"description": "a\x00b"},
        {"description": 5},
        {"description": ["x"]},
        {"description": "x", "completed": "maybe"},
        {"description": "x", "due_at": "not a date"},
        {"description": "x", "due_at": "2026-13-45T00:00:00Z"},
        {"description": "x", "due_at": {"year": 2026}},
        [],
        "text",
    ],
)
async def test_hostile_creates_are_refused_and_store_nothing(client, alice, body) -> None:
    response = await client.post(URL, json=body, headers=alice)
    assert response.status_code == 422, response.text
    assert "detail" in response.json()
    assert (await client.get(URL, headers=alice)).json() == []


async def test_hostile_queries_and_ids(client, alice) -> None:
    await _create(client, alice, description="ünïcødé ✓ 漢字")
    for params in (
        {"limit": "abc"},
        {"offset": "1.5"},
        {"completed": "perhaps"},
        {"start_date": "yesterday"},
        {"end_date": "2026-02-30"},
    ):
        response = await client.get(URL, params=params, headers=alice)
        assert response.status_code == 422, params
    for item_id in ("x" * 10_000, "ä", "%00", "a b"):
        response = await client.delete(f"{URL}/{item_id}", headers=alice)
        assert response.status_code == 404, item_id
    huge = await client.post(URL, json={"description": "x" * 2_000_000}, headers=alice)
    assert huge.status_code == 413
    listed = (await client.get(URL, headers=alice)).json()
    assert [item["description"] for item in listed] == ["ünïcødé ✓ 漢字"]


async def test_deleted_description_leaves_the_sqlite_files(client, alice, settings) -> None:
    if not settings.database_url.startswith("sqlite"):
        pytest.skip("the files of SQLite")
    marker = "Zq7-forensic-action-item-marker"
    item = await _create(client, alice, description=f"Buy {marker}")
    edited = await _create(client, alice, description=f"Old {marker}-edited")
    await client.patch(f"{URL}/{edited['id']}", json={"description": "New text"}, headers=alice)
    await client.delete(f"{URL}/{item['id']}", headers=alice)
    main = Path(settings.database_url.removeprefix("sqlite:///"))
    files = [main, Path(f"{main}-wal")]
    for _ in range(50):
        if not any(p.exists() and marker.encode() in p.read_bytes() for p in files):
            break
        await asyncio.sleep(0.1)
    for path in files:
        assert not (path.exists() and marker.encode() in path.read_bytes()), path
