"""A database this code cannot vouch for is refused, on both backends: a schema newer
than the code (a later mnemo upgraded it), or an applied migration that differs from
this code's file (its recorded sha256). Refusing changes nothing; migrations applied
before checksums were recorded get theirs on the first open."""

from __future__ import annotations

import asyncio
import hashlib
import shutil
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from mnemo import Settings, __version__
from mnemo.errors import StoreError
from mnemo.store import store_for
from mnemo.store.migrations import load
from tests import pg

FIXTURES = Path(__file__).parent.parent / "fixtures"
ROWS = "SELECT version, name, applied_at, checksum FROM schema_migrations ORDER BY version"


def _backend(database_url: str) -> str:
    return "sqlite" if database_url.startswith("sqlite") else "postgres"


def _execute(database_url: str, sql: str) -> None:
    """Run a statement directly on the database, committed."""
    if database_url.startswith("sqlite:///"):
        with closing(sqlite3.connect(database_url.removeprefix("sqlite:///"))) as conn:
            conn.execute(sql)
            conn.commit()
    else:
        pg.run_sql(database_url.split("search_path=", 1)[1].split("&", 1)[0], sql)


async def _open_and_close(database_url: str) -> None:
    store = store_for(Settings(database_url=database_url))
    await asyncio.wait_for(store.open(), 60)  # a hang fails the test
    await store.close()


async def _refusal(database_url: str) -> str:
    store = store_for(Settings(database_url=database_url))
    with pytest.raises(StoreError) as refused:
        await asyncio.wait_for(store.open(), 60)
    return refused.value.detail


async def test_a_new_database_records_each_migration_checksum(database_url: str) -> None:
    await _open_and_close(database_url)
    recorded = pg.fetch(database_url, "SELECT version, checksum FROM schema_migrations")
    expected = [
        (m.version, hashlib.sha256(m.sql.encode()).hexdigest())
        for m in load(_backend(database_url))
    ]
    assert sorted(recorded) == expected


async def test_a_schema_newer_than_the_code_is_refused(database_url: str) -> None:
    await _open_and_close(database_url)
    known = len(load(_backend(database_url)))
    _execute(
        database_url,
        "INSERT INTO schema_migrations (version, name, applied_at)"
        f" VALUES ({known + 3}, 'from_the_future', '2027-01-01')",
    )
    before = pg.fetch(database_url, ROWS)
    for _ in range(2):  # refused every time, not only the first
        assert await _refusal(database_url) == (
            f"this database has schema version {known + 3}, newer than this mnemo"
            f" ({__version__}) knows ({known}): upgrade mnemo"
        )
    assert pg.fetch(database_url, ROWS) == before


async def test_an_applied_migration_that_changed_is_refused(database_url: str) -> None:
    await _open_and_close(database_url)
    migration = load(_backend(database_url))[1]
    other = hashlib.sha256(b"-- the file as another build had it\n").hexdigest()
    _execute(
        database_url,
        f"UPDATE schema_migrations SET checksum = '{other}' WHERE version = {migration.version}",
    )
    before = pg.fetch(database_url, ROWS)
    assert await _refusal(database_url) == (
        f"migration {migration.version:04d}_{migration.name} was changed after it was"
        f" applied to this database (sha256 {other[:12]} when applied,"
        f" {migration.checksum[:12]} in mnemo {__version__}): refusing to use a schema"
        " this code may not match; reinstall mnemo unmodified"
    )
    assert pg.fetch(database_url, ROWS) == before
    _execute(
        database_url,
        f"UPDATE schema_migrations SET checksum = '{migration.checksum}'"
        f" WHERE version = {migration.version}",
    )
    await _open_and_close(database_url)  # the same file again: accepted


async def test_migrations_applied_before_checksums_get_them_on_first_open(
    database_url: str,
) -> None:
    """A version-1 database of a mnemo that recorded no checksums (its table has no
    such column), and a newer one whose checksums are missing: both are filled in."""
    if database_url.startswith("sqlite:///"):
        shutil.copy(FIXTURES / "schema_v1.sqlite", database_url.removeprefix("sqlite:///"))
    else:
        schema = database_url.split("search_path=", 1)[1].split("&", 1)[0]
        pg.run_sql(schema, (FIXTURES / "schema_v1_postgres.sql").read_text())
    columns = "SELECT version, name, applied_at FROM schema_migrations"
    (v1,) = pg.fetch(database_url, columns)
    expected = [(m.version, m.checksum) for m in load(_backend(database_url))]
    await _open_and_close(database_url)
    assert sorted(pg.fetch(database_url, "SELECT version, checksum FROM schema_migrations")) == (
        expected
    )
    assert pg.fetch(database_url, f"{columns} WHERE version = 1") == [v1]  # kept as it was

    _execute(database_url, "UPDATE schema_migrations SET checksum = NULL WHERE version <= 2")
    await _open_and_close(database_url)
    assert sorted(pg.fetch(database_url, "SELECT version, checksum FROM schema_migrations")) == (
        expected
    )
