"""`/v1/mcp/memories`: the REST routes Omi's own MCP server calls (docs/api.md).

The same keys, scopes, rate limits and service as `/v1/dev/user/memories`; only the
shapes are Omi's: a list and a search answer `{id, content, category}` items (the search
with `relevance_score`), a create is always categorised by the server, an edit takes the
new content as `?value=`, and an edit or a delete answers `{"status": "ok"}`.
"""

from __future__ import annotations

import json
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response, Security
from pydantic import BaseModel

from mnemo.api import examples as ex
from mnemo.api import memories
from mnemo.api.deps import (
    AuthenticatedRoute,
    Budget,
    CurrentKey,
    IdempotencyKey,
    Service,
    bearer_scheme,
)
from mnemo.api.memories import (
    BAD_FILTER,
    ERRORS,
    NOT_FOUND,
    TOO_LARGE,
    CategoriesFilter,
    parse_update,
    unprocessable_answer,
)
from mnemo.models import (
    DEFAULT_LIST_LIMIT,
    MAX_CONTENT_CHARS,
    MAX_QUERY_CHARS,
    TEXT_PATTERN,
    Integer,
    MemoryCreate,
    MemoryCreated,
    MinScore,
)

PREFIX = "/v1/mcp/memories"
# Omi's search answers at most 20 memories, 10 unless asked: a larger or smaller
# `limit` is clamped, as Omi does, not refused.
MCP_SEARCH_DEFAULT, MCP_SEARCH_MAX = 10, 20


class McpMemory(BaseModel):
    """A memory as Omi's MCP routes show it."""

    id: str
    content: str
    category: str


class McpSearchedMemory(McpMemory):
    relevance_score: float


class McpStatus(BaseModel):
    status: Literal["ok"] = "ok"


router = APIRouter(
    prefix=PREFIX,
    tags=["omi-mcp"],
    route_class=AuthenticatedRoute,
    dependencies=[Security(bearer_scheme)],
    responses=ERRORS,
)


@router.get(
    "",
    response_model=list[McpMemory],
    responses={200: ex.MCP_LISTED, 400: BAD_FILTER, 422: unprocessable_answer(ex.BAD_QUERY)},
    summary="List memories (Omi's MCP shape)",
    operation_id="mcpListMemories",
)
async def list_memories(
    key: CurrentKey,
    service: Service,
    limit: Integer = DEFAULT_LIST_LIMIT,
    offset: Integer = 0,
    categories: CategoriesFilter = None,
) -> list[McpMemory]:
    """The user's memories, most important first, as `{id, content, category}`; the same
    paging (`limit` clamped to 1-1000, `offset` to >= 0) and filter as `listMemories`."""
    page = json.loads(await service.list_memories(key.user_id, categories, limit, offset))
    return [McpMemory(id=m["id"], content=m["content"], category=m["category"]) for m in page]


@router.post(
    "",
    response_model=MemoryCreated,
    responses={200: ex.CREATED, 413: TOO_LARGE, 422: unprocessable_answer(ex.BAD_CREATE)},
    summary="Create a memory, always categorised by the server (Omi's MCP route)",
    operation_id="mcpCreateMemory",
    openapi_extra={"requestBody": ex.MCP_CREATE_BODY},
)
async def create_memory(
    key: CurrentKey,
    service: Service,
    budget: Budget,
    body: MemoryCreate,
    idempotency: IdempotencyKey,
) -> Response:
    """As `createMemory` (validation, deduplication, `Idempotency-Key`), except that a
    `category` sent is ignored: the server always chooses it, as Omi's route does."""
    chosen = body.model_copy(update={"category": None})
    return await memories.create_memory(key, service, budget, chosen, idempotency)


@router.get(
    "/search",
    response_model=list[McpSearchedMemory],
    responses={200: ex.MCP_SEARCHED, 422: unprocessable_answer(ex.BAD_SEARCH)},
    summary="Search memories by relevance (Omi's MCP shape)",
    operation_id="mcpSearchMemories",
)
async def search_memories(
    key: CurrentKey,
    service: Service,
    query: Annotated[str, Query(min_length=1, max_length=MAX_QUERY_CHARS)],
    limit: Integer = MCP_SEARCH_DEFAULT,
    min_score: MinScore = 0.0,
) -> list[McpSearchedMemory]:
    """The same search as `searchMemories`; `limit` is clamped to 1-20 (default 10);
    `min_score` (0-1, default 0) as there."""
    clamped = max(1, min(limit, MCP_SEARCH_MAX))
    found = await service.search(key.user_id, query, clamped, None, min_score)
    return [
        McpSearchedMemory(
            id=m.id, content=m.content, category=m.category, relevance_score=m.relevance_score
        )
        for m in found
    ]


@router.patch(
    "/{memory_id}",
    response_model=McpStatus,
    responses={
        200: ex.MCP_DONE,
        404: NOT_FOUND,
        422: unprocessable_answer(ex.BAD_UPDATE),
    },
    summary="Replace a memory's content (Omi's MCP route)",
    operation_id="mcpEditMemory",
)
async def edit_memory(
    key: CurrentKey,
    service: Service,
    budget: Budget,
    memory_id: str,
    value: Annotated[
        str,
        Query(
            min_length=1,
            max_length=MAX_CONTENT_CHARS,
            description="The new content (1-500 characters, not white space only)",
            json_schema_extra={"pattern": TEXT_PATTERN},
        ),
    ],
) -> McpStatus:
    """The new content comes as the query parameter `value`, with no body; the same
    checks as `updateMemory`'s `content`."""
    update = parse_update({"content": value}, where=lambda loc: ("query", "value", *loc[1:]))
    await budget(len(update.content or ""))
    await service.update_memory(key.user_id, memory_id, update)
    return McpStatus()


@router.delete(
    "/{memory_id}",
    response_model=McpStatus,
    responses={200: ex.MCP_DONE, 404: NOT_FOUND},
    summary="Delete a memory (Omi's MCP route)",
    operation_id="mcpDeleteMemory",
)
async def delete_memory(key: CurrentKey, service: Service, memory_id: str) -> McpStatus:
    """Permanent and immediate, as `deleteMemory`."""
    await service.delete_memory(key.user_id, memory_id)
    return McpStatus()
