"""A memory's history (docs/history.md): every create, update and delete recorded by the
database's triggers in the transaction of the change, with its actor; isolation, scopes,
hostile ids; a deletion erases every value the history held, in every file; retention."""

from __future__ import annotations

import uuid
from contextlib import closing
from pathlib import Path

import httpx
import pytest
from sqlean import dbapi2 as sqlite3

from mnemo import transfer
from mnemo.accounts import issue_key
from mnemo.auth import hash_key
from mnemo.clock import now_us, to_datetime
from mnemo.jobs.history import prune_history
from mnemo.models import new_memory
from mnemo.store import READ_SCOPE, WRITE_SCOPE, Store
from mnemo.store.changes import ADMIN, acting_as
from tests.api.test_secure_delete import _assert_gone, _holds
from tests.helpers import MEMORIES, create


def _store(client: httpx.AsyncClient) -> Store:
    store: Store = client._transport.app.state.mnemo.store  # type: ignore[attr-defined]
    return store


def _history(memory_id: str) -> str:
    return f"{MEMORIES}/{memory_id}/history"


async def _key_id(client: httpx.AsyncClient, headers: dict[str, str]) -> str:
    store = _store(client)
    secret = headers["Authorization"].removeprefix("Bearer ")
    found = await store.key_by_hash(hash_key(secret))
    assert found is not None
    return found[0].id


async def test_every_change_is_recorded_oldest_first_with_its_key(
    client: httpx.AsyncClient, alice
) -> None:
    memory = await create(client, alice, content="User likes tea", tags=["drink"])
    response = await client.patch(
        f"{MEMORIES}/{memory['id']}", json={"content": "User likes coffee"}, headers=alice
    )
    assert response.status_code == 200
    response = await client.patch(
        f"{MEMORIES}/{memory['id']}", json={"visibility": "public"}, headers=alice
    )
    assert response.status_code == 200
    response = await client.get(_history(memory["id"]), headers=alice)
    assert response.status_code == 200, response.text
    entries = response.json()
    key_id = await _key_id(client, alice)
    assert [e["action"] for e in entries] == ["created", "updated", "updated"]
    assert {e["actor"] for e in entries} == {key_id}
    assert entries[0]["changes"]["content"] == {"old": None, "new": "User likes tea"}
    assert entries[0]["changes"]["tags"] == {"old": None, "new": ["drink"]}
    assert entries[1]["changes"]["content"] == {
        "old": "User likes tea",
        "new": "User likes coffee",
    }
    assert entries[1]["changes"]["edited"] == {"old": False, "new": True}
    assert "visibility" not in entries[1]["changes"]
    assert entries[2]["changes"]["visibility"] == {"old": "private", "new": "public"}
    assert "content" not in entries[2]["changes"]
    ats = [e["at"] for e in entries]
    assert ats == sorted(ats)


async def test_a_deleted_memory_keeps_only_the_facts(client: httpx.AsyncClient, alice) -> None:
    memory = await create(client, alice, content="User's secret is blue")
    await client.patch(f"{MEMORIES}/{memory['id']}", json={"content": "User: red"}, headers=alice)
    assert (await client.delete(f"{MEMORIES}/{memory['id']}", headers=alice)).status_code == 200
    response = await client.get(_history(memory["id"]), headers=alice)
    assert response.status_code == 200
    entries = response.json()
    assert [e["action"] for e in entries] == ["created", "updated", "deleted"]
    assert all(e["changes"] == {} for e in entries)
    assert "blue" not in response.text and "red" not in response.text


async def test_isolation_unknown_and_hostile_ids_are_404(
    client: httpx.AsyncClient, alice, bob
) -> None:
    memory = await create(client, alice)
    gone = await create(client, alice, content="User will be deleted")
    await client.delete(f"{MEMORIES}/{gone['id']}", headers=alice)
    unknown = await client.get(_history(str(uuid.uuid4())), headers=alice)
    assert unknown.status_code == 404
    for memory_id in (memory["id"], gone["id"]):
        other = await client.get(_history(memory_id), headers=bob)
        assert other.status_code == 404
        assert other.json() == unknown.json()
    for hostile in ("x" * 5000, "%00", "caf%C3%A9", "%F0%9F%98%80", "a%20b", "%27%3B--"):
        response = await client.get(_history(hostile), headers=alice)
        assert response.status_code == 404, hostile
        assert response.json() == unknown.json()


