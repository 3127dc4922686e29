"""Export and import move everything between backends, exactly and idempotently."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from mnemo import Settings
from mnemo.accounts import issue_key
from mnemo.auth import hash_key
from mnemo.clock import new_id, now_us
from mnemo.errors import BadRequest
from mnemo.models import MemoryCreate, new_memory
from mnemo.search.embed import DIM, to_blob
from mnemo.service import MemoryService
from mnemo.store import Store, store_for
from mnemo.store.base import ActionItemFilter, ConversationFilter, NewConversation
from mnemo.transfer import KINDS, check_lines, export_lines, import_lines
from tests import pg
from tests.api.test_error_shape import _ExplodingCategorizer
from tests.contract.support import listed
from tests.contract.test_conversation_store import _conversation, _item


@pytest.fixture(params=["sqlite", "postgres"])
async def other_store(request: pytest.FixtureRequest, tmp_path) -> AsyncIterator[Store]:
    """A second, empty store of either backend: the migration target."""
    schema = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/target.db"
    else:
        schema, url = pg.create_schema()
    target = store_for(Settings(database_url=url))
    await target.open()
    try:
        yield target
    finally:
        await target.close()
        if schema:
            pg.drop_schema(schema)


async def _fill(store: Store) -> str:
    service = MemoryService(store, _ExplodingCategorizer())
    _, alice_key = await issue_key(store, "alice", name="laptop")
    revoked, _ = await issue_key(store, "alice", name="old")
    await store.revoke_key(revoked.id, now_us())
    alice = await store.get_user("alice")
    bob = (await issue_key(store, "bob"))[0].user_id
    assert alice is not None
    first = await service.create_memory(
        alice.id, MemoryCreate(content="User is vegetarian 🥦", category="system", tags=["food"])
    )
    await service.update_memory(alice.id, first.id, service_patch("User is vegan"))
    # Bob's many memories only need to be there (more than one export page): stored
    # directly, without the service's embeddings, which would cost seconds a test.
    await store.insert_memories(
        bob, [new_memory(f"fact {i}", category="work") for i in range(1203)]
    )
    # Alice's conversations (a text one with a memory and an action item from it, one
    # of segments, more than one export page of them), and a standalone action item.
    start = now_us()
    text, spoken = _conversation(start), _conversation(start + 1, segments=True)
    linked = new_memory("User is learning Portuguese", category="system")
    linked = linked.model_copy(update={"conversation_id": text.id})
    await store.insert_memories(
        alice.id, [linked], conversation=NewConversation(text, [_item(text)])
    )
    await store.insert_memories(alice.id, [], conversation=NewConversation(spoken))
    for i in range(60):
        await store.insert_memories(
            alice.id, [], conversation=NewConversation(_conversation(start + 2 + i))
        )
    standalone = _item(text).model_copy(update={"id": new_id(), "conversation_id": None})
    await store.insert_action_items(alice.id, [standalone])
    return alice_key


def service_patch(content: str):  # type: ignore[no-untyped-def]
    from mnemo.models import MemoryUpdate

    return MemoryUpdate(content=content, visibility="public")


async def _export(store: Store, user: str | None = None) -> list[str]:
    return [line async for line in export_lines(store, user)]


async def test_round_trip_to_another_backend_is_exact_and_idempotent(
    store: Store, other_store: Store
) -> None:
    alice_key = await _fill(store)
    lines = await _export(store)
    assert sum('"kind":"memory"' in line for line in lines) == 1205
    kinds = [json.loads(line)["kind"] for line in lines if '"alice"' in line]
    assert kinds == sorted(kinds, key=KINDS.index)  # a conversation before what links it
    assert alice_key not in "\n".join(lines)

    counts = await import_lines(other_store, lines)
    everything = {"user": 2, "key": 3, "conversation": 62, "action_item": 2, "memory": 1205}
    assert counts.added == everything
    assert await _export(other_store) == lines
    again = await import_lines(other_store, lines)
    assert again.added == dict.fromkeys(everything, 0)
    assert again.existing == everything
    assert await _export(other_store) == lines

    # the key keeps working on the new database; the revoked one stays revoked
    found = await other_store.key_by_hash(hash_key(alice_key))
    assert found is not None and found[0].name == "laptop"
    assert await other_store.count_active_keys() == 2
    # and lists read the same on both
    alice = await store.get_user("alice")
    assert alice is not None
    assert await listed(other_store, alice.id, [], 50, 0) == await listed(
        store, alice.id, [], 50, 0
    )
    moved = await other_store.get_user("alice")
    assert moved is not None and moved.id == alice.id
    for backend in (store, other_store):
        conversations = await backend.list_conversations(
            alice.id, ConversationFilter(), 100, 0, transcript=True
        )
        items = await backend.list_action_items(alice.id, ActionItemFilter(), 100, 0)
        assert len(conversations) == 62 and len(items) == 2
        if backend is store:
            before = (conversations, items)
    assert (conversations, items) == before


async def test_export_of_one_user(store: Store) -> None:
    await _fill(store)
    lines = await _export(store, "alice")
    assert lines[0].startswith('{"kind":"user"') and '"name":"alice"' in lines[0]
    assert not any('"bob"' in line for line in lines)
    with pytest.raises(BadRequest):
        await _export(store, "nobody")


async def test_import_rejects_malformed_lines(store: Store) -> None:
    for bad in [
        "{not json",
        '{"kind": "robot"}',
        '{"kind": "user", "id": "x"}',
        "[1]",
        '{"kind": "memory", "user": "ghost", "id": "m", "content": "c"}',
    ]:
        with pytest.raises(BadRequest, match="line 1"):
            await import_lines(store, [bad])
    assert await store.list_users() == []


async def test_import_stores_embeddings_with_the_rows_and_leaves_fresh_statistics(
    store: Store, database_url: str, tmp_path: Path
) -> None:
    source = store_for(Settings(database_url=f"sqlite:///{tmp_path}/source.db"))
    await source.open()
    try:
        await _fill(source)
        lines = await _export(source)
    finally:
        await source.close()

    async def embed(texts: Sequence[str]) -> list[bytes]:
        return [to_blob([1.0] + [0.0] * (DIM - 1)) for _ in texts]

    counts = await import_lines(store, lines, embed)
    assert counts.added["memory"] == 1205
    assert await store.count_unindexed() == 0
    if database_url.startswith("sqlite"):
        # `PRAGMA optimize` gathered the statistics the planner had none of
        assert pg.fetch(database_url, "SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'memories'")[
            0
        ][0]
    else:
        # VACUUM (ANALYZE): the planner knows the row count and no dead row is left
        ((rows, dead),) = pg.fetch(
            database_url,
            "SELECT c.reltuples, pg_stat_get_dead_tuples(c.oid) FROM pg_class c"
            " WHERE c.oid = 'memories'::regclass",
        )
        assert rows == 1205 and dead == 0


def _record(kind: str, user: str, model: Any) -> str:
    return json.dumps({"kind": kind, "user": user, **model.model_dump(mode="json")})


def _user_line(name: str) -> str:
    return json.dumps(
        {"kind": "user", "id": new_id(), "name": name, "created_at": "2026-01-01T00:00:00Z"}
    )


async def test_an_export_without_conversations_still_imports(store: Store, tmp_path) -> None:
    """A file of the format before conversations (user, key and memory lines only), and
    links to conversations the file does not hold: the records import, unlinked."""
    source = store_for(Settings(database_url=f"sqlite:///{tmp_path}/old.db"))
    await source.open()
    try:
        await _fill(source)
        lines = await _export(source, "alice")
    finally:
        await source.close()
    old = [line for line in lines if json.loads(line)["kind"] in ("user", "key", "memory")]
    assert any('"conversation_id"' in line for line in old)  # the link, dangling
    counts = await import_lines(store, old)
    assert counts.added == {"user": 1, "key": 2, "conversation": 0, "action_item": 0, "memory": 2}
    alice = await store.get_user("alice")
    assert alice is not None
    assert [m.conversation_id for m in await listed(store, alice.id, [], 50, 0)] == [None, None]
    # an action item whose conversation is not in the file: imported, unlinked
    item = next(line for line in lines if '"action_item"' in line and 'conversation_id":"' in line)
    assert (await import_lines(store, [item])).added["action_item"] == 1
    (stored,) = await store.list_action_items(alice.id, ActionItemFilter(), 10, 0)
    assert stored.id == json.loads(item)["id"] and stored.conversation_id is None


async def test_records_go_to_the_user_the_file_names_never_to_another(store: Store) -> None:
    """A file that reuses another user's conversation id, or links to it, stores nothing
    of it for the user it names and leaves the other user's conversation as it was."""
    bob = (await issue_key(store, "bob"))[0].user_id
    bobs = _conversation(now_us())
    await store.insert_memories(bob, [], conversation=NewConversation(bobs))
    mine = _conversation(now_us() + 1)
    memory = new_memory("User likes tea").model_copy(update={"conversation_id": bobs.id})
    linked_item = _item(bobs)
    lines = [
        _user_line("eve"),
        _record("conversation", "eve", bobs.model_copy(update={"title": "Stolen"})),
        _record("conversation", "eve", mine),
        _record("action_item", "eve", linked_item),
        _record("memory", "eve", memory),
        _record("action_item", "eve", _item(mine)),
    ]
    counts = await import_lines(store, lines)
    assert counts.added["conversation"] == 1 and counts.existing["conversation"] == 1
    eve = await store.get_user("eve")
    assert eve is not None
    assert await store.get_conversation(eve.id, bobs.id) is None
    assert await store.get_conversation(bob, bobs.id) == bobs  # untouched
    items = await store.list_action_items(eve.id, ActionItemFilter(), 10, 0)
    assert {i.conversation_id for i in items} == {None, mine.id}
    assert [m.conversation_id for m in await listed(store, eve.id, [], 10, 0)] == [None]
    assert await store.list_action_items(bob, ActionItemFilter(), 10, 0) == []


