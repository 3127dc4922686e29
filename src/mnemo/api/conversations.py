"""`/v1/dev/user/conversations` routes (Omi's Developer API shapes), under the scopes
`conversations:read` and `conversations:write`."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response, Security

from mnemo.api import examples as ex
from mnemo.api.deps import (
    Budget,
    CurrentKey,
    IdempotencyKey,
    bearer_scheme,
    components,
    scoped_route,
)
from mnemo.api.memories import (
    ERRORS,
    TOO_LARGE,
    error_answer,
    json_response,
    unprocessable_answer,
)
from mnemo.clock import to_us
from mnemo.conversations import (
    FINISHED_BEFORE,
    NOT_FOUND,
    TEXT_EMPTY,
    ConversationService,
    Draft,
    draft_from_segments,
    draft_from_text,
)
from mnemo.idempotency import Idempotency, answer_json
from mnemo.models import (
    DEFAULT_CONVERSATION_LIMIT,
    Conversation,
    ConversationCreate,
    ConversationCreated,
    ConversationUpdate,
    DeleteResult,
    Integer,
    SegmentsCreate,
)
from mnemo.store.base import (
    CONVERSATIONS_READ_SCOPE,
    CONVERSATIONS_WRITE_SCOPE,
    ConversationFilter,
)

_ID = "01a2343c-59f1-7d22-8e0b-0c4f2a1d9e77"
_CREATED_AT = "2026-12-02T12:30:00.110000Z"
_TEXT = "I've been allergic to peanuts since I was a kid. I need to call the dentist tomorrow."
_CONVERSATION: dict[str, Any] = {
    "id": _ID,
    "status": "completed",
    "title": _TEXT,
    "text_source": "other_text",
    "text_source_spec": None,
    "source": None,
    "language": "en",
    "geolocation": None,
    "started_at": "2026-12-02T12:25:00Z",
    "finished_at": "2026-12-02T12:30:00Z",
    "created_at": _CREATED_AT,
    "discarded": False,
}
_WITH_TEXT = {**_CONVERSATION, "text": _TEXT}
_MEMORY = {
    **ex.MEMORY,
    "id": "01a2343c-5a0c-7e51-b1f3-3d7e6a0c4b21",
    "content": "User is allergic to peanuts",
    "tags": [],
    "created_at": _CREATED_AT,
    "updated_at": _CREATED_AT,
    "manually_added": False,
    "scoring": "00_999_1796214600",
    "reviewed": False,
    "user_review": None,
    "conversation_id": _ID,
}
_ITEM = {
    "id": "01a2343c-5a0e-7b6c-9a51-5d0c7f3e2b10",
    "description": "Call the dentist",
    "completed": False,
    "created_at": _CREATED_AT,
    "updated_at": _CREATED_AT,
    "due_at": "2026-12-03T23:59:00Z",
    "completed_at": None,
    "conversation_id": _ID,
}
_CREATED = ex.named(
    extracted=(
        "A fact and a task extracted",
        {
            "id": _ID,
            "status": "completed",
            "discarded": False,
            "title": _TEXT,
            "memories": [_MEMORY],
            "action_items": [_ITEM],
        },
    ),
    fact=(
        "A fact, no task",
        {
            "id": _ID,
            "status": "completed",
            "discarded": False,
            "title": "Your sister Sarah moved to Portland, right? Yes, she moved to Portland",
            "memories": [
                {
                    **_MEMORY,
                    "content": "User's sister Sarah lives in Portland",
                    "category": "interesting",
                    "scoring": "00_998_1796214600",
                }
            ],
            "action_items": [],
        },
    ),
    nothing=(
        "Nothing to extract: stored, discarded",
        {
            "id": _ID,
            "status": "completed",
            "discarded": True,
            "title": "Hi! How are you?",
            "memories": [],
            "action_items": [],
        },
    ),
)
_NOT_FOUND = error_answer("No such conversation for this user", ex.errors(NOT_FOUND))
_TEXT_BODY = ex.named(
    minimal=("Only the text", {"text": _TEXT}),
    full=(
        "Every field",
        {
            "text": "I play the cello in a string quartet. I have to book the flights by Friday.",
            "text_source": "message",
            "text_source_spec": "slack",
            "started_at": "2026-12-02T12:25:00Z",
            "finished_at": "2026-12-02T12:30:00Z",
            "language": "en",
            "geolocation": {"latitude": 45.52, "longitude": -122.68, "address": "Portland"},
        },
    ),
)
_SEGMENTS_BODY = ex.named(
    two=(
        "Two speakers",
        {
            "transcript_segments": [
                {
                    "text": "Your sister Sarah moved to Portland, right?",
                    "speaker": "SPEAKER_01",
                    "is_user": False,
                    "start": 0,
                    "end": 3.5,
                },
                {
                    "text": "Yes, she moved to Portland last spring.",
                    "speaker": "SPEAKER_00",
                    "is_user": True,
                    "start": 3.5,
                    "end": 6,
                },
            ],
            "source": "omi",
            "started_at": "2026-12-02T12:25:00Z",
        },
    )
)
_UPDATE_BODY = ex.named(title=("A new title", {"title": "Lunch with Sam"}))

router = APIRouter(
    prefix="/v1/dev/user/conversations",
    tags=["conversations"],
    route_class=scoped_route(CONVERSATIONS_READ_SCOPE, CONVERSATIONS_WRITE_SCOPE),
    dependencies=[Security(bearer_scheme)],
    responses=ERRORS,
)


async def _service(request: Request) -> ConversationService:
    found = components(request)
    return ConversationService(found.service, found.settings)


Service = Annotated[ConversationService, Depends(_service)]


@router.post(
    "",
    response_model=ConversationCreated,
    responses={
        200: _CREATED,
        413: TOO_LARGE,
        422: unprocessable_answer(ex.errors(TEXT_EMPTY, FINISHED_BEFORE)),
    },
    summary="Create a conversation from text",
    operation_id="createConversation",
    openapi_extra={"requestBody": _TEXT_BODY},
)
async def create_conversation(
    key: CurrentKey,
    service: Service,
    budget: Budget,
    body: ConversationCreate,
    idempotency: IdempotencyKey,
) -> Response:
    """Stores the conversation, extracts the timeless facts about the user (stored as
    memories: `manually_added` false, deduplicated against the user's memories) and the
    action items, all in one transaction. Nothing extracted: stored with `discarded`
    true. The text counts against the key's characters budget. With an
    `Idempotency-Key`, a retry answers the first answer again (see the reference)."""
    return await _create(key, service, budget, draft_from_text(body), idempotency)


@router.post(
    "/from-segments",
    response_model=ConversationCreated,
    responses={
        200: _CREATED,
        413: TOO_LARGE,
        422: unprocessable_answer(
            ex.errors("Segment 1: end time must be after start time", FINISHED_BEFORE)
        ),
    },
    summary="Create a conversation from transcript segments",
    operation_id="createConversationFromSegments",
    openapi_extra={"requestBody": _SEGMENTS_BODY},
)
async def create_from_segments(
    key: CurrentKey,
    service: Service,
    budget: Budget,
    body: SegmentsCreate,
    idempotency: IdempotencyKey,
) -> Response:
    """As `POST /conversations`, from 1-500 segments; `is_user` tells the user's words
    from the others'. The segments' texts count against the characters budget."""
    return await _create(key, service, budget, draft_from_segments(body), idempotency)


async def _create(
    key: CurrentKey, service: Service, budget: Budget, draft: Draft, idempotency: Idempotency | None
) -> Response:
    """A request that breaks a rule (the draft's) spends no budget, nor does a replay."""
    await service.memories.replay(key.user_id, idempotency)
    await budget(draft.characters)
    return json_response(answer_json(await service.create(key.user_id, draft, idempotency)))


@router.get(
    "",
    response_model=list[Conversation],
    responses={
        200: ex.named(
            page=("A page", [_CONVERSATION]),
            spoken=(
                "A conversation from segments first",
                [{**_CONVERSATION, "text_source": None, "source": "omi"}, _CONVERSATION],
            ),
        ),
        422: unprocessable_answer(ex.BAD_QUERY),
    },
    summary="List conversations",
    operation_id="listConversations",
)
async def list_conversations(
    key: CurrentKey,
    service: Service,
    limit: Integer = DEFAULT_CONVERSATION_LIMIT,
    offset: Integer = 0,
    start_date: datetime | None = None,
    end_date: datetime | None = None,
    include_transcript: bool = False,
) -> list[Conversation]:
    """The user's conversations, newest first. `limit` is clamped to 1-100 and `offset`
    to >= 0; `start_date`/`end_date` (ISO 8601, no zone: UTC) bound `created_at`,
    inclusive; `include_transcript` adds each one's `text` or `transcript_segments`."""
    where = ConversationFilter(
        start_us=None if start_date is None else to_us(start_date),
        end_us=None if end_date is None else to_us(end_date),
    )
    return await service.list(key.user_id, where, limit, offset, transcript=include_transcript)


@router.get(
    "/{conversation_id}",
    response_model=Conversation,
    responses={200: ex.named(found=("With its transcript", _WITH_TEXT)), 404: _NOT_FOUND},
    summary="Get one conversation",
    operation_id="getConversation",
)
async def get_conversation(key: CurrentKey, service: Service, conversation_id: str) -> Conversation:
    """With its transcript (`text` or `transcript_segments`)."""
    return await service.get(key.user_id, conversation_id)


@router.patch(
    "/{conversation_id}",
    response_model=Conversation,
    responses={
        200: ex.named(updated=("Renamed", {**_WITH_TEXT, "title": "Lunch with Sam"})),
        404: _NOT_FOUND,
        413: TOO_LARGE,
        422: unprocessable_answer(
            ex.errors("At least one field (title or discarded) must be provided")
        ),
    },
    summary="Update a conversation",
    operation_id="updateConversation",
    openapi_extra={"requestBody": _UPDATE_BODY},
)
async def update_conversation(
    key: CurrentKey, service: Service, conversation_id: str, body: ConversationUpdate
) -> Conversation:
    """`title` (0-200 characters, stripped) and/or `discarded`; a field sent as null
    counts as not given. Atomic. Answered as `GET` answers it."""
    return await service.update(key.user_id, conversation_id, body)


@router.delete(
    "/{conversation_id}",
    response_model=DeleteResult,
    responses={200: ex.DELETED, 404: _NOT_FOUND, 422: unprocessable_answer(ex.BAD_QUERY)},
    summary="Delete a conversation",
    operation_id="deleteConversation",
)
async def delete_conversation(
    key: CurrentKey, service: Service, conversation_id: str, delete_memories: bool = False
) -> DeleteResult:
    """Permanent and immediate: the transcript leaves every table and file. The memories
    extracted from it stay (their `conversation_id` removed) unless `delete_memories` is
    true: then they are deleted too, in the same transaction. Its action items stay,
    unlinked."""
    await service.delete(key.user_id, conversation_id, with_memories=delete_memories)
    return DeleteResult()
