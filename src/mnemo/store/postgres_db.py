"""The PostgreSQL connections: a pool of asyncpg connections, the translation of driver
errors, and the migrations.

Driver errors never leave the store: a lost or refused connection becomes
`StoreUnavailable` (503), anything else `StoreError` (a masked 500). When a
connection is lost, the pool's other connections are expired too (they likely died
with it) and a read is retried once on a fresh connection, so the service recovers
as soon as the server is back. A write that PostgreSQL rolled back to break a
deadlock is run again (`WRITE_ATTEMPTS`).

Each error's detail says what failed and names the server, never the user or password
(opening: refused, no answer within the connect timeout of 10 s, a database or role
that does not exist); over HTTP they answer with their fixed words (mnemo.app).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import asyncpg

from mnemo.errors import MnemoError, StoreError, StoreUnavailable
from mnemo.store import migrations
from mnemo.store.base import OnError, ignore_error

log = logging.getLogger(__name__)
T = TypeVar("T")
Connection = Any  # asyncpg.Connection / pool proxy; asyncpg ships no precise types

# Any number will do, as long as every mnemo process uses the same one.
_MIGRATION_LOCK = 0x6D6E656D6F  # "mnemo"
CONNECT_TIMEOUT_S = 10.0  # per connection attempt, TCP to authenticated session
_CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    asyncpg.exceptions.OperatorInterventionError,  # pg_terminate_backend, shutdown
    asyncpg.exceptions.InsufficientResourcesError,  # disk full, out of memory
    asyncpg.exceptions.ReadOnlySQLTransactionError,
)

# What PostgreSQL rolls back so that a transaction can simply be run again.
_ROLLED_BACK = (
    asyncpg.exceptions.DeadlockDetectedError,
    asyncpg.exceptions.SerializationError,
)
WRITE_ATTEMPTS = 3


class PostgresDatabase:
    """One PostgreSQL database: the pool, reads, writes, migrations. `PostgresStore`
    adds the SQL."""

    def __init__(
        self,
        dsn: str,
        *,
        min_connections: int = 1,
        max_connections: int = 10,
        connect_timeout_s: float = CONNECT_TIMEOUT_S,
        on_error: OnError = ignore_error,
    ) -> None:
        """`on_error(operation, unavailable)`: told of every failure (`OnError`)."""
        self._dsn = dsn
        self._on_error = on_error
        self._min = min_connections
        self._max = max_connections
        self._connect_timeout_s = connect_timeout_s
        self._pool: asyncpg.Pool | None = None

    # -- connections -------------------------------------------------------

    async def _new_pool(self) -> asyncpg.Pool:
        """A pool with its first connection made; failures say what failed, where (and
        are told to `on_error`)."""
        try:
            return await self._pool_or_error()
        except StoreError as error:
            self._on_error("connect", isinstance(error, StoreUnavailable))
            raise

    async def _pool_or_error(self) -> asyncpg.Pool:
        server = _server(self._dsn)
        try:
            return await asyncpg.create_pool(
                self._dsn,
                min_size=self._min,
                max_size=self._max,
                command_timeout=30,
                timeout=self._connect_timeout_s,
                reset=_keep_session,
                # The DSN may name the application itself (?application_name=...).
                server_settings=None
                if "application_name=" in self._dsn
                else {"application_name": "mnemo"},
            )
        except TimeoutError as error:
            log.warning("postgres unavailable: no answer from %s: %r", server, error)
            raise StoreUnavailable(
                f"cannot connect to PostgreSQL at {server}:"
                f" no answer within {self._connect_timeout_s:g} s"
            ) from error
        except _CONNECTION_ERRORS as error:
            log.warning("postgres unavailable: %r", error)
            raise StoreUnavailable(f"cannot connect to PostgreSQL at {server}: {error}") from error
        except asyncpg.PostgresError as error:
            log.error("postgres error: %r", error)
            raise StoreError(f"PostgreSQL at {server} refused the connection: {error}") from error
        except (ValueError, OverflowError) as error:  # asyncpg's parse of the DSN
            raise StoreError(f"invalid PostgreSQL URL: {error}") from error

    @asynccontextmanager
    async def _connection(self, operation: str) -> AsyncIterator[Connection]:
        """A pooled connection, released on every path; driver errors translated, and
        told to `on_error` as failures of `operation` (`read`, `write`)."""
        if self._pool is None:
            self._pool = await self._new_pool()
        try:
            async with self._pool.acquire() as conn:
                yield conn
        except MnemoError:
            raise
        except _CONNECTION_ERRORS as error:
            log.warning("postgres unavailable: %r", error)
            self._on_error(operation, True)
            if self._pool is not None:
                await self._pool.expire_connections()
            raise StoreUnavailable(
                f"PostgreSQL at {_server(self._dsn)} is unavailable: {_words(error)}"
            ) from error
        except asyncpg.PostgresError as error:
            log.error("postgres error: %r", error)
            self._on_error(operation, False)
            raise StoreError(f"PostgreSQL at {_server(self._dsn)} failed: {error}") from error

    async def _read(self, query: Callable[[Connection], Awaitable[T]]) -> T:
        """Run a read, retried once on a fresh connection if the first one was lost."""
        try:
            async with self._connection("read") as conn:
                return await query(conn)
        except StoreUnavailable:
            async with self._connection("read") as conn:
                return await query(conn)

    async def _write(self, work: Callable[[Connection], Awaitable[T]]) -> T:
        """Run `work` in one transaction. One that PostgreSQL rolled back to break a
        deadlock or a serialization conflict is run again, from the start, up to
        `WRITE_ATTEMPTS` times in all (it did not commit); a lost connection is never
        retried (the transaction may have committed)."""
        attempt = 1
        while True:
            async with self._connection("write") as conn:
                try:
                    async with conn.transaction():
                        return await work(conn)
                except _ROLLED_BACK as error:
                    if attempt == WRITE_ATTEMPTS:
                        raise
                    log.warning("postgres: %r; running the transaction again", error)
            attempt += 1

    # -- lifecycle ---------------------------------------------------------

    async def open(self) -> None:
        self._pool = await self._new_pool()
        try:
            await self._write(_migrate)
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()

    async def ping(self) -> None:
        await self._read(lambda conn: conn.fetchval("SELECT 1"))

    async def schema_version(self) -> int:
        return int(await self._read(lambda conn: conn.fetchval(_VERSION_SQL)))


async def _keep_session(conn: Connection) -> None:
    """A released connection's reset: none. mnemo keeps no session state (no SET, no
    session advisory locks, no LISTEN, no cursors left open), so asyncpg's default
    reset query (`RESET ALL`, `UNLISTEN *`, ...) would only cost a round trip per
    request. asyncpg still rolls back a transaction left open before calling this."""


_VERSION_SQL = "SELECT coalesce(max(version), 0) FROM schema_migrations"


async def _migrate(conn: Connection) -> None:
    """Apply pending migrations in the caller's transaction, one process at a time."""
    await conn.execute("SELECT pg_advisory_xact_lock($1)", _MIGRATION_LOCK)
    rows = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
    tables = [row["tablename"] for row in rows]
    if "schema_migrations" not in tables:
        migrations.refuse_foreign(tables, "a database (or a schema: ?search_path=mnemo)")
    await conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL,"
        " checksum TEXT)"
    )
    await _check_applied(conn)
    current = await conn.fetchval(_VERSION_SQL)
    for migration in migrations.load("postgres"):
        if migration.version <= current:
            continue
        await conn.execute(migration.sql)
        await conn.execute(
            "INSERT INTO schema_migrations (version, name, applied_at, checksum)"
            " VALUES ($1, $2, now()::text, $3)",
            migration.version,
            migration.name,
            migration.checksum,
        )
        log.info("applied postgres migration %04d_%s", migration.version, migration.name)


