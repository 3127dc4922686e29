"""No route lets one user read, change, delete or detect another user's memory."""

from __future__ import annotations

import httpx

from tests.helpers import MEMORIES, create, list_all

NOT_FOUND = (404, {"detail": "Memory not found"})


async def _answer(response: httpx.Response) -> tuple[int, object]:
    return response.status_code, response.json()


async def test_every_route_treats_another_users_id_as_unknown(
    client: httpx.AsyncClient, alice, bob
) -> None:
    secret = await create(client, alice, content="Alice's secret", tags=["private"])
    path = f"{MEMORIES}/{secret['id']}"
    unknown = f"{MEMORIES}/{secret['id'][:-4]}ffff"
    for method, body in [
        ("GET", None),
        ("PATCH", {"content": "pwned"}),
        ("PATCH", {"visibility": "public"}),
        ("DELETE", None),
    ]:
        theirs = await client.request(method, path, json=body, headers=bob)
        nobody = await client.request(method, unknown, json=body, headers=bob)
        assert await _answer(theirs) == await _answer(nobody) == NOT_FOUND, method
        assert theirs.headers.get("content-length") == nobody.headers.get("content-length")
    assert await list_all(client, bob) == []
    assert await list_all(client, bob, categories=secret["category"]) == []
    batch = await client.post(
        f"{MEMORIES}/batch", json={"memories": [{"content": "b"}]}, headers=bob
    )
    assert secret["id"] not in [m["id"] for m in batch.json()["memories"]]
    # Alice's memory is untouched by all of it.
    assert await list_all(client, alice) == [secret]
    assert [m["content"] for m in await list_all(client, bob)] == ["b"]


async def test_same_content_for_two_users_stays_separate(client, alice, bob) -> None:
    a = await create(client, alice, content="User is vegetarian")
    b = await create(client, bob, content="User is vegetarian")
    assert a["id"] != b["id"]
    assert (await client.delete(f"{MEMORIES}/{a['id']}", headers=alice)).status_code == 200
    assert await list_all(client, bob) == [b]
