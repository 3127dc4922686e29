"""The operator's view (signed in with `MNEMO_ADMIN_TOKEN`): users with their memory
counts, a user's keys (create, shown once; list; revoke). Each route is one call of
mnemo.accounts, the same the admin API and the `mnemo` command make."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request, Response

from mnemo import accounts
from mnemo.api.deps import components
from mnemo.store import ALL_SCOPES, READ_SCOPE, WRITE_SCOPE
from mnemo.ui.route import AdminRoute
from mnemo.ui.security import PREFIX
from mnemo.ui.templating import render

USERS_PAGE = 100

router = APIRouter(prefix=f"{PREFIX}/admin", route_class=AdminRoute, include_in_schema=False)


@router.get("")
async def users(
    request: Request, offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0
) -> Response:
    found = await accounts.list_users(components(request).store, USERS_PAGE + 1, offset)
    return render(
        request,
        "admin_users.html",
        {
            "users": found[:USERS_PAGE],
            "offset": offset,
            "more": offset + USERS_PAGE if len(found) > USERS_PAGE else None,
            "previous": max(offset - USERS_PAGE, 0) if offset else None,
        },
    )


async def _user_page(
    request: Request, name: str, created: tuple[str, str] | None = None, status_code: int = 200
) -> Response:
    store = components(request).store
    user, count = await accounts.user_with_count(store, name)
    return render(
        request,
        "admin_user.html",
        {
            "user": user,
            "memory_count": count,
            "keys": await accounts.list_keys(store, name),
            "scopes": ALL_SCOPES,
            "default_scopes": (READ_SCOPE, WRITE_SCOPE),
            "created": created,
        },
        status_code,
    )


@router.get("/users/{name}")
async def user(request: Request, name: str) -> Response:
    return await _user_page(request, name)


@router.post("/users/{name}/keys")
async def create_key(
    request: Request,
    name: str,
    label: Annotated[str, Form(max_length=accounts.MAX_KEY_NAME_CHARS)] = "",
    scopes: Annotated[list[str], Form(max_length=len(ALL_SCOPES))] = [],  # noqa: B006
) -> Response:
    """The key is on this answer's page only: mnemo stores its hash."""
    record, secret = await accounts.issue_key(
        components(request).store, name, name=label, scopes=scopes, create_missing=False
    )
    return await _user_page(request, name, (record.id, secret))


@router.post("/users/{name}/keys/{key_id}/revoke")
async def revoke_key(request: Request, name: str, key_id: str) -> Response:
    """It stops working at once, in every worker, and its page sessions end."""
    await accounts.revoke_key(components(request).store, key_id, name)
    return await _user_page(request, name)
