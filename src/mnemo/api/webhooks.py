"""Webhook endpoint routes (docs/webhooks.md): a user's, `/v1/dev/user/webhooks` under
the scopes `webhooks:read` and `webhooks:write`, and the admin's (events of every user),
`/v1/admin/webhooks` behind the admin token. Both are the same operations over
mnemo.webhooks.service, for the owner: the key's user, or None (the admin)."""

# (No `from __future__ import annotations`: the routes name a local type, `Of`.)

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Security

from mnemo.api import examples as ex
from mnemo.api.admin import PREFIX as ADMIN_PREFIX
from mnemo.api.admin import router as admin_api
from mnemo.api.admin_route import AdminRoute
from mnemo.api.deps import bearer_scheme, components, scoped_route
from mnemo.api.memories import ERRORS, TOO_LARGE, error_answer, unprocessable_answer
from mnemo.clock import to_datetime, to_datetime_or_none
from mnemo.errors import Forbidden
from mnemo.models import DeleteResult, Integer
from mnemo.store import READ_SCOPE, ApiKey
from mnemo.store.base import WEBHOOKS_READ_SCOPE, WEBHOOKS_WRITE_SCOPE
from mnemo.store.webhook_rows import PENDING, Delivery, Endpoint
from mnemo.webhooks.models import (
    DEFAULT_DELIVERIES_LIMIT,
    WebhookCreate,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEndpointCreated,
    WebhookUpdate,
)
from mnemo.webhooks.service import (
    DELIVERY_NOT_FOUND,
    ENDPOINT_NOT_FOUND,
    NOTHING_GIVEN,
    TOO_MANY,
    WebhookService,
)

_ENDPOINT: dict[str, Any] = {
    "id": "01a23a51-7c2e-7d40-b1f3-2c9e8a6d4f10",
    "url": "https://hooks.example.com/mnemo",
    "events": ["memory.created", "memory.updated", "memory.deleted"],
    "description": "Sync to my notes",
    "enabled": True,
    "created_at": "2026-12-02T15:10:00.120000Z",
    "updated_at": "2026-12-02T15:10:00.120000Z",
}
_CREATED = {**_ENDPOINT, "secret": "whsec_Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmE="}
_DELIVERY: dict[str, Any] = {
    "id": "msg_5e0c2f9a41b74d8e9a3f6b1c2d7e8f90",
    "endpoint_id": _ENDPOINT["id"],
    "event": "memory.created",
    "user": "alice",
    "memory_id": "01a23376-df06-7f7f-8738-e9e2799e543b",
    "status": "failed",
    "attempts": 19,
    "created_at": "2026-12-02T15:11:02.000000Z",
    "last_attempt_at": "2026-12-05T14:02:41.500000Z",
    "next_attempt_at": None,
    "last_error": "HTTP 500",
    "delivered_at": None,
}
_BAD_URL = (
    "Cannot send webhooks there: the host 127.0.0.1 resolves to 127.0.0.1, which is not a"
    " public address (MNEMO_WEBHOOKS_ALLOW_PRIVATE=true allows it)"
)
_ENDPOINT_NOT_FOUND = error_answer("No such endpoint of this owner", ex.errors(ENDPOINT_NOT_FOUND))
_DELIVERY_NOT_FOUND = error_answer(
    "No such endpoint of this owner, or no such delivery of it",
    ex.errors(ENDPOINT_NOT_FOUND, DELIVERY_NOT_FOUND),
)
_CREATE_BODY = ex.named(
    all_events=(
        "Every memory event",
        {"url": _ENDPOINT["url"], "events": _ENDPOINT["events"], "description": "Sync"},
    )
)
_UPDATE_BODY = ex.named(pause=("Pause it", {"enabled": False}))
_MEMORY_READ_NEEDED = f"Insufficient permissions. Required scope: {READ_SCOPE}"


def _public(endpoint: Endpoint) -> WebhookEndpoint:
    return WebhookEndpoint(
        id=endpoint.id,
        url=endpoint.url,
        events=list(endpoint.events),
        description=endpoint.description,
        enabled=endpoint.enabled,
        created_at=to_datetime(endpoint.created_at),
        updated_at=to_datetime(endpoint.updated_at),
    )


def _delivery(found: Delivery) -> WebhookDelivery:
    return WebhookDelivery(
        id=found.id,
        endpoint_id=found.endpoint_id,
        event=found.event,
        user=found.user_name,
        memory_id=found.memory_id,
        status=found.status,
        attempts=found.attempts,
        created_at=to_datetime(found.occurred_at),
        last_attempt_at=None
        if found.last_attempt_at is None
        else to_datetime(found.last_attempt_at),
        next_attempt_at=to_datetime(found.next_attempt_at) if found.status == PENDING else None,
        last_error=found.last_error,
        delivered_at=to_datetime_or_none(found.delivered_at),
    )


async def _service(request: Request) -> WebhookService:
    found = components(request)
    return WebhookService(found.store, allow_private=found.settings.webhooks_allow_private)


Service = Annotated[WebhookService, Depends(_service)]
Owner = Callable[[Request], Awaitable[str | None]]


