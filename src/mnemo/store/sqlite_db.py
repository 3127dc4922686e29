"""One SQLite file, as the store uses it: connections, threads, transactions.

One writer thread owns the only connection that writes, so this process never
contends with itself for the write lock. Writes queue for it and it commits them in
groups: one `BEGIN IMMEDIATE` transaction per group, each write in a savepoint of its
own, one fsync for all (a cancelled request cannot leave a write half done); whatever
fails while a group runs, every write of it is answered, so none waits forever.
The queue is kept per user and a group takes their writes in turn, one each a round,
up to `GROUP_WRITES`: a user's write waits for one group at most, however many another
user has queued; past `QueueBounds.write_user` waiting writes of one user, or
`write_total` of all, a write is refused at once (429, 503: mnemo.admission).

Reads come in two sizes. A small read (`_read_small`: a key by its hash, a memory by
its id, a page that steps over at most `SMALL_READ_ROWS` index entries in order) runs
on the event loop's own thread, on a connection of its own: its SQL takes 5-40 µs, less
than the two thread switches of a pool (a request's hot reads then cost no hop). That
connection never waits for a lock (`busy_timeout = 0`; WAL readers meet one only in
rare moments such as a WAL reset), so the loop is never held waiting: a read it
cannot do at once goes to the pool. Every other read (searches, deep cold offsets,
exports, counts) runs on a small pool of threads, each with its own connection; WAL
mode lets them proceed while a write commits. Nothing else runs on the loop's
connection and no statement is left open on it (a read's statement is stepped to its
end), so it never holds a snapshot that a checkpoint would wait for.

Writers of other processes on the same file (server workers, the CLI) take turns on a
lock file, `<file>-writelock` (`filelock`), for up to the busy timeout.

No commit checkpoints the WAL (`wal_autocheckpoint = 0`): SQLite's automatic
checkpoint runs inside the commit that crosses 1,000 pages, copying them into the main
file and syncing it while the writer waits, and the writes queued behind it with it
(creates at 32 connections: p99 ~230 ms, ~80 ms without it). A thread of its own
(`mnemo-sqlite-checkpointer`) runs a `PASSIVE` checkpoint instead, at most once every
`CHECKPOINT_INTERVAL_S` while there are writes: it never waits for a lock and never
holds the writer, which goes on appending to the WAL meanwhile.

Deleted content is zeroed in the main file (`secure_delete`), and a checkpoint
that truncates the write-ahead log follows every write that removes text (a delete,
and every update: it rewrites the row and its stored JSON, whichever fields changed)
within about a second, so the old bytes leave the WAL too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import filelock
from sqlean import dbapi2 as sqlite3

from mnemo.admission import QueueBounds, admit_write
from mnemo.errors import MnemoError, StoreError, StoreUnavailable
from mnemo.store import migrations, vec0_upgrade
from mnemo.store.base import OnError, ignore_error

log = logging.getLogger(__name__)
T = TypeVar("T")

_UNAVAILABLE_HINTS = ("locked", "busy", "disk", "readonly", "unable to open", "full", "i/o")
_PURGE_DELAY_S = 0.5
# The most rows a read on the event loop's thread may step over (module docstring):
# a page that ends before the bookmarks' first offset (store/bookmarks.py), or that
# many rows after a bookmark.
SMALL_READ_ROWS = 200
_MMAP_BYTES = 1 << 30
GROUP_WRITES = 64  # the most writes one group commits
CHECKPOINT_INTERVAL_S = 1.0  # the least time between two background checkpoints

_Job = tuple[Callable[..., Any], tuple[Any, ...], Any, Any]


def _translate(error: sqlite3.Error, path: str) -> StoreError:
    """The project's error for a driver error on the file at `path`, saying what failed."""
    message = str(error).lower()
    if isinstance(error, sqlite3.OperationalError) and any(
        hint in message for hint in _UNAVAILABLE_HINTS
    ):
        log.warning("sqlite unavailable: %s", error)
        return StoreUnavailable(f"the SQLite database {path} is unavailable: {error}")
    log.error("sqlite error: %r", error)
    return StoreError(f"the SQLite database {path} failed: {error}")


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


