"""A deleted memory's bytes leave the SQLite files (main file and WAL) within seconds:
its content, its tags, its stored JSON (mnemo.store.render) in the table and in the
list index that holds it, its embedding; so do the old ones of an edited memory (once
its history, which keeps them, is pruned or the memory deleted: docs/history.md)."""

from __future__ import annotations

import asyncio
import time
import uuid
from contextlib import closing
from pathlib import Path

import httpx
import pytest
from sqlean import dbapi2 as sqlite3

from mnemo.clock import now_us
from mnemo.retrieval import Retrieval
from tests.helpers import MEMORIES, create

# The index that holds each memory's JSON (SQLite migration 0007).
_JSON_INDEX = "memories_user_order"


def _files(settings) -> list[Path]:
    main = Path(settings.database_url.removeprefix("sqlite:///"))
    return [p for p in (main, Path(f"{main}-wal")) if p.exists()]


def _holds(settings, marker: bytes) -> bool:
    return any(marker in path.read_bytes() for path in _files(settings))


async def _assert_gone(settings, markers: list[bytes]) -> None:
    """Within 5 s (the WAL is truncated within about a second of a delete), no file
    holds any of `markers`."""
    for _ in range(50):
        if not any(_holds(settings, marker) for marker in markers):
            break
        await asyncio.sleep(0.1)
    for marker in markers:
        assert not _holds(settings, marker), marker


def _index_pages(settings, name: str) -> bytes:
    """The bytes of the pages of one b-tree (`dbstat`), after a checkpoint moved
    every committed page into the main file."""
    main = Path(settings.database_url.removeprefix("sqlite:///"))
    with closing(sqlite3.connect(main, isolation_level=None)) as conn:
        for _ in range(50):  # the store's own purge may be checkpointing at the moment
            busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            if busy == 0:
                break
            time.sleep(0.1)
        assert busy == 0
        size = conn.execute("PRAGMA page_size").fetchone()[0]
        pages = [
            row[0] for row in conn.execute("SELECT pageno FROM dbstat WHERE name = ?", (name,))
        ]
    data = main.read_bytes()
    return b"".join(data[(n - 1) * size : n * size] for n in pages)


def _as_json(content: str) -> bytes:
    """How a memory's content starts in its stored JSON (and in no other column)."""
    return f'"content":"{content}'.encode()


