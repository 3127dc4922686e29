"""`GET /v1/dev/key`: the calling key's own record, for a key of any scope."""

from __future__ import annotations

from fastapi import APIRouter, Security

from mnemo.api import admin_examples as ax
from mnemo.api import examples as ex
from mnemo.api.admin import key_info
from mnemo.api.deps import AnyScopeRoute, CurrentKey, bearer_scheme
from mnemo.api.memories import error_answer
from mnemo.models import ApiKeyInfo

router = APIRouter(
    prefix="/v1/dev/key",
    tags=["keys"],
    route_class=AnyScopeRoute,
    dependencies=[Security(bearer_scheme)],
)


@router.get(
    "",
    response_model=ApiKeyInfo,
    responses={
        200: ax.KEY,
        401: error_answer("Missing, unknown or revoked key", ex.UNAUTHORIZED),
        429: error_answer("Rate limit exceeded", ex.RATE_LIMITED),
        503: error_answer("The database cannot answer now", ex.UNAVAILABLE),
    },
    summary="The calling key's own record",
    operation_id="getCurrentKey",
)
async def current_key(key: CurrentKey) -> ApiKeyInfo:
    """Its id, user, name, prefix, scopes and times (Omi's `DevApiKey` fields, with
    `user` and `revoked_at`); never the key itself. Counts as a read."""
    return key_info(key)