async def _check_applied(conn: Connection) -> None:
    """Refuse a schema newer than this code or an applied migration that changed since
    (`migrations.unrecorded`); record the checksums of migrations applied before mnemo
    recorded them, adding the column to a table made before it existed."""
    has_checksum = await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid ="
        " 'schema_migrations'::regclass AND attname = 'checksum' AND NOT attisdropped)"
    )
    if not has_checksum:
        await conn.execute("ALTER TABLE schema_migrations ADD COLUMN checksum TEXT")
    rows = await conn.fetch("SELECT version, checksum FROM schema_migrations")
    applied = {row["version"]: row["checksum"] for row in rows}
    for migration in migrations.unrecorded(applied, migrations.load("postgres")):
        await conn.execute(
            "UPDATE schema_migrations SET checksum = $1 WHERE version = $2",
            migration.checksum,
            migration.version,
        )


def _words(error: BaseException) -> str:
    """An error's own words (a timeout has none)."""
    return str(error) or type(error).__name__


def _server(dsn: str) -> str:
    """The host:port part of a PostgreSQL URL (no user, password or options), for
    messages."""
    netloc = dsn.partition("://")[2].partition("/")[0].partition("?")[0]
    return netloc.rpartition("@")[2] or "the default host (PGHOST or the socket)"
