"""Rate limits: headers on every limited response, the 429, presets, failed logins."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from mnemo import Settings, create_app
from mnemo.auth import issue_key
from tests.helpers import MEMORIES, create

HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")


async def _started(settings: Settings) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            yield app, client


@pytest.fixture
async def omi(database_url: str) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    settings = Settings(database_url=database_url, rate_limit_preset="omi")
    async for pair in _started(settings):
        yield pair


async def _key(app: FastAPI, user: str = "alice") -> dict[str, str]:
    _, secret = await issue_key(app.state.mnemo.store, user)
    return {"Authorization": f"Bearer {secret}"}


async def test_every_limited_response_carries_the_headers(client, alice) -> None:
    memory = await create(client, alice)
    responses = [
        await client.get(MEMORIES, headers=alice),
        await client.get(f"{MEMORIES}/{memory['id']}", headers=alice),
        await client.get(f"{MEMORIES}/missing", headers=alice),
        await client.post(MEMORIES, json={"content": ""}, headers=alice),
        await client.patch(f"{MEMORIES}/{memory['id']}", json={}, headers=alice),
        await client.post(f"{MEMORIES}/batch", json={"memories": []}, headers=alice),
        await client.get(MEMORIES, params={"categories": "bogus"}, headers=alice),
    ]
    assert [r.status_code for r in responses] == [200, 200, 404, 422, 422, 200, 400]
    for response in responses:
        assert all(name in response.headers for name in HEADERS), response.headers
        assert "Retry-After" not in response.headers
    reads = [
        int(r.headers["X-RateLimit-Remaining"]) for r in responses if r.request.method == "GET"
    ]
    assert reads == sorted(reads, reverse=True) and len(set(reads)) == len(reads)
    assert "X-RateLimit-Limit" not in (await client.get("/healthz")).headers


async def test_omi_preset_reads_writes_and_batches(omi) -> None:
    app, client = omi
    headers = await _key(app)
    for i in range(120):
        response = await client.get(MEMORIES, headers=headers)
        assert response.status_code == 200
        assert response.headers["X-RateLimit-Limit"] == "120"
        assert response.headers["X-RateLimit-Remaining"] == str(119 - i)
        assert 0 < int(response.headers["X-RateLimit-Reset"]) <= 3600
    limited = await client.get(MEMORIES, headers=headers)
    assert limited.status_code == 429
    seconds = int(limited.headers["Retry-After"])
    assert 0 < seconds <= 3600
    assert limited.json() == {"detail": f"Rate limit exceeded. Try again in {seconds}s."}
    assert limited.headers["X-RateLimit-Remaining"] == "0"
    # writes and batches have their own budgets
    assert (await client.post(MEMORIES, json={"content": "x"}, headers=headers)).status_code == 200
    for _ in range(15):
        batch = await client.post(f"{MEMORIES}/batch", json={"memories": []}, headers=headers)
        assert batch.status_code == 200
    batch = await client.post(f"{MEMORIES}/batch", json={"memories": []}, headers=headers)
    assert batch.status_code == 429 and batch.headers["X-RateLimit-Limit"] == "15"
    # another key of the same user is counted on its own
    other = await _key(app)
    assert (await client.get(MEMORIES, headers=other)).status_code == 200


async def test_limits_are_configurable_and_windows_reset(database_url: str) -> None:
    settings = Settings(database_url=database_url, rate_limit_writes=2, rate_limit_window_s=1)
    async for app, client in _started(settings):
        headers = await _key(app)
        await asyncio.sleep(1 - (asyncio.get_running_loop().time() % 1) + 0.01)
        codes = [
            (await client.post(MEMORIES, json={"content": "x"}, headers=headers)).status_code
            for _ in range(3)
        ]
        if codes != [200, 200, 429]:  # a window boundary fell inside the loop: try once more
            await asyncio.sleep(1)
            codes = [
                (await client.post(MEMORIES, json={"content": "x"}, headers=headers)).status_code
                for _ in range(3)
            ]
        assert codes == [200, 200, 429]
        await asyncio.sleep(1.05)
        assert (
            await client.post(MEMORIES, json={"content": "x"}, headers=headers)
        ).status_code == 200


async def test_disabled_means_no_headers_and_no_limit(database_url: str) -> None:
    settings = Settings(
        database_url=database_url, rate_limit_enabled=False, rate_limit_preset="omi"
    )
    async for app, client in _started(settings):
        headers = await _key(app)
        for _ in range(130):
            response = await client.get(MEMORIES, headers=headers)
            assert response.status_code == 200
        assert "X-RateLimit-Limit" not in response.headers


async def test_failed_authentication_is_limited_per_address(database_url: str) -> None:
    settings = Settings(database_url=database_url, auth_failure_limit=5)
    async for app, client in _started(settings):
        good = await _key(app)
        bad = {"Authorization": "Bearer omi_dev_" + "e" * 32}
        for _ in range(5):
            assert (await client.get(MEMORIES, headers=bad)).status_code == 401
        blocked = await client.get(MEMORIES, headers=bad)
        assert blocked.status_code == 429 and "Retry-After" in blocked.headers
        assert blocked.json()["detail"].startswith("Rate limit exceeded. Try again in ")
        # while the address is blocked, guessing is pointless: even a valid key waits
        assert (await client.get(MEMORIES, headers=good)).status_code == 429
