"""A user's conversations (scopes `conversations:read`/`:write`): the list (newest
first, a page at a time), one conversation (its transcript, the memories extracted from
it, its action items), a pasted text as a new conversation (what was extracted is shown),
and delete (with or without its memories). Each route is one call of
mnemo.conversations, the same the API makes."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request, Response
from pydantic import ValidationError

from mnemo.action_items import ActionItemService
from mnemo.api.deps import charge, components
from mnemo.conversations import ConversationService, draft_from_text
from mnemo.models import MAX_TRANSCRIPT_CHARS, ConversationCreate, Memory
from mnemo.store import READ_SCOPE
from mnemo.store.base import (
    ACTION_ITEMS_READ_SCOPE,
    CONVERSATIONS_WRITE_SCOPE,
    ActionItemFilter,
    ConversationFilter,
)
from mnemo.ui.route import ConversationsRoute, form_issues, visitor_key
from mnemo.ui.security import PREFIX
from mnemo.ui.templating import htmx, render

PAGE_SIZE = 25  # conversations a page of the list shows
SHOWN_MEMORIES = 100  # memories of one conversation its page lists (the newest kept)
SHOWN_ITEMS = 1000  # action items of one conversation its page lists
CHANGED = "conversations-changed"  # the event that makes the page fetch its list again
LIST = f"{PREFIX}/conversations"

router = APIRouter(prefix=PREFIX, route_class=ConversationsRoute, include_in_schema=False)


def _service(request: Request) -> ConversationService:
    found = components(request)
    return ConversationService(found.service, found.settings)


@router.get("/conversations")
async def conversations(
    request: Request,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    deleted: bool = False,
) -> Response:
    """A page of the list, newest first (one more is read to know whether a next
    page exists)."""
    key = visitor_key(request)
    found = await _service(request).list(
        key.user_id, ConversationFilter(), PAGE_SIZE + 1, offset, transcript=False
    )
    context: dict[str, Any] = {
        "items": found[:PAGE_SIZE],
        "offset": offset,
        "more": offset + PAGE_SIZE if len(found) > PAGE_SIZE else None,
        "previous": max(offset - PAGE_SIZE, 0) if offset else None,
        "can_write": CONVERSATIONS_WRITE_SCOPE in key.scopes,
        "max_chars": MAX_TRANSCRIPT_CHARS,
        "deleted": deleted,
    }
    if htmx(request):
        return render(request, "_conversation_list.html", context)
    return render(request, "conversations.html", context)


@router.post("/conversations")
async def create(
    request: Request,
    text: Annotated[str, Form(max_length=MAX_TRANSCRIPT_CHARS)] = "",
) -> Response:
    """A pasted text as a conversation, as `POST /v1/dev/user/conversations` stores it;
    the answer shows what was extracted (memories, action items)."""
    key = visitor_key(request)
    found = components(request)
    try:
        body = ConversationCreate.model_validate({"text": text})
    except ValidationError as error:
        raise form_issues(error) from None
    draft = draft_from_text(body)
    await charge(found, key, draft.characters, request.scope.setdefault("state", {}))
    created = await _service(request).create(key.user_id, draft)
    headers = {"HX-Trigger": CHANGED} if htmx(request) else {}
    return render(
        request,
        "_conversation_created.html" if htmx(request) else "conversation_created.html",
        {"created": created},
        headers=headers,
    )


@router.get("/conversations/{conversation_id}")
async def conversation(request: Request, conversation_id: str) -> Response:
    """Its transcript; the memories extracted from it (with `memories:read`) and its
    action items (with `action_items:read`)."""
    key = visitor_key(request)
    found = components(request)
    record = await _service(request).get(key.user_id, conversation_id)
    memories: list[Memory] | None = None
    if READ_SCOPE in key.scopes:
        raw = await found.service.list_memories(
            key.user_id, None, SHOWN_MEMORIES, 0, conversation_id=record.id
        )
        memories = [Memory.model_validate(item) for item in json.loads(raw)]
    items = None
    if ACTION_ITEMS_READ_SCOPE in key.scopes:
        items = await ActionItemService(found.store).list(
            key.user_id, ActionItemFilter(conversation_id=record.id), SHOWN_ITEMS, 0
        )
    return render(
        request,
        "conversation.html",
        {
            "c": record,
            "memories": memories,
            "items": items,
            "can_write": CONVERSATIONS_WRITE_SCOPE in key.scopes,
        },
    )


@router.post("/conversations/{conversation_id}/delete")
async def delete(
    request: Request,
    conversation_id: str,
    with_memories: Annotated[bool, Form()] = False,
) -> Response:
    """Permanent; its memories go too only if asked. Then to the list, which says so."""
    key = visitor_key(request)
    await _service(request).delete(key.user_id, conversation_id, with_memories=with_memories)
    target = f"{LIST}?deleted=1"
    if htmx(request):
        return Response(status_code=200, headers={"HX-Redirect": target})
    return Response(status_code=303, headers={"Location": target})