def _operations(router: APIRouter, owner: Owner, prefix: str) -> None:
    """The eight operations on `router`, for the owner `owner(request)` answers; their
    operation ids start with `prefix` (none for a user's, `admin` for the admin's)."""
    Of = Annotated[str | None, Depends(owner)]

    def op(name: str) -> str:
        return prefix + name[0].upper() + name[1:] if prefix else name

    @router.post(
        "",
        response_model=WebhookEndpointCreated,
        responses={
            200: ex.named(created=("The endpoint, with its secret (shown once)", _CREATED)),
            409: error_answer("The owner has the most endpoints already", ex.errors(TOO_MANY)),
            413: TOO_LARGE,
            422: unprocessable_answer(ex.errors(_BAD_URL)),
        },
        summary="Register a webhook endpoint",
        operation_id=op("createWebhook"),
        openapi_extra={"requestBody": _CREATE_BODY},
    )
    async def create(of: Of, service: Service, body: WebhookCreate) -> WebhookEndpointCreated:
        """A new, enabled endpoint and its signing secret (in this answer only)."""
        endpoint = await service.create(of, body)
        return WebhookEndpointCreated(**_public(endpoint).model_dump(), secret=endpoint.secret)

    @router.get(
        "",
        response_model=list[WebhookEndpoint],
        responses={200: ex.named(listed=("Every endpoint, oldest first", [_ENDPOINT]))},
        summary="List webhook endpoints",
        operation_id=op("listWebhooks"),
    )
    async def list_all(of: Of, service: Service) -> list[WebhookEndpoint]:
        return [_public(endpoint) for endpoint in await service.endpoints(of)]

    @router.get(
        "/{endpoint_id}",
        response_model=WebhookEndpoint,
        responses={200: ex.named(found=("The endpoint", _ENDPOINT)), 404: _ENDPOINT_NOT_FOUND},
        summary="Get a webhook endpoint",
        operation_id=op("getWebhook"),
    )
    async def get(of: Of, service: Service, endpoint_id: str) -> WebhookEndpoint:
        return _public(await service.get(of, endpoint_id))

    @router.patch(
        "/{endpoint_id}",
        response_model=WebhookEndpoint,
        responses={
            200: ex.named(paused=("Disabled", {**_ENDPOINT, "enabled": False})),
            404: _ENDPOINT_NOT_FOUND,
            413: TOO_LARGE,
            422: unprocessable_answer(ex.errors(NOTHING_GIVEN, _BAD_URL)),
        },
        summary="Update a webhook endpoint",
        operation_id=op("updateWebhook"),
        openapi_extra={"requestBody": _UPDATE_BODY},
    )
    async def update(
        of: Of, service: Service, endpoint_id: str, body: WebhookUpdate
    ) -> WebhookEndpoint:
        """Any of `url`, `events`, `description`, `enabled`; atomic. A disabled endpoint
        gets no new deliveries, and its pending ones wait until it is enabled again."""
        return _public(await service.update(of, endpoint_id, body))

    @router.delete(
        "/{endpoint_id}",
        response_model=DeleteResult,
        responses={200: ex.DELETED, 404: _ENDPOINT_NOT_FOUND},
        summary="Delete a webhook endpoint",
        operation_id=op("deleteWebhook"),
    )
    async def delete(of: Of, service: Service, endpoint_id: str) -> DeleteResult:
        """The endpoint, its secret and all its deliveries, at once."""
        await service.delete(of, endpoint_id)
        return DeleteResult()

    @router.get(
        "/{endpoint_id}/deliveries",
        response_model=list[WebhookDelivery],
        responses={
            200: ex.named(page=("A page, newest first", [_DELIVERY])),
            404: _ENDPOINT_NOT_FOUND,
            422: unprocessable_answer(ex.BAD_QUERY),
        },
        summary="List an endpoint's deliveries",
        operation_id=op("listWebhookDeliveries"),
    )
    async def deliveries(
        of: Of,
        service: Service,
        endpoint_id: str,
        limit: Integer = DEFAULT_DELIVERIES_LIMIT,
        offset: Integer = 0,
    ) -> list[WebhookDelivery]:
        """Newest first; `limit` is clamped to 1-500 and `offset` to >= 0."""
        found = await service.deliveries(of, endpoint_id, limit, offset)
        return [_delivery(item) for item in found]

    @router.post(
        "/{endpoint_id}/deliveries/{delivery_id}/replay",
        response_model=WebhookDelivery,
        responses={
            200: ex.named(replayed=("Due now", {**_DELIVERY, "status": "pending"})),
            404: _DELIVERY_NOT_FOUND,
        },
        summary="Send a delivery again",
        operation_id=op("replayWebhookDelivery"),
    )
    async def replay(
        of: Of, service: Service, endpoint_id: str, delivery_id: str
    ) -> WebhookDelivery:
        """Pending and due now, with a new retry window, whatever its status; sent with
        the same `webhook-id`, a new timestamp and the memory as it is then."""
        return _delivery(await service.replay(of, endpoint_id, delivery_id))


async def _user(request: Request) -> str | None:
    """The key's user; a create, PATCH or replay (which send memories to a URL) needs
    `memories:read` too."""
    key: ApiKey = request.state.api_key
    if request.method in ("POST", "PATCH") and READ_SCOPE not in key.scopes:
        raise Forbidden(_MEMORY_READ_NEEDED)
    return key.user_id


async def _admin(request: Request) -> str | None:
    return None


router = APIRouter(
    prefix="/v1/dev/user/webhooks",
    tags=["webhooks"],
    route_class=scoped_route(WEBHOOKS_READ_SCOPE, WEBHOOKS_WRITE_SCOPE),
    dependencies=[Security(bearer_scheme)],
    responses=ERRORS,
)
_operations(router, _user, "")

admin_router = APIRouter(
    prefix=f"{ADMIN_PREFIX}/webhooks",
    tags=["admin"],
    route_class=AdminRoute,
    dependencies=admin_api.dependencies,
    responses=admin_api.responses,
)
_operations(admin_router, _admin, "admin")
