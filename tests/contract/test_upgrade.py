"""A database made by schema version 1 upgrades in place with its data intact."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

from mnemo import Settings
from mnemo.auth import hash_key
from mnemo.store import store_for
from mnemo.store.migrations import load
from tests import pg
from tests.contract.support import listed

FIXTURES = Path(__file__).parent.parent / "fixtures"
FIXTURE_KEY = "omi_dev_0123456789abcdef0123456789abcdef"


def _v1_database(database_url: str) -> None:
    """Put the committed version-1 database behind `database_url`."""
    if database_url.startswith("sqlite:///"):
        shutil.copy(FIXTURES / "schema_v1.sqlite", database_url.removeprefix("sqlite:///"))
    else:
        schema = database_url.split("search_path=", 1)[1].split("&", 1)[0]
        pg.run_sql(schema, (FIXTURES / "schema_v1_postgres.sql").read_text())


async def test_version_1_database_upgrades_with_data_intact(database_url: str) -> None:
    _v1_database(database_url)
    assert pg.fetch(database_url, "SELECT max(version) FROM schema_migrations") == [(1,)]
    store = store_for(Settings(database_url=database_url))
    await store.open()
    try:
        backend = "sqlite" if database_url.startswith("sqlite") else "postgres"
        assert await store.schema_version() == len(load(backend)) >= 2
        alice = await store.get_user("alice")
        bob = await store.get_user("bob")
        assert alice is not None and bob is not None
        memories = await listed(store, alice.id, [], 10, 0)
        assert [(m.content, m.category, m.edited) for m in memories] == [
            ("User is vegetarian", "system", False),
            ("User works at Acme", "work", True),
            ("User climbed Kilimanjaro in 2019", "interesting", False),
        ]
        assert memories[0].created_at.isoformat() == "2023-11-14T22:15:00+00:00"
        assert memories[2].tags == ["fixture", "t1"]
        (sister, portuguese) = await listed(store, bob.id, [], 10, 0)
        assert portuguese.content == "Usuário fala português 🇧🇷"
        assert sister.content == "User's sister Sarah lives in Portland"
        found = await store.key_by_hash(hash_key(FIXTURE_KEY))
        assert found is not None and found[0].user_name == "alice"
    finally:
        await store.close()


async def test_concurrent_starts_apply_each_migration_once(database_url: str) -> None:
    stores = [store_for(Settings(database_url=database_url)) for _ in range(4)]
    await asyncio.gather(*(store.open() for store in stores))
    try:
        versions = pg.fetch(database_url, "SELECT version FROM schema_migrations ORDER BY 1")
        backend = "sqlite" if database_url.startswith("sqlite") else "postgres"
        assert versions == [(m.version,) for m in load(backend)]
    finally:
        for store in stores:
            await store.close()
