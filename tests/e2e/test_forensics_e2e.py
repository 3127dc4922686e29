"""Against a real server on SQLite: every change that removes text (a delete, and a
PATCH of any one field: content, tags, category, visibility) leaves none of the old
bytes in the database file or its write-ahead log, each change on its own (so one
change's purge cannot hide another's missing one). A PATCH's old values stay in the
memory's history only (docs/history.md) until the memory is deleted, which erases them."""

from __future__ import annotations

import time
import uuid
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx
from sqlean import dbapi2 as sqlite3

from tests.e2e.server import start_server
from tests.helpers import MEMORIES

# (what changes, the PATCH body, or None for a delete)
CHANGES: list[tuple[str, dict[str, Any] | None]] = [
    ("content", {"content": "User changed the content"}),
    ("tags", {"tags": ["new"]}),
    ("category", {"category": "system"}),
    ("visibility", {"visibility": "private"}),
    ("delete", None),
]


def _files(database: Path) -> list[Path]:
    return [p for p in (database, Path(f"{database}-wal")) if p.exists()]


def _holds(database: Path, marker: bytes) -> bool:
    return any(marker in path.read_bytes() for path in _files(database))


def _only_in_history(database: Path, memory_id: str, old_json: str) -> bool:
    """The memory's old stored JSON is in its history and no longer in its row."""
    with closing(sqlite3.connect(database)) as conn:
        (row,) = conn.execute("SELECT json FROM memories WHERE id = ?", (memory_id,)).fetchone()
        kept = conn.execute(
            "SELECT count(*) FROM memory_history WHERE memory_id = ? AND old_json = ?",
            (memory_id, old_json),
        ).fetchone()[0]
    return bool(row != old_json and kept == 1)


def _gone_within(database: Path, markers: list[bytes], seconds: float) -> list[bytes]:
    """The markers still in the files after up to `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        left = [marker for marker in markers if _holds(database, marker)]
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.1)


def test_no_change_that_removes_text_leaves_its_bytes(tmp_path) -> None:
    database = tmp_path / "forensics.db"
    server = start_server(f"sqlite:///{database}")
    headers = {"Authorization": f"Bearer {server.first_key}"}
    try:
        with httpx.Client(base_url=server.base, headers=headers, timeout=30) as client:
            kept = f"kept{uuid.uuid4().hex}"
            assert client.post(MEMORIES, json={"content": f"User keeps {kept}"}).status_code == 200
            for what, body in CHANGES:
                # one word each (one full-text token), neither inside the other
                marker, tag = f"{what}{uuid.uuid4().hex}", f"tag{uuid.uuid4().hex}"
                created = client.post(
                    MEMORIES,
                    json={
                        "content": f"User fact {marker}",
                        "tags": [tag],
                        "category": "workflow",
                        "visibility": "public",
                    },
                )
                assert created.status_code == 200, created.text
                memory_id = created.json()["id"]
                # The stored JSON, byte for byte as the server keeps (and answers) it.
                before = client.get(f"{MEMORIES}/{memory_id}").content
                time.sleep(0.05)  # a distinct updated_at
                assert _holds(database, before) or _holds(database, marker.encode())
                if body is None:
                    answer = client.delete(f"{MEMORIES}/{memory_id}")
                else:
                    answer = client.patch(f"{MEMORIES}/{memory_id}", json=body)
                assert answer.status_code == 200, (what, answer.text)
                if body is not None:  # what replaced it is there (the check sees JSON)
                    assert _holds(database, client.get(f"{MEMORIES}/{memory_id}").content)
                    # The old values are kept by the memory's history alone (its
                    # purpose, docs/history.md), until the memory is deleted.
                    assert _only_in_history(database, memory_id, before.decode())
                    assert client.delete(f"{MEMORIES}/{memory_id}").status_code == 200
                removed = [before, marker.encode(), tag.encode()]  # every field as it was
                left = _gone_within(database, removed, 10)
                assert not left, (what, left)
            assert _holds(database, kept.encode())  # the check can see content at all
    finally:
        server.stop()