class SQLiteDatabase:
    """One SQLite file: the connections, threads and transactions of the module
    docstring. `SQLiteStore` adds the SQL."""

    """Store on one SQLite file; see the module docstring for the concurrency model."""

    def __init__(
        self,
        path: str,
        *,
        busy_timeout_ms: int = 30_000,
        synchronous: str = "FULL",
        read_connections: int = 4,
        bounds: QueueBounds = QueueBounds(),  # noqa: B008 (frozen)
        on_error: OnError = ignore_error,
    ) -> None:
        """`on_error(operation, unavailable)`: told of every failure of the database
        (`OnError`), from any thread."""
        self.path = path
        self.bounds = bounds
        self._on_error = on_error
        self._busy_timeout_ms = busy_timeout_ms
        self._synchronous = synchronous
        self._read_connections = read_connections
        self._local = threading.local()
        self._lock: filelock.BaseFileLock | None = None
        self._lock_failed = False  # the lock file could not be made: SQLite's locking only
        self._connections: list[sqlite3.Connection] = []
        self._connections_lock = threading.Lock()
        self._writer: ThreadPoolExecutor | None = None
        self._readers: ThreadPoolExecutor | None = None
        self._checkpointer: ThreadPoolExecutor | None = None
        self._checkpoint_lock = threading.Lock()
        self._checkpointing = False  # a background checkpoint is queued or running
        self._checkpointed_at = -CHECKPOINT_INTERVAL_S  # when the last one was queued
        # Writes waiting for the writer, by user (None: the server's own), users in the
        # order they are served next.
        self._queues: dict[str | None, deque[_Job]] = {}
        self._waiting = 0
        self._queue_lock = threading.Lock()
        self._purge_wanted = asyncio.Event()
        self._purger: asyncio.Task[None] | None = None
        self._loop_conn: sqlite3.Connection | None = None  # small reads (module docstring)
        self._loop_thread: int | None = None

    # -- connections -------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        """This thread's connection (the writer's, a reader's), opened on first use. A
        file that cannot be opened (its folder cannot be made, it is not a database...)
        is `StoreUnavailable` naming the file and the cause."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._open()
            self._local.conn = conn
        return conn

    def _open(self) -> sqlite3.Connection:
        try:
            return self._connect()
        except (OSError, sqlite3.Error) as error:
            reason = _reason(error)
            folder = Path(self.path).parent
            if folder.is_dir() and not os.access(folder, os.W_OK):
                reason += f" (its folder {folder} is not writable)"
            self._on_error("connect", True)
            raise StoreUnavailable(
                f"cannot open the SQLite database {self.path}: {reason}"
            ) from error

    def _failed(self, error: sqlite3.Error, operation: str) -> StoreError:
        """`_translate(error)`, told to `on_error` as a failure of `operation`."""
        translated = _translate(error, self.path)
        self._on_error(operation, isinstance(translated, StoreUnavailable))
        return translated

    def _connect(self) -> sqlite3.Connection:
        busy_timeout_ms = self._busy_timeout_ms
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
        conn.execute("PRAGMA wal_autocheckpoint = 0")  # the checkpointer's (module)
        # Reads map the file instead of copying each page: a vector search scans
        # ~1.5 KB a memory (10,000 memories: 10.6 -> 7.1 ms measured).
        conn.execute(f"PRAGMA mmap_size = {_MMAP_BYTES}")
        conn.execute("PRAGMA foreign_keys = ON")
        # Temporary tables (the keyword search's materialised hits, sorts) in memory, as
        # SQLite builds with TEMP_STORE=3 keep them; sqlean's (TEMP_STORE=1) uses files.
        conn.execute("PRAGMA temp_store = MEMORY")
        with self._connections_lock:
            self._connections.append(conn)
        return conn

    def _in_thread(self, fn: Callable[..., T], args: tuple[Any, ...], operation: str = "read") -> T:
        """Run `fn(conn, *args)` on this thread's connection (reads, checkpoints: a
        `write` operation). `fn` must not return a cursor: cursors are bound to the
        connection's thread."""
        try:
            return fn(self._connection(), *args)
        except sqlite3.Error as error:
            raise self._failed(error, operation) from error

    def _take_group(self) -> list[_Job]:
        """The next group: users' waiting writes in turn, one each a round, up to
        `GROUP_WRITES`; a user served goes to the back of the line."""
        group: list[_Job] = []
        with self._queue_lock:
            while self._queues and len(group) < GROUP_WRITES:
                owner = next(iter(self._queues))
                jobs = self._queues.pop(owner)
                group.append(jobs.popleft())
                if jobs:
                    self._queues[owner] = jobs
            self._waiting -= len(group)
        return group

    def _commit_group(self) -> None:
        """On the writer thread: run the next group of queued writes (`_take_group`),
        each in a savepoint of one transaction, and commit them together: one fsync for
        the group (group commit).
        A write that fails rolls back to its savepoint alone; any other failure (opening
        the file, the lock, the commit, of any exception type) fails all: every write
        taken here is answered, whatever happens."""
        group = self._take_group()
        if not group:
            return  # an earlier group took this job already
        try:
            outcomes = self._run_group(group)
        except BaseException as error:
            failure = self._group_failure(error)
            _answer(group, [(False, failure)] * len(group))
            if not isinstance(error, Exception):
                raise
            return
        _answer(group, outcomes)
        self._checkpoint_later()

    def _run_group(self, group: list[_Job]) -> list[tuple[bool, Any]]:
        outcomes: list[tuple[bool, Any]] = []
        conn = self._connection()
        try:
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
                                self._failed(error, "write")
                                if isinstance(error, sqlite3.Error)
                                else error,
                            )
                        )
                    conn.execute("RELEASE job")
                conn.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(Exception):
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
            raise
        return outcomes

    def _group_failure(self, error: BaseException) -> MnemoError:
        """What every write of a group that failed as a whole is answered with."""
        if isinstance(error, MnemoError):
            return error  # already says what failed (e.g. the file cannot be opened)
        if isinstance(error, sqlite3.Error):
            return self._failed(error, "write")
        log.error("the SQLite writer failed on %s", self.path, exc_info=error)
        self._on_error("write", False)
        return StoreError(f"the SQLite writer failed on {self.path}: {_reason(error)}")

    @contextlib.contextmanager
    def _processes_lock(self) -> Iterator[None]:
        """Writers of all processes on this file take turns on `<file>-writelock`, tried
        every millisecond: SQLite's own busy handler sleeps up to 100 ms between tries
        and let writes of several workers wait seconds. Without the lock file (a
        read-only directory), SQLite's locking alone still keeps writes safe."""
        if self._lock_failed:
            yield
            return
        if self._lock is None:
            self._lock = filelock.FileLock(f"{self.path}-writelock", mode=0o600)
        try:
            self._lock.acquire(timeout=self._busy_timeout_ms / 1000, poll_interval=0.001)
        except filelock.Timeout:
            raise sqlite3.OperationalError("database is locked") from None
        except OSError as error:
            log.warning("no write lock file, relying on SQLite's locking: %s", error)
            self._lock_failed = True
            yield
            return
        try:
            yield
        finally:
            self._lock.release()

    # -- checkpoints off the writer (module docstring) ---------------------

    def _checkpoint_later(self) -> None:
        """After a commit: queue a background checkpoint, unless one is queued or
        running, or the last was queued less than `CHECKPOINT_INTERVAL_S` ago."""
        now = time.monotonic()
        with self._checkpoint_lock:
            if self._checkpointing or now - self._checkpointed_at < CHECKPOINT_INTERVAL_S:
                return
            self._checkpointing, self._checkpointed_at = True, now
        checkpointer = self._checkpointer
        if checkpointer is not None:
            with contextlib.suppress(RuntimeError):  # shut down: close() checkpoints
                checkpointer.submit(self._checkpoint_passive)
                return
        with self._checkpoint_lock:
            self._checkpointing = False

    def _checkpoint_passive(self) -> None:
        """On the checkpointer thread: copy what it can of the WAL into the main file,
        waiting for nobody (another process's checkpoint, a reader's snapshot)."""
        try:
            self._connection().execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        except (sqlite3.Error, MnemoError) as error:  # the next commit queues another
            log.debug("background checkpoint of %s: %s", self.path, error)
        finally:
            with self._checkpoint_lock:
                self._checkpointing = False

    async def _read(self, fn: Callable[..., T], *args: Any) -> T:
        assert self._readers is not None, "store is not open"
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._readers, self._in_thread, fn, args)

    async def _read_small(self, fn: Callable[..., T], *args: Any) -> T:
        """A small read (module docstring) on the event loop's own thread and connection;
        on the pool when called from another thread or when it would wait for a lock.
        `fn` must step its statements to their end (`fetchall`, or `fetchone` of a
        statement that has at most one row)."""
        conn = self._loop_conn
        if conn is not None and threading.get_ident() == self._loop_thread:
            try:
                return fn(conn, *args)
            except sqlite3.Error as error:
                if not _is_locked(error):
                    raise self._failed(error, "read") from error
        return await self._read(fn, *args)

    async def _write(self, fn: Callable[..., T], *args: Any, user_id: str | None = None) -> T:
        """Run `fn(conn, *args)` in a write transaction; returns once it is durable. A
        user's write (`user_id`) is refused at once past the queue's bounds (module)."""
        assert self._writer is not None, "store is not open"
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        with self._queue_lock:
            queued = self._queues.get(user_id)
            if user_id is not None:
                admit_write(self.bounds, len(queued) if queued else 0, self._waiting)
            if queued is None:
                queued = self._queues[user_id] = deque()
            queued.append((fn, args, future, loop))
            self._waiting += 1
        self._writer.submit(self._commit_group)
        return await future

    # -- lifecycle ---------------------------------------------------------

    async def open(self) -> None:
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="mnemo-sqlite-writer")
        self._readers = ThreadPoolExecutor(
            self._read_connections, thread_name_prefix="mnemo-sqlite-reader"
        )
        self._checkpointer = ThreadPoolExecutor(1, thread_name_prefix="mnemo-sqlite-checkpointer")
        try:
            await self._write(_migrate)
            # Opened after the migrations, so that the file is in WAL mode already.
            self._loop_conn = self._open()
            self._loop_conn.execute("PRAGMA busy_timeout = 0")
        except BaseException:
            self._release()
            raise
        self._loop_thread = threading.get_ident()
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
        self._release()

    def _release(self) -> None:
        """Stop the threads and close every connection and the lock file."""
        for pool in (self._writer, self._readers, self._checkpointer):  # the writer first:
            if pool is not None:  # it may queue a checkpoint until it stops
                pool.shutdown(wait=True)
        self._writer = self._readers = self._checkpointer = None
        with self._connections_lock:
            for conn in self._connections:
                with contextlib.suppress(sqlite3.Error):
                    conn.close()
            self._connections.clear()
        self._local = threading.local()
        self._loop_conn, self._loop_thread = None, None
        self._lock, self._lock_failed = None, False

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
            "write",
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
            except Exception:  # whatever it was, deleted bytes still need purging
                log.exception("WAL checkpoint failed on %s", self.path)
                done = False
            if not done:
                self._purge_wanted.set()

    def _purge_soon(self) -> None:
        self._purge_wanted.set()


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


