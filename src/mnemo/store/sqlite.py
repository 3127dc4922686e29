"""The embedded SQLite backend.

One writer thread owns the only connection that writes, so this process never
contends with itself for the write lock. Writes queue for it and it commits them in
groups: one `BEGIN IMMEDIATE` transaction per group, each write in a savepoint of its
own, one fsync for all (a cancelled request cannot leave a write half done). Reads
run on a small pool of threads, each with its own connection; WAL mode lets them
proceed while a write commits. Small reads (a key, a memory, a first page) run on the
event loop's thread instead, on a connection of its own that never waits for a lock:
their SQL takes less time than the two thread switches of the pool. Writers of other
processes on the same file (server workers, the CLI) take turns on a lock file,
`<file>-writelock`, for up to the busy timeout.

Deleted content is zeroed in the main file (`secure_delete`), and a checkpoint
that truncates the write-ahead log follows every delete within about a second,
so the bytes leave the WAL too.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import sqlite_vec
from pysqlite3 import dbapi2 as sqlite3

from mnemo.errors import Conflict, MnemoError, StoreError, StoreUnavailable
from mnemo.models import Memory
from mnemo.search.keyword import fts5_query
from mnemo.store import migrations, vec_chunks
from mnemo.store.base import ApiKey, MemoryChange, User
from mnemo.store.bookmarks import MIN_OFFSET, Bookmarks
from mnemo.store.render import SQLITE_MEMORY_JSON, json_array
from mnemo.store.rows import (
    KEY_COLUMNS,
    KEY_INSERT_COLUMNS,
    MEMORY_COLUMNS,
    USER_COLUMNS,
    key_from_row,
    key_values,
    memory_from_row,
    memory_values,
    user_from_row,
)

log = logging.getLogger(__name__)
T = TypeVar("T")

_UNAVAILABLE_HINTS = ("locked", "busy", "disk", "readonly", "unable to open", "full", "i/o")
_PURGE_DELAY_S = 0.5
_ORDER = "scoring DESC, created_at DESC, id DESC"
# Reads that touch at most this many index entries run on the event loop's thread.
_INLINE_ROWS = 500
_MMAP_BYTES = 1 << 30


def _translate(error: sqlite3.Error) -> MnemoError:
    message = str(error).lower()
    if isinstance(error, sqlite3.OperationalError) and any(
        hint in message for hint in _UNAVAILABLE_HINTS
    ):
        log.warning("sqlite unavailable: %s", error)
        return StoreUnavailable()
    log.error("sqlite error: %r", error)
    return StoreError()


def _statements(script: str) -> list[str]:
    """Split a migration script into complete statements (triggers included)."""
    statements, buffer = [], ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            if buffer.strip():
                statements.append(buffer.strip())
            buffer = ""
    if buffer.strip() and not all(
        part.strip().startswith("--") or not part.strip() for part in buffer.splitlines()
    ):
        raise RuntimeError(f"incomplete statement in migration: {buffer[:80]!r}")
    return statements


class SQLiteStore:
    """Store on one SQLite file; see the module docstring for the concurrency model."""

    def __init__(
        self,
        path: str,
        *,
        busy_timeout_ms: int = 30_000,
        synchronous: str = "FULL",
        read_connections: int = 4,
    ) -> None:
        self.path = path
        self._busy_timeout_ms = busy_timeout_ms
        self._synchronous = synchronous
        self._read_connections = read_connections
        self._local = threading.local()
        self._loop_conn: sqlite3.Connection | None = None
        self._bookmarks = Bookmarks()
        self._lock_fd: int | None = None
        self._vec_chunks: bool | None = None  # whether vec_chunks can read the index
        self._loop_thread = 0
        self._connections: list[sqlite3.Connection] = []
        self._connections_lock = threading.Lock()
        self._writer: ThreadPoolExecutor | None = None
        self._readers: ThreadPoolExecutor | None = None
        self._queue: list[tuple[Callable[..., Any], tuple[Any, ...], Any, Any]] = []
        self._queue_lock = threading.Lock()
        self._purge_wanted = asyncio.Event()
        self._purger: asyncio.Task[None] | None = None

    # -- connections -------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        """This thread's connection (the writer's, a reader's), opened on first use."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._open(self._busy_timeout_ms)
        return conn

    def _open(self, busy_timeout_ms: int) -> sqlite3.Connection:
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(
            self.path,
            isolation_level=None,
            check_same_thread=False,
            timeout=busy_timeout_ms / 1000,
        )
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        _retry_locked(lambda: conn.execute("PRAGMA journal_mode = WAL"), busy_timeout_ms)
        conn.execute(f"PRAGMA synchronous = {self._synchronous}")
        conn.execute("PRAGMA secure_delete = ON")
        # Reads map the file instead of copying each page: a vector search scans
        # ~1.5 KB a memory (10,000 memories: 10.6 -> 7.1 ms measured).
        conn.execute(f"PRAGMA mmap_size = {_MMAP_BYTES}")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.enable_load_extension(True)
        sqlite_vec.load(conn)
        conn.enable_load_extension(False)
        with self._connections_lock:
            self._connections.append(conn)
        return conn

    def _in_thread(self, fn: Callable[..., T], args: tuple[Any, ...]) -> T:
        """Run `fn(conn, *args)` on this thread's connection (reads, checkpoints). `fn`
        must not return a cursor: cursors are bound to the connection's thread."""
        try:
            return fn(self._connection(), *args)
        except sqlite3.Error as error:
            raise _translate(error) from error

    def _commit_group(self) -> None:
        """On the writer thread: run every queued write, each in a savepoint of one
        transaction, and commit them together: one fsync for the group (group commit).
        A write that fails rolls back to its savepoint alone; a failed commit fails all."""
        with self._queue_lock:
            group, self._queue = self._queue, []
        if not group:
            return  # an earlier group took this job already
        outcomes: list[tuple[bool, Any]] = []
        try:
            conn = self._connection()
            with self._processes_lock():
                conn.execute("BEGIN IMMEDIATE")
                for fn, args, _, _ in group:
                    conn.execute("SAVEPOINT job")
                    try:
                        outcomes.append((True, fn(conn, *args)))
                    except Exception as error:
                        conn.execute("ROLLBACK TO job")
                        outcomes.append(
                            (
                                False,
                                _translate(error) if isinstance(error, sqlite3.Error) else error,
                            )
                        )
                    conn.execute("RELEASE job")
                conn.execute("COMMIT")
        except sqlite3.Error as error:
            with contextlib.suppress(sqlite3.Error, UnboundLocalError):
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
            failure = _translate(error)
            outcomes = [(False, failure)] * len(group)
        for (_, _, future, loop), (ok, value) in zip(group, outcomes, strict=True):
            loop.call_soon_threadsafe(_settle, future, ok, value)

    @contextlib.contextmanager
    def _processes_lock(self) -> Iterator[None]:
        """Writers of all processes on this file take turns on `<file>-writelock`, tried
        every millisecond: SQLite's own busy handler sleeps up to 100 ms between tries
        and let writes of several workers wait seconds. Without the lock file (a
        read-only directory), SQLite's locking alone still keeps writes safe."""
        if self._lock_fd is None:
            try:
                self._lock_fd = os.open(f"{self.path}-writelock", os.O_RDWR | os.O_CREAT, 0o600)
            except OSError as error:
                log.warning("no write lock file, relying on SQLite's locking: %s", error)
                self._lock_fd = -1
        if self._lock_fd < 0:
            yield
            return
        deadline = time.monotonic() + self._busy_timeout_ms / 1000
        while True:
            try:
                fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise sqlite3.OperationalError("database is locked") from None
                time.sleep(0.001)
        try:
            yield
        finally:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

    async def _read(self, fn: Callable[..., T], *args: Any) -> T:
        assert self._readers is not None, "store is not open"
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._readers, self._in_thread, fn, args)

    async def _read_now(self, fn: Callable[..., T], *args: Any) -> T:
        """A small read (a key, a memory, a first page) on the event loop's own thread
        and connection: ~10-50 us of SQL is cheaper than two thread switches. That
        connection never waits for a lock (WAL readers rarely meet one); when it would,
        the read goes to the pool, which waits."""
        assert self._readers is not None, "store is not open"
        thread = threading.get_ident()
        try:
            if self._loop_conn is None:
                self._loop_conn, self._loop_thread = self._open(0), thread
            if thread == self._loop_thread:
                return fn(self._loop_conn, *args)
        except sqlite3.Error as error:
            if not _is_locked(error):
                raise _translate(error) from error
        return await self._read(fn, *args)

    async def _read_small(self, rows: int, fn: Callable[..., T], *args: Any) -> T:
        """A read that touches about `rows` index entries: on the loop's thread when few."""
        if rows <= _INLINE_ROWS:
            return await self._read_now(fn, *args)
        return await self._read(fn, *args)

    async def _write(self, fn: Callable[..., T], *args: Any) -> T:
        """Run `fn(conn, *args)` in a write transaction; returns once it is durable."""
        assert self._writer is not None, "store is not open"
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        with self._queue_lock:
            self._queue.append((fn, args, future, loop))
        self._writer.submit(self._commit_group)
        return await future

    # -- lifecycle ---------------------------------------------------------

    async def open(self) -> None:
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="mnemo-sqlite-writer")
        self._readers = ThreadPoolExecutor(
            self._read_connections, thread_name_prefix="mnemo-sqlite-reader"
        )
        await self._write(_migrate)
        self._purger = asyncio.create_task(self._purge_loop())

    async def close(self) -> None:
        if self._purger is not None:
            self._purger.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._purger
            self._purger = None
        if self._writer is not None:
            with contextlib.suppress(MnemoError):
                await self._checkpoint()
        for pool in (self._writer, self._readers):
            if pool is not None:
                pool.shutdown(wait=True)
        self._writer = self._readers = None
        with self._connections_lock:
            for conn in self._connections:
                with contextlib.suppress(sqlite3.Error):
                    conn.close()
            self._connections.clear()
        self._local = threading.local()
        self._loop_conn = None
        if self._lock_fd is not None and self._lock_fd >= 0:
            os.close(self._lock_fd)
        self._lock_fd = None

    async def ping(self) -> None:
        await self._read(lambda conn: conn.execute("SELECT 1").fetchone())

    async def schema_version(self) -> int:
        return await self._read(_schema_version)

    # -- purging deleted bytes from the WAL --------------------------------

    async def _checkpoint(self) -> bool:
        """Truncate the WAL; True if done, False if readers kept it busy."""
        loop = asyncio.get_running_loop()
        assert self._writer is not None
        row = await loop.run_in_executor(
            self._writer,
            self._in_thread,
            lambda conn: conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone(),
            (),
        )
        return bool(row is not None and row[0] == 0)

    async def _purge_loop(self) -> None:
        while True:
            await self._purge_wanted.wait()
            await asyncio.sleep(_PURGE_DELAY_S)
            self._purge_wanted.clear()
            try:
                done = await self._checkpoint()
            except MnemoError:
                done = False
            if not done:
                self._purge_wanted.set()

    def _purge_soon(self) -> None:
        self._purge_wanted.set()

    # -- users and keys ----------------------------------------------------

    async def create_user(self, user: User) -> User:
        def insert(conn: sqlite3.Connection) -> None:
            try:
                conn.execute(
                    "INSERT INTO users (id, name, created_at) VALUES (?, ?, ?)",
                    (user.id, user.name, user.created_at),
                )
            except sqlite3.IntegrityError:
                raise Conflict(f"User '{user.name}' already exists") from None

        await self._write(insert)
        return user

    async def get_user(self, name: str) -> User | None:
        row = await self._read(
            lambda conn: conn.execute(
                f"SELECT {USER_COLUMNS} FROM users WHERE name = ?", (name,)
            ).fetchone()
        )
        return None if row is None else user_from_row(row)

    async def list_users(self) -> list[tuple[User, int]]:
        rows = await self._read(
            lambda conn: conn.execute(
                "SELECT u.id, u.name, u.created_at,"
                " (SELECT count(*) FROM memories m WHERE m.user_id = u.id)"
                " FROM users u ORDER BY u.name"
            ).fetchall()
        )
        return [(user_from_row(row), row[3]) for row in rows]

    async def create_key(self, key: ApiKey, key_hash: str) -> None:
        await self._write(
            lambda conn: conn.execute(
                f"INSERT INTO api_keys ({KEY_INSERT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                key_values(key, key_hash),
            ).close()
        )

    async def list_keys(self, user_id: str | None = None) -> list[ApiKey]:
        where, params = ("WHERE k.user_id = ?", (user_id,)) if user_id else ("", ())
        rows = await self._read(
            lambda conn: conn.execute(
                f"SELECT {KEY_COLUMNS} FROM api_keys k JOIN users u ON u.id = k.user_id"
                f" {where} ORDER BY k.created_at, k.id",
                params,
            ).fetchall()
        )
        return [key_from_row(row) for row in rows]

    async def count_active_keys(self) -> int:
        row = await self._read(
            lambda conn: conn.execute(
                "SELECT count(*) FROM api_keys WHERE revoked_at IS NULL"
            ).fetchone()
        )
        return int(row[0])

    async def revoke_key(self, key_id: str, revoked_at: int) -> bool:
        changed = await self._write(
            lambda conn: (
                conn.execute(
                    "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                    (revoked_at, key_id),
                ).rowcount
            )
        )
        return bool(changed)

    async def key_by_hash(self, key_hash: str) -> tuple[ApiKey, str] | None:
        row = await self._read_now(
            lambda conn: conn.execute(
                f"SELECT {KEY_COLUMNS}, k.key_hash FROM api_keys k"
                " JOIN users u ON u.id = k.user_id"
                " WHERE k.key_hash = ? AND k.revoked_at IS NULL",
                (key_hash,),
            ).fetchone()
        )
        return None if row is None else (key_from_row(row), row[9])

    async def touch_key(self, key_id: str, used_at: int) -> None:
        await self._write(
            lambda conn: conn.execute(
                "UPDATE api_keys SET last_used_at = ? WHERE id = ?", (used_at, key_id)
            ).close()
        )

    # -- memories ----------------------------------------------------------

    async def list_memories_json(
        self, user_id: str, categories: Sequence[str], limit: int, offset: int
    ) -> bytes:
        in_categories = (
            f" AND category IN ({', '.join('?' * len(categories))})" if categories else ""
        )
        mark = self._bookmarks.find(user_id, categories, offset)
        if mark is not None:  # the rows after a remembered one, if nothing has moved
            version, after = mark
            sql = (
                f"SELECT ?, scoring, created_at, id, {SQLITE_MEMORY_JSON} FROM memories"
                f" WHERE user_id = ?{in_categories} AND (scoring, created_at, id) < (?, ?, ?)"
                " AND (SELECT memories_version FROM users WHERE id = ?) = ?"
                f" ORDER BY {_ORDER} LIMIT ?"
            )
            params: tuple[Any, ...] = (
                version,
                user_id,
                *categories,
                *after,
                user_id,
                version,
                limit,
            )
            rows = await self._read_small(limit, _fetch_all, sql, params)
            if rows:
                self._bookmarks.remember_page(user_id, categories, offset, rows, None)
                return json_array(row[4] for row in rows)
        # The page's rowids come from the covering index memories_user_order, then only
        # those rows are read: a deep OFFSET skips index entries, not table rows. A deep
        # page reads the row before it too, to remember where it starts.
        # Pages that end before MIN_OFFSET leave no bookmark: no keys to read for them.
        before = int(offset >= MIN_OFFSET)
        keys = offset + limit >= MIN_OFFSET
        sql = (
            "SELECT (SELECT memories_version FROM users WHERE id = ?), scoring, created_at, id,"
            if keys
            else "SELECT ?, NULL, NULL, NULL,"
        ) + (
            f" {SQLITE_MEMORY_JSON} FROM memories WHERE rowid IN (SELECT rowid FROM memories"
            f" WHERE user_id = ?{in_categories} ORDER BY {_ORDER} LIMIT ? OFFSET ?)"
            f" ORDER BY {_ORDER}"
        )
        params = (user_id, user_id, *categories, limit + before, offset - before)
        rows = await self._read_small(offset + limit, _fetch_all, sql, params)
        first, page = (rows[0], rows[1:]) if before and rows else (None, rows)
        if keys:
            self._bookmarks.remember_page(user_id, categories, offset, page, first)
        return json_array(row[4] for row in page)

    async def get_memory(self, user_id: str, memory_id: str) -> Memory | None:
        row = await self._read_now(_select_memory, user_id, memory_id)
        return None if row is None else memory_from_row(row)

    async def insert_memories(
        self, user_id: str, memories: Sequence[Memory], vectors: Sequence[bytes] = ()
    ) -> None:
        rows = [(user_id, *memory_values(m)) for m in memories]

        def insert(conn: sqlite3.Connection) -> None:
            conn.executemany(_INSERT_MEMORY, rows).close()
            _put_vectors(conn, user_id, [m.id for m in memories], vectors)

        if rows:
            await self._write(insert)

    async def update_memory(
        self, user_id: str, memory_id: str, change: MemoryChange, vector: bytes | None = None
    ) -> Memory | None:
        def update(conn: sqlite3.Connection) -> tuple[Memory, bool] | None:
            row = _select_memory(conn, user_id, memory_id)
            if row is None:
                return None
            current = memory_from_row(row)
            new = change(current)
            v = memory_values(new)
            conn.execute(
                "UPDATE memories SET content = ?, category = ?, visibility = ?, tags = ?,"
                " updated_at = ?, manually_added = ?, scoring = ?, reviewed = ?,"
                " user_review = ?, edited = ? WHERE user_id = ? AND id = ?",
                (*v[1:5], *v[6:], user_id, memory_id),
            )
            changed = new.content != current.content
            if changed and vector is not None:
                _put_vectors(conn, user_id, [memory_id], [vector])
            return new, changed

        result = await self._write(update)
        if result is None:
            return None
        new, content_changed = result
        if content_changed:
            self._purge_soon()
        return new

    async def delete_memory(self, user_id: str, memory_id: str) -> bool:
        deleted = bool(
            await self._write(
                lambda conn: (
                    conn.execute(
                        "DELETE FROM memories WHERE user_id = ? AND id = ?", (user_id, memory_id)
                    ).rowcount
                )
            )
        )
        if deleted:
            self._purge_soon()
        return deleted

    # -- search --------------------------------------------------------------

    async def keyword_search(
        self, user_id: str, query: str, limit: int, categories: Sequence[str] = ()
    ) -> list[tuple[str, float]]:
        terms = fts5_query(query, column="content")
        if terms is None:
            return []
        match = 'user_id : "{}" AND {}'.format(user_id.replace('"', '""'), terms)
        # The full-text index runs first (only this user's rows match), then the join.
        sql = (
            "WITH hits AS MATERIALIZED (SELECT rowid, bm25(memories_fts, 1.0, 0.0) AS score"
            " FROM memories_fts WHERE memories_fts MATCH ? ORDER BY score LIMIT ?)"
            " SELECT m.id, -hits.score FROM hits JOIN memories m ON m.rowid = hits.rowid"
            " WHERE m.user_id = ?"
            + _category_filter(categories)
            + " ORDER BY hits.score, m.id LIMIT ?"
        )
        pool = min(limit * (8 if categories else 1), 4096)
        params = (match, pool, user_id, *categories, limit)
        rows = await self._read(lambda conn: conn.execute(sql, params).fetchall())
        return [(row[0], float(row[1])) for row in rows]

    async def semantic_search(
        self, user_id: str, vector: bytes, limit: int, categories: Sequence[str] = ()
    ) -> list[tuple[str, float]]:
        # The nearest of the user's vectors; a category filter looks further.
        k = min(limit * (8 if categories else 1), 4096)

        def search(conn: sqlite3.Connection) -> list[tuple[str, float]]:
            if self._vec_chunks is None:
                self._vec_chunks = vec_chunks.layout_known(conn)
            if not self._vec_chunks:
                return _knn(conn, user_id, vector, k, categories, limit)
            nearest = dict(vec_chunks.nearest(conn, user_id, vector, k))
            if not nearest:
                return []
            found = conn.execute(
                # `+`: look the rowids up; the user index would walk all the user's rows
                f"SELECT m.rowid, m.id FROM memories m WHERE +m.user_id = ?"
                f" AND m.rowid IN ({', '.join('?' * len(nearest))})" + _category_filter(categories),
                (user_id, *nearest, *categories),
            ).fetchall()
            ranked = sorted(((-nearest[rowid], memory_id) for rowid, memory_id in found))
            return [(memory_id, -negative) for negative, memory_id in ranked[:limit]]

        return await self._read(search)

    async def memories_by_ids(self, user_id: str, ids: Sequence[str]) -> dict[str, Memory]:
        if not ids:
            return {}
        sql = (
            f"SELECT {MEMORY_COLUMNS} FROM memories WHERE user_id = ?"
            f" AND id IN ({', '.join('?' * len(ids))})"
        )
        rows = await self._read_now(lambda conn: conn.execute(sql, (user_id, *ids)).fetchall())
        return {row[0]: memory_from_row(row) for row in rows}

    async def set_vectors(self, user_id: str, vectors: Sequence[tuple[str, bytes]]) -> None:
        ids, blobs = [i for i, _ in vectors], [b for _, b in vectors]
        await self._write(lambda conn: _put_vectors(conn, user_id, ids, blobs))

    async def count_unindexed(self) -> int:
        # Every vector belongs to a memory (a trigger deletes it with it), so the missing
        # ones are the difference of two counts; sqlite-vec keeps one row per vector in
        # its `_rowids` table. (Probing the vector index per memory took minutes at 1 M.)
        row = await self._read(
            lambda conn: conn.execute(
                "SELECT (SELECT count(*) FROM memories)"
                " - (SELECT count(*) FROM memories_vec_rowids)"
            ).fetchone()
        )
        return int(row[0])

    # -- export and import -------------------------------------------------

    async def memories_after(self, user_id: str, after_id: str, limit: int) -> list[Memory]:
        rows = await self._read(
            lambda conn: conn.execute(
                f"SELECT {MEMORY_COLUMNS} FROM memories WHERE user_id = ? AND id > ?"
                " ORDER BY id LIMIT ?",
                (user_id, after_id, limit),
            ).fetchall()
        )
        return [memory_from_row(row) for row in rows]

    async def import_memories(
        self, user_id: str, memories: Sequence[Memory], vectors: Sequence[bytes] = ()
    ) -> int:
        rows = [(user_id, *memory_values(m)) for m in memories]

        def insert(conn: sqlite3.Connection) -> int:
            added = []
            padded: Sequence[bytes | None] = list(vectors) if vectors else [None] * len(rows)
            for row, memory, vector in zip(rows, memories, padded, strict=True):
                if conn.execute(
                    _INSERT_MEMORY.replace("INSERT", "INSERT OR IGNORE", 1), row
                ).rowcount:
                    added.append((memory.id, vector))
            if vectors:
                _put_vectors(conn, user_id, [i for i, _ in added], [v for _, v in added])
            return len(added)

        return await self._write(insert) if rows else 0

    async def analyze(self) -> None:
        # Gathers statistics only where the planner lacks them (cheap when up to date).
        await self._write(lambda conn: conn.execute("PRAGMA optimize").fetchall())

    async def keys_with_hashes(self, user_id: str) -> list[tuple[ApiKey, str]]:
        rows = await self._read(
            lambda conn: conn.execute(
                f"SELECT {KEY_COLUMNS}, k.key_hash FROM api_keys k"
                " JOIN users u ON u.id = k.user_id WHERE k.user_id = ?"
                " ORDER BY k.created_at, k.id",
                (user_id,),
            ).fetchall()
        )
        return [(key_from_row(row), row[9]) for row in rows]

    async def import_key(self, key: ApiKey, key_hash: str) -> bool:
        changed = await self._write(
            lambda conn: (
                conn.execute(
                    f"INSERT OR IGNORE INTO api_keys ({KEY_INSERT_COLUMNS})"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    key_values(key, key_hash),
                ).rowcount
            )
        )
        return bool(changed)


