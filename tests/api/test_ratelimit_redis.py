"""Counters in the real Redis: shared by every app, exact under concurrency, a busy or
slow Redis refused rather than guessed (503), and a Redis that is down failing open."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
import redis.asyncio as redis
from fastapi import FastAPI

from mnemo import Settings, create_app
from mnemo.accounts import issue_key
from mnemo.ratelimit import DOWN_AFTER_TIMEOUTS, RedisCounter
from tests.helpers import MEMORIES
from tests.tcpproxy import TcpProxy

REDIS_URL = "redis://127.0.0.1:6379/0"
Headers = dict[str, str]
Client = httpx.AsyncClient
DOWN = "redis is down"


def _client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


async def _stored(pattern: str) -> list[int]:
    direct = redis.Redis.from_url(REDIS_URL, decode_responses=True)
    try:
        return [int(await direct.get(key) or 0) for key in await direct.keys(pattern)]
    finally:
        await direct.aclose()


@contextlib.asynccontextmanager
async def _two_apps(settings: Settings) -> AsyncIterator[tuple[str, Headers, list[Client]]]:
    """Two started apps (two workers) with the same settings: a key's id and headers,
    and a client of each app."""
    first, second = create_app(settings), create_app(settings)
    async with first.router.lifespan_context(first), second.router.lifespan_context(second):
        record, secret = await issue_key(first.state.mnemo.store, "alice")
        async with _client(first) as one, _client(second) as two:
            yield record.id, {"Authorization": f"Bearer {secret}"}, [one, two]


@contextlib.asynccontextmanager
async def _behind_proxy(database_url: str) -> AsyncIterator[tuple[TcpProxy, FastAPI]]:
    """An app (not started) whose Redis is reached through a proxy the test can cut and
    restore, with 50 writes a day; the proxy is cut when the test ends."""
    proxy = TcpProxy("127.0.0.1", 6379)
    await proxy.restore()
    settings = Settings(
        database_url=database_url,
        redis_url=f"redis://127.0.0.1:{proxy.port}/0",
        rate_limit_writes=50,
        rate_limit_window_s=86_400,  # no window boundary inside the test
    )
    try:
        yield proxy, create_app(settings)
    finally:
        await proxy.cut()


async def test_two_apps_share_counters_through_redis(database_url: str) -> None:
    # a day-long window, so the 8 requests cannot straddle two windows
    settings = Settings(
        database_url=database_url,
        redis_url=REDIS_URL,
        rate_limit_writes=5,
        rate_limit_window_s=86_400,
    )
    async with _two_apps(settings) as (_, headers, clients):
        codes = [
            (
                await clients[i % 2].post(MEMORIES, json={"content": f"m{i}"}, headers=headers)
            ).status_code
            for i in range(8)
        ]
    assert codes == [200] * 5 + [429] * 3


async def test_an_exhausted_pool_queues_and_the_limit_stays_exact(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    # Two apps (two workers) with 2 Redis connections each, 300 reads at once on one
    # key: requests wait for a connection instead of counting locally. (A wait long
    # enough for a loaded test machine: past it they would be 503s, never guesses.)
    settings = Settings(
        database_url=database_url,
        redis_url=REDIS_URL,
        redis_max_connections=2,
        redis_timeout_s=60,
        rate_limit_reads=120,
        rate_limit_window_s=86_400,
    )
    async with _two_apps(settings) as (key_id, headers, clients):
        with caplog.at_level(logging.WARNING):
            answers = await asyncio.gather(
                *(clients[i % 2].get(MEMORIES, headers=headers) for i in range(300))
            )
    codes = [response.status_code for response in answers]
    assert codes.count(200) == 120 and codes.count(429) == 180, sorted(codes)
    assert DOWN not in caplog.text
    assert await _stored(f"mnemo:rl:reads:{key_id}:*") == [120]  # all counted in Redis


async def test_atomic_take_in_redis_spends_only_what_fits() -> None:
    counter = RedisCounter(REDIS_URL, max_connections=4)
    key = f"test:{uuid.uuid4()}"
    try:
        taken = await asyncio.gather(*(counter.take(key, 86_400, 1, 30) for _ in range(300)))
        assert sum(spent for _, spent, _ in taken) == 30
        assert max(total for total, _, _ in taken) == 30
        # a cost that does not fit spends nothing; a smaller one still fits
        cost_key = f"test:{uuid.uuid4()}"
        assert (await counter.take(cost_key, 86_400, 12_500, 20_000))[:2] == (12_500, True)
        assert (await counter.take(cost_key, 86_400, 12_500, 20_000))[:2] == (12_500, False)
        assert (await counter.take(cost_key, 86_400, 7_500, 20_000))[:2] == (20_000, True)
        assert (await counter.take(cost_key, 86_400, 0, 0))[:2] == (20_000, False)  # a peek
    finally:
        await counter.aclose()


@contextlib.asynccontextmanager
async def _silent_server() -> AsyncIterator[int]:
    """A TCP server that accepts connections and never answers (a hung Redis)."""
    held: list[asyncio.StreamWriter] = []

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        for writer in held:
            writer.transport.abort()
        server.close()
        await server.wait_closed()


async def test_a_slow_redis_is_refused_with_503_then_down_after_repeated_timeouts(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with _silent_server() as port:
        settings = Settings(
            database_url=database_url,
            redis_url=f"redis://127.0.0.1:{port}/0",
            redis_timeout_s=0.2,
            rate_limit_writes=50,
        )
        app = create_app(settings)
        async with app.router.lifespan_context(app), _client(app) as client:
            _, secret = await issue_key(app.state.mnemo.store, "alice")
            headers = {"Authorization": f"Bearer {secret}"}
            with caplog.at_level(logging.WARNING):
                answers = [
                    await client.post(MEMORIES, json={"content": f"m{i}"}, headers=headers)
                    for i in range(DOWN_AFTER_TIMEOUTS + 1)
                ]
            busy = answers[: DOWN_AFTER_TIMEOUTS - 1]
            for response in busy:  # slow is not down: no guess, nothing done
                assert response.status_code == 503
                assert response.json() == {"detail": "Rate limiter busy, try again shortly"}
                assert response.headers["Retry-After"] == "1"
            # the third timeout in a row means down: this process counts on its own
            assert [r.status_code for r in answers[len(busy) :]] == [200, 200]
            assert answers[-1].headers["X-RateLimit-Remaining"] == "48"
            assert DOWN in caplog.text
            listed = (await client.get(MEMORIES, headers=headers)).json()
            assert sorted(m["content"] for m in listed) == ["m2", "m3"]


async def test_redis_away_fails_open_and_sharing_resumes(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with _behind_proxy(database_url) as (proxy, app), app.router.lifespan_context(app):
        record, secret = await issue_key(app.state.mnemo.store, "alice")
        headers = {"Authorization": f"Bearer {secret}"}
        async with _client(app) as client:

            async def write() -> httpx.Response:
                return await client.post(MEMORIES, json={"content": "x"}, headers=headers)

            assert (await write()).headers["X-RateLimit-Remaining"] == "49"
            await proxy.cut()  # connections refused: down at the first failure
            with caplog.at_level(logging.WARNING):
                during = [await write() for _ in range(3)]
            assert [r.status_code for r in during] == [200, 200, 200]
            assert DOWN in caplog.text
            await proxy.restore()
            await asyncio.sleep(1.1)  # the limiter retries Redis after 1 s
            after = await write()
            assert after.status_code == 200
            assert after.headers["X-RateLimit-Remaining"] == "48"  # Redis counted 2 of them
        assert await _stored(f"mnemo:rl:writes:{record.id}:*") == [2]


async def test_a_redis_restart_is_not_an_outage(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    # Every pooled connection is dropped at once, and Redis answers new ones at once:
    # the stale connection is retried on a new one, nothing is counted locally.
    async with _behind_proxy(database_url) as (proxy, app):
        async with app.router.lifespan_context(app), _client(app) as client:
            record, secret = await issue_key(app.state.mnemo.store, "alice")
            headers = {"Authorization": f"Bearer {secret}"}
            assert (
                await client.post(MEMORIES, json={"content": "a"}, headers=headers)
            ).status_code == 200
            await proxy.cut()
            await proxy.restore()
            with caplog.at_level(logging.WARNING):
                after = await client.post(MEMORIES, json={"content": "b"}, headers=headers)
            assert after.status_code == 200 and after.headers["X-RateLimit-Remaining"] == "48"
            assert DOWN not in caplog.text
        assert await _stored(f"mnemo:rl:writes:{record.id}:*") == [2]
