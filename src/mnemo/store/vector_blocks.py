"""The SQLite store's vectors, in blocks of mnemo's own format (migration 0006).

One row of `memory_vectors` holds the vectors of one user's memories whose rowids fall
in one range of `BLOCK` (block = rowid // BLOCK): `keys`, their rowids (int64,
little-endian, ascending), and `vectors`, their embeddings in the same order (384
float32 each, little-endian: the format of PostgreSQL's `embedding` column). So reading
all of a user's vectors reads a few large rows (10,000 vectors: ~313), not one row per
vector: one row per vector cost a Python tuple and a `bytes` each, and read 3-6 times
slower than sqlite-vec's chunks did; these blocks read as fast (docs/search.md). A
write rewrites the blocks it touches (at most 48 KB each); a memory's delete drops its
vector in the same transaction (`drop`), and `secure_delete` zeroes the old block's
pages.

Every function runs inside the caller's transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import numpy as np

from mnemo.errors import StoreError
from mnemo.search.embed import DIM
from mnemo.store.vector_cache import UserVectors

BLOCK = 32
VECTOR_BYTES = DIM * 4
_EMPTY = UserVectors(np.zeros(0, np.int64), np.zeros((0, DIM), np.float32))
_READ = "SELECT keys, vectors FROM memory_vectors WHERE user_id = ? AND block = ?"
_WRITE = (
    "INSERT INTO memory_vectors (user_id, block, keys, vectors) VALUES (?, ?, ?, ?)"
    " ON CONFLICT (user_id, block) DO UPDATE SET keys = excluded.keys, vectors = excluded.vectors"
)


def put(conn: Any, user_id: str, vectors: dict[int, bytes]) -> None:
    """Set the vectors of these memory rowids (replacing any they had)."""
    for rowid, vector in vectors.items():
        if len(vector) != VECTOR_BYTES:
            raise StoreError(f"vector of memory rowid {rowid}: {len(vector)} bytes")
    for block, changes in _by_block(vectors.items()).items():
        current = _block(conn, user_id, block)
        current.update(changes)
        _write(conn, user_id, block, current)


def drop(conn: Any, user_id: str, rowids: Iterable[int]) -> None:
    """Remove the vectors of these memory rowids, if they have any."""
    for block, gone in _by_block((r, None) for r in rowids).items():
        current = _block(conn, user_id, block)
        if any(current.pop(rowid, None) is not None for rowid in gone):
            _write(conn, user_id, block, current)


def read_all(conn: Any, user_id: str) -> UserVectors:
    """All the user's vectors, in rowid order."""
    rows = conn.execute(
        "SELECT keys, vectors FROM memory_vectors WHERE user_id = ? ORDER BY block", (user_id,)
    ).fetchall()
    return _as_user_vectors(rows)


def read_some(conn: Any, user_id: str, rowids: Iterable[int]) -> UserVectors:
    """The user's vectors of those of `rowids` that have one (a rowid freed by a delete
    may have gone to another user's memory since: its vector is in that user's block)."""
    wanted = set(rowids)
    blocks = sorted({rowid // BLOCK for rowid in wanted})
    rows = [row for block in blocks if (row := conn.execute(_READ, (user_id, block)).fetchone())]
    found = _as_user_vectors(rows)
    keep = np.isin(found.keys, np.array(sorted(wanted), np.int64))
    return UserVectors(found.keys[keep], found.matrix[keep])


def count(conn: Any) -> int:
    """How many vectors the database holds (reads no vector)."""
    (total,) = conn.execute("SELECT coalesce(sum(length(keys)), 0) FROM memory_vectors").fetchone()
    return int(total) // 8


def _by_block(items: Iterable[tuple[int, Any]]) -> dict[int, dict[int, Any]]:
    blocks: dict[int, dict[int, Any]] = defaultdict(dict)
    for rowid, value in items:
        blocks[rowid // BLOCK][rowid] = value
    return blocks


def _block(conn: Any, user_id: str, block: int) -> dict[int, bytes]:
    row = conn.execute(_READ, (user_id, block)).fetchone()
    if row is None:
        return {}
    keys, vectors = row
    ids = np.frombuffer(keys, "<i8").tolist()
    return {
        rowid: vectors[i * VECTOR_BYTES : (i + 1) * VECTOR_BYTES] for i, rowid in enumerate(ids)
    }


def _write(conn: Any, user_id: str, block: int, vectors: dict[int, bytes]) -> None:
    if not vectors:
        conn.execute("DELETE FROM memory_vectors WHERE user_id = ? AND block = ?", (user_id, block))
        return
    ordered = sorted(vectors)
    keys = np.array(ordered, "<i8").tobytes()
    conn.execute(_WRITE, (user_id, block, keys, b"".join(vectors[r] for r in ordered)))


def _as_user_vectors(rows: list[tuple[bytes, bytes]]) -> UserVectors:
    if not rows:
        return _EMPTY
    keys = np.frombuffer(b"".join(k for k, _ in rows), "<i8")
    matrix = np.frombuffer(b"".join(v for _, v in rows), "<f4").reshape(-1, DIM)
    return UserVectors(keys.astype(np.int64, copy=False), matrix)
