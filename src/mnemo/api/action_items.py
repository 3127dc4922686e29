"""`/v1/dev/user/action-items` routes (Omi's Developer API shapes), under the scopes
`action_items:read` and `action_items:write`."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Security

from mnemo.action_items import NOT_FOUND, ActionItemService
from mnemo.api import examples as ex
from mnemo.api.deps import CurrentKey, bearer_scheme, components, scoped_route
from mnemo.api.memories import ERRORS, TOO_LARGE, error_answer, unprocessable_answer
from mnemo.clock import to_us
from mnemo.models import (
    DEFAULT_ACTION_ITEM_LIMIT,
    ActionItem,
    ActionItemBatchCreate,
    ActionItemBatchResult,
    ActionItemCreate,
    ActionItemUpdate,
    DeleteResult,
    Integer,
)
from mnemo.store.base import ACTION_ITEMS_READ_SCOPE, ACTION_ITEMS_WRITE_SCOPE, ActionItemFilter

_ITEM: dict[str, Any] = {
    "id": "01a2343c-5a0e-7b6c-9a51-5d0c7f3e2b10",
    "description": "Call the dentist to move the appointment",
    "completed": False,
    "created_at": "2026-12-02T12:30:00.120000Z",
    "updated_at": "2026-12-02T12:30:00.120000Z",
    "due_at": "2026-12-04T09:00:00Z",
    "completed_at": None,
    "conversation_id": None,
}
_DONE = {
    **_ITEM,
    "completed": True,
    "updated_at": "2026-12-02T12:31:10.500000Z",
    "completed_at": "2026-12-02T12:31:10.500000Z",
}
_NOT_FOUND = error_answer("No such action item for this user", ex.errors(NOT_FOUND))
_CREATE_BODY = ex.named(
    minimal=("Only the description", {"description": _ITEM["description"]}),
    full=(
        "Every field",
        {"description": _ITEM["description"], "completed": False, "due_at": _ITEM["due_at"]},
    ),
)
_BATCH_BODY = ex.named(
    two=(
        "Two items",
        {"action_items": [{"description": "Book the flights"}, {"description": "Pay rent"}]},
    )
)
_UPDATE_BODY = ex.named(done=("Mark it done", {"completed": True}))

router = APIRouter(
    prefix="/v1/dev/user/action-items",
    tags=["action items"],
    route_class=scoped_route(ACTION_ITEMS_READ_SCOPE, ACTION_ITEMS_WRITE_SCOPE),
    dependencies=[Security(bearer_scheme)],
    responses=ERRORS,
)


async def _service(request: Request) -> ActionItemService:
    return ActionItemService(components(request).store)


Service = Annotated[ActionItemService, Depends(_service)]


@router.get(
    "",
    response_model=list[ActionItem],
    responses={
        200: ex.named(page=("A page", [_ITEM])),
        422: unprocessable_answer(ex.BAD_QUERY),
    },
    summary="List action items",
    operation_id="listActionItems",
)
async def list_action_items(
    key: CurrentKey,
    service: Service,
    conversation_id: str | None = None,
    completed: bool | None = None,
    start_date: datetime | None = None,
    end_date: datetime | None = None,
    limit: Integer = DEFAULT_ACTION_ITEM_LIMIT,
    offset: Integer = 0,
) -> list[ActionItem]:
    """The user's action items, newest first. `limit` is clamped to 1-1000 and `offset`
    to >= 0; `start_date`/`end_date` (ISO 8601, no zone: UTC) bound `created_at`,
    inclusive; `conversation_id` and `completed` filter exactly."""
    where = ActionItemFilter(
        conversation_id=conversation_id,
        completed=completed,
        start_us=None if start_date is None else to_us(start_date),
        end_us=None if end_date is None else to_us(end_date),
    )
    return await service.list(key.user_id, where, limit, offset)


@router.post(
    "",
    response_model=ActionItem,
    responses={
        200: ex.named(created=("The stored item", _ITEM)),
        413: TOO_LARGE,
        422: unprocessable_answer(ex.errors("description cannot be empty")),
    },
    summary="Create an action item",
    operation_id="createActionItem",
    openapi_extra={"requestBody": _CREATE_BODY},
)
async def create_action_item(
    key: CurrentKey, service: Service, body: ActionItemCreate
) -> ActionItem:
    (item,) = await service.create(key.user_id, [body])
    return item


@router.post(
    "/batch",
    response_model=ActionItemBatchResult,
    responses={
        200: ex.named(created=("Both stored", {"action_items": [_ITEM], "created_count": 1})),
        413: TOO_LARGE,
        422: unprocessable_answer(ex.errors("All action items must have non-empty descriptions")),
    },
    summary="Create up to 50 action items",
    operation_id="createActionItems",
    openapi_extra={"requestBody": _BATCH_BODY},
)
async def create_action_items(
    key: CurrentKey, service: Service, body: ActionItemBatchCreate
) -> ActionItemBatchResult:
    """All or nothing: if any item is invalid, nothing is stored."""
    items = await service.create(key.user_id, body.action_items) if body.action_items else []
    return ActionItemBatchResult(action_items=items, created_count=len(items))


@router.patch(
    "/{action_item_id}",
    response_model=ActionItem,
    responses={
        200: ex.named(updated=("Marked done", _DONE)),
        404: _NOT_FOUND,
        413: TOO_LARGE,
        422: unprocessable_answer(ex.errors("At least one field must be provided")),
    },
    summary="Update an action item",
    operation_id="updateActionItem",
    openapi_extra={"requestBody": _UPDATE_BODY},
)
async def update_action_item(
    key: CurrentKey, service: Service, action_item_id: str, body: ActionItemUpdate
) -> ActionItem:
    """Any of `description`, `completed` (sets `completed_at` to now, or clears it),
    `due_at`; a field sent as null counts as not given. Atomic."""
    return await service.update(key.user_id, action_item_id, body)


@router.delete(
    "/{action_item_id}",
    response_model=DeleteResult,
    responses={200: ex.DELETED, 404: _NOT_FOUND},
    summary="Delete an action item",
    operation_id="deleteActionItem",
)
async def delete_action_item(
    key: CurrentKey, service: Service, action_item_id: str
) -> DeleteResult:
    """Permanent and immediate."""
    await service.delete(key.user_id, action_item_id)
    return DeleteResult()