async def test_a_memory_made_before_history_has_an_empty_one(
    client: httpx.AsyncClient, alice
) -> None:
    memory = await create(client, alice)
    store = _store(client)
    await store.prune_history(now_us() + 1, 1000)  # as if recorded before the migration
    response = await client.get(_history(memory["id"]), headers=alice)
    assert response.status_code == 200 and response.json() == []


async def test_scopes(client: httpx.AsyncClient, alice, make_key) -> None:
    memory = await create(client, alice)
    writer = await make_key("alice", scopes=[WRITE_SCOPE])
    reader = await make_key("alice", scopes=[READ_SCOPE])
    assert (await client.get(_history(memory["id"]), headers=writer)).status_code == 403
    assert (await client.get(_history(memory["id"]), headers=reader)).status_code == 200
    assert (await client.get(_history(memory["id"]))).status_code == 401


async def test_import_and_other_actors_are_recorded(client: httpx.AsyncClient, alice):
    store = _store(client)
    exported = new_memory("User imported this", memory_id=str(uuid.uuid4()))
    user = await store.get_user("alice")
    assert user is not None
    record = transfer.UserRecord(
        kind="user", id=user.id, name="alice", created_at=to_datetime(user.created_at)
    )
    line = transfer.MemoryRecord(kind="memory", user="alice", **exported.model_dump())
    await transfer.import_lines(store, [record.model_dump_json(), line.model_dump_json()])
    with acting_as(ADMIN):
        await store.delete_memory(user.id, exported.id)
    entries = (await client.get(_history(exported.id), headers=alice)).json()
    assert [(e["action"], e["actor"]) for e in entries] == [
        ("created", "import"),
        ("deleted", "admin"),
    ]
    # a write with no actor set is the system's
    plain = new_memory("User plain")
    await store.insert_memories(user.id, [plain])
    entries = (await client.get(_history(plain.id), headers=alice)).json()
    assert [(e["action"], e["actor"]) for e in entries] == [("created", "system")]


async def test_deleting_a_user_deletes_their_history(client: httpx.AsyncClient):
    store = _store(client)
    await issue_key(store, "carol")
    carol = await store.get_user("carol")
    assert carol is not None
    memory = new_memory("User carol")
    await store.insert_memories(carol.id, [memory])
    assert await store.memory_history(carol.id, memory.id)
    await _delete_user(store, carol.id)
    assert await store.memory_history(carol.id, memory.id) == []


async def _delete_user(store: Store, user_id: str) -> None:
    """Delete a user row as the admin API does (ON DELETE CASCADE), without an API."""
    write = store._write  # type: ignore[attr-defined]
    if type(store).__name__ == "SQLiteStore":
        await write(lambda conn: conn.execute("DELETE FROM users WHERE id = ?", (user_id,)))
    else:
        await write(lambda conn: conn.execute("DELETE FROM users WHERE id = $1", user_id))


async def test_retention_prunes_old_rows_only(client: httpx.AsyncClient, alice):
    store = _store(client)
    memory = await create(client, alice)
    user = await store.get_user("alice")
    assert user is not None
    assert await prune_history(store, 0) == 0  # 0: kept forever
    assert await prune_history(store, 30) == 0  # too recent
    later = now_us() + 31 * 86_400_000_000
    assert await prune_history(store, 30, now=later) == 1
    assert await store.memory_history(user.id, memory["id"]) == []


async def test_no_deleted_text_survives_in_history_files(
    client: httpx.AsyncClient, alice, settings
) -> None:
    if not settings.database_url.startswith("sqlite"):
        pytest.skip("file-level check of the SQLite backend")
    first, second, tag = (f"{w}{uuid.uuid4().hex}" for w in ("first", "second", "tag"))
    kept = f"kept{uuid.uuid4().hex}"
    memory = await create(client, alice, content=f"User {first}", tags=[tag])
    await create(client, alice, content=f"User {kept}")
    await client.patch(
        f"{MEMORIES}/{memory['id']}", json={"content": f"User {second}"}, headers=alice
    )
    path = Path(settings.database_url.removeprefix("sqlite:///"))
    with closing(sqlite3.connect(path)) as conn:
        held = conn.execute(
            "SELECT count(*) FROM memory_history WHERE old_json LIKE ? OR new_json LIKE ?",
            (f"%{first}%", f"%{first}%"),
        ).fetchone()[0]
    assert held >= 2  # the history held the old text (created, then updated's old value)
    assert (await client.delete(f"{MEMORIES}/{memory['id']}", headers=alice)).status_code == 200
    await _assert_gone(settings, [first.encode(), second.encode(), tag.encode()])
    assert _holds(settings, kept.encode())
