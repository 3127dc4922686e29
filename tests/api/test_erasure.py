"""Erasure: `DELETE /v1/dev/user/memories?confirm=true` (a user's every memory) and the
admin API's `DELETE /v1/admin/users/{name}` (the user and everything of theirs), on
both backends; on SQLite, no byte of the erased text stays in the database file or its
WAL. And `GET /v1/dev/key`, the calling key's own record, for a key of any scope."""

from __future__ import annotations

import uuid
from contextlib import closing

import httpx
import pytest
from sqlean import dbapi2 as sqlite3

from mnemo import Settings
from mnemo.retrieval import Retrieval
from tests.api.test_secure_delete import _assert_gone, _holds
from tests.helpers import MEMORIES, create, list_all

ACTION_ITEMS = "/v1/dev/user/action-items"
CONVERSATIONS = "/v1/dev/user/conversations"

TOKEN = "e" * 40
ADMIN = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, admin_token=TOKEN)


@pytest.mark.parametrize("confirm", [None, "", "false", "TRUE", "1", "yes", "true\x00", "ｔｒｕｅ"])
async def test_deleting_all_without_confirmation_is_422_and_deletes_nothing(
    client: httpx.AsyncClient, alice, confirm: str | None
) -> None:
    await create(client, alice, content="User keeps this")
    params = {} if confirm is None else {"confirm": confirm}
    response = await client.delete(MEMORIES, params=params, headers=alice)
    assert response.status_code == 422
    assert response.json() == {"detail": "Deleting every memory needs the parameter confirm=true"}
    assert len(await list_all(client, alice)) == 1


async def test_deleting_all_needs_the_write_scope(client: httpx.AsyncClient, make_key) -> None:
    reader = await make_key("alice", scopes=["memories:read"])
    response = await client.delete(MEMORIES, params={"confirm": "true"}, headers=reader)
    assert response.status_code == 403
    assert (await client.delete(MEMORIES, params={"confirm": "true"})).status_code == 401


async def test_deleting_all_deletes_every_memory_of_the_user_only(
    client: httpx.AsyncClient, alice, bob
) -> None:
    for i in range(30):
        await create(client, alice, content=f"User alice fact number {i}", tags=[f"t{i}"])
    await create(client, bob, content="User bob keeps his fact")
    response = await client.delete(MEMORIES, params={"confirm": "true"}, headers=alice)
    assert response.status_code == 200
    assert response.json() == {"success": True, "deleted_count": 30}
    assert await list_all(client, alice) == []
    found = await client.get(f"{MEMORIES}/search", params={"query": "fact"}, headers=alice)
    assert found.json()["items"] == []
    assert [m["content"] for m in await list_all(client, bob)] == ["User bob keeps his fact"]
    found = await client.get(f"{MEMORIES}/search", params={"query": "fact"}, headers=bob)
    assert [i["content"] for i in found.json()["items"]] == ["User bob keeps his fact"]
    again = await client.delete(MEMORIES, params={"confirm": "true"}, headers=alice)
    assert again.json() == {"success": True, "deleted_count": 0}
    # the user and the key stay: a new memory is stored and listed as usual
    await create(client, alice, content="User starts again")
    assert [m["content"] for m in await list_all(client, alice)] == ["User starts again"]


def _rows(settings: Settings, sql: str) -> int:
    with closing(sqlite3.connect(settings.database_url.removeprefix("sqlite:///"))) as conn:
        return int(conn.execute(sql).fetchone()[0])


async def _markers(client: httpx.AsyncClient, headers: dict[str, str], who: str) -> list[bytes]:
    """Memories of `who` whose content, tags and stored idempotent answer hold markers
    (one word each, so the full-text index holds each as one token); the markers."""
    content, tag, keyed = (f"{who}{word}{uuid.uuid4().hex}" for word in ("c", "t", "k"))
    await create(client, headers, content=f"User secret {content}", tags=[tag])
    response = await client.post(
        MEMORIES,
        json={"content": f"User keyed {keyed}"},
        headers={**headers, "Idempotency-Key": str(uuid.uuid4())},
    )
    assert response.status_code == 200
    return [content.encode(), tag.encode(), keyed.encode()]


