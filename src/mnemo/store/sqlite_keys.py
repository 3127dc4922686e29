"""The dedup keys of the SQLite backend (table `memory_keys`, migration 0008): write a
memory's keys, find the stored memory a new one repeats, key the memories stored before
the migration. Every call runs inside the caller's write transaction."""

from __future__ import annotations

from collections.abc import Sequence

from sqlean import dbapi2 as sqlite3

from mnemo.models import Memory
from mnemo.search import dedup
from mnemo.store.rows import MEMORY_COLUMNS, memory_from_row

KEY_BACKLOG_PAGE = 1000  # memories keyed per transaction when a store opens


def put_keys(conn: sqlite3.Connection, user_id: str, memory_id: str, keys: Sequence[int]) -> None:
    conn.executemany(
        "INSERT OR IGNORE INTO memory_keys (user_id, key, memory_id) VALUES (?, ?, ?)",
        [(user_id, key, memory_id) for key in keys],
    ).close()


def stored_duplicate(
    conn: sqlite3.Connection, user_id: str, content: str, keys: Sequence[int]
) -> Memory | None:
    """The stored memory of the user's that `content` repeats (dedup.find_duplicate on
    the memories sharing a key with it; no vectors: the new one has none yet)."""
    rows = conn.execute(
        f"SELECT {MEMORY_COLUMNS} FROM memories WHERE id IN (SELECT memory_id FROM memory_keys"
        f" WHERE user_id = ? AND key IN ({', '.join('?' * len(keys))})) ORDER BY id",
        (user_id, *keys),
    ).fetchall()
    memories = {row[0]: memory_from_row(row) for row in rows}
    found = dedup.find_duplicate(content, None, [(i, m.content, None) for i, m in memories.items()])
    return None if found is None else memories[found]


def key_backlog(conn: sqlite3.Connection, page: int) -> int:
    """Key up to `page` memories stored before migration 0008; how many."""
    rows = conn.execute(
        "SELECT t.memory_id, m.user_id, m.content FROM memory_keys_todo t"
        " JOIN memories m ON m.id = t.memory_id LIMIT ?",
        (page,),
    ).fetchall()
    for memory_id, user_id, content in rows:
        put_keys(conn, user_id, memory_id, dedup.keys(content))
    conn.executemany(
        "DELETE FROM memory_keys_todo WHERE memory_id = ?", [(row[0],) for row in rows]
    ).close()
    return len(rows)