@pytest.mark.parametrize(
    ("kind", "change", "message"),
    [
        ("conversation", {"text": None}, "without text_source|with text_source"),
        ("conversation", {"transcript_segments": []}, "with text_source has text"),
        ("conversation", {"text": "   "}, "text cannot be empty"),
        ("conversation", {"text": "x" * 100_001}, "text"),
        ("conversation", {"title": "t" * 201}, "title"),
        ("conversation", {"title": 5}, "not a valid record"),
        ("conversation", {"language": "not a language!"}, "language"),
        (
            "conversation",
            {"started_at": "2026-01-01T00:00:00", "finished_at": "2025-01-01T00:00:00"},
            "finished_at must be after",
        ),
        ("conversation", {"started_at": "1800-01-01T00:00:00Z"}, "between 1900"),
        ("conversation", {"created_at": "9999-12-31T23:59:59-05:00"}, "created_at: out of range"),
        ("conversation", {"geolocation": {"latitude": 91, "longitude": 0}}, "latitude"),
        ("conversation", {"secret": 1}, "not a valid record"),
        ("conversation", {"id": None}, "not a valid record"),
        ("conversation", {"text": "a\u0000b"}, "NUL"),
        ("action_item", {"description": " "}, "description cannot be empty"),
        ("action_item", {"description": "d" * 501}, "description"),
        ("action_item", {"completed": "maybe"}, "not a valid record"),
        ("action_item", {"due_at": "tomorrow"}, "not a valid record"),
        ("action_item", {"user": "no such user!"}, "user name"),
        ("action_item", {"id": "bad id\n"}, "id: 1-128 printable ASCII"),
        ("action_item", {"conversation_id": "é"}, "conversation_id: 1-128 printable"),
        ("conversation", {"id": "x" * 129}, "id: 1-128 printable ASCII"),
    ],
)
async def test_import_rejects_bad_conversations_and_action_items(
    store: Store, kind: str, change: dict[str, Any], message: str
) -> None:
    conversation = _conversation(now_us())
    good = json.loads(
        _record(kind, "ann", conversation if kind == "conversation" else _item(conversation))
    )
    lines = [_user_line("ann"), json.dumps(good | change)]
    with pytest.raises(BadRequest, match=rf"^line 2: (.|\n)*({message})"):
        check_lines(lines)
    required = ("id", "title", "started_at") if kind == "conversation" else ("id", "created_at")
    for missing in required:
        partial = {k: v for k, v in good.items() if k != missing}
        with pytest.raises(BadRequest, match=rf"^line 2: not a valid record(.|\n)*{missing}"):
            check_lines([lines[0], json.dumps(partial)])
    assert check_lines([lines[0], json.dumps(good)]) == 2
    assert await store.list_users() == []
