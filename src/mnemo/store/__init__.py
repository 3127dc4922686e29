"""Storage backends behind one protocol; `store_for(settings)` picks one by URL."""

from __future__ import annotations

from mnemo.config import Settings
from mnemo.store.base import ALL_SCOPES, READ_SCOPE, WRITE_SCOPE, ApiKey, Store, User

__all__ = ["ALL_SCOPES", "READ_SCOPE", "WRITE_SCOPE", "ApiKey", "Store", "User", "store_for"]

SQLITE_PREFIX = "sqlite:///"
POSTGRES_PREFIXES = ("postgresql://", "postgres://")


def store_for(settings: Settings) -> Store:
    """A (not yet opened) store for `settings.database_url`."""
    url = settings.database_url
    if url.startswith(SQLITE_PREFIX):
        from mnemo.store.sqlite import SQLiteStore

        return SQLiteStore(
            url.removeprefix(SQLITE_PREFIX),
            busy_timeout_ms=settings.sqlite_busy_timeout_ms,
            synchronous=settings.sqlite_synchronous,
            read_connections=settings.sqlite_read_connections,
            vector_cache_bytes=settings.vector_cache_mb << 20,
        )
    if url.startswith(POSTGRES_PREFIXES):
        from mnemo.store.postgres import PostgresStore

        return PostgresStore(
            url,
            max_connections=settings.postgres_pool_size,
            vector_cache_bytes=settings.vector_cache_mb << 20,
        )
    raise ValueError(f"unsupported database URL {url!r}: use sqlite:///PATH or postgresql://...")
