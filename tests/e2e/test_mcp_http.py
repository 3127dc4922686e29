"""`/mcp` of a real `mnemo serve`, driven by the MCP SDK's streamable HTTP client: every
tool, the door (no key, a bad or revoked key: 401), a read-only key, another user."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import httpx2
import pytest
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client

from tests.e2e.server import Server, start_server
from tests.e2e.test_mcp_stdio import (
    check_keys,
    exercise_every_tool,
    failed,
    make_key,
    ok,
    revoke_user_keys,
)

pytestmark = pytest.mark.e2e

INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "test", "version": "0"},
    },
}
MCP_HEADERS = {"Accept": "application/json, text/event-stream"}


@asynccontextmanager
async def http_session(base: str, key: str) -> AsyncIterator[ClientSession]:
    headers = {"Authorization": f"Bearer {key}"}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=60) as http,
        streamable_http_client(f"{base}/mcp", http_client=http) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        yield session


async def test_every_tool_over_streamable_http(server: Server) -> None:
    assert server.first_key
    async with http_session(server.base, server.first_key) as session:
        await exercise_every_tool(session, over_http=True)


def test_the_door_answers_401_without_a_valid_key(server: Server) -> None:
    url = f"{server.base}/mcp"
    for headers in (
        {},
        {"Authorization": "Bearer omi_dev_" + "0" * 32},
        {"Authorization": "Basic abc"},
        {"Authorization": "Bearer " + "x" * 5000},
    ):
        answer = httpx.post(url, json=INITIALIZE, headers={**MCP_HEADERS, **headers})
        assert answer.status_code == 401, answer.text
        assert isinstance(answer.json()["detail"], str)
    assert server.first_key
    good = {**MCP_HEADERS, "Authorization": f"Bearer {server.first_key}"}
    answer = httpx.post(url, json=INITIALIZE, headers=good)
    assert answer.status_code == 200 and answer.json()["result"]["serverInfo"]["name"] == "mnemo"
    for body in (b"{not json", b"[]", b'{"jsonrpc": "2.0"}', b"\xff\xfe"):
        answer = httpx.post(url, content=body, headers={**good, "Content-Type": "application/json"})
        assert 400 <= answer.status_code < 500, (body, answer.status_code)
    too_big = httpx.post(url, content=b"x" * 2_000_000, headers=good)
    assert too_big.status_code == 413
    for method in ("GET", "DELETE", "PUT"):
        answer = httpx.request(method, url, headers=good)
        assert answer.status_code == 405 and answer.json() == {"detail": "Method Not Allowed"}


async def test_keys_scopes_and_isolation_over_streamable_http(server: Server) -> None:
    mine, other = await check_keys(server, http_session)
    writer = make_key(server, "--user", "default", "--scopes", "memories:write")
    async with http_session(server.base, writer) as session:  # write-only: no reads
        assert "403" in failed(await session.call_tool("get_memories", {}))
        made = ok(await session.call_tool("create_memory", {"content": "User likes tea"}))
        assert ok(await session.call_tool("delete_memory", {"memory_id": made["id"]}))

    revoke_user_keys(server, "someone-else")
    async with httpx.AsyncClient() as plain:  # now refused at the door
        answer = await plain.post(
            f"{server.base}/mcp",
            json=INITIALIZE,
            headers={**MCP_HEADERS, "Authorization": f"Bearer {other}"},
        )
    assert answer.status_code == 401 and answer.json() == {"detail": "Invalid API Key"}

    async with http_session(server.base, server.first_key) as session:  # nothing changed
        still = ok(await session.call_tool("get_memory", {"memory_id": mine}))
        assert still["content"] == "User has a dog"


async def test_two_workers_answer_one_client(database_url: str) -> None:
    """Stateless: each request stands alone, so any worker answers any of them."""
    running = start_server(database_url, workers=2)
    try:
        assert running.first_key
        async with http_session(running.base, running.first_key) as session:
            for n in range(6):
                ok(await session.call_tool("create_memory", {"content": f"User owns book {n}"}))
            listed = ok(await session.call_tool("get_memories", {"limit": 100}))["result"]
            assert len(listed) == 6
    finally:
        running.stop()
