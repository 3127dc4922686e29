"""What a create that repeats a stored memory does with the fields it sent: nothing is
stored or changed, and `not_applied` names every sent field whose value was not kept."""

from __future__ import annotations

from tests.helpers import MEMORIES, create, list_all

STORED = {
    "content": "User is vegetarian",
    "category": "system",
    "visibility": "private",
    "tags": ["food"],
}


async def _get(client, headers, memory_id: str) -> dict:
    response = await client.get(f"{MEMORIES}/{memory_id}", headers=headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_a_repeat_with_other_fields_changes_nothing_and_says_so(client, alice) -> None:
    first = await create(client, alice, **STORED)
    assert "not_applied" not in first and "duplicate_of" not in first
    again = await create(
        client,
        alice,
        content="user is VEGETARIAN!",
        category="interests",
        visibility="public",
        tags=["diet", "food"],
    )
    assert again["duplicate_of"] == first["id"]
    assert again["not_applied"] == ["content", "category", "visibility", "tags"]
    # the answer is the stored memory, unchanged, as a GET reads it
    stored = await _get(client, alice, first["id"])
    assert stored == first
    assert {k: again[k] for k in stored} == stored
    assert len(await list_all(client, alice)) == 1


async def test_only_the_fields_sent_with_other_values_are_named(client, alice) -> None:
    first = await create(client, alice, **STORED)
    same = await create(client, alice, **STORED)
    assert same["duplicate_of"] == first["id"] and same["not_applied"] == []
    # defaults not sent are not named, even when the stored value differs from them
    public = await create(client, alice, content="User likes jazz", visibility="public")
    bare = await create(client, alice, content="User likes jazz")
    assert bare["duplicate_of"] == public["id"] and bare["not_applied"] == []
    # a null category asks the categoriser, which a repeat does not need: not named
    nulled = await create(client, alice, content="User likes jazz", category=None)
    assert nulled["not_applied"] == []
    tagged = await create(client, alice, content="User likes jazz", tags=["music"])
    assert tagged["not_applied"] == ["tags"]
    assert (await _get(client, alice, public["id"]))["tags"] == []


async def test_a_batch_names_what_each_repeat_did_not_apply(client, alice) -> None:
    stored = await create(client, alice, **STORED)
    body = {
        "memories": [
            {"content": "User has two cats", "tags": ["pets"]},
            {"content": "User has 2 cats", "tags": ["pets"], "category": "hobbies"},
            {"content": "User is vegetarian", "visibility": "private", "tags": ["food"]},
            {"content": "User is vegetarian", "visibility": "public"},
        ]
    }
    response = await client.post(f"{MEMORIES}/batch", json=body, headers=alice)
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["created_count"] == 1
    cats, cats_again, veg, veg_public = result["memories"]
    assert "not_applied" not in cats
    assert cats_again["duplicate_of"] == cats["id"]
    assert cats_again["not_applied"] == ["content", "category"]
    assert veg["duplicate_of"] == stored["id"] and veg["not_applied"] == []
    assert veg_public["not_applied"] == ["visibility"]
    assert await _get(client, alice, stored["id"]) == stored