def _reason(error: BaseException) -> str:
    """An error's own words, for a message; a file in the way of a folder said plainly."""
    if isinstance(error, FileExistsError):
        return f"{error.filename} is not a folder"
    return str(error) or type(error).__name__


def _answer(group: list[tuple[Any, Any, Any, Any]], outcomes: list[tuple[bool, Any]]) -> None:
    for (_, _, future, loop), (ok, value) in zip(group, outcomes, strict=True):
        with contextlib.suppress(RuntimeError):  # that caller's loop is closed: none waits
            loop.call_soon_threadsafe(_settle, future, ok, value)


def _settle(future: asyncio.Future[Any], ok: bool, value: Any) -> None:
    if not future.done():  # the caller may have been cancelled; the write stands
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)


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
    tables = [
        row[0]
        for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'"
            " AND name NOT LIKE 'sqlite!_%' ESCAPE '!'"
        )
    ]
    if "schema_migrations" not in tables:
        migrations.refuse_foreign(tables, "a file")
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL,"
        " checksum TEXT)"
    )
    _check_applied(conn)
    current = _schema_version(conn)
    for migration in migrations.load("sqlite"):
        if migration.version <= current:
            continue
        for statement in _statements(migration.sql):
            conn.execute(statement)
        if migration.version == vec0_upgrade.VERSION:
            vec0_upgrade.copy_vectors(conn)
        conn.execute(
            "INSERT INTO schema_migrations (version, name, applied_at, checksum)"
            " VALUES (?, ?, datetime('now'), ?)",
            (migration.version, migration.name, migration.checksum),
        )
        log.info("applied sqlite migration %04d_%s", migration.version, migration.name)


def _check_applied(conn: sqlite3.Connection) -> None:
    """Refuse a schema newer than this code or an applied migration that changed since
    (`migrations.unrecorded`); record the checksums of migrations applied before mnemo
    recorded them, adding the column to a table made before it existed."""
    columns = {row[1] for row in conn.execute("PRAGMA table_info(schema_migrations)")}
    if "checksum" not in columns:
        conn.execute("ALTER TABLE schema_migrations ADD COLUMN checksum TEXT")
    applied = dict(conn.execute("SELECT version, checksum FROM schema_migrations").fetchall())
    for migration in migrations.unrecorded(applied, migrations.load("sqlite")):
        conn.execute(
            "UPDATE schema_migrations SET checksum = ? WHERE version = ?",
            (migration.checksum, migration.version),
        )
