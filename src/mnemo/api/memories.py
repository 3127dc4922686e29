"""`/v1/dev/user/memories` routes (the Omi Developer API, plus GET by id)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request, Response, Security
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from mnemo.api import examples as ex
from mnemo.api.deps import (
    AuthenticatedRoute,
    Budget,
    CurrentKey,
    IdempotencyKey,
    Service,
    bearer_scheme,
)
from mnemo.errors import Unprocessable
from mnemo.idempotency import answer_json
from mnemo.models import (
    CATEGORIES_PATTERN,
    DEFAULT_LIST_LIMIT,
    DEFAULT_SEARCH_LIMIT,
    MAX_QUERY_CHARS,
    DeleteAllResult,
    DeleteResult,
    ErrorBody,
    HistoryEntry,
    Integer,
    Memory,
    MemoryBatchCreate,
    MemoryBatchResult,
    MemoryCreate,
    MemoryCreated,
    MemoryUpdate,
    MinScore,
    SearchLimit,
    SearchResult,
    UnprocessableBody,
)
from mnemo.service import batch_json

Responses = dict[int | str, dict[str, Any]]


def _error(description: str, content: ex.Content, model: type = ErrorBody) -> dict[str, Any]:
    return {"model": model, "description": description, **content}


ERRORS: Responses = {
    401: _error("Missing, unknown or revoked key", ex.UNAUTHORIZED),
    403: _error("The key lacks the scope", ex.FORBIDDEN),
    422: {"model": UnprocessableBody, "description": "The request breaks a rule"},
    429: _error("Rate limit exceeded (see `Retry-After`)", ex.RATE_LIMITED),
    503: _error("The database or the rate limiter cannot answer now", ex.UNAVAILABLE),
}
TOO_LARGE = _error("The body is over the size limit", ex.TOO_LARGE)
BAD_FILTER = _error("An unknown category in `categories`", ex.BAD_FILTER)
NOT_FOUND = _error("No such memory for this user", ex.NOT_FOUND)


def _unprocessable(content: ex.Content) -> dict[str, Any]:
    return _error("The request breaks a rule", content, UnprocessableBody)


# The same, for the other routers' documented answers (mnemo.api.admin, mnemo.api.key).
error_answer, unprocessable_answer = _error, _unprocessable


router = APIRouter(
    prefix="/v1/dev/user/memories",
    tags=["memories"],
    route_class=AuthenticatedRoute,
    dependencies=[Security(bearer_scheme)],
    responses=ERRORS,
)

CategoriesFilter = Annotated[
    str | None,
    Query(
        description="Comma-separated category names; blank items are ignored.",
        json_schema_extra={"pattern": CATEGORIES_PATTERN},
    ),
]

# The hot read routes answer JSON bytes: each memory's JSON is stored when it is written
# (mnemo.store.render), the list's page comes joined by the database. `response_model`
# still documents them, but FastAPI does not validate them again.


def json_response(body: bytes) -> Response:
    """The answer of the hot read routes (here and in `mnemo.api.fast`): JSON bytes."""
    return Response(body, media_type="application/json")


_UPDATE_FIELDS = ("content", "visibility", "tags", "category")
Location = Callable[[tuple[int | str, ...]], tuple[int | str, ...]]


def _in_body(loc: tuple[int | str, ...]) -> tuple[int | str, ...]:
    return ("body", *loc)


def parse_update(raw: dict[str, Any], *, where: Location = _in_body) -> MemoryUpdate:
    """Validate a PATCH body with the contract's checks, in the contract's order; `where`
    places a field's validation issue (`("body", "content")` by default)."""
    given = {name: raw[name] for name in _UPDATE_FIELDS if raw.get(name) is not None}
    if not given:
        raise Unprocessable(
            "At least one field (content, visibility, tags, or category) must be provided"
        )
    if "visibility" in given and given["visibility"] not in ("public", "private"):
        raise Unprocessable("visibility must be 'public' or 'private'")
    content = given.get("content")
    if isinstance(content, str) and content and not content.strip():
        raise Unprocessable("content cannot be empty")
    try:
        return MemoryUpdate.model_validate(given)
    except ValidationError as error:
        raise RequestValidationError(
            [{**e, "loc": where(e["loc"])} for e in error.errors(include_url=False)],
            body=raw,
        ) from None


