"""Storage backends behind one protocol; `store_for(settings)` picks one by URL."""

from __future__ import annotations

import functools
from collections.abc import Callable

from mnemo.admission import QueueBounds
from mnemo.config import Settings
from mnemo.store.base import (
    ALL_SCOPES,
    READ_SCOPE,
    WRITE_SCOPE,
    ApiKey,
    OnError,
    Store,
    User,
    ignore_error,
)
from mnemo.urls import parse_database_url

__all__ = ["ALL_SCOPES", "READ_SCOPE", "WRITE_SCOPE", "ApiKey", "Store", "User", "store_for"]


def store_for(
    settings: Settings, on_error: Callable[[str, str, bool], None] | None = None
) -> Store:
    """A (not yet opened) store for `settings.database_url` (checked by `Settings`, by
    `mnemo.urls.parse_database_url`: `ValueError` for a URL that names no database).
    `on_error(backend, operation, unavailable)`: told of each failure of the database
    (`store.base.OnError`; backend: `sqlite` or `postgresql`)."""
    url = parse_database_url(settings.database_url)
    told: OnError = ignore_error
    if on_error is not None:
        told = functools.partial(on_error, url.kind)
    bounds = QueueBounds(
        embed_user=settings.embed_queue_user_limit,
        embed_total=settings.embed_queue_limit,
        write_user=settings.write_queue_user_limit,
        write_total=settings.write_queue_limit,
    )
    if url.kind == "sqlite":
        from mnemo.store.sqlite import SQLiteStore

        return SQLiteStore(
            url.path,
            busy_timeout_ms=settings.sqlite_busy_timeout_ms,
            synchronous=settings.sqlite_synchronous,
            read_connections=settings.sqlite_read_connections,
            vector_cache_bytes=settings.vector_cache_mb << 20,
            bounds=bounds,
            on_error=told,
        )
    from mnemo.store.postgres import PostgresStore

    return PostgresStore(
        url.url,
        max_connections=settings.postgres_pool_size,
        connect_timeout_s=settings.postgres_connect_timeout_s,
        vector_cache_bytes=settings.vector_cache_mb << 20,
        bounds=bounds,
        on_error=told,
    )
