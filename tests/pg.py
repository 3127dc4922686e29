"""Throwaway PostgreSQL schemas on the real server, one per test."""

from __future__ import annotations

import asyncio
import os
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing

import asyncpg

SERVER = os.environ.get("MNEMO_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


def _run(statement: str) -> None:
    async def execute() -> None:
        conn = await asyncpg.connect(SERVER, timeout=10)
        try:
            await conn.execute(statement)
        finally:
            await conn.close()

    # A thread of its own: the caller may be inside a running event loop.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, execute()).result()


def create_schema() -> tuple[str, str]:
    """A new empty schema and a database URL whose connections use it."""
    schema = f"t_{uuid.uuid4().hex[:16]}"
    try:
        _run(f'CREATE SCHEMA "{schema}"')
    except (OSError, asyncpg.PostgresError) as error:
        raise RuntimeError(
            f"PostgreSQL at {SERVER} is required for the postgres tests and is not reachable: "
            f"{error!r}"
        ) from error
    return schema, f"{SERVER}?search_path={schema}&application_name=mnemo_{schema}"


def drop_schema(schema: str) -> None:
    _run(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def run_sql(schema: str, sql: str) -> None:
    _run(f'SET search_path TO "{schema}"; {sql}')


def fetch(database_url: str, sql: str) -> list[tuple[object, ...]]:
    """Rows of a query run directly on the database behind `database_url` (either backend)."""
    if database_url.startswith("sqlite:///"):
        from sqlean import dbapi2 as sqlite3  # mnemo's own SQLite, not the system's

        with closing(sqlite3.connect(database_url.removeprefix("sqlite:///"))) as conn:
            return conn.execute(sql).fetchall()

    async def query() -> list[tuple[object, ...]]:
        conn = await asyncpg.connect(database_url, timeout=10)
        try:
            return [tuple(row) for row in await conn.fetch(sql)]
        finally:
            await conn.close()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, query()).result()