@router.get(
    "",
    response_model=list[Memory],
    responses={200: ex.LISTED, 400: BAD_FILTER, 422: _unprocessable(ex.BAD_QUERY)},
    summary="List memories",
    operation_id="listMemories",
)
async def list_memories(
    key: CurrentKey,
    service: Service,
    limit: Integer = DEFAULT_LIST_LIMIT,
    offset: Integer = 0,
    categories: CategoriesFilter = None,
    conversation_id: Annotated[
        str | None, Query(description="Only the memories extracted from this conversation.")
    ] = None,
) -> Response:
    """The user's memories, most important first. `limit` is clamped to 1-1000 and
    `offset` to >= 0; `categories` is a comma-separated filter applied before paging, and
    so is `conversation_id` (an unknown one: an empty page)."""
    return json_response(
        await service.list_memories(key.user_id, categories, limit, offset, conversation_id)
    )


@router.post(
    "",
    response_model=MemoryCreated,
    responses={200: ex.CREATED, 413: TOO_LARGE, 422: _unprocessable(ex.BAD_CREATE)},
    summary="Create a memory",
    operation_id="createMemory",
    openapi_extra={"requestBody": ex.CREATE_BODY},
)
async def create_memory(
    key: CurrentKey,
    service: Service,
    budget: Budget,
    body: MemoryCreate,
    idempotency: IdempotencyKey,
) -> Response:
    """Without `category`, the server picks `system` or `interesting`. A memory that
    repeats one the user has is not stored twice: the answer is the existing memory,
    unchanged, with `duplicate_of` set and `not_applied` naming the sent fields that
    differ from it (unless deduplication is switched off). With an `Idempotency-Key`,
    a retry answers the first answer again (see the reference)."""
    await service.replay(key.user_id, idempotency)  # before the characters are charged
    await budget(len(body.content))
    return json_response(answer_json(await service.create_memory(key.user_id, body, idempotency)))


@router.post(
    "/batch",
    response_model=MemoryBatchResult,
    responses={200: ex.BATCH_CREATED, 413: TOO_LARGE, 422: _unprocessable(ex.BAD_BATCH)},
    summary="Create up to 25 memories",
    operation_id="createMemories",
    openapi_extra={"requestBody": ex.BATCH_BODY},
)
async def create_memories(
    key: CurrentKey,
    service: Service,
    budget: Budget,
    body: MemoryBatchCreate,
    idempotency: IdempotencyKey,
) -> Response:
    """All or nothing: if any item is invalid, nothing is written. Items that repeat an
    existing memory, or an earlier item, are answered with it (`duplicate_of`,
    `not_applied`) and not stored; `created_count` counts what was stored. With an
    `Idempotency-Key`, a retry answers the first answer again (see the reference)."""
    await service.replay(key.user_id, idempotency)
    await budget(sum(len(item.content) for item in body.memories))
    answers, stored = await service.create_memories(key.user_id, body.memories, idempotency)
    return json_response(batch_json(answers, stored))


_CONFIRM = {
    "name": "confirm",
    "in": "query",
    "required": True,
    "description": "Must be `true`: without it nothing is deleted (a 422).",
    "schema": {"type": "string", "enum": ["true"]},
}


@router.delete(
    "",
    response_model=DeleteAllResult,
    responses={200: ex.ALL_DELETED, 422: _unprocessable(ex.NOT_CONFIRMED)},
    summary="Delete every memory of the user",
    operation_id="deleteAllMemories",
    openapi_extra={"parameters": [_CONFIRM]},
)
async def delete_all_memories(
    key: CurrentKey, service: Service, request: Request
) -> DeleteAllResult:
    """Permanent and immediate, in one transaction: every memory of the key's user,
    with its search index entries, embedding and stored idempotent answers."""
    # `confirm` is read here, so that any other value, or none, is the sentence above
    # rather than a validation body.
    confirm = request.query_params.get("confirm")
    return DeleteAllResult(deleted_count=await service.delete_all_memories(key.user_id, confirm))


