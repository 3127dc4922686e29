"""A SQLite database made before migration 0006 keeps its vectors in a sqlite-vec table
(memories_vec); upgrading copies every one into mnemo's own table and drops it
(store/vec0_upgrade.py), which needs the sqlite-vec package; without it, the upgrade
stops with a one-line answer and changes nothing."""

from __future__ import annotations

import subprocess
import sys
from contextlib import closing
from pathlib import Path

import numpy as np
import pytest
import sqlite_vec
from sqlean import dbapi2 as sqlite3

from mnemo.clock import new_id, now_us
from mnemo.errors import StoreError
from mnemo.models import Memory
from mnemo.search.embed import DIM, to_blob
from mnemo.store import User, vector_blocks
from mnemo.store.migrations import load
from mnemo.store.rows import MEMORY_COLUMNS, memory_values
from mnemo.store.sqlite import SQLiteStore
from mnemo.store.sqlite_db import _statements
from mnemo.store.vec0_upgrade import LOAD_FAILED, VEC0_NEEDED
from tests.contract.support import memory

# Migration 0003 as released before 0006: it made the vec0 table.
OLD_0003 = (Path(__file__).parent.parent / "fixtures" / "sqlite_0003_search_vec0.sql").read_text()
_KNN = (
    "SELECT rowid, distance FROM memories_vec"
    " WHERE embedding MATCH ? AND k = ? AND user_id = ? ORDER BY distance"
)

# the memory columns of schema 5 (conversation_id came with a later migration)
SCHEMA_5_COLUMNS = MEMORY_COLUMNS.removesuffix(", conversation_id")


def _unit(rnd: np.random.Generator) -> bytes:
    v = rnd.standard_normal(DIM).astype(np.float32)
    return to_blob(v / np.linalg.norm(v))


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.enable_load_extension(True)
    sqlite_vec.load(conn)
    return conn


