"""mnemo's MCP tools: a user's memories for an assistant, on the official `mcp` SDK.

Every tool is one call of the memories API (`mnemo_client.calls`) sent by the SDK's
`AsyncClient`, the one way mnemo's own programs call the API: the server judges every
argument (limits, categories, scopes) exactly as it judges an HTTP request, and its
error becomes the tool's error (an `isError` result carrying the server's words), never
a broken session. Where the client comes from is the transport's business
(`ClientSource`): one client for a `mnemo mcp` process on stdio, one per request for
`/mcp` of `mnemo serve` (mnemo.mcp_http).

The tool names and argument names are Omi's MCP server's (`get_memories`,
`create_memory`, `edit_memory`, `delete_memory`, `memory_id`), so a prompt written for
Omi's server works here; `search_memories` and `get_memory` are mnemo's own.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Annotated, Any, TypeVar

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations
from pydantic import Field

from mnemo_client import AsyncClient, MnemoClientError, calls
from mnemo_client.calls import Call
from mnemo_client.models import (
    DeleteResult,
    Memory,
    MemoryCategory,
    MemoryCreated,
    MemoryVisibility,
    SearchResult,
)

T = TypeVar("T")

# How a tool gets the client to send its call with: entered once per tool call.
ClientSource = Callable[[Context[Any, Any]], AbstractAsyncContextManager[AsyncClient]]

WRITING_TOOLS = frozenset({"create_memory", "edit_memory", "delete_memory"})

INSTRUCTIONS = """\
mnemo keeps long-term memories about the user: short, timeless facts such as "User is
vegetarian" or "User works at Acme as a data engineer". Before answering anything that
may depend on who the user is (their preferences, people, work, health, plans, past
choices), call search_memories with a short question. When the user tells you a lasting
fact about themselves, save it with create_memory; when one changes, fix it with
edit_memory instead of adding a contradicting one.
"""

_GOOD_MEMORY = (
    "A good memory is one timeless fact about the user, written in the third person and "
    'starting with "User": "User is allergic to peanuts", "User\'s daughter is named '
    'Mia", "User prefers aisle seats". Not a task or reminder ("buy milk"), not a dated '
    'event ("User went running today"), not something about the assistant or the '
    "conversation, and never a secret (passwords, keys, card numbers)."
)

MemoryId = Annotated[str, Field(description="The memory's id, as the other tools return it.")]
Categories = Annotated[
    list[MemoryCategory] | None,
    Field(description="Only memories in these categories (default: every category)."),
]


def _tools(source: ClientSource) -> list[tuple[Callable[..., Any], str, bool]]:
    """Each tool's function, description and whether it only reads."""

    async def send(ctx: Context[Any, Any], call: Call[T]) -> T:
        try:
            async with source(ctx) as client:
                return await client.send(call)
        except MnemoClientError as error:  # the server's words, as the tool's error
            raise ToolError(str(error)) from None

    async def search_memories(
        query: Annotated[str, Field(description="What to look for, in plain words.")],
        ctx: Context[Any, Any],
        limit: Annotated[
            int | None, Field(description="How many results, 1-100 (default 10).")
        ] = None,
        categories: Categories = None,
        min_score: Annotated[
            float | None,
            Field(
                description=(
                    "Only memories at least this likely to be relevant, 0-1 (e.g. 0.3); "
                    "default: the best `limit`, however weak."
                )
            ),
        ] = None,
    ) -> SearchResult:
        return await send(ctx, calls.search_memories(query, limit, categories, min_score))

    async def get_memories(
        ctx: Context[Any, Any],
        categories: Categories = None,
        limit: Annotated[
            int | None, Field(description="How many memories, 1-1000, clamped (default 25).")
        ] = None,
        offset: Annotated[
            int | None, Field(description="How many to skip, to page on (default 0).")
        ] = None,
    ) -> list[Memory]:
        return await send(ctx, calls.list_memories(limit, offset, categories))

    async def get_memory(memory_id: MemoryId, ctx: Context[Any, Any]) -> Memory:
        return await send(ctx, calls.get_memory(memory_id))

    async def create_memory(
        content: Annotated[
            str, Field(description='The fact, 1-500 characters: "User is vegetarian".')
        ],
        ctx: Context[Any, Any],
        category: Annotated[
            MemoryCategory | None,
            Field(description="Its category (default: mnemo picks one from the content)."),
        ] = None,
        tags: Annotated[
            list[str] | None, Field(description="Up to 32 short labels (default none).")
        ] = None,
    ) -> MemoryCreated:
        return await send(ctx, calls.create_memory(content, category, tags=tags))

    async def edit_memory(
        memory_id: MemoryId,
        ctx: Context[Any, Any],
        content: Annotated[str | None, Field(description="The corrected fact.")] = None,
        category: Annotated[MemoryCategory | None, Field(description="A new category.")] = None,
        visibility: Annotated[
            MemoryVisibility | None, Field(description="public or private.")
        ] = None,
        tags: Annotated[
            list[str] | None, Field(description="The new labels, replacing the old ones.")
        ] = None,
    ) -> Memory:
        return await send(ctx, calls.update_memory(memory_id, content, category, visibility, tags))

    async def delete_memory(memory_id: MemoryId, ctx: Context[Any, Any]) -> DeleteResult:
        return await send(ctx, calls.delete_memory(memory_id))

    return [
        (
            search_memories,
            "Search the user's memories by meaning; the best first, each with a "
            "relevance_score. Call it before answering whenever the answer may depend on "
            "the user's facts, preferences, people or history, and before create_memory "
            "to find one to edit instead.",
            True,
        ),
        (
            get_memories,
            "List the user's memories, newest first, a page at a time (limit, offset), "
            "optionally only some categories. To answer a question, prefer "
            "search_memories.",
            True,
        ),
        (get_memory, "Get one of the user's memories by its id.", True),
        (
            create_memory,
            "Remember a new fact about the user. " + _GOOD_MEMORY + " mnemo answers the "
            "memory it already has (duplicate_of) instead of storing the same fact twice.",
            False,
        ),
        (
            edit_memory,
            "Change a memory: its content and/or category, visibility, tags (only what is "
            "given changes). Use it when a fact changed or was wrong. " + _GOOD_MEMORY,
            False,
        ),
        (
            delete_memory,
            "Delete a memory for good, when the user asks to forget it or it is no longer "
            "true and cannot be edited into a true one.",
            False,
        ),
    ]


def build_server(source: ClientSource) -> MCPServer[Any]:
    """The MCP server of mnemo's tools, calling the API with the clients of `source`."""
    from mnemo import __version__

    # Building an MCPServer configures the root logger (`logging.basicConfig` with a
    # handler of the SDK's choice); logging is mnemo's, so that is undone.
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        server: MCPServer[Any] = MCPServer(
            name="mnemo", version=__version__, instructions=INSTRUCTIONS
        )
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
    for function, description, reading in _tools(source):
        server.add_tool(
            function,
            description=description,
            annotations=ToolAnnotations(
                read_only_hint=reading,
                destructive_hint=function.__name__ in ("edit_memory", "delete_memory"),
                idempotent_hint=reading or function.__name__ != "create_memory",
                open_world_hint=False,
            ),
        )
    return server
