"""Request and response schemas of the memories API, and the limits they enforce."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
)

MAX_CONTENT_CHARS = 500
MAX_TAGS = 32
MAX_TAG_CHARS = 64
MAX_BATCH = 25
MAX_LIST_LIMIT = 1000
DEFAULT_LIST_LIMIT = 25
# Offsets beyond this are clamped: no user has that many memories, and it keeps
# the value inside a 64-bit integer for every database.
MAX_OFFSET = 2**62


class MemoryCategory(StrEnum):
    """Every category name Omi accepts; stored as given."""

    system = "system"
    interesting = "interesting"
    manual = "manual"
    workflow = "workflow"
    core = "core"
    hobbies = "hobbies"
    lifestyle = "lifestyle"
    interests = "interests"
    habits = "habits"
    work = "work"
    skills = "skills"
    learnings = "learnings"
    other = "other"
    auto = "auto"


class MemoryVisibility(StrEnum):
    public = "public"
    private = "private"


def _storable(value: str) -> str:
    """Reject text that no database can store faithfully."""
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text (no lone surrogates)") from None
    return value


def _strip(value: object) -> object:
    """Strip surrounding white space as Python does (the same rule as for content)."""
    return value.strip() if isinstance(value, str) else value


def _unique_tags(tags: list[str]) -> list[str]:
    return list(dict.fromkeys(tags))


Content = Annotated[
    str,
    StringConstraints(min_length=1, max_length=MAX_CONTENT_CHARS),
    AfterValidator(_storable),
]
Tag = Annotated[
    str,
    StringConstraints(min_length=1, max_length=MAX_TAG_CHARS),
    AfterValidator(_storable),
    BeforeValidator(_strip),
]
Tags = Annotated[list[Tag], Field(max_length=MAX_TAGS), AfterValidator(_unique_tags)]


class MemoryCreate(BaseModel):
    """Body of `POST /v1/dev/user/memories` and of each batch item."""

    content: Content = Field(description="The fact, 1-500 characters as sent; stored stripped.")
    category: MemoryCategory | None = Field(
        None, description="Omitted: the server picks `system` or `interesting`."
    )
    visibility: MemoryVisibility = MemoryVisibility.private
    tags: Tags = Field(default_factory=list)


class MemoryUpdate(BaseModel):
    """Body of `PATCH /v1/dev/user/memories/{id}`; a field sent as null is not given."""

    content: Content | None = None
    category: MemoryCategory | None = None
    visibility: MemoryVisibility | None = None
    tags: Tags | None = None


class MemoryBatchCreate(BaseModel):
    memories: list[MemoryCreate] = Field(max_length=MAX_BATCH)


class Memory(BaseModel):
    """A stored memory, as every route returns it."""

    model_config = ConfigDict(frozen=True)

    id: str
    content: str
    category: str
    visibility: str
    tags: list[str]
    created_at: datetime
    updated_at: datetime
    manually_added: bool
    scoring: str
    reviewed: bool
    user_review: bool | None
    edited: bool


class MemoryBatchResult(BaseModel):
    memories: list[Memory]
    created_count: int


class DeleteResult(BaseModel):
    success: bool = True


class ErrorBody(BaseModel):
    detail: str
