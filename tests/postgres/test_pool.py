"""A connection goes back to the pool without a reset query: mnemo keeps no session
state, so asyncpg's default reset (`RESET ALL`, `UNLISTEN *`, ...) would be one more
round trip per request."""

from __future__ import annotations

from mnemo import Settings
from mnemo.clock import new_id, now_us
from mnemo.store import User, store_for
from mnemo.store.postgres import PAGE_SQL
from tests import pg


async def test_a_released_connection_ran_no_reset_query() -> None:
    schema, url = pg.create_schema()
    store = store_for(Settings(database_url=url, postgres_pool_size=1))
    await store.open()
    try:
        user = await store.create_user(User(id=new_id(), name="alice", created_at=now_us()))
        assert await store.list_memories_json(user.id, [], 25, 0) == b"[]"
        # The server's record of the pool's one connection: its last statement is the
        # page's, not a reset run when the connection was released.
        rows = pg.fetch(
            pg.SERVER,
            "SELECT query FROM pg_stat_activity"
            f" WHERE application_name = 'mnemo_{schema}' AND backend_type = 'client backend'",
        )
        assert [query for (query,) in rows] == [PAGE_SQL]
    finally:
        await store.close()
        pg.drop_schema(schema)
