"""A body that is not received whole within MNEMO_BODY_TIMEOUT_S is a 408 in the
documented shape and changes nothing, on every route that reads a body."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from mnemo.config import Settings
from tests.helpers import MEMORIES, create, list_all

BODY_TIMEOUT_S = 0.3
TIMED_OUT = {"detail": "Request body not received within 0.3 s"}


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, body_timeout_s=BODY_TIMEOUT_S)


def _stalling(start: bytes) -> AsyncIterator[bytes]:
    """A body that sends its start, then nothing for longer than the timeout."""

    async def chunks() -> AsyncIterator[bytes]:
        yield start
        await asyncio.sleep(BODY_TIMEOUT_S * 20)
        yield b"}"

    return chunks()


async def test_a_stalled_body_is_a_408_and_nothing_changes(client: httpx.AsyncClient, alice):
    kept = await create(client, alice, content="User keeps this one")
    json = {**alice, "Content-Type": "application/json"}
    for method, path, start in (
        ("POST", MEMORIES, b'{"content": "User never finishes'),
        ("POST", MEMORIES + "/batch", b'{"memories": [{"content": "User never'),
        ("PATCH", f"{MEMORIES}/{kept['id']}", b'{"content": "User changed'),
    ):
        response = await client.request(method, path, content=_stalling(start), headers=json)
        assert (response.status_code, response.json()) == (408, TIMED_OUT), (method, path)
        assert response.headers["connection"] == "close"
    assert await list_all(client, alice) == [kept]


async def test_a_body_sent_in_pieces_within_the_timeout_is_read(client, alice) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for piece in (b'{"content": ', b'"User sends ', b'slowly"}'):
            yield piece
            await asyncio.sleep(BODY_TIMEOUT_S / 10)

    headers = {**alice, "Content-Type": "application/json"}
    response = await client.post(MEMORIES, content=chunks(), headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["content"] == "User sends slowly"