_SEARCH_RESPONSES: Responses = {
    200: ex.SEARCHED,
    400: BAD_FILTER,
    422: _unprocessable(ex.BAD_SEARCH),
}


@router.get(
    "/search",
    response_model=SearchResult,
    responses=_SEARCH_RESPONSES,
    summary="Search memories by relevance",
    operation_id="searchMemories",
)
@router.get(
    "/vector/search",
    response_model=SearchResult,
    responses=_SEARCH_RESPONSES,
    summary="Search memories by relevance (Omi's path)",
    operation_id="vectorSearchMemories",
)
async def search_memories(
    key: CurrentKey,
    service: Service,
    query: Annotated[str, Query(min_length=1, max_length=MAX_QUERY_CHARS)],
    limit: SearchLimit = DEFAULT_SEARCH_LIMIT,
    categories: CategoriesFilter = None,
    min_score: MinScore = 0.0,
) -> SearchResult:
    """The user's memories most relevant to a natural-language query, keyword (BM25),
    semantic (embeddings) and the names in it fused, each with a `relevance_score` in
    [0, 1]: the calibrated probability that the memory is relevant. At most `limit`,
    and only those scoring at least `min_score`."""
    items = await service.search(key.user_id, query, limit, categories, min_score)
    return SearchResult(items=items, returned_count=len(items))


@router.get(
    "/{memory_id}",
    response_model=Memory,
    responses={200: ex.FOUND, 404: NOT_FOUND},
    summary="Get one memory",
    operation_id="getMemory",
)
async def get_memory(key: CurrentKey, service: Service, memory_id: str) -> Response:
    return json_response(await service.get_memory_json(key.user_id, memory_id))


@router.get(
    "/{memory_id}/history",
    response_model=list[HistoryEntry],
    responses={200: ex.HISTORY, 404: NOT_FOUND},
    summary="A memory's history",
    operation_id="getMemoryHistory",
)
async def memory_history(key: CurrentKey, service: Service, memory_id: str) -> list[HistoryEntry]:
    """Every recorded create, update and delete of the memory, oldest first: when, by
    which key (its id, or `admin`, `import`, `extraction`, `system`), and the fields it
    set with their old and new values. A deleted memory's history keeps only the facts
    (no values); kept for `MNEMO_HISTORY_RETENTION_DAYS` (docs/history.md)."""
    return await service.memory_history(key.user_id, memory_id)


@router.patch(
    "/{memory_id}",
    response_model=Memory,
    responses={
        200: ex.UPDATED,
        404: NOT_FOUND,
        413: TOO_LARGE,
        422: _unprocessable(ex.BAD_UPDATE),
    },
    summary="Update a memory",
    operation_id="updateMemory",
    openapi_extra={"requestBody": ex.UPDATE_BODY},
)
async def update_memory(
    key: CurrentKey,
    service: Service,
    budget: Budget,
    memory_id: str,
    body: Annotated[dict[str, Any], Body()],
) -> Memory:
    # The body is taken as a plain object so the contract's checks run in its order;
    # the OpenAPI document still describes it as `MemoryUpdate` (see mnemo.app).
    """Any of `content`, `visibility`, `category`, `tags` (tags replace the list);
    a field sent as null counts as not given. Atomic: a failed request changes nothing."""
    update = parse_update(body)
    await budget(len(update.content or ""))
    return await service.update_memory(key.user_id, memory_id, update)


@router.delete(
    "/{memory_id}",
    response_model=DeleteResult,
    responses={200: ex.DELETED, 404: NOT_FOUND},
    summary="Delete a memory",
    operation_id="deleteMemory",
)
async def delete_memory(key: CurrentKey, service: Service, memory_id: str) -> DeleteResult:
    """Permanent and immediate."""
    await service.delete_memory(key.user_id, memory_id)
    return DeleteResult()
