"""The nearest vectors of one user, read from sqlite-vec's chunk tables by numpy.

sqlite-vec keeps a `vec0` table's vectors in chunks of 1,024 (per partition, so per
user here): `<table>_chunks` holds each chunk's partition key, a validity bitmap and
the rowids of its slots, and `<table>_vector_chunks00` the chunk's float32 vectors,
one blob. Its KNN query scans them with a scalar C loop (the PyPI build has no SIMD):
10,000 memories took 7-10 ms. The same chunks read as blobs and multiplied by numpy
take 4-5 ms with the same results (an exact scan either way, tested against the KNN
query, deleted slots included).

This reads sqlite-vec's storage, not its API, so `layout_known` checks the version
(0.1.x) and the tables' columns when a store opens; anything else, and the store uses
sqlite-vec's own KNN query.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mnemo.search.embed import DIM

_TABLE = "memories_vec"
_CHUNKS_SQL = (
    f"SELECT c.validity, c.rowids, v.vectors FROM {_TABLE}_chunks c"
    f" JOIN {_TABLE}_vector_chunks00 v ON v.rowid = c.chunk_id WHERE c.partition00 = ?"
)
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


def nearest(conn: Any, user_id: str, query: bytes, k: int) -> list[tuple[int, float]]:
    """The `k` rowids of the user's vectors most similar to `query` (cosine, vectors
    normalised): `(rowid, cosine)`, best first, ties by rowid."""
    vector = np.frombuffer(query, dtype="<f4")
    rowids, scores = [], []
    for validity, ids, vectors in conn.execute(_CHUNKS_SQL, (user_id,)):
        slots = len(ids) // 8
        valid = np.unpackbits(np.frombuffer(validity, np.uint8), bitorder="little")[:slots]
        keep = valid.astype(bool)
        if not keep.any():
            continue
        matrix = np.frombuffer(vectors, dtype="<f4", count=slots * DIM).reshape(slots, DIM)
        scores.append((matrix @ vector)[keep])
        rowids.append(np.frombuffer(ids, dtype="<i8", count=slots)[keep])
    if not scores:
        return []
    score, rowid = np.concatenate(scores), np.concatenate(rowids)
    top = np.argpartition(-score, k - 1)[:k] if k < len(score) else np.arange(len(score))
    top = top[np.lexsort((rowid[top], -score[top]))]
    return [(int(rowid[i]), float(score[i])) for i in top]