async def test_deleting_all_leaves_no_byte_of_the_text_in_the_files(
    client: httpx.AsyncClient, alice, bob, settings: Settings
) -> None:
    if not settings.database_url.startswith("sqlite"):
        pytest.skip("file-level check of the SQLite backend")
    gone = await _markers(client, alice, "alice")
    kept = await _markers(client, bob, "bob")
    retrieval = Retrieval(client._transport.app.state.mnemo.store)  # type: ignore[attr-defined]
    (vector,) = await retrieval.vectors([f"User secret {gone[0].decode()}"])
    assert all(_holds(settings, marker) for marker in gone + kept)
    response = await client.delete(MEMORIES, params={"confirm": "true"}, headers=alice)
    assert response.json()["deleted_count"] == 2
    await _assert_gone(settings, [*gone, vector[:64]])
    assert all(_holds(settings, marker) for marker in kept)  # the check can see text


async def test_deleting_a_user_leaves_no_byte_of_theirs_in_the_files(
    client: httpx.AsyncClient, make_key, bob, settings: Settings
) -> None:
    if not settings.database_url.startswith("sqlite"):
        pytest.skip("file-level check of the SQLite backend")
    name = f"u{uuid.uuid4().hex}"
    created = await client.post(
        f"/v1/admin/users/{name}/keys", json={"name": "Alice's phone"}, headers=ADMIN
    )
    assert created.status_code == 404  # the user must exist first
    assert (await client.post("/v1/admin/users", json={"name": name}, headers=ADMIN)).is_success
    label = f"label{uuid.uuid4().hex}"
    created = await client.post(f"/v1/admin/users/{name}/keys", json={"name": label}, headers=ADMIN)
    headers = {"Authorization": f"Bearer {created.json()['key']}"}
    gone = await _markers(client, headers, "doomed")
    task = f"Call the dentist {uuid.uuid4().hex}"
    made = await client.post(ACTION_ITEMS, json={"description": task}, headers=headers)
    assert made.status_code == 200, made.text
    said = f"said{uuid.uuid4().hex}"
    talk = {"text": f"I am vegan. We talked about {said}.", "language": "en"}
    conversation = await client.post(CONVERSATIONS, json=talk, headers=headers)
    assert conversation.status_code == 200, conversation.text
    extracted = len(conversation.json()["memories"])
    assert extracted >= 1
    kept = await _markers(client, bob, "bob")
    retrieval = Retrieval(client._transport.app.state.mnemo.store)  # type: ignore[attr-defined]
    (vector,) = await retrieval.vectors([f"User secret {gone[0].decode()}"])
    assert _holds(settings, name.encode()) and _holds(settings, label.encode())
    response = await client.delete(f"/v1/admin/users/{name}", headers=ADMIN)
    assert response.json() == {"success": True, "deleted_memories": 2 + extracted}
    await _assert_gone(
        settings,
        [*gone, name.encode(), label.encode(), task.encode(), said.encode(), vector[:64]],
    )
    assert all(_holds(settings, marker) for marker in kept)
    tables = (
        "memories",
        "api_keys",
        "idempotency_keys",
        "vectors_changes",
        "memory_keys",
        "action_items",
        "conversations",
        "memory_history",
        "webhook_deliveries",
        "webhook_endpoints",
    )
    for table in (*tables, "memory_vectors", "embedding_queue"):
        orphans = f"SELECT count(*) FROM {table} WHERE user_id NOT IN (SELECT id FROM users)"
        assert _rows(settings, orphans) == 0, table
    assert (await client.get(MEMORIES, headers=headers)).status_code == 401


async def test_the_key_route_answers_the_calling_keys_record_for_any_scope(
    client: httpx.AsyncClient, make_key, bob
) -> None:
    for scopes in (["memories:read"], ["memories:write"], ["memories:read", "memories:write"]):
        headers = await make_key("alice", scopes=scopes)
        response = await client.get("/v1/dev/key", headers=headers)
        assert response.status_code == 200, response.text
        record = response.json()
        assert set(record) == {
            "id",
            "user",
            "name",
            "key_prefix",
            "scopes",
            "created_at",
            "last_used_at",
            "revoked_at",
        }
        assert record["user"] == "alice" and record["scopes"] == scopes
        secret = headers["Authorization"].split()[1]
        assert secret.startswith(record["key_prefix"]) and secret not in response.text
        assert record["revoked_at"] is None
    assert (await client.get("/v1/dev/key", headers=bob)).json()["user"] == "bob"


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Basic abc", "Bearer omi_dev_" + "0" * 32, "Bearer " + "e" * 40],
)
async def test_the_key_route_refuses_what_is_not_a_valid_key(
    client: httpx.AsyncClient, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    response = await client.get("/v1/dev/key", headers=headers)
    assert response.status_code == 401  # the admin token is not a key either
    assert response.json()["detail"] in (
        "Missing or invalid Authorization header. Must be 'Bearer API_KEY'",
        "Invalid API Key",
    )
