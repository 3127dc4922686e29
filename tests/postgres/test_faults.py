"""PostgreSQL going away: clear 503s, no leaked connections, recovery when it returns."""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import pytest

from mnemo import Settings
from tests import pg
from tests.helpers import MEMORIES, create, serving
from tests.tcpproxy import TcpProxy

UNAVAILABLE = {"detail": "Database unavailable, try again shortly"}


@pytest.fixture
async def schema() -> AsyncIterator[str]:
    name, _ = pg.create_schema()
    try:
        yield name
    finally:
        pg.drop_schema(name)


@pytest.fixture
async def proxy() -> AsyncIterator[TcpProxy]:
    server = urlsplit(pg.SERVER)
    relay = TcpProxy(server.hostname or "127.0.0.1", server.port or 5432)
    await relay.restore()
    try:
        yield relay
    finally:
        await relay.cut()


async def test_database_away_gives_503_then_recovers(schema: str, proxy: TcpProxy) -> None:
    url = f"postgresql://postgres@127.0.0.1:{proxy.port}/test?search_path={schema}"
    async with serving(Settings(database_url=url, postgres_pool_size=4)) as (app, client, headers):
        memory = await create(client, headers, content="User is vegetarian")

        await proxy.cut()
        ready = await client.get("/readyz")
        assert (ready.status_code, ready.json()) == (503, {"detail": "Database unavailable"})
        assert (await client.get("/healthz")).status_code == 200
        for method, path, body in [
            ("GET", MEMORIES, None),
            ("POST", MEMORIES, {"content": "x", "category": "system"}),
            ("DELETE", f"{MEMORIES}/{memory['id']}", None),
        ]:
            response = await client.request(method, path, json=body, headers=headers)
            assert (response.status_code, response.json()) == (503, UNAVAILABLE), method

        await proxy.restore()
        assert (await client.get("/readyz")).status_code == 200
        listed = await client.get(MEMORIES, headers=headers)
        assert listed.status_code == 200 and listed.json() == [memory]
        await create(client, headers, content="User is back")
        pool = app.state.mnemo.store._pool
        assert pool.get_idle_size() == pool.get_size() <= 4


async def test_terminated_connections_are_replaced(schema: str) -> None:
    url = f"{pg.SERVER}?search_path={schema}&application_name=mnemo_kill_{schema}"
    async with serving(Settings(database_url=url, postgres_pool_size=4)) as (app, client, headers):
        memory = await create(client, headers)
        killed = pg.fetch(
            pg.SERVER,
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            f" WHERE application_name = 'mnemo_kill_{schema}'",
        )
        assert killed and all(row == (True,) for row in killed)
        # Reads retry once on a fresh connection: the user sees no error.
        listed = await client.get(MEMORIES, headers=headers)
        assert (listed.status_code, listed.json()) == (200, [memory])
        await create(client, headers, content="written after the kill")


async def test_no_connection_leaks_on_failing_requests(schema: str) -> None:
    url = f"{pg.SERVER}?search_path={schema}"
    async with serving(
        Settings(database_url=url, postgres_pool_size=3, auth_failure_limit=1000)
    ) as (app, client, headers):
        for i in range(60):
            responses = [
                await client.get(f"{MEMORIES}/missing-{i}", headers=headers),
                await client.patch(
                    f"{MEMORIES}/missing-{i}", json={"content": "x"}, headers=headers
                ),
                await client.post(MEMORIES, json={"content": ""}, headers=headers),
                await client.get(MEMORIES, params={"categories": "bad"}, headers=headers),
                await client.get(MEMORIES, headers={"Authorization": "Bearer omi_dev_" + "0" * 32}),
            ]
            assert [r.status_code for r in responses] == [404, 404, 422, 400, 401]
        pool = app.state.mnemo.store._pool
        assert pool.get_idle_size() == pool.get_size() <= 3
