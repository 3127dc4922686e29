"""`/v1/admin/...`: the operator's API (users, their keys, export and import), behind
the admin token (mnemo.api.admin_route); each route is one call of mnemo.accounts or
mnemo.transfer, the same the `mnemo` command makes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Security
from fastapi.responses import StreamingResponse
from fastapi.security import HTTPBearer

from mnemo import accounts
from mnemo.api import admin_examples as ax
from mnemo.api import examples as ex
from mnemo.api.admin_route import AdminRoute
from mnemo.api.deps import App
from mnemo.api.memories import error_answer, unprocessable_answer
from mnemo.clock import to_datetime, to_datetime_or_none
from mnemo.errors import BadRequest, Unprocessable
from mnemo.models import (
    ApiKeyCreated,
    ApiKeyInfo,
    DeleteResult,
    ImportResult,
    Integer,
    KeyCreate,
    UserCreate,
    UserDeleted,
    UserInfo,
)
from mnemo.service import page_bounds
from mnemo.store import ApiKey, User
from mnemo.transfer import ImportCounts, check_lines, decode_lines, export_lines, import_lines

PREFIX = "/v1/admin"
IMPORT_PATH = f"{PREFIX}/import"
DEFAULT_USERS_LIMIT = 100
MAX_USERS_LIMIT = 1000

admin_scheme = HTTPBearer(
    scheme_name="AdminToken", auto_error=False, description="The operator's `MNEMO_ADMIN_TOKEN`"
)


router = APIRouter(
    prefix=PREFIX,
    tags=["admin"],
    route_class=AdminRoute,
    dependencies=[Security(admin_scheme)],
    responses={
        401: error_answer("Missing or wrong admin token", ax.ADMIN_UNAUTHORIZED),
        404: error_answer(
            "Unknown user or key (every route, when no admin token is set)", ax.NO_USER
        ),
        429: error_answer("Too many failed authentications (see `Retry-After`)", ex.RATE_LIMITED),
        503: error_answer("The database cannot answer now", ex.UNAVAILABLE),
    },
)


def key_info(key: ApiKey) -> ApiKeyInfo:
    """A key's record as the API shows it (never the key nor its hash)."""
    return ApiKeyInfo(
        id=key.id,
        user=key.user_name,
        name=key.name,
        key_prefix=key.prefix,
        scopes=list(key.scopes),
        created_at=to_datetime(key.created_at),
        last_used_at=to_datetime_or_none(key.last_used_at),
        revoked_at=to_datetime_or_none(key.revoked_at),
    )


def _user_info(user: User, memory_count: int) -> UserInfo:
    return UserInfo(
        id=user.id,
        name=user.name,
        created_at=to_datetime(user.created_at),
        memory_count=memory_count,
    )


@router.post(
    "/users",
    response_model=UserInfo,
    responses={
        200: ax.USER,
        400: error_answer("A malformed name", ax.BAD_NAME),
        409: error_answer("The name is taken", ax.USER_TAKEN),
        422: unprocessable_answer(ax.BAD_USER_BODY),
    },
    summary="Create a user",
    operation_id="createUser",
    openapi_extra={"requestBody": ax.USER_BODY},
)
async def create_user(app: App, body: UserCreate) -> UserInfo:
    """A user without a key (`createUserKey` makes one)."""
    return _user_info(await accounts.create_user(app.store, body.name), 0)


@router.get(
    "/users",
    response_model=list[UserInfo],
    responses={200: ax.USERS, 422: unprocessable_answer(ax.BAD_PAGE)},
    summary="List users with their memory counts",
    operation_id="listUsers",
)
async def list_users(
    app: App, limit: Integer = DEFAULT_USERS_LIMIT, offset: Integer = 0
) -> list[UserInfo]:
    """By name; `limit` is clamped to 1-1000 and `offset` to >= 0."""
    users = await accounts.list_users(app.store, *page_bounds(limit, offset, MAX_USERS_LIMIT))
    return [_user_info(user, count) for user, count in users]


@router.get(
    "/users/{name}",
    response_model=UserInfo,
    responses={200: ax.USER},
    summary="Get a user",
    operation_id="getUser",
)
async def get_user(app: App, name: str) -> UserInfo:
    return _user_info(*await accounts.user_with_count(app.store, name))


@router.delete(
    "/users/{name}",
    response_model=UserDeleted,
    responses={200: ax.USER_DELETED},
    summary="Erase a user and everything of theirs",
    operation_id="deleteUser",
)
async def delete_user(app: App, name: str) -> UserDeleted:
    """Memories, search index, embedding queue, stored idempotent answers, keys and the
    user, in one transaction; on SQLite no file holds their text within seconds."""
    return UserDeleted(deleted_memories=await accounts.delete_user(app.store, name))


