"""Rate limits: headers on every limited response, the 429, presets, failed logins."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from mnemo import Settings, create_app
from mnemo.accounts import issue_key
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


async def test_concurrent_failed_authentications_get_at_most_the_limit_of_answers(
    database_url: str,
) -> None:
    # The failure is counted and decided in one step: of 300 bad keys at once, the
    # first 30 are told 401, the others 429; then the address is blocked.
    settings = Settings(database_url=database_url)
    async for app, client in _started(settings):
        good = await _key(app)
        answers = await asyncio.gather(
            *(
                client.get(MEMORIES, headers={"Authorization": f"Bearer omi_dev_{i:032x}"})
                for i in range(300)
            )
        )
        codes = [response.status_code for response in answers]
        assert codes.count(401) == settings.auth_failure_limit
        assert codes.count(429) == 300 - settings.auth_failure_limit
        limited = next(r for r in answers if r.status_code == 429)
        assert limited.json()["detail"].startswith("Rate limit exceeded. Try again in ")
        assert limited.headers["X-RateLimit-Limit"] == str(settings.auth_failure_limit)
        assert limited.headers["X-RateLimit-Remaining"] == "0"
        assert "Retry-After" in limited.headers
        assert (await client.get(MEMORIES, headers=good)).status_code == 429


def _batch(prefix: str, size: int = 25, length: int = 500) -> dict[str, object]:
    return {"memories": [{"content": f"{prefix} {i} ".ljust(length, "x")} for i in range(size)]}


async def test_the_character_budget_counts_what_each_write_embeds(database_url: str) -> None:
    settings = Settings(database_url=database_url, rate_limit_characters=30_000)
    async for app, client in _started(settings):
        headers = await _key(app)
        memory = await create(client, headers, content="a" * 500)  # 500 spent
        batch = await client.post(f"{MEMORIES}/batch", json=_batch("first"), headers=headers)
        assert batch.status_code == 200  # 13,000 spent
        # its own headers are the batch policy's; the budget shows once it refuses
        assert batch.headers["X-RateLimit-Limit"] == "600"
        patched = await client.patch(
            f"{MEMORIES}/{memory['id']}", json={"content": "b" * 500}, headers=headers
        )
        assert patched.status_code == 200  # 13,500 spent
        second = await client.post(f"{MEMORIES}/batch", json=_batch("second"), headers=headers)
        assert second.status_code == 200  # 26,000 spent, 4,000 left
        # a batch that does not fit is refused before any work, and spends nothing
        third = await client.post(f"{MEMORIES}/batch", json=_batch("third"), headers=headers)
        assert third.status_code == 429
        seconds = int(third.headers["Retry-After"])
        assert third.json() == {"detail": f"Rate limit exceeded. Try again in {seconds}s."}
        assert third.headers["X-RateLimit-Limit"] == "30000"
        assert third.headers["X-RateLimit-Remaining"] == "4000"
        assert third.headers["X-RateLimit-Reset"] == str(seconds)
        # what still fits is accepted
        small = await client.post(f"{MEMORIES}/batch", json=_batch("small", 8), headers=headers)
        assert small.status_code == 200  # 30,000 spent: the budget is used up exactly
        # invalid content is refused by its rules first (422), and spends nothing
        invalid = await client.post(MEMORIES, json={"content": "c" * 501}, headers=headers)
        assert invalid.status_code == 422
        for response in (
            await client.post(MEMORIES, json={"content": "c"}, headers=headers),
            await client.post(f"{MEMORIES}/batch", json=_batch("tiny", 1, 1), headers=headers),
            await client.patch(
                f"{MEMORIES}/{memory['id']}", json={"content": "e"}, headers=headers
            ),
        ):
            assert response.status_code == 429
            assert response.headers["X-RateLimit-Limit"] == "30000"
            assert response.headers["X-RateLimit-Remaining"] == "0"
        # what embeds nothing is not charged
        tags = await client.patch(
            f"{MEMORIES}/{memory['id']}", json={"tags": ["t"]}, headers=headers
        )
        assert tags.status_code == 200 and tags.json()["content"] == "b" * 500
        empty = await client.post(f"{MEMORIES}/batch", json={"memories": []}, headers=headers)
        assert empty.status_code == 200
        listed = (await client.get(MEMORIES, params={"limit": 1000}, headers=headers)).json()
        assert len(listed) == 1 + 25 + 25 + 8
        assert not any(m["content"].startswith(("third", "tiny", "c")) for m in listed)
        # another key has its own budget
        other = await _key(app)
        batch = await client.post(f"{MEMORIES}/batch", json=_batch("other"), headers=other)
        assert batch.status_code == 200