_INSERT_MEMORY = (
    f"INSERT INTO memories (user_id, {MEMORY_COLUMNS})"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def _is_locked(error: sqlite3.Error) -> bool:
    return isinstance(error, sqlite3.OperationalError) and any(
        hint in str(error).lower() for hint in ("locked", "busy")
    )


def _retry_locked(statement: Callable[[], Any], timeout_ms: int) -> None:
    """Run `statement`, again while the database is locked, for up to `timeout_ms`.
    Switching a new file to WAL mode can fail at once, without the busy handler, when
    another process opens it at the same moment (several workers' first start)."""
    deadline = time.monotonic() + timeout_ms / 1000
    while True:
        try:
            statement()
            return
        except sqlite3.Error as error:
            if not _is_locked(error) or time.monotonic() >= deadline:
                raise
            time.sleep(0.01)


def _knn(
    conn: sqlite3.Connection,
    user_id: str,
    vector: bytes,
    k: int,
    categories: Sequence[str],
    limit: int,
) -> list[tuple[str, float]]:
    """sqlite-vec's own KNN query (when its chunk layout is not the one vec_chunks reads)."""
    sql = (
        "WITH knn AS (SELECT rowid, distance FROM memories_vec"
        " WHERE embedding MATCH ? AND k = ? AND user_id = ?)"
        " SELECT m.id, 1.0 - knn.distance FROM knn JOIN memories m ON m.rowid = knn.rowid"
        " WHERE m.user_id = ?"
        + _category_filter(categories)
        + " ORDER BY knn.distance, m.id LIMIT ?"
    )
    rows = conn.execute(sql, (vector, k, user_id, user_id, *categories, limit)).fetchall()
    return [(row[0], float(row[1])) for row in rows]


def _fetch_all(conn: sqlite3.Connection, sql: str, params: Sequence[Any]) -> list[Any]:
    return list(conn.execute(sql, params))


def _settle(future: asyncio.Future[Any], ok: bool, value: Any) -> None:
    if not future.done():  # the caller may have been cancelled; the write stands
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)


