"""The upgrade of a SQLite database made before migration 0006, whose vectors are in a
sqlite-vec `vec0` table (`memories_vec`, made by migration 0003 then): they are copied
into mnemo's own table (`memory_vectors`, made by 0006) and the vec0 table is dropped,
in the transaction that applies 0006.

Only sqlite-vec can read its table, so this one upgrade needs the `sqlite-vec` package
(no longer a dependency of mnemo: `pip install sqlite-vec` once, then start mnemo);
without it the upgrade stops with `VEC0_NEEDED` and changes nothing. It reads the table
through sqlite-vec's SQL only (`SELECT rowid, user_id, embedding`), and the embeddings
come out as stored: 384 little-endian float32.
"""

from __future__ import annotations

import importlib
import logging
from collections import defaultdict
from typing import Any

from mnemo.errors import StoreError
from mnemo.store import vector_blocks

log = logging.getLogger(__name__)

VERSION = 6  # the migration that makes memory_vectors
VEC0_NEEDED = (
    "this database keeps its vectors in a sqlite-vec table, which only the sqlite-vec "
    "package can read: to upgrade it, run `pip install sqlite-vec` once, then start mnemo "
    "again (the upgrade copies the vectors out; sqlite-vec is not needed after it)"
)

LOAD_FAILED = (
    "this database keeps its vectors in a sqlite-vec table, and the sqlite-vec package "
    "installed could not be loaded into SQLite to read it"
)


class UpgradeNeedsSqliteVec(StoreError):
    """A database with a vec0 table, and no sqlite-vec to read it."""


def copy_vectors(conn: Any) -> None:
    """Inside the write transaction applying migration 0006, after its statements: copy
    the vectors of `memories_vec`, if the database has it, into `memory_vectors`, then
    drop it."""
    found = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'memories_vec'"
    ).fetchone()
    if found is None:
        return
    try:
        sqlite_vec = importlib.import_module("sqlite_vec")
    except ImportError:
        raise UpgradeNeedsSqliteVec(VEC0_NEEDED) from None
    try:
        conn.enable_load_extension(True)
        try:
            sqlite_vec.load(conn)
        finally:
            conn.enable_load_extension(False)
    except Exception as error:  # an extension that does not load here: say so, in one line
        raise UpgradeNeedsSqliteVec(f"{LOAD_FAILED}: {error}") from None
    by_user: dict[str, dict[int, bytes]] = defaultdict(dict)
    for rowid, user_id, embedding in conn.execute(
        "SELECT rowid, user_id, embedding FROM memories_vec"
    ):
        by_user[user_id][rowid] = embedding
    for user_id, vectors in by_user.items():
        vector_blocks.put(conn, user_id, vectors)
    copied = sum(len(vectors) for vectors in by_user.values())
    conn.execute("DROP TABLE memories_vec")
    log.info("copied %d vectors out of the sqlite-vec table memories_vec, and dropped it", copied)
