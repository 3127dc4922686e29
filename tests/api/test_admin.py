"""The admin API (`/v1/admin/...`) on both backends: off without a token, 401 for any
other credential (counted like bad keys), every route, isolation between users,
hostile input, and the audit trail (never a token or a key)."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from fastapi import FastAPI

from mnemo import Settings, create_app
from mnemo.api import admin
from tests.api.test_conversations import FACTUAL
from tests.helpers import MEMORIES, create, list_all

TOKEN = "t" * 16 + "0123456789abcdef"  # 32 characters, the shortest allowed
ADMIN = {"Authorization": f"Bearer {TOKEN}"}
USERS = "/v1/admin/users"

# Every admin route with a request that would succeed with the token.
ROUTES = [
    ("POST", USERS, {"name": "carol"}),
    ("GET", USERS, None),
    ("GET", f"{USERS}/alice", None),
    ("DELETE", f"{USERS}/alice", None),
    ("POST", f"{USERS}/alice/keys", {"name": "x"}),
    ("GET", f"{USERS}/alice/keys", None),
    ("DELETE", f"{USERS}/alice/keys/000000000000", None),
    ("GET", "/v1/admin/keys", None),
    ("GET", "/v1/admin/export", None),
    ("POST", "/v1/admin/import", None),
]


def test_every_admin_route_is_listed_here() -> None:
    served = {
        (method, route.path)  # type: ignore[attr-defined]
        for route in admin.router.routes
        for method in route.methods  # type: ignore[attr-defined]
    }
    assert served == {
        (method, path.replace("alice", "{name}").replace("000000000000", "{key_id}"))
        for method, path, _ in ROUTES
    }


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, admin_token=TOKEN)


async def _users(client: httpx.AsyncClient) -> list[str]:
    response = await client.get(USERS, headers=ADMIN)
    assert response.status_code == 200, response.text
    return [user["name"] for user in response.json()]


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
async def test_without_a_token_set_every_admin_route_is_absent(
    database_url: str, method: str, path: str, body: object
) -> None:
    async with _client(create_app(Settings(database_url=database_url))) as client:
        if True:
            for headers in ({}, ADMIN):
                response = await client.request(method, path, json=body, headers=headers)
                assert response.status_code == 404
                assert response.json() == {"detail": "Not Found"}
            unknown = await client.get("/v1/admin/nothing-here", headers=ADMIN)
            assert unknown.json() == response.json()
            other_method = await client.request("PUT", path, headers=ADMIN)
            assert other_method.status_code == 404  # not a 405 naming the methods it has


async def test_with_a_token_set_another_method_is_405(client: httpx.AsyncClient) -> None:
    response = await client.put(USERS, headers=ADMIN)
    assert response.status_code == 405 and response.headers["Allow"] == "GET, HEAD, POST"


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
async def test_no_token_or_a_wrong_one_is_401_and_changes_nothing(
    client: httpx.AsyncClient, alice, method: str, path: str, body: object
) -> None:
    wrong = [
        ({}, "Missing or invalid Authorization header. Must be 'Bearer ADMIN_TOKEN'"),
        (
            {"Authorization": TOKEN},
            "Missing or invalid Authorization header. Must be 'Bearer ADMIN_TOKEN'",
        ),
        ({"Authorization": f"Bearer {TOKEN}x"}, "Invalid admin token"),
        ({"Authorization": f"Bearer {TOKEN[:-1]}"}, "Invalid admin token"),
        (alice, "Invalid admin token"),  # a user's key never opens the admin API
    ]
    await create(client, alice, content="User keeps this")
    for headers, detail in wrong:
        response = await client.request(method, path, json=body, headers=headers)
        assert response.status_code == 401, (headers, response.text)
        assert response.json() == {"detail": detail}
    assert await _users(client) == ["alice"]
    assert [m["content"] for m in await list_all(client, alice)] == ["User keeps this"]


async def test_wrong_tokens_count_in_the_failed_authentication_limit(database_url: str) -> None:
    settings = Settings(database_url=database_url, admin_token=TOKEN, auth_failure_limit=5)
    async with _client(create_app(settings)) as client:
        codes = [
            (await client.get(USERS, headers={"Authorization": "Bearer nope"})).status_code
            for _ in range(settings.auth_failure_limit + 3)
        ]
        assert codes == [401] * settings.auth_failure_limit + [429] * 3
        # the address's bad API keys meet the same limit, and so does the token then
        bad_key = {"Authorization": "Bearer x"}
        assert (await client.get(MEMORIES, headers=bad_key)).status_code == 429
        assert (await client.get(USERS, headers=ADMIN)).status_code == 429


async def test_users_create_list_get_with_counts_and_pages(
    client: httpx.AsyncClient, alice, bob
) -> None:
    for content in ("User one", "User two"):
        await create(client, alice, content=content)
    created = await client.post(USERS, json={"name": "carol"}, headers=ADMIN)
    assert created.status_code == 200, created.text
    assert created.json()["name"] == "carol" and created.json()["memory_count"] == 0
    again = await client.post(USERS, json={"name": "carol"}, headers=ADMIN)
    assert again.status_code == 409
    assert again.json() == {"detail": "User 'carol' already exists"}
    listed = (await client.get(USERS, headers=ADMIN)).json()
    assert [(u["name"], u["memory_count"]) for u in listed] == [
        ("alice", 2),
        ("bob", 0),
        ("carol", 0),
    ]
    page = await client.get(USERS, params={"limit": 1, "offset": 1}, headers=ADMIN)
    assert [u["name"] for u in page.json()] == ["bob"]
    clamped = await client.get(USERS, params={"limit": 0, "offset": -5}, headers=ADMIN)
    assert [u["name"] for u in clamped.json()] == ["alice"]
    for bad in ("ten", "1.0", "9" * 5000):
        response = await client.get(USERS, params={"limit": bad}, headers=ADMIN)
        assert response.status_code == 422, bad
    one = await client.get(f"{USERS}/alice", headers=ADMIN)
    assert one.json() == {**listed[0]}


@pytest.mark.parametrize(
    "name", ["", "-dash", "a" * 65, "naïve", "a b", "a\x00b", "a/b", "../etc", "😀"]
)
async def test_a_malformed_user_name_is_refused_and_stores_nothing(
    client: httpx.AsyncClient, name: str
) -> None:
    response = await client.post(USERS, json={"name": name}, headers=ADMIN)
    assert response.status_code in (400, 422), response.text
    if response.status_code == 400:
        assert response.json()["detail"].startswith("A user name is 1-64 characters")
    assert await _users(client) == []


@pytest.mark.parametrize(
    "body",
    [None, [], {"name": 5}, {"name": None}, {"name": "ok", "extra": 1}, {"name": ["a"]}],
)
async def test_a_malformed_user_body_is_422(client: httpx.AsyncClient, body: object) -> None:
    response = await client.post(USERS, json=body, headers=ADMIN)
    assert response.status_code == 422
    assert isinstance(response.json()["detail"], list)
    assert await _users(client) == []


async def test_a_huge_body_is_413(client: httpx.AsyncClient) -> None:
    response = await client.post(
        USERS, content=b'{"name": "' + b"a" * 2_000_000 + b'"}', headers=ADMIN
    )
    assert response.status_code == 413
    assert await _users(client) == []


@pytest.mark.parametrize(
    "path", [f"{USERS}/nobody", f"{USERS}/{'a' * 5000}", f"{USERS}/%00", f"{USERS}/%C3%A9"]
)
async def test_an_unknown_user_is_404_on_every_user_route(
    client: httpx.AsyncClient, path: str
) -> None:
    for method, suffix, body in (
        ("GET", "", None),
        ("DELETE", "", None),
        ("POST", "/keys", {}),
        ("GET", "/keys", None),
        ("DELETE", "/keys/abc", None),
    ):
        response = await client.request(method, path + suffix, json=body, headers=ADMIN)
        assert response.status_code == 404, (method, suffix, response.text)
        assert response.json()["detail"].startswith("no user named '")
    assert await _users(client) == []


async def test_keys_create_list_revoke(client: httpx.AsyncClient, alice) -> None:
    created = await client.post(
        f"{USERS}/alice/keys",
        json={"name": "dashboard", "scopes": ["memories:read"]},
        headers=ADMIN,
    )
    assert created.status_code == 200, created.text
    record = created.json()
    secret = record.pop("key")
    assert secret.startswith(record["key_prefix"]) and len(secret) == 40
    assert record["scopes"] == ["memories:read"] and record["user"] == "alice"
    headers = {"Authorization": f"Bearer {secret}"}
    assert (await client.get(MEMORIES, headers=headers)).status_code == 200
    assert (await client.post(MEMORIES, json={"content": "x"}, headers=headers)).status_code == 403
    own = (await client.get("/v1/dev/key", headers=headers)).json()
    own.pop("last_used_at")  # recorded in the background: whether yet, timing tells
    assert own == {k: v for k, v in record.items() if k != "last_used_at"}
    listed = await client.get(f"{USERS}/alice/keys", headers=ADMIN)
    assert [k["name"] for k in listed.json()] == ["", "dashboard"]
    assert secret not in listed.text and secret[12:] not in created.text.replace(secret, "")
    revoked = await client.delete(f"{USERS}/alice/keys/{record['id']}", headers=ADMIN)
    assert revoked.status_code == 200 and revoked.json() == {"success": True}
    assert (await client.get(MEMORIES, headers=headers)).status_code == 401
    twice = await client.delete(f"{USERS}/alice/keys/{record['id']}", headers=ADMIN)
    assert twice.status_code == 404
    assert twice.json() == {"detail": f"no active key with id '{record['id']}'"}
    listed = (await client.get(f"{USERS}/alice/keys", headers=ADMIN)).json()
    assert listed[1]["revoked_at"] is not None and listed[0]["revoked_at"] is None


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"scopes": ["admin"]}, 400),
        ({"scopes": []}, 400),
        ({"scopes": "memories:read"}, 422),
        ({"scopes": ["memories:read"] * 9}, 422),
        ({"name": "a" * 201}, 422),
        ({"name": "tab\there"}, 400),
        ({"name": "nul\x00"}, 400),
        ({"name": 7}, 422),
        ({"key": "omi_dev_" + "0" * 32}, 422),
    ],
)
async def test_a_bad_key_request_creates_no_key(
    client: httpx.AsyncClient, alice, body: object, status: int
) -> None:
    response = await client.post(f"{USERS}/alice/keys", json=body, headers=ADMIN)
    assert response.status_code == status, response.text
    assert len((await client.get(f"{USERS}/alice/keys", headers=ADMIN)).json()) == 1


async def test_every_key_is_listed_or_one_users(client: httpx.AsyncClient, alice, bob) -> None:
    everyone = (await client.get("/v1/admin/keys", headers=ADMIN)).json()
    assert [k["user"] for k in everyone] == ["alice", "bob"]
    only = await client.get("/v1/admin/keys", params={"user": "bob"}, headers=ADMIN)
    assert [k["user"] for k in only.json()] == ["bob"]
    for unknown in ("nobody", "", "a\x00", "é" * 100):
        missing = await client.get("/v1/admin/keys", params={"user": unknown}, headers=ADMIN)
        assert missing.status_code == 404, unknown
    assert "key_hash" not in str(everyone)


async def test_another_users_key_is_404_exactly_like_an_unknown_one(
    client: httpx.AsyncClient, alice, bob
) -> None:
    (bobs,) = (await client.get(f"{USERS}/bob/keys", headers=ADMIN)).json()
    other = await client.delete(f"{USERS}/alice/keys/{bobs['id']}", headers=ADMIN)
    unknown = await client.delete(f"{USERS}/alice/keys/{'f' * 12}", headers=ADMIN)
    assert other.status_code == unknown.status_code == 404
    assert other.json()["detail"].replace(bobs["id"], "ID") == unknown.json()["detail"].replace(
        "f" * 12, "ID"
    )
    assert (await client.get(MEMORIES, headers=bob)).status_code == 200  # still works


async def test_deleting_alice_erases_her_and_leaves_bob_intact(
    client: httpx.AsyncClient, alice, bob, store_of
) -> None:
    for i in range(3):
        await create(client, alice, content=f"User alice fact {i}")
    await create(client, bob, content="User bob fact")
    deleted = await client.delete(f"{USERS}/alice", headers=ADMIN)
    assert deleted.status_code == 200 and deleted.json() == {
        "success": True,
        "deleted_memories": 3,
    }
    assert (await client.get(MEMORIES, headers=alice)).status_code == 401
    assert (await client.get(f"{USERS}/alice", headers=ADMIN)).status_code == 404
    assert (await client.delete(f"{USERS}/alice", headers=ADMIN)).status_code == 404
    assert [m["content"] for m in await list_all(client, bob)] == ["User bob fact"]
    search = await client.get(f"{MEMORIES}/search", params={"query": "fact"}, headers=bob)
    assert [i["content"] for i in search.json()["items"]] == ["User bob fact"]
    assert await _users(client) == ["bob"]
    assert len(await store_of.list_keys()) == 1
    # the name can be used again, for a new and empty user
    assert (await client.post(USERS, json={"name": "alice"}, headers=ADMIN)).status_code == 200
    assert (await client.get(f"{USERS}/alice", headers=ADMIN)).json()["memory_count"] == 0


CONVERSATIONS = "/v1/dev/user/conversations"
ACTION_ITEMS = "/v1/dev/user/action-items"
KIND_MUST = "`kind` must be user, key, conversation, action_item or memory"


@pytest.fixture
def store_of(app: FastAPI):
    return app.state.mnemo.store


async def test_export_streams_what_import_takes_back(
    client: httpx.AsyncClient, alice, bob, database_url: str, tmp_path
) -> None:
    await create(client, alice, content="User is vegetarian", tags=["food"])
    await create(client, bob, content="User works at Acme")
    # bob's conversation, with what was extracted from it, and a standalone action item
    talk = await client.post(CONVERSATIONS, json={"text": FACTUAL}, headers=bob)
    assert talk.status_code == 200, talk.text
    extracted = talk.json()
    assert extracted["memories"] and extracted["action_items"]
    task = await client.post(ACTION_ITEMS, json={"description": "Buy milk"}, headers=bob)
    assert task.status_code == 200, task.text
    everything = await client.get("/v1/admin/export", headers=ADMIN)
    assert everything.status_code == 200
    assert everything.headers["content-type"] == "application/x-ndjson"
    records = [json.loads(line) for line in everything.text.splitlines()]
    kinds = [r["kind"] for r in records]
    bobs = len(extracted["memories"]) + 1
    items = len(extracted["action_items"]) + 1
    assert (
        kinds
        == ["user", "key", "memory", "user", "key", "conversation"]
        + ["action_item"] * items
        + ["memory"] * bobs
    )
    assert {r.get("conversation_id") for r in records if r["kind"] == "memory"} == {
        None,
        extracted["id"],
    }
    one = await client.get("/v1/admin/export", params={"user": "bob"}, headers=ADMIN)
    assert [json.loads(line)["kind"] for line in one.text.splitlines()] == kinds[3:]
    missing = await client.get("/v1/admin/export", params={"user": "nobody"}, headers=ADMIN)
    assert missing.status_code == 404
    # into an empty database of the other backend's kind: a new SQLite file
    other = create_app(Settings(database_url=f"sqlite:///{tmp_path}/copy.db", admin_token=TOKEN))
    async with _client(other) as copy:
        imported = await copy.post("/v1/admin/import", content=everything.content, headers=ADMIN)
        assert imported.status_code == 200, imported.text
        added = {"user": 2, "key": 2, "conversation": 1, "action_item": items, "memory": 1 + bobs}
        assert imported.json() == {"added": added, "existing": dict.fromkeys(added, 0)}
        again = await copy.post("/v1/admin/import", content=everything.content, headers=ADMIN)
        assert again.json() == {"added": dict.fromkeys(added, 0), "existing": added}
        # bob reads his conversation, its memories and action items on the copy
        read = await copy.get(f"{CONVERSATIONS}/{extracted['id']}", headers=bob)
        assert read.status_code == 200 and read.json()["text"] == FACTUAL
        linked = await copy.get(MEMORIES, params={"conversation_id": extracted["id"]}, headers=bob)
        assert len(linked.json()) == len(extracted["memories"])
        tasks = await copy.get(ACTION_ITEMS, headers=bob)
        assert len(tasks.json()) == items
        # another user's ids answer as unknown ids on the copy too
        other = await copy.get(f"{CONVERSATIONS}/{extracted['id']}", headers=alice)
        assert other.status_code == 404
        # the keys travel as hashes: alice's key works on the copy, and search finds
        found = await copy.get(f"{MEMORIES}/search", params={"query": "vegetarian"}, headers=alice)
        assert [i["content"] for i in found.json()["items"]] == ["User is vegetarian"]
        assert (await copy.get("/v1/admin/export", headers=ADMIN)).text == everything.text


@pytest.mark.parametrize(
    ("line", "detail"),
    [
        ("not json", "line 2: not a valid record: Expecting value"),
        ("[1, 2]", f"line 2: {KIND_MUST}"),
        ('{"kind": "secret"}', f"line 2: {KIND_MUST}"),
        ('{"kind": "webhook"}', f"line 2: {KIND_MUST}"),
        ('{"kind": "conversation", "user": "dora", "id": 5}', "line 2: not a valid record"),
        ('{"kind": "action_item", "user": "dora"}', "line 2: not a valid record"),
        ('{"kind": "user", "id": 5}', "line 2: not a valid record"),
        (
            '{"kind":"user","id":"x","name":"a\\u0000b","created_at":"2026-01-01T00:00:00Z"}',
            "line 2: a NUL character (\\u0000) is not allowed",
        ),
        (
            '{"kind":"user","id":"x","name":"../x","created_at":"2026-01-01T00:00:00Z"}',
            "line 2: A user name is 1-64 characters",
        ),
        ("\ud800".encode("utf-8", "surrogatepass").decode("latin-1"), "line 2: not a valid"),
        (
            '{"kind":"key","id":"k","user":"dora","name":"","prefix":"omi_dev_0000",'
            '"key_hash":"00","scopes":["admin"],"created_at":"2026-01-01T00:00:00Z",'
            '"last_used_at":null,"revoked_at":null}',
            "line 2: Unknown scope(s) ['admin']",
        ),
    ],
)
async def test_an_import_with_a_malformed_line_stores_nothing(
    client: httpx.AsyncClient, line: str, detail: str
) -> None:
    good = '{"kind":"user","id":"u1","name":"dora","created_at":"2026-01-01T00:00:00Z"}'
    response = await client.post(
        "/v1/admin/import", content=f"{good}\n{line}\n{good}\n".encode(), headers=ADMIN
    )
    assert response.status_code == 422, response.text
    assert response.json()["detail"].startswith(detail)
    assert await _users(client) == []


async def test_an_import_of_bytes_that_are_not_utf8_stores_nothing(
    client: httpx.AsyncClient,
) -> None:
    good = b'{"kind":"user","id":"u1","name":"dora","created_at":"2026-01-01T00:00:00Z"}'
    response = await client.post("/v1/admin/import", content=good + b"\n\xff\xfe\n", headers=ADMIN)
    assert response.status_code == 422
    assert response.json() == {"detail": "line 2 is not UTF-8 text"}
    assert await _users(client) == []


async def test_an_import_that_fails_while_storing_reports_what_it_stored(
    client: httpx.AsyncClient,
) -> None:
    lines = [
        '{"kind":"user","id":"u1","name":"dora","created_at":"2026-01-01T00:00:00Z"}',
        '{"kind":"memory","user":"eve","id":"m1","content":"User x","category":"system",'
        '"visibility":"private","tags":[],"created_at":"2026-01-01T00:00:00Z",'
        '"updated_at":"2026-01-01T00:00:00Z","manually_added":true,"scoring":"01_999_1",'
        '"reviewed":true,"user_review":null,"edited":false}',
    ]
    response = await client.post(
        "/v1/admin/import", content="\n".join(lines).encode(), headers=ADMIN
    )
    assert response.status_code == 422
    assert response.json() == {
        "detail": "line 2: user 'eve' appears before its user record; stored before it: "
        "users: 1 added, 0 already there, keys: 0 added, 0 already there, "
        "conversations: 0 added, 0 already there, action items: 0 added, 0 already there, "
        "memories: 0 added, 0 already there"
    }
    assert await _users(client) == ["dora"]  # exactly what it reported


async def test_an_import_over_its_size_limit_is_413(database_url: str) -> None:
    app = create_app(
        Settings(database_url=database_url, admin_token=TOKEN, admin_import_max_bytes=4096)
    )
    async with _client(app) as client:
        big = b"\n" * 5000
        response = await client.post("/v1/admin/import", content=big, headers=ADMIN)
        assert response.status_code == 413
        assert response.json() == {"detail": "Request body too large: the limit is 4096 bytes"}
        # larger than the general body limit is fine on this path only
        fine = await client.post("/v1/admin/import", content=b"\n" * 3000, headers=ADMIN)
        assert fine.status_code == 200


async def test_the_audit_trail_names_who_what_and_the_outcome_never_a_secret(
    client: httpx.AsyncClient, alice, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="mnemo.audit")
    created = await client.post(f"{USERS}/alice/keys", json={"name": "n"}, headers=ADMIN)
    secret = created.json()["key"]
    await client.get(USERS, headers={"Authorization": "Bearer wrong-token"})
    await client.get(USERS, headers=alice)
    await client.delete(f"{USERS}/nobody", headers=ADMIN)
    lines = [r.getMessage() for r in caplog.records if r.name == "mnemo.audit"]
    assert lines == [
        "who=admin client=127.0.0.1 action=createUserKey POST /v1/admin/users/alice/keys "
        "outcome=200",
        "who=unauthenticated client=127.0.0.1 action=listUsers GET /v1/admin/users outcome=401",
        "who=unauthenticated client=127.0.0.1 action=listUsers GET /v1/admin/users outcome=401",
        "who=admin client=127.0.0.1 action=deleteUser DELETE /v1/admin/users/nobody outcome=404",
    ]
    everything = caplog.text
    assert TOKEN not in everything and secret not in everything
    assert alice["Authorization"].split()[1] not in everything


@asynccontextmanager
async def _client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A started app of its own and a client for it."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            yield client
