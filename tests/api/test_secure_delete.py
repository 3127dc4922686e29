"""A deleted memory's bytes leave the SQLite files (main file and WAL) within seconds."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import httpx
import pytest

from mnemo.retrieval import Retrieval
from tests.helpers import MEMORIES, create


def _files(settings) -> list[Path]:
    main = Path(settings.database_url.removeprefix("sqlite:///"))
    return [p for p in (main, Path(f"{main}-wal")) if p.exists()]


def _holds(settings, marker: bytes) -> bool:
    return any(marker in path.read_bytes() for path in _files(settings))


async def test_deleted_and_edited_content_leaves_the_files(
    client: httpx.AsyncClient, alice, settings
) -> None:
    if not settings.database_url.startswith("sqlite"):
        pytest.skip("file-level check of the SQLite backend")
    # One word each, so the full-text index holds each marker as one token.
    deleted_marker = f"deleted{uuid.uuid4().hex}"
    edited_marker = f"edited{uuid.uuid4().hex}"
    kept_marker = f"kept{uuid.uuid4().hex}"
    doomed = await create(client, alice, content=f"User secret {deleted_marker}")
    edited = await create(client, alice, content=f"User old {edited_marker}")
    await create(client, alice, content=f"User keeps {kept_marker}")
    assert _holds(settings, deleted_marker.encode())
    assert (await client.delete(f"{MEMORIES}/{doomed['id']}", headers=alice)).status_code == 200
    response = await client.patch(
        f"{MEMORIES}/{edited['id']}", json={"content": "User new"}, headers=alice
    )
    assert response.status_code == 200
    for _ in range(50):
        if not _holds(settings, deleted_marker.encode()) and not _holds(
            settings, edited_marker.encode()
        ):
            break
        await asyncio.sleep(0.1)
    assert not _holds(settings, deleted_marker.encode())
    assert not _holds(settings, edited_marker.encode())
    assert _holds(settings, kept_marker.encode())  # the check can see content at all
    # nor does the deleted memory's embedding, nor the edited one's old embedding, stay
    retrieval = Retrieval(client._transport.app.state.mnemo.store)  # type: ignore[attr-defined]
    gone, replaced, kept = await retrieval.vectors(
        [f"User secret {deleted_marker}", f"User old {edited_marker}", f"User keeps {kept_marker}"]
    )
    assert not _holds(settings, gone[:64])
    assert not _holds(settings, replaced[:64])
    assert _holds(settings, kept[:64])  # the check can see vectors at all
