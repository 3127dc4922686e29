"""Conversation rows <-> records, shared by the SQL backends (same columns on each)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from pydantic import TypeAdapter

from mnemo.clock import to_datetime, to_us
from mnemo.models import Conversation, Geolocation, TextSource, TranscriptSegment
from mnemo.store.base import ConversationFilter
from mnemo.store.render import memory_json
from mnemo.store.rows import memory_from_row, newest_first_sql

# Every column but the transcript: a list without it reads these only.
CONVERSATION_COLUMNS = (
    "id, title, text_source, text_source_spec, source, language, geolocation,"
    " started_at, finished_at, created_at, discarded"
)
WITH_TRANSCRIPT = f"{CONVERSATION_COLUMNS}, transcript"

_SEGMENTS = TypeAdapter(list[TranscriptSegment])


def conversation_from_row(row: Sequence[Any]) -> Conversation:
    """A row of `CONVERSATION_COLUMNS`, or of `WITH_TRANSCRIPT` (then with its text or
    segments)."""
    text_source = None if row[2] is None else TextSource(row[2])
    transcript = row[11] if len(row) > 11 else None
    text = segments = None
    if transcript is not None:
        if text_source is None:
            segments = _SEGMENTS.validate_json(transcript)
        else:
            text = transcript
    return Conversation.model_construct(
        id=row[0],
        status="completed",
        title=row[1],
        text_source=text_source,
        text_source_spec=row[3],
        source=row[4],
        language=row[5],
        geolocation=None if row[6] is None else Geolocation.model_validate_json(row[6]),
        started_at=to_datetime(row[7]),
        finished_at=to_datetime(row[8]),
        created_at=to_datetime(row[9]),
        discarded=bool(row[10]),
        text=text,
        transcript_segments=segments,
    )


def conversation_values(c: Conversation) -> tuple[Any, ...]:
    """Values in `WITH_TRANSCRIPT` order (the flag as a Python bool)."""
    transcript = (
        c.text
        if c.transcript_segments is None
        else _SEGMENTS.dump_json(c.transcript_segments).decode()
    )
    return (
        c.id,
        c.title,
        None if c.text_source is None else str(c.text_source),
        c.text_source_spec,
        c.source,
        c.language,
        None if c.geolocation is None else c.geolocation.model_dump_json(),
        to_us(c.started_at),
        to_us(c.finished_at),
        to_us(c.created_at),
        c.discarded,
        transcript,
    )


def conversation_list_sql(
    user_id: str, where: ConversationFilter, mark: Callable[[int], str], *, transcript: bool
) -> tuple[str, list[Any]]:
    """A list's statement, but for the limit and offset that follow the returned
    parameters (`mark(n)` spells the n-th parameter: `?` or `$n`)."""
    columns = WITH_TRANSCRIPT if transcript else CONVERSATION_COLUMNS
    tests = (("created_at", ">=", where.start_us), ("created_at", "<=", where.end_us))
    return newest_first_sql("conversations", columns, user_id, tests, mark)


def unlinked(rows: Sequence[Any]) -> list[tuple[str, str]]:
    """(id, JSON) of memory rows (`MEMORY_COLUMNS`) with their conversation removed: what
    a deleted conversation leaves of the memories it keeps."""
    found = []
    for row in rows:
        memory = memory_from_row(row).model_copy(update={"conversation_id": None})
        found.append((memory.id, memory_json(memory)))
    return found