def _category_filter(categories: Sequence[str]) -> str:
    return f" AND m.category IN ({', '.join('?' * len(categories))})" if categories else ""


def _put_vectors(
    conn: sqlite3.Connection, user_id: str, ids: Sequence[str], vectors: Sequence[Any]
) -> None:
    """Set the embeddings of these memories (replacing any they had)."""
    if not vectors:
        return
    for memory_id, vector in zip(ids, vectors, strict=True):
        row = conn.execute(
            "SELECT rowid FROM memories WHERE user_id = ? AND id = ?", (user_id, memory_id)
        ).fetchone()
        if row is None or vector is None:
            continue
        conn.execute("DELETE FROM memories_vec WHERE rowid = ?", (row[0],))
        conn.execute(
            "INSERT INTO memories_vec (rowid, user_id, embedding) VALUES (?, ?, ?)",
            (row[0], user_id, vector),
        )


def _select_memory(conn: sqlite3.Connection, user_id: str, memory_id: str) -> Any:
    return conn.execute(
        f"SELECT {MEMORY_COLUMNS} FROM memories WHERE user_id = ? AND id = ?",
        (user_id, memory_id),
    ).fetchone()


def _schema_version(conn: sqlite3.Connection) -> int:
    exists = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
    ).fetchone()
    if not exists:
        return 0
    row = conn.execute("SELECT max(version) FROM schema_migrations").fetchone()
    return int(row[0] or 0)


def _migrate(conn: sqlite3.Connection) -> None:
    """Apply pending migrations inside the caller's write transaction."""
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )
    current = _schema_version(conn)
    for migration in migrations.load("sqlite"):
        if migration.version <= current:
            continue
        for statement in _statements(migration.sql):
            conn.execute(statement)
        conn.execute(
            "INSERT INTO schema_migrations (version, name, applied_at)"
            " VALUES (?, ?, datetime('now'))",
            (migration.version, migration.name),
        )
        log.info("applied sqlite migration %04d_%s", migration.version, migration.name)