@router.post(
    "/users/{name}/keys",
    response_model=ApiKeyCreated,
    responses={
        200: ax.KEY_CREATED,
        400: error_answer("An unknown scope, or a malformed key name", ax.BAD_SCOPE),
        422: unprocessable_answer(ax.BAD_KEY_BODY),
    },
    summary="Create a key for a user",
    operation_id="createUserKey",
    openapi_extra={"requestBody": ax.KEY_BODY},
)
async def create_key(app: App, name: str, body: KeyCreate) -> ApiKeyCreated:
    """The key is in this answer only: mnemo stores its hash."""
    record, secret = await accounts.issue_key(
        app.store, name, name=body.name, scopes=body.scopes, create_missing=False
    )
    return ApiKeyCreated(**key_info(record).model_dump(), key=secret)


@router.get(
    "/users/{name}/keys",
    response_model=list[ApiKeyInfo],
    responses={200: ax.KEYS},
    summary="List a user's keys",
    operation_id="listUserKeys",
)
async def list_keys(app: App, name: str) -> list[ApiKeyInfo]:
    """Revoked ones too, oldest first; never the keys themselves."""
    return [key_info(key) for key in await accounts.list_keys(app.store, name)]


@router.get(
    "/keys",
    response_model=list[ApiKeyInfo],
    responses={200: ax.KEYS},
    summary="List every user's keys",
    operation_id="listKeys",
    openapi_extra={"parameters": [ax.ONLY_USER]},
)
async def list_all_keys(app: App, request: Request) -> list[ApiKeyInfo]:
    """`mnemo keys list`: every key (or one user's, `?user=NAME`), revoked ones too,
    oldest first; never the keys themselves."""
    user = request.query_params.get("user")  # read, not declared: see `export_data`
    return [key_info(key) for key in await accounts.list_keys(app.store, user)]


@router.delete(
    "/users/{name}/keys/{key_id}",
    response_model=DeleteResult,
    responses={
        200: ax.KEY_REVOKED,
        404: error_answer("Unknown user, or no such active key", ax.NO_KEY),
    },
    summary="Revoke a user's key",
    operation_id="revokeUserKey",
)
async def revoke_key(app: App, name: str, key_id: str) -> DeleteResult:
    """It stops working at once, in every worker."""
    await accounts.revoke_key(app.store, key_id, name)
    return DeleteResult()


@router.get(
    "/export",
    response_class=StreamingResponse,
    responses={200: ax.EXPORT},
    summary="Export users, key records, conversations, action items and memories as JSON Lines",
    operation_id="exportData",
    openapi_extra={"parameters": [ax.ONLY_USER]},
)
async def export_data(app: App, request: Request) -> StreamingResponse:
    """`mnemo export`'s lines, streamed (key records carry hashes, never keys)."""
    # `user` is read here, not declared: no value of it is malformed (an unknown one
    # is a 404), so the document shows no 422 that could not happen.
    user = request.query_params.get("user")
    if user is not None:
        await accounts.find_user(app.store, user)

    async def lines() -> AsyncIterator[bytes]:
        async for line in export_lines(app.store, user):
            yield (line + "\n").encode()

    return StreamingResponse(lines(), media_type="application/x-ndjson")


@router.post(
    "/import",
    response_model=ImportResult,
    responses={
        200: ax.IMPORTED,
        413: error_answer("The body is over the import's size limit", ax.IMPORT_TOO_LARGE),
        422: unprocessable_answer(ax.BAD_IMPORT),
    },
    summary="Import JSON Lines from an export",
    operation_id="importData",
    openapi_extra={"requestBody": ax.IMPORT_BODY},
)
async def import_data(
    app: App,
    request: Request,
    embeddings: Annotated[
        bool, Query(description="Compute search embeddings while importing (~4 ms a memory).")
    ] = True,
) -> ImportResult:
    """`mnemo import`: safe to repeat (what is there already is left as it is). Every
    line is checked first: a malformed one is a 422 naming it, and nothing is stored.
    A failure found only while storing (a record of a user the file has not created)
    is a 422 naming the line and what was stored before it."""
    lines = decode_lines(await request.body())
    try:
        check_lines(lines)
    except BadRequest as error:
        raise Unprocessable(error.detail) from None
    retrieval = app.service.retrieval

    async def embed(contents: Any) -> list[bytes]:
        return await retrieval.vectors(contents, background=True)

    counts = ImportCounts()
    try:
        await import_lines(app.store, lines, embed if embeddings else None, counts)
    except BadRequest as error:
        raise Unprocessable(f"{error.detail}; stored before it: {counts.summary()}") from None
    return ImportResult(added=counts.added, existing=counts.existing)
