"""A user's action items (scopes `action_items:read`/`:write`): the list (open first,
then done, each a page at a time), mark done or not done, delete. Each route is one
call of mnemo.action_items, the same the API makes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request, Response

from mnemo.action_items import ActionItemService
from mnemo.api.deps import components
from mnemo.models import ActionItemUpdate
from mnemo.store.base import ACTION_ITEMS_WRITE_SCOPE, CONVERSATIONS_READ_SCOPE, ActionItemFilter
from mnemo.ui.route import ActionItemsRoute, notice, visitor_key
from mnemo.ui.security import PREFIX
from mnemo.ui.templating import htmx, render

PAGE_SIZE = 100  # action items a page of each list (open, done) shows
CHANGED = "action-items-changed"  # the event that makes the page fetch its lists again
Offset = Annotated[int, Query(ge=0, le=1_000_000)]

router = APIRouter(prefix=PREFIX, route_class=ActionItemsRoute, include_in_schema=False)


def _service(request: Request) -> ActionItemService:
    return ActionItemService(components(request).store)


async def _section(request: Request, completed: bool, offset: int) -> dict[str, Any]:
    """One list's page (one more is read to know whether a next page exists)."""
    key = visitor_key(request)
    found = await _service(request).list(
        key.user_id, ActionItemFilter(completed=completed), PAGE_SIZE + 1, offset
    )
    return {
        "items": found[:PAGE_SIZE],
        "offset": offset,
        "more": offset + PAGE_SIZE if len(found) > PAGE_SIZE else None,
        "previous": max(offset - PAGE_SIZE, 0) if offset else None,
    }


@router.get("/action-items")
async def action_items(
    request: Request, open_offset: Offset = 0, done_offset: Offset = 0
) -> Response:
    """Open items first, then done ones, each list newest first."""
    key = visitor_key(request)
    context = {
        "open": await _section(request, False, open_offset),
        "done": await _section(request, True, done_offset),
        "can_write": ACTION_ITEMS_WRITE_SCOPE in key.scopes,
        "can_read_conversations": CONVERSATIONS_READ_SCOPE in key.scopes,
    }
    if htmx(request):
        return render(request, "_action_item_lists.html", context)
    return render(request, "action_items.html", context)


@router.post("/action-items/{item_id}")
async def mark(request: Request, item_id: str, completed: Annotated[bool, Form()]) -> Response:
    """Done (`completed` true) or not done again."""
    key = visitor_key(request)
    item = await _service(request).update(
        key.user_id, item_id, ActionItemUpdate(completed=completed)
    )
    state = "done" if item.completed else "not done"
    return notice(request, f"Marked {state}: {item.description}", CHANGED)


@router.post("/action-items/{item_id}/delete")
async def delete(request: Request, item_id: str) -> Response:
    await _service(request).delete(visitor_key(request).user_id, item_id)
    return notice(request, "Deleted permanently.", CHANGED)