def _schema_5_database(path: Path) -> tuple[dict[str, list[Memory]], dict[int, bytes]]:
    """A database as mnemo left it at schema version 5 (migration 0003 with its vec0
    table), with two users' memories, most with vectors, some deleted since. Returns
    the memories alive and the vectors by memory rowid."""
    rnd = np.random.default_rng(12)
    users: dict[str, list[Memory]] = {}
    with closing(_connect(path)) as conn:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute(
            "CREATE TABLE schema_migrations ("
            " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )
        for migration in load("sqlite")[:5]:
            sql = OLD_0003 if migration.version == 3 else migration.sql
            for statement in _statements(sql):
                conn.execute(statement)
            conn.execute(
                "INSERT INTO schema_migrations VALUES (?, ?, datetime('now'))",
                (migration.version, migration.name),
            )
        for name, count in (("big", 1500), ("small", 40)):  # vec0 chunks hold 1,024
            user_id = new_id()
            conn.execute(
                "INSERT INTO users (id, name, created_at) VALUES (?, ?, ?)",
                (user_id, name, now_us()),
            )
            memories = [memory(f"{name} memory {i}") for i in range(count)]
            users[user_id] = memories
            for i, m in enumerate(memories):
                rowid = conn.execute(
                    f"INSERT INTO memories (user_id, {SCHEMA_5_COLUMNS})"
                    f" VALUES ({', '.join('?' * 13)}) RETURNING rowid",
                    (user_id, *memory_values(m)[:12]),
                ).fetchone()[0]
                if i % 10 != 9:  # every tenth memory not embedded (as before a reindex)
                    conn.execute(
                        "INSERT INTO memories_vec (rowid, user_id, embedding) VALUES (?, ?, ?)",
                        (rowid, user_id, _unit(rnd)),
                    )
            for gone in memories[::7]:  # deleted: the old trigger removes their vectors
                conn.execute("DELETE FROM memories WHERE id = ?", (gone.id,))
            users[user_id] = [m for m in memories if m not in memories[::7]]
        vectors = dict(conn.execute("SELECT rowid, embedding FROM memories_vec").fetchall())
    return users, vectors


async def test_a_schema_5_database_upgrades_with_every_vector_and_the_same_search(
    tmp_path: Path,
) -> None:
    path = tmp_path / "old.db"
    users, vectors = _schema_5_database(path)
    rnd = np.random.default_rng(99)
    queries = [_unit(rnd) for _ in range(10)]
    with closing(_connect(path)) as conn:  # what sqlite-vec's own search finds
        ids = dict(conn.execute("SELECT rowid, id FROM memories").fetchall())
        expected = {
            (user_id, q): [(ids[r], 1.0 - d) for r, d in conn.execute(_KNN, (q, 20, user_id))]
            for user_id in users
            for q in queries
        }

    store = SQLiteStore(str(path))
    await store.open()
    try:
        assert await store.schema_version() == len(load("sqlite")) >= 6
        for (user_id, query), theirs in expected.items():
            ours = await store.semantic_search(user_id, query, 20)
            assert [i for i, _ in ours] == [i for i, _ in theirs]
            assert np.allclose([s for _, s in ours], [s for _, s in theirs], atol=1e-5)
        alive = sum(len(m) for m in users.values())
        assert await store.count_unindexed() == alive - len(vectors)
        user_id, memories = next(iter(users.items()))
        assert await store.delete_memory(user_id, memories[0].id)  # the new triggers
    finally:
        await store.close()
    with closing(sqlite3.connect(path)) as conn:  # every vector, byte for byte, and no vec0
        copied = {}
        for user_id in users:
            keys, matrix = vector_blocks.read_all(conn, user_id)
            copied.update(zip(keys.tolist(), (row.tobytes() for row in matrix), strict=True))
        names = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    deleted_rowid = next(r for r, i in ids.items() if i == memories[0].id)
    assert copied == {r: v for r, v in vectors.items() if r != deleted_rowid}
    assert not any(name.startswith("memories_vec") for name in names)
    # the vec0 table's pages were zeroed as it was dropped: the vector of the memory
    # deleted since is in no file (and a kept one is, so the check can see vectors)
    files = b"".join(f.read_bytes() for f in tmp_path.iterdir() if f.name.startswith("old.db"))
    assert vectors[deleted_rowid][:64] not in files
    assert next(iter(copied.values()))[:64] in files


@pytest.mark.parametrize(
    ("prelude", "message"),
    [
        ("sys.modules['sqlite_vec'] = None", VEC0_NEEDED),  # not installed
        (  # installed, but its library does not load into SQLite here
            "sys.modules['sqlite_vec'] = types.SimpleNamespace("
            "load=lambda conn: conn.load_extension('/nonexistent/vec0'))",
            LOAD_FAILED,
        ),
    ],
    ids=["not installed", "not loadable"],
)
def test_without_sqlite_vec_the_upgrade_says_what_to_do_and_changes_nothing(
    tmp_path: Path, prelude: str, message: str
) -> None:
    path = tmp_path / "old.db"
    _schema_5_database(path)
    # `mnemo migrate` in a process where sqlite_vec cannot be used
    run = subprocess.run(
        [
            sys.executable,
            "-c",
            f"import sys, types; {prelude};"
            " from mnemo.cli import main; sys.argv[0] = 'mnemo'; main()",
            "migrate",
            "--database-url",
            f"sqlite:///{path}",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 3, run.stderr  # the database cannot be used (README)
    assert "pip install sqlite-vec" in VEC0_NEEDED
    (line,) = run.stderr.strip().splitlines()
    assert line.startswith(f"error: cannot use the database sqlite:///{path}: {message}")
    assert "Traceback" not in run.stderr
    with closing(sqlite3.connect(path)) as conn:
        assert conn.execute("SELECT max(version) FROM schema_migrations").fetchone() == (5,)
        assert conn.execute(
            "SELECT count(*) FROM sqlite_master WHERE name = 'memories_vec'"
        ).fetchone() == (1,)
        assert conn.execute(
            "SELECT count(*) FROM sqlite_master WHERE name = 'memory_vectors'"
        ).fetchone() == (0,)


@pytest.mark.parametrize("vector", [b"", b"\0" * (DIM * 4 - 4), b"\0" * (DIM * 4 + 4)])
async def test_a_vector_of_the_wrong_size_is_refused_and_changes_nothing(
    tmp_path: Path, vector: bytes
) -> None:
    store = SQLiteStore(str(tmp_path / "m.db"))
    await store.open()
    try:
        user = await store.create_user(User(id=new_id(), name="u", created_at=now_us()))
        kept, unit = memory("kept"), _unit(np.random.default_rng(1))
        await store.insert_memories(user.id, [kept], [unit])
        with pytest.raises(StoreError):
            await store.set_vectors(user.id, [(kept.id, vector)])
        with pytest.raises(StoreError):
            await store.insert_memories(user.id, [memory("bad")], [vector])
        assert await store.count_unindexed() == 0  # the bad memory was not stored either
        (found,) = await store.semantic_search(user.id, unit, 5)
        assert found[0] == kept.id and found[1] == pytest.approx(1.0, abs=1e-6)
    finally:
        await store.close()
