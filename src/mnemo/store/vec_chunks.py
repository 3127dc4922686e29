"""The nearest vectors of one user, read from sqlite-vec's chunk tables by numpy.

sqlite-vec keeps a `vec0` table's vectors in chunks of 1,024 (per partition, so per
user here): `<table>_chunks` holds each chunk's partition key, a validity bitmap and
the rowids of its slots, and `<table>_vector_chunks00` the chunk's float32 vectors,
one blob. Its KNN query scans them with a scalar C loop (the PyPI build has no SIMD):
10,000 memories took 7-10 ms. The same chunks read as blobs (`read`, ~5 ms, most of
it SQLite copying 15 MB; store/vector_cache.py keeps the result between searches) and
multiplied by numpy (`rank.nearest`, ~0.5 ms) give the same results (an exact scan either
way, tested against the KNN query, deleted slots included).

This reads sqlite-vec's storage, not its API, so `layout_known` checks the version
(0.1.x) and the tables' columns when a store opens; anything else, and the store uses
sqlite-vec's own KNN query.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mnemo.search.embed import DIM
from mnemo.store.vector_cache import UserVectors

_TABLE = "memories_vec"
_CHUNKS_SQL = f"SELECT chunk_id, validity, rowids FROM {_TABLE}_chunks WHERE partition00 = ?"
_VECTORS_SQL = f"SELECT vectors FROM {_TABLE}_vector_chunks00 WHERE rowid = ?"
_COLUMNS = {
    f"{_TABLE}_chunks": {"chunk_id", "size", "partition00", "validity", "rowids"},
    f"{_TABLE}_vector_chunks00": {"rowid", "vectors"},
}


def layout_known(conn: Any) -> bool:
    """Whether this database's sqlite-vec stores chunks as this module reads them."""
    (version,) = conn.execute("SELECT vec_version()").fetchone()
    if not str(version).startswith("v0.1."):
        return False
    for table, needed in _COLUMNS.items():
        columns = {row[1] for row in conn.execute(f'PRAGMA table_info("{table}")')}
        if not needed <= columns:
            return False
    return True


def read(conn: Any, user_id: str) -> UserVectors:
    """All the user's vectors (deleted slots left out), in chunk order. Call it inside
    one read transaction: it reads the chunks' slots first, then their vectors, each
    run of valid slots copied once, straight into place."""
    chunks = []
    for chunk_id, validity, ids in conn.execute(_CHUNKS_SQL, (user_id,)).fetchall():
        slots = len(ids) // 8
        valid = np.unpackbits(np.frombuffer(validity, np.uint8), bitorder="little")[:slots]
        if valid.any():
            chunks.append((chunk_id, valid, np.frombuffer(ids, "<i8", count=slots)))
    keys = [ids[valid.astype(bool)] for _, valid, ids in chunks]
    matrix = np.empty((sum(len(k) for k in keys), DIM), np.float32)
    start = 0
    for chunk_id, valid, _ in chunks:
        (vectors,) = conn.execute(_VECTORS_SQL, (chunk_id,)).fetchone()
        chunk = np.frombuffer(vectors, dtype="<f4", count=len(valid) * DIM).reshape(-1, DIM)
        # runs of valid slots: +1 where one starts, -1 just past where it ends
        edges = np.flatnonzero(np.diff(valid.astype(np.int8), prepend=0, append=0))
        for first, end in zip(edges[::2], edges[1::2], strict=True):
            matrix[start : start + end - first] = chunk[first:end]
            start += end - first
    return UserVectors(np.concatenate(keys) if keys else np.zeros(0, np.int64), matrix)