async def test_deleted_and_edited_content_leaves_the_files(
    client: httpx.AsyncClient, alice, settings
) -> None:
    if not settings.database_url.startswith("sqlite"):
        pytest.skip("file-level check of the SQLite backend")
    # One word each, so the full-text index holds each marker as one token.
    deleted_marker = f"deleted{uuid.uuid4().hex}"
    edited_marker = f"edited{uuid.uuid4().hex}"
    kept_marker = f"kept{uuid.uuid4().hex}"
    # Tags: the tags column holds them as ["a", "b"], the stored JSON as ["a","b"].
    old_tags = [f"oldtag{uuid.uuid4().hex}", f"second{uuid.uuid4().hex}"]
    old_tags_json = f'"{old_tags[0]}","{old_tags[1]}"'.encode()
    doomed = await create(client, alice, content=f"User secret {deleted_marker}")
    edited = await create(client, alice, content=f"User old {edited_marker}")
    retagged = await create(client, alice, content="User has tags", tags=old_tags)
    await create(client, alice, content=f"User keeps {kept_marker}")
    assert _holds(settings, deleted_marker.encode())
    # The check sees each copy of the JSON: in the table, and in the index's entries.
    index = _index_pages(settings, _JSON_INDEX)
    for text in (f"User secret {deleted_marker}", f"User old {edited_marker}"):
        assert _as_json(text) in index
        assert _holds(settings, _as_json(text))
    assert old_tags_json in index
    assert (await client.delete(f"{MEMORIES}/{doomed['id']}", headers=alice)).status_code == 200
    response = await client.patch(
        f"{MEMORIES}/{edited['id']}", json={"content": "User new"}, headers=alice
    )
    assert response.status_code == 200
    response = await client.patch(
        f"{MEMORIES}/{retagged['id']}", json={"tags": ["new"]}, headers=alice
    )
    assert response.status_code == 200
    await _assert_gone(settings, [deleted_marker.encode()])
    # An edit's old values are kept by the memory's history (docs/history.md) alone: in no
    # other table or index; pruning the history (or deleting the memory) takes them out.
    with closing(sqlite3.connect(settings.database_url.removeprefix("sqlite:///"))) as conn:
        for table, column in (("memories", "json"), ("memory_history", "old_json")):
            sql = f"SELECT count(*) FROM {table} WHERE {column} LIKE ?"
            (found,) = conn.execute(sql, (f"%{edited_marker}%",)).fetchone()
            assert found == (table == "memory_history"), table
    store = client._transport.app.state.mnemo.store  # type: ignore[attr-defined]
    await store.prune_history(now_us() + 1, 10_000)
    left = [deleted_marker.encode(), edited_marker.encode(), old_tags[0].encode(), old_tags_json]
    await _assert_gone(settings, left)
    assert _holds(settings, kept_marker.encode())  # the check can see content at all
    assert _as_json(f"User keeps {kept_marker}") in _index_pages(settings, _JSON_INDEX)
    # nor does the deleted memory's embedding, nor the edited one's old embedding, stay
    retrieval = Retrieval(client._transport.app.state.mnemo.store)  # type: ignore[attr-defined]
    gone, replaced, kept = await retrieval.vectors(
        [f"User secret {deleted_marker}", f"User old {edited_marker}", f"User keeps {kept_marker}"]
    )
    assert not _holds(settings, gone[:64])
    assert not _holds(settings, replaced[:64])
    assert _holds(settings, kept[:64])  # the check can see vectors at all


async def test_a_deleted_memory_leaves_no_stored_idempotent_answer(
    client: httpx.AsyncClient, alice, settings
) -> None:
    """The answers stored for `Idempotency-Key` retries (SQLite migration 0011) hold memories'
    text: deleting a memory deletes them, and its bytes leave the files."""
    if not settings.database_url.startswith("sqlite"):
        pytest.skip("file-level check of the SQLite backend")
    single, batched, kept = (f"{word}{uuid.uuid4().hex}" for word in ("single", "batch", "kept"))
    tag = f"tag{uuid.uuid4().hex}"

    async def keyed(path: str, body: dict[str, object]) -> dict[str, object]:
        headers = {**alice, "Idempotency-Key": str(uuid.uuid4())}
        response = await client.post(path, json=body, headers=headers)
        assert response.status_code == 200, response.text
        answer: dict[str, object] = response.json()
        return answer

    doomed = await keyed(MEMORIES, {"content": f"User secret {single}", "tags": [tag]})
    batch = await keyed(
        f"{MEMORIES}/batch",
        {"memories": [{"content": f"User batch {batched}"}, {"content": f"User keeps {kept}"}]},
    )
    # an answer that shows an existing memory as a duplicate holds its text too
    await keyed(MEMORIES, {"content": f"user secret {single}!"})
    with closing(sqlite3.connect(settings.database_url.removeprefix("sqlite:///"))) as conn:
        (answers,) = conn.execute("SELECT count(*) FROM idempotency_keys").fetchone()
    assert answers == 3
    assert _holds(settings, f"User secret {single}".encode())
    batched_id = batch["memories"][0]["id"]  # type: ignore[index]
    for memory_id in (doomed["id"], batched_id):
        response = await client.delete(f"{MEMORIES}/{memory_id}", headers=alice)
        assert response.status_code == 200
    left = [single.encode(), batched.encode(), tag.encode()]
    await _assert_gone(settings, left)
    assert _holds(settings, kept.encode())  # the check can see content at all
    with closing(sqlite3.connect(settings.database_url.removeprefix("sqlite:///"))) as conn:
        (answers,) = conn.execute("SELECT count(*) FROM idempotency_keys").fetchone()
    assert answers == 0  # the batch's answer showed a deleted memory too
