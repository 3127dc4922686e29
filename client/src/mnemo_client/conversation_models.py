"""Request and response schemas of the conversations API (Omi's shapes) and its limits.

Defined here once, like `mnemo_client.models`: the server validates requests and
writes answers with these classes (`mnemo.models` re-exports them)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field, StringConstraints

from mnemo_client.models import (
    TEXT_PATTERN,
    ActionItem,
    MemoryCreated,
    _storable,
    one_of_given,
)

__all__ = [
    "MAX_TRANSCRIPT_CHARS",
    "MAX_SEGMENTS",
    "MAX_SEGMENT_SECONDS",
    "MAX_TITLE_CHARS",
    "MAX_LABEL_CHARS",
    "MAX_CONVERSATION_LIMIT",
    "DEFAULT_CONVERSATION_LIMIT",
    "DEFAULT_DURATION_S",
    "LANGUAGE_PATTERN",
    "TextSource",
    "Geolocation",
    "TranscriptSegment",
    "ConversationCreate",
    "SegmentsCreate",
    "ConversationUpdate",
    "Conversation",
    "ConversationCreated",
]

# Omi's limits: a text of 1-100,000 characters, 1-500 segments (their texts 100,000
# characters in all), lists of 25 by default and at most 100.
MAX_TRANSCRIPT_CHARS = 100_000
MAX_SEGMENTS = 500
# A segment's start and end are seconds from the conversation's start: at most a week.
MAX_SEGMENT_SECONDS = 604_800
MAX_TITLE_CHARS = 200
MAX_LABEL_CHARS = 100  # text_source_spec, source, speaker, person_id, an address: 500
MAX_ADDRESS_CHARS = 500
MAX_CONVERSATION_LIMIT = 100
DEFAULT_CONVERSATION_LIMIT = 25
DEFAULT_DURATION_S = 300  # a text conversation's finished_at: started_at + 5 minutes
# A BCP 47-like language tag: "en", "pt-BR", "zh_Hant".
LANGUAGE_PATTERN = r"^[A-Za-z]{2,8}([-_][A-Za-z0-9]{1,8}){0,4}$"


class TextSource(StrEnum):
    audio_transcript = "audio_transcript"
    message = "message"
    other_text = "other_text"


Label = Annotated[str, StringConstraints(max_length=MAX_LABEL_CHARS), AfterValidator(_storable)]
Language = Annotated[
    str, StringConstraints(max_length=44, pattern=LANGUAGE_PATTERN), AfterValidator(_storable)
]
Seconds = Annotated[
    float,
    Field(le=MAX_SEGMENT_SECONDS, allow_inf_nan=False, json_schema_extra={"minimum": 0}),
]
Transcript = Annotated[
    str,
    StringConstraints(max_length=MAX_TRANSCRIPT_CHARS),
    AfterValidator(_storable),
    Field(json_schema_extra={"pattern": TEXT_PATTERN, "minLength": 1}),
]


class Geolocation(BaseModel):
    """Where the conversation took place."""

    latitude: float = Field(ge=-90, le=90, allow_inf_nan=False)
    longitude: float = Field(ge=-180, le=180, allow_inf_nan=False)
    address: (
        Annotated[str, StringConstraints(max_length=MAX_ADDRESS_CHARS), AfterValidator(_storable)]
        | None
    ) = None


class TranscriptSegment(BaseModel):
    """One stretch of speech; `start` and `end` are seconds from the conversation's start."""

    text: Transcript = Field(description="Not blank; every segment's text counts in the 100,000.")
    speaker: Label = "SPEAKER_00"
    speaker_id: int | None = Field(None, ge=0, le=2**31 - 1)
    is_user: bool = Field(False, description="Whether the user said it.")
    person_id: Label | None = None
    start: Seconds = Field(description="Seconds, >= 0.")
    end: Seconds = Field(description="Seconds, after `start`.")


class ConversationCreate(BaseModel):
    """Body of `POST /v1/dev/user/conversations`."""

    text: Transcript = Field(description="1-100,000 characters, not only white space.")
    text_source: TextSource = TextSource.other_text
    text_source_spec: Label | None = Field(None, description="E.g. `email`, `slack`.")
    started_at: datetime | None = Field(None, description="ISO 8601 (no zone: UTC); now.")
    finished_at: datetime | None = Field(
        None, description="After `started_at`; omitted: `started_at` + 300 s."
    )
    language: Language = "en"
    geolocation: Geolocation | None = None


class SegmentsCreate(BaseModel):
    """Body of `POST /v1/dev/user/conversations/from-segments`."""

    transcript_segments: list[TranscriptSegment] = Field(min_length=1, max_length=MAX_SEGMENTS)
    source: Label | None = Field(None, description="The device or app, e.g. `omi`.")
    started_at: datetime | None = Field(None, description="ISO 8601 (no zone: UTC); now.")
    finished_at: datetime | None = Field(
        None, description="After `started_at`; omitted: `started_at` + the last segment's end."
    )
    language: Language = "en"
    geolocation: Geolocation | None = None


class ConversationUpdate(BaseModel):
    """Body of `PATCH /v1/dev/user/conversations/{id}`; a field sent as null is not given."""

    model_config = one_of_given("title", "discarded")

    title: (
        Annotated[
            str,
            StringConstraints(max_length=MAX_TITLE_CHARS, strip_whitespace=True),
            AfterValidator(_storable),
        ]
        | None
    ) = None
    discarded: bool | None = None


class Conversation(BaseModel):
    """A stored conversation. `text` (a text conversation) or `transcript_segments` (one
    from segments) is present only when the transcript is asked for."""

    id: str
    status: Literal["completed"] = "completed"
    title: str = Field(description="The transcript's first words, until a PATCH sets one.")
    text_source: TextSource | None = Field(description="A text conversation's; null otherwise.")
    text_source_spec: str | None = None
    source: str | None = Field(None, description="A conversation from segments' source.")
    language: str
    geolocation: Geolocation | None = None
    started_at: datetime
    finished_at: datetime
    created_at: datetime
    discarded: bool = Field(description="True when nothing was extracted from it (or a PATCH).")
    text: str | None = Field(None, exclude_if=lambda value: value is None)
    transcript_segments: list[TranscriptSegment] | None = Field(
        None, exclude_if=lambda value: value is None
    )


class ConversationCreated(BaseModel):
    """A create's answer: Omi's `id`, `status`, `discarded`, and (our extension) what was
    extracted: the memories (a repeat of a stored one is that one, with `duplicate_of`)
    and the action items."""

    id: str
    status: Literal["completed"] = "completed"
    discarded: bool
    title: str
    memories: list[MemoryCreated]
    action_items: list[ActionItem]
