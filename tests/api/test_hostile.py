"""Hostile input: every parameter gets injection strings, broken encodings, odd types
and shapes; each answer is a documented 4xx that changes nothing."""

from __future__ import annotations

import json

import httpx

from tests.helpers import MEMORIES, create, list_all

NASTY = [
    "' OR '1'='1",
    "1; DROP TABLE memories;--",
    '"; DELETE FROM users; --',
    "%00",
    "\\x00",
    "../../../../etc/passwd",
    "..\\..\\windows\\win.ini",
    "${jndi:ldap://x}",
    "{{7*7}}",
    "<img src=x onerror=alert(1)>",
    "\u202etxt.exe",
    "🦄" * 50,
    "a" * 5000,
    "NULL",
    "-1",
    "1e309",
    "0x7fffffffffffffff",
    "９",
    "\ufeff",
    " ",
    "",
]


async def test_injection_strings_in_every_parameter_change_nothing(
    client: httpx.AsyncClient, alice, bob
) -> None:
    mine = await create(client, alice, content="User is vegetarian")
    theirs = await create(client, bob, content="Bob's secret")
    for value in NASTY:
        for params in ({"limit": value}, {"offset": value}, {"categories": value}):
            response = await client.get(MEMORIES, params=params, headers=alice)
            assert response.status_code in (200, 400, 422), (params, response.text)
            if response.status_code == 200:
                assert [m["id"] for m in response.json()] in ([mine["id"]], [])
        for method in ("GET", "DELETE"):
            response = await client.request(method, f"{MEMORIES}/{value}", headers=alice)
            # an empty id is the list path with a slash: not found, not redirected
            assert response.status_code == 404, (method, value)
        response = await client.patch(f"{MEMORIES}/{value}", json={"content": "x"}, headers=alice)
        assert response.status_code == 404
    # every body field stores injection text verbatim, as data
    for value in NASTY:
        if not value.strip() or len(value) > 500:
            continue
        memory = await create(client, alice, content=value, tags=[value[:64]])
        assert memory["content"] == value.strip()
        assert (await client.delete(f"{MEMORIES}/{memory['id']}", headers=alice)).json() == {
            "success": True
        }
    assert await list_all(client, alice) == [mine]
    assert await list_all(client, bob) == [theirs]


async def test_wrong_content_types_and_shapes_are_422(client, alice) -> None:
    body = json.dumps({"content": "User likes tea"})
    for content_type in (
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/xml",
        "application/json; charset=latin-1",
        "",
    ):
        headers = {**alice, "Content-Type": content_type} if content_type else alice
        response = await client.post(MEMORIES, content=body.encode(), headers=headers)
        assert response.status_code in (200, 422), (content_type, response.text)
    for shape in ([], "text", 7, None, {"memories": {"content": "x"}}, [{"content": "x"}]):
        response = await client.post(f"{MEMORIES}/batch", json=shape, headers=alice)
        assert response.status_code == 422, shape
        response = await client.post(MEMORIES, json=shape, headers=alice)
        assert response.status_code == 422, shape
    for field, value in (
        ("content", ["x"]),
        ("content", {"a": 1}),
        ("tags", [["x"]]),
        ("visibility", 1),
        ("category", ["system"]),
        ("tags", "x"),
    ):
        response = await client.post(MEMORIES, json={"content": "ok", field: value}, headers=alice)
        assert response.status_code == 422, (field, value)
    listed = await list_all(client, alice)
    assert all(m["content"] == "User likes tea" for m in listed)


async def test_deeply_nested_and_huge_json_is_refused_cleanly(client, alice) -> None:
    deep = b"[" * 200_000 + b"]" * 200_000
    for body in (deep, b'{"content": ' + deep + b"}", b'{"a":' * 50_000 + b"1" + b"}" * 50_000):
        response = await client.post(
            MEMORIES, content=body, headers={**alice, "Content-Type": "application/json"}
        )
        assert response.status_code == 422
    many_keys = "{" + ",".join(f'"k{i}": {i}' for i in range(50_000)) + ', "content": "x"}'
    response = await client.post(
        MEMORIES, content=many_keys.encode(), headers={**alice, "Content-Type": "application/json"}
    )
    assert response.status_code == 200  # unknown fields are ignored, as Omi does
    assert response.json()["content"] == "x"


async def test_invalid_encodings_in_ids_and_queries(client, alice) -> None:
    for raw in ("%FF%FE", "%C3%28", "%ED%A0%80", "%00%00", "a%2Fb"):
        response = await client.get(f"{MEMORIES}/{raw}", headers=alice)
        assert response.status_code == 404
        response = await client.get(f"{MEMORIES}?categories={raw}", headers=alice)
        assert response.status_code in (400, 200)
        assert "detail" in response.json() or isinstance(response.json(), list)
