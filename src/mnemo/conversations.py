"""The conversation rules (Omi's): validation the schema cannot express, default times,
extraction (facts become memories through the memories service's create path, tasks
become action items), and ownership. Routes call one function here each."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from mnemo.clock import new_id, now_us, to_datetime, to_us
from mnemo.config import Settings
from mnemo.errors import NotFound, Unprocessable
from mnemo.extract import Extraction, Turn, extract
from mnemo.extract.types import MAX_FACT_CHARS
from mnemo.idempotency import Idempotency, answer_json
from mnemo.models import (
    DEFAULT_DURATION_S,
    MAX_CONVERSATION_LIMIT,
    MAX_TRANSCRIPT_CHARS,
    ActionItem,
    Conversation,
    ConversationCreate,
    ConversationCreated,
    ConversationUpdate,
    MemoryCreated,
    SegmentsCreate,
)
from mnemo.search.supersede import superseded
from mnemo.service import MemoryService, page_bounds, plausible_id
from mnemo.store.base import ConversationFilter, NewConversation

NOT_FOUND = "Conversation not found"
TEXT_EMPTY = "text cannot be empty"
FINISHED_BEFORE = "finished_at must be after started_at"
TOO_LONG = f"The transcript cannot exceed {MAX_TRANSCRIPT_CHARS} characters"
# Times a conversation may have: its start from 1900, its end before 9999 (UTC).
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(9999, 1, 1, tzinfo=UTC)
OUT_OF_RANGE = "started_at and finished_at must be between 1900-01-01 and 9999-01-01"
TITLE_CHARS = 80  # a new conversation's title: the transcript's first words, this many
PROMPT_MEMORIES = 200  # the user's memories read for extraction (most important first)


def segment_errors(body: SegmentsCreate) -> str | None:
    """The first rule a segment breaks, as the contract words it (0-based index)."""
    for i, segment in enumerate(body.transcript_segments):
        if segment.start < 0:
            return f"Segment {i}: start time cannot be negative"
        if segment.end <= segment.start:
            return f"Segment {i}: end time must be after start time"
        if not segment.text.strip():
            return f"Segment {i}: text cannot be empty"
    if sum(len(s.text) for s in body.transcript_segments) > MAX_TRANSCRIPT_CHARS:
        return TOO_LONG
    return None


def _times(
    started_at: datetime | None, finished_at: datetime | None, duration_s: float
) -> tuple[int, int]:
    """(started, finished) in microseconds: `started_at` or now, `finished_at` or the
    start plus `duration_s`; 422 if the end is not after the start or out of range."""
    started = now_us() if started_at is None else to_us(started_at)
    finished = (
        started + round(duration_s * 1_000_000) if finished_at is None else to_us(finished_at)
    )
    if not (to_us(EARLIEST) <= started and finished < to_us(LATEST)):
        raise Unprocessable(OUT_OF_RANGE)
    if finished <= started:
        raise Unprocessable(FINISHED_BEFORE)
    return started, finished


def title_of(text: str) -> str:
    """The first words of `text`, up to `TITLE_CHARS` characters (cut at a word)."""
    words = text.split()
    title = ""
    for word in words:
        longer = f"{title} {word}" if title else word
        if len(longer) > TITLE_CHARS:
            return title or word[:TITLE_CHARS]
        title = longer
    return title


def _storable(text: str) -> bool:
    """Whether an extracted text can be stored as a memory or an action item as it is
    (a language model's answer may hold anything): 1-500 characters, not blank, no NUL,
    valid Unicode."""
    if not text.strip() or len(text) > MAX_FACT_CHARS or "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _action_item(draft_description: str, due_us: int | None, at: datetime, cid: str) -> ActionItem:
    due = None
    if due_us is not None:
        try:
            due = to_datetime(due_us)
        except OverflowError:  # a date the extractor resolved out of range: none
            due = None
    return ActionItem(
        id=new_id(),
        description=draft_description,
        completed=False,
        created_at=at,
        updated_at=at,
        due_at=due,
        completed_at=None,
        conversation_id=cid,
    )


@dataclass(frozen=True)
class Draft:
    """A valid conversation not stored yet: its record and what the extractor reads."""

    record: Conversation
    turns: list[Turn]
    started_us: int

    @property
    def characters(self) -> int:
        """The transcript's length, as the characters budget counts it."""
        return sum(len(turn.text) for turn in self.turns)


def _record(started: int, finished: int, title: str, **fields: Any) -> Conversation:
    return Conversation.model_construct(
        id=new_id(),
        status="completed",
        title=title,
        started_at=to_datetime(started),
        finished_at=to_datetime(finished),
        created_at=to_datetime(now_us()),
        discarded=False,
        **fields,
    )


def draft_from_text(body: ConversationCreate) -> Draft:
    """The conversation `POST /conversations` describes; 422 (the contract's words) if it
    breaks a rule."""
    if not body.text.strip():
        raise Unprocessable(TEXT_EMPTY)
    started, finished = _times(body.started_at, body.finished_at, DEFAULT_DURATION_S)
    record = _record(
        started,
        finished,
        title_of(body.text),
        text_source=body.text_source,
        text_source_spec=body.text_source_spec,
        source=None,
        language=body.language,
        geolocation=body.geolocation,
        text=body.text,
        transcript_segments=None,
    )
    return Draft(record, [Turn(body.text)], started)


def draft_from_segments(body: SegmentsCreate) -> Draft:
    """As `draft_from_text`, for `POST /conversations/from-segments`. Who said what comes
    from the segments' `is_user`; when none is true, the speakers are unknown and the
    first-person statements are taken as the user's."""
    problem = segment_errors(body)
    if problem is not None:
        raise Unprocessable(problem)
    segments = body.transcript_segments
    started, finished = _times(body.started_at, body.finished_at, max(s.end for s in segments))
    known = any(s.is_user for s in segments)
    record = _record(
        started,
        finished,
        title_of(" ".join(s.text for s in segments)),
        text_source=None,
        text_source_spec=None,
        source=body.source,
        language=body.language,
        geolocation=body.geolocation,
        text=None,
        transcript_segments=list(segments),
    )
    turns = [Turn(s.text, s.speaker, s.is_user if known else None) for s in segments]
    return Draft(record, turns, started)


class ConversationService:
    def __init__(self, memories: MemoryService, settings: Settings) -> None:
        self.memories = memories
        self.store = memories.store
        self.settings = settings

    async def create(
        self, user_id: str, draft: Draft, idempotency: Idempotency | None = None
    ) -> ConversationCreated:
        """Store the conversation with what is extracted from it, in one transaction:
        facts as memories (the create path's categorisation and deduplication, each
        new one linked to an older memory it updates or contradicts: `supersedes`),
        tasks as action items; nothing extracted: `discarded`. With `idempotency`, the
        answer (as `answer_json` renders it) is stored with its key (a request with that
        key is answered by `MemoryService.replay` before this)."""
        self.store.admit_early(user_id)  # before the costly work (mnemo.admission)
        existing = await self._existing(user_id)
        found: Extraction = await extract(
            draft.turns,
            existing=[content for _, content in existing],
            settings=self.settings,
            started_at_us=draft.started_us,
        )
        facts = [fact for fact in found.facts if _storable(fact)]
        drafts = [d for d in found.action_items if _storable(d.description)]
        record = draft.record.model_copy(update={"discarded": not (facts or drafts)})
        items = [
            _action_item(d.description, d.due_at, record.created_at, record.id) for d in drafts
        ]

        def answer(stored: list[MemoryCreated]) -> ConversationCreated:
            return ConversationCreated(
                id=record.id,
                discarded=record.discarded,
                title=record.title,
                memories=[_linked(memory, existing) for memory in stored],
                action_items=items,
            )

        stored = await self.memories.store_extracted(
            user_id,
            facts,
            NewConversation(record, items),
            idempotency,
            lambda memories, _: answer_json(answer(memories)),
        )
        return answer(stored)

    async def _existing(self, user_id: str) -> list[tuple[str, str]]:
        """(id, content) of the user's `PROMPT_MEMORIES` most important memories."""
        page = await self.store.list_memories_json(user_id, (), PROMPT_MEMORIES, 0)
        return [(item["id"], item["content"]) for item in json.loads(page)]

    async def list(
        self,
        user_id: str,
        where: ConversationFilter,
        limit: int,
        offset: int,
        *,
        transcript: bool,
    ) -> list[Conversation]:
        """`limit` clamped to 1-100, `offset` to 0-2^62 (docs/api.md)."""
        bounds = page_bounds(limit, offset, MAX_CONVERSATION_LIMIT)
        return await self.store.list_conversations(user_id, where, *bounds, transcript=transcript)

    async def get(self, user_id: str, conversation_id: str) -> Conversation:
        found = (
            await self.store.get_conversation(user_id, conversation_id)
            if plausible_id(conversation_id)
            else None
        )
        if found is None:
            raise NotFound(NOT_FOUND)
        return found

    async def update(
        self, user_id: str, conversation_id: str, patch: ConversationUpdate
    ) -> Conversation:
        """Set `title` and/or `discarded` atomically; 422 if neither is given."""
        if patch.title is None and patch.discarded is None:
            raise Unprocessable("At least one field (title or discarded) must be provided")

        def change(current: Conversation) -> Conversation:
            fields: dict[str, object] = {}
            if patch.title is not None:
                fields["title"] = patch.title
            if patch.discarded is not None:
                fields["discarded"] = patch.discarded
            return current.model_copy(update=fields)

        updated = (
            await self.store.update_conversation(user_id, conversation_id, change)
            if plausible_id(conversation_id)
            else None
        )
        if updated is None:
            raise NotFound(NOT_FOUND)
        return updated

    async def delete(self, user_id: str, conversation_id: str, *, with_memories: bool) -> None:
        if not (
            plausible_id(conversation_id)
            and await self.store.delete_conversation(
                user_id, conversation_id, with_memories=with_memories
            )
        ):
            raise NotFound(NOT_FOUND)


def _linked(answer: MemoryCreated, existing: Sequence[tuple[str, str]]) -> MemoryCreated:
    """A new memory's answer with `supersedes` naming the older memory it updates or
    contradicts (mnemo.search.supersede), if any; a repeat's answer as it is."""
    if answer.duplicate_of is not None:
        return answer
    older = superseded(answer.content, [(i, c) for i, c in existing if i != answer.id])
    return answer if older is None else answer.model_copy(update={"supersedes": older})
