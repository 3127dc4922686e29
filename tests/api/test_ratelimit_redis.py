"""Counters in the real Redis: shared by every app, and failing open when it goes away."""

from __future__ import annotations

import logging

import httpx
import pytest
import redis.asyncio as redis

from mnemo import Settings, create_app
from mnemo.auth import issue_key
from tests.helpers import MEMORIES
from tests.tcpproxy import TcpProxy

REDIS_URL = "redis://127.0.0.1:6379/0"


async def test_two_apps_share_counters_through_redis(database_url: str) -> None:
    # a day-long window, so the 8 requests cannot straddle two windows
    settings = Settings(
        database_url=database_url,
        redis_url=REDIS_URL,
        rate_limit_writes=5,
        rate_limit_window_s=86_400,
    )
    first, second = create_app(settings), create_app(settings)
    async with first.router.lifespan_context(first), second.router.lifespan_context(second):
        _, secret = await issue_key(first.state.mnemo.store, "alice")
        headers = {"Authorization": f"Bearer {secret}"}
        codes = []
        for i in range(8):
            app = (first, second)[i % 2]
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://t"
            ) as client:
                response = await client.post(MEMORIES, json={"content": f"m{i}"}, headers=headers)
                codes.append(response.status_code)
        assert codes == [200] * 5 + [429] * 3


async def test_redis_away_fails_open_and_sharing_resumes(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    proxy = TcpProxy("127.0.0.1", 6379)
    await proxy.restore()
    settings = Settings(
        database_url=database_url,
        redis_url=f"redis://127.0.0.1:{proxy.port}/0",
        rate_limit_writes=50,
        rate_limit_window_s=86_400,  # no window boundary inside the test
    )
    app = create_app(settings)
    try:
        async with app.router.lifespan_context(app):
            record, secret = await issue_key(app.state.mnemo.store, "alice")
            headers = {"Authorization": f"Bearer {secret}"}
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:

                async def write() -> httpx.Response:
                    return await client.post(MEMORIES, json={"content": "x"}, headers=headers)

                assert (await write()).headers["X-RateLimit-Remaining"] == "49"
                await proxy.cut()
                with caplog.at_level(logging.WARNING):
                    during = [await write() for _ in range(3)]
                assert [r.status_code for r in during] == [200, 200, 200]
                assert "redis unavailable" in caplog.text
                await proxy.restore()
                await __import__("asyncio").sleep(1.1)  # the limiter retries Redis after 1 s
                after = await write()
                assert after.status_code == 200
                assert after.headers["X-RateLimit-Remaining"] == "48"  # Redis counted 2 of them
            direct = redis.Redis.from_url(REDIS_URL, decode_responses=True)
            try:
                keys = await direct.keys(f"mnemo:rl:writes:{record.id}:*")
                assert keys and int(await direct.get(keys[0]) or 0) == 2
            finally:
                await direct.aclose()
    finally:
        await proxy.cut()
