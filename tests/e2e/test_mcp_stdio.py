"""`mnemo mcp` on stdio, driven by the MCP SDK's own client session, against a real
`mnemo serve`: every tool, bad arguments, unknown ids, revoked and read-only keys,
another user's memories, hostile input; each error an `isError` result, the session alive."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import pytest
from mcp import ClientSession, MCPError, StdioServerParameters, stdio_client
from mcp.types import CallToolResult, TextContent

from tests.e2e.server import Server, run_cli

pytestmark = pytest.mark.e2e

TOOLS = {
    "search_memories",
    "get_memories",
    "get_memory",
    "create_memory",
    "edit_memory",
    "delete_memory",
}


def make_key(server: Server, *args: str) -> str:
    made = run_cli("keys", "create", "--database-url", server.database_url, *args)
    assert made.returncode == 0, made.stderr
    return made.stdout.strip().splitlines()[-1]


@asynccontextmanager
async def stdio_session(base: str, key: str) -> AsyncIterator[ClientSession]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MNEMO_", "OMI_"))}
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "mnemo", "mcp", "--base-url", base],
        env={**env, "MNEMO_API_KEY": key},
    )
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        yield session


def text(result: CallToolResult) -> str:
    assert isinstance(result.content[0], TextContent)
    return result.content[0].text


def ok(result: CallToolResult) -> Any:
    """The tool's answer: its structured content (a list's under "result"), which its
    text content carries as JSON too (a list's, one item a block), for a host that reads
    only text."""
    assert not result.is_error, text(result)
    structured = result.structured_content
    assert structured is not None
    texts = [json.loads(block.text) for block in result.content if isinstance(block, TextContent)]
    assert texts == structured.get("result", [structured])
    return structured


def failed(result: CallToolResult) -> str:
    assert result.is_error, text(result)
    return text(result)


async def exercise_every_tool(session: ClientSession, *, over_http: bool = False) -> None:
    """Each tool once, as an assistant would use them, then the errors of each kind,
    on one session that must survive them all. Shared by the stdio and HTTP tests."""
    listed = await session.list_tools()
    assert {tool.name for tool in listed.tools} == TOOLS
    create = next(tool for tool in listed.tools if tool.name == "create_memory")
    assert "third person" in (create.description or "")
    assert create.annotations is not None and create.annotations.read_only_hint is False

    made = ok(await session.call_tool("create_memory", {"content": "User is vegetarian"}))
    assert made["content"] == "User is vegetarian" and made["id"]
    work = ok(
        await session.call_tool(
            "create_memory",
            {
                "content": "User works at Acme as a data engineer",
                "category": "work",
                "tags": ["job"],
            },
        )
    )
    assert work["category"] == "work" and work["tags"] == ["job"]
    assert ok(await session.call_tool("get_memory", {"memory_id": made["id"]}))["id"] == made["id"]
    listed_memories = ok(await session.call_tool("get_memories", {"limit": 10}))["result"]
    assert {m["id"] for m in listed_memories} == {made["id"], work["id"]}
    only_work = ok(await session.call_tool("get_memories", {"categories": ["work"]}))["result"]
    assert [m["id"] for m in only_work] == [work["id"]]
    # the list's limit and offset are clamped, as the API's (and Omi's) are
    assert len(ok(await session.call_tool("get_memories", {"limit": 0}))["result"]) == 1
    assert len(ok(await session.call_tool("get_memories", {"offset": -1}))["result"]) == 2
    paged = ok(await session.call_tool("get_memories", {"limit": 1, "offset": 1}))["result"]
    assert len(paged) == 1
    found = ok(await session.call_tool("search_memories", {"query": "what does the user eat?"}))
    assert found["items"][0]["id"] == made["id"]
    strict = {"query": "what does the user eat?", "min_score": 1}  # never certain: nothing
    assert ok(await session.call_tool("search_memories", strict))["items"] == []
    edited = ok(
        await session.call_tool(
            "edit_memory",
            {"memory_id": made["id"], "content": "User is vegan", "visibility": "public"},
        )
    )
    assert edited["content"] == "User is vegan" and edited["visibility"] == "public"
    assert ok(await session.call_tool("delete_memory", {"memory_id": made["id"]}))["success"]

    # an unknown id, and the one just deleted: the server's 404, as the tool's error
    for memory_id in (made["id"], "no-such-id"):
        assert "404 Memory not found" in failed(
            await session.call_tool("get_memory", {"memory_id": memory_id})
        )
    for memory_id in ("..", "a/b", "?x=1", "%2e%2e"):  # one path segment: names no route
        assert "404" in failed(await session.call_tool("get_memory", {"memory_id": memory_id}))
    assert "404" in failed(await session.call_tool("delete_memory", {"memory_id": made["id"]}))
    # bad arguments: refused by the schema or by the server, nothing stored
    bad: list[tuple[str, dict[str, Any]]] = [
        ("create_memory", {}),
        ("create_memory", {"content": 42}),
        ("create_memory", {"content": ["a"]}),
        ("create_memory", {"content": "   "}),
        ("create_memory", {"content": "x" * 501}),
        ("create_memory", {"content": "User a\x00b"}),
        ("create_memory", {"content": "User ok", "category": "nonsense"}),
        ("create_memory", {"content": "User ok", "tags": "food"}),
        ("create_memory", {"content": "User ok", "tags": ["t" * 65]}),
        ("get_memories", {"limit": "many"}),
        ("get_memories", {"limit": 1.5}),
        ("search_memories", {"query": ""}),
        ("search_memories", {"query": "q" * 1001}),
        ("search_memories", {"query": "food", "limit": 101}),
        ("search_memories", {"query": "food", "min_score": 1.5}),
        ("edit_memory", {"memory_id": work["id"]}),
        ("edit_memory", {"memory_id": work["id"], "visibility": "secret"}),
        ("get_memory", {}),
        ("get_memory", {"memory_id": "x" * 100_000}),
        ("get_memory", {"memory_id": None}),
        ("search_memories", {"query": "q" * 300_000}),
        ("search_memories", {"query": {"$ne": 1}}),
        ("get_memories", {"categories": "work"}),
        ("get_memories", {"categories": ["work", "nonsense"]}),
        ("no_such_tool", {}),
    ]
    for name, arguments in bad:
        try:
            result = await session.call_tool(name, arguments)
        except MCPError as error:
            raise AssertionError((name, str(arguments)[:80], error)) from error
        message = failed(result)
        assert message and "Traceback" not in message, (name, message)
    # 600 kB of content: under the HTTP body limit, so the route's 422 either way
    assert "422" in failed(await session.call_tool("create_memory", {"content": "y" * 600_000}))
    if not over_http:  # over HTTP, a body over the limit is refused as a whole (413), and
        # the server stops reading it: tests/e2e/test_mcp_http.py sends it on its own.
        # Here the client may see the 413, or the connection closed before it read it.
        message = failed(await session.call_tool("create_memory", {"content": "y" * 2_000_000}))
        assert "413 Request body too large" in message or "ReadError" in message, message
    after = ok(await session.call_tool("get_memories", {"limit": 100}))["result"]
    assert [(m["id"], m["content"]) for m in after] == [(work["id"], work["content"])]


async def reads_but_cannot_write(session: ClientSession, memory_id: str) -> None:
    """A `memories:read` key: the memory is there, and each writing tool answers 403."""
    assert ok(await session.call_tool("get_memory", {"memory_id": memory_id}))["id"]
    for name, arguments in (
        ("create_memory", {"content": "User has a cat"}),
        ("edit_memory", {"memory_id": memory_id, "content": "User has a cat"}),
        ("delete_memory", {"memory_id": memory_id}),
    ):
        assert "403" in failed(await session.call_tool(name, arguments)), name


async def sees_nothing_of(session: ClientSession, memory_id: str, words: str) -> None:
    """Another user's memory is an unknown id, and in no list or search."""
    assert "404" in failed(await session.call_tool("get_memory", {"memory_id": memory_id}))
    assert "404" in failed(await session.call_tool("delete_memory", {"memory_id": memory_id}))
    assert ok(await session.call_tool("get_memories", {}))["result"] == []
    assert ok(await session.call_tool("search_memories", {"query": words}))["items"] == []


async def test_every_tool_over_stdio(server: Server) -> None:
    assert server.first_key
    async with stdio_session(server.base, server.first_key) as session:
        await exercise_every_tool(session)


SessionOf = Callable[[str, str], AbstractAsyncContextManager[ClientSession]]


async def check_keys(server: Server, session_of: SessionOf) -> tuple[str, str]:
    """The first key stores a memory; a read-only key of the same user reads it and may
    not write; another user's key sees nothing of it. The memory's id and the other
    user's key, for the revocation that follows. Shared by the stdio and HTTP tests."""
    assert server.first_key
    reader = make_key(server, "--user", "default", "--scopes", "memories:read")
    other = make_key(server, "--user", "someone-else")
    async with session_of(server.base, server.first_key) as session:
        mine = ok(await session.call_tool("create_memory", {"content": "User has a dog"}))
    async with session_of(server.base, reader) as session:
        await reads_but_cannot_write(session, mine["id"])
    async with session_of(server.base, other) as session:  # another user's: unknown
        await sees_nothing_of(session, mine["id"], "dog")
    return mine["id"], other


def revoke_user_keys(server: Server, user: str) -> None:
    listed = run_cli("keys", "list", "--user", user, "--database-url", server.database_url)
    for row in listed.stdout.splitlines()[1:]:
        revoked = run_cli("keys", "revoke", row.split()[0], "--database-url", server.database_url)
        assert revoked.returncode == 0, revoked.stderr


async def test_keys_scopes_and_isolation_over_stdio(server: Server) -> None:
    mine, other = await check_keys(server, stdio_session)

    revoke_user_keys(server, "someone-else")
    async with stdio_session(server.base, other) as session:
        assert "401" in failed(await session.call_tool("get_memories", {}))
        assert "401" in failed(await session.call_tool("get_memories", {}))  # still alive

    async with stdio_session(server.base, server.first_key) as session:  # nothing changed
        still = ok(await session.call_tool("get_memory", {"memory_id": mine}))
        assert still["content"] == "User has a dog"


async def test_a_server_that_is_not_there_is_a_tool_error() -> None:
    from tests.e2e.server import free_port

    async with stdio_session(f"http://127.0.0.1:{free_port()}", "omi_dev_" + "0" * 32) as session:
        message = failed(await session.call_tool("get_memories", {}))
        assert "omi_dev_" not in message
        failed(await session.call_tool("search_memories", {"query": "x"}))


def test_bad_settings_are_one_line_errors() -> None:
    env = {"MNEMO_API_KEY": "", "OMI_API_KEY": "", "MNEMO_BASE_URL": "", "OMI_API_BASE": ""}
    for args, words in (
        (["mcp"], "no API key"),
        (["mcp", "--api-key", "k", "--base-url", "ftp://x"], "not an http:// or https:// URL"),
        (["mcp", "--api-key", "a key"], "printable ASCII"),
    ):
        done = run_cli(*args, env=env)
        assert done.returncode == 2, done
        assert done.stderr.startswith("error: ") and words in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1
    helped = run_cli("mcp", "--help")
    assert helped.returncode == 0 and "--base-url" in helped.stdout and "/mcp" in helped.stdout
