"""A connection goes back to the pool without a reset query: mnemo keeps no session
state, so asyncpg's default reset (`RESET ALL`, `UNLISTEN *`, ...) would be one more
round trip per request."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

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


async def test_a_write_rolled_back_to_break_a_deadlock_is_run_again() -> None:
    """Two writes that lock the same two rows in opposite orders: PostgreSQL breaks the
    deadlock by rolling one back, and the store runs that one again; both succeed."""
    schema, url = pg.create_schema()
    store = store_for(Settings(database_url=url))
    await store.open()
    try:
        first, second = [
            (await store.create_user(User(id=new_id(), name=name, created_at=now_us()))).id
            for name in ("alice", "bob")
        ]
        both_hold_one = asyncio.Barrier(2)
        runs: list[str] = []

        def locking(one: str, other: str) -> Callable[[Any], Awaitable[str]]:
            async def work(conn: Any) -> str:
                runs.append(one)
                await conn.execute("SELECT 1 FROM users WHERE id = $1 FOR UPDATE", one)
                if len(runs) <= 2:  # the first runs of both: each holds one row
                    await both_hold_one.wait()
                await conn.execute("SELECT 1 FROM users WHERE id = $1 FOR UPDATE", other)
                return one

            return work

        done = await asyncio.gather(
            store._write(locking(first, second)),  # noqa: SLF001 (the database layer's own)
            store._write(locking(second, first)),  # noqa: SLF001
        )
        assert done == [first, second]
        assert len(runs) == 3  # the one PostgreSQL rolled back ran again
    finally:
        await store.close()
        pg.drop_schema(schema)
