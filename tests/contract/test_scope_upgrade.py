"""The migration that adds the conversations and action items scopes grants them to
every key made before it as its memories scopes were: read to a reader, write to a
writer, so that nothing a key could do before is refused, and nothing more is allowed.
The webhooks scopes are granted to no existing key (docs/webhooks.md, "Scopes"): an
endpoint sends memories to a URL of the key holder's choosing, so the operator gives
them with a new key."""

from __future__ import annotations

from contextlib import closing

from sqlean import dbapi2 as sqlite3

from mnemo import Settings
from mnemo.store import ALL_SCOPES, store_for
from tests import pg
from tests.contract.test_upgrade import _v1_database

_KEYS = {
    "reader": "memories:read",
    "writer": "memories:write",
}


def _insert_keys(database_url: str) -> None:
    rows = ", ".join(
        f"('k-{name}', 'user-alice', '{name}', 'omi_dev_{name}', 'hash-{name}', '{scopes}',"
        " 1700000000500000, NULL, NULL)"
        for name, scopes in _KEYS.items()
    )
    sql = f"INSERT INTO api_keys VALUES {rows}"
    if database_url.startswith("sqlite:///"):
        with closing(sqlite3.connect(database_url.removeprefix("sqlite:///"))) as conn:
            conn.execute(sql)
            conn.commit()
    else:
        schema = database_url.split("search_path=", 1)[1].split("&", 1)[0]
        pg.run_sql(schema, sql)


async def test_existing_keys_get_the_new_scopes_of_their_kind(database_url: str) -> None:
    _v1_database(database_url)
    _insert_keys(database_url)
    store = store_for(Settings(database_url=database_url))
    await store.open()
    try:
        keys = {key.name: key.scopes for key in await store.list_keys()}
    finally:
        await store.close()
    # it had both memories scopes: every scope but the webhooks ones
    assert keys["fixture"] == tuple(s for s in ALL_SCOPES if not s.startswith("webhooks:"))
    assert keys["reader"] == ("memories:read", "conversations:read", "action_items:read")
    assert keys["writer"] == ("memories:write", "conversations:write", "action_items:write")
