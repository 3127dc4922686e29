"""Request and response schemas of the memories API, and the limits they enforce.

The one definition of them: the server (`mnemo.models` re-exports this module) validates
requests and writes its answers with these classes, and the client parses the answers
with the same ones. Only pydantic is imported here, so that the client stays light."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
)

__all__ = [
    "MAX_CONTENT_CHARS",
    "MAX_TAGS",
    "MAX_TAG_CHARS",
    "MAX_BATCH",
    "MAX_REQUEST_CHARS",
    "MAX_LIST_LIMIT",
    "DEFAULT_LIST_LIMIT",
    "MAX_OFFSET",
    "MAX_QUERY_CHARS",
    "MAX_SEARCH_LIMIT",
    "SCOPES",
    "DEFAULT_SEARCH_LIMIT",
    "TEXT_PATTERN",
    "CATEGORIES_PATTERN",
    "Content",
    "Tag",
    "Tags",
    "MemoryCategory",
    "MemoryVisibility",
    "MemoryCreate",
    "MemoryUpdate",
    "MemoryBatchCreate",
    "Memory",
    "MemoryCreated",
    "MemoryBatchResult",
    "SearchItem",
    "SearchResult",
    "DeleteResult",
    "FieldChange",
    "HistoryEntry",
    "ErrorBody",
    "ValidationIssue",
    "UnprocessableBody",
    "DeleteAllResult",
    "ApiKeyInfo",
    "ApiKeyCreated",
    "KeyCreate",
    "UserCreate",
    "UserInfo",
    "UserDeleted",
    "ImportResult",
    "MAX_ACTION_ITEM_CHARS",
    "MAX_ACTION_ITEM_BATCH",
    "MAX_ACTION_ITEM_LIMIT",
    "DEFAULT_ACTION_ITEM_LIMIT",
    "ActionItem",
    "ActionItemCreate",
    "ActionItemBatchCreate",
    "ActionItemBatchResult",
    "ActionItemUpdate",
    "one_of_given",
]

MAX_CONTENT_CHARS = 500
MAX_TAGS = 32
MAX_TAG_CHARS = 64
MAX_BATCH = 25
# Characters of memory content one request can send at most: a full batch.
MAX_REQUEST_CHARS = MAX_BATCH * MAX_CONTENT_CHARS
MAX_LIST_LIMIT = 1000
DEFAULT_LIST_LIMIT = 25
# Offsets beyond this are clamped: no user has that many memories, and it keeps
# the value inside a 64-bit integer for every database.
MAX_OFFSET = 2**62
MAX_QUERY_CHARS = 1000
MAX_SEARCH_LIMIT = 100
# Every scope a key can have, in canonical order (the server's `ALL_SCOPES`).
SCOPES = (
    "memories:read",
    "memories:write",
    "conversations:read",
    "conversations:write",
    "action_items:read",
    "action_items:write",
    "webhooks:read",
    "webhooks:write",
)
DEFAULT_SEARCH_LIMIT = 10
# Action items (Omi's limits): a description of 1-500 characters, 50 a batch, lists of
# 100 by default and at most 1000.
MAX_ACTION_ITEM_CHARS = 500
MAX_ACTION_ITEM_BATCH = 50
MAX_ACTION_ITEM_LIMIT = 1000
DEFAULT_ACTION_ITEM_LIMIT = 100


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


# Documents (in OpenAPI) what the service enforces beyond length: no NUL, and at least
# one character that is not white space as Python's str.strip() sees it.
_SPACE = r"\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
TEXT_PATTERN = rf"^[^\x00]*[^\x00{_SPACE}][^\x00]*$"

_NAMES = "|".join(c.value for c in MemoryCategory)
# A comma-separated list of category names; blank items are ignored.
CATEGORIES_PATTERN = rf"^[{_SPACE}]*({_NAMES})?[{_SPACE}]*(,[{_SPACE}]*({_NAMES})?[{_SPACE}]*)*$"

Content = Annotated[
    str,
    StringConstraints(min_length=1, max_length=MAX_CONTENT_CHARS),
    AfterValidator(_storable),
    Field(json_schema_extra={"pattern": TEXT_PATTERN}),
]
Tag = Annotated[
    str,
    StringConstraints(min_length=1, max_length=MAX_TAG_CHARS),
    AfterValidator(_storable),
    BeforeValidator(_strip),
    Field(json_schema_extra={"pattern": TEXT_PATTERN}),
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


def one_of_given(*names: str) -> ConfigDict:
    """A PATCH body's schema: at least one of `names` given, and not null."""
    return ConfigDict(
        json_schema_extra={
            "anyOf": [
                {"required": [name], "properties": {name: {"not": {"type": "null"}}}}
                for name in names
            ]
        }
    )


class MemoryUpdate(BaseModel):
    """Body of `PATCH /v1/dev/user/memories/{id}`; a field sent as null is not given."""

    model_config = one_of_given("content", "visibility", "tags", "category")

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
    conversation_id: str | None = Field(
        None,
        exclude_if=lambda value: value is None,
        description="The conversation it was extracted from; absent on a memory written directly.",
    )


class MemoryCreated(Memory):
    """A create's answer. Extension: when the memory repeats one the user already has
    (and deduplication is on), nothing is stored and the answer is the existing memory
    with `duplicate_of` set to its id and `not_applied` naming the fields sent whose
    values differ from the stored memory's (none of them is applied); a new memory has
    neither field, so it reads exactly as it will be fetched."""

    duplicate_of: str | None = Field(None, exclude_if=lambda value: value is None)
    not_applied: list[str] | None = Field(
        None,
        exclude_if=lambda value: value is None,
        description=(
            "On a duplicate: which of content, category, visibility and tags were sent"
            " with another value than the stored memory's; the memory is unchanged."
        ),
    )
    supersedes: str | None = Field(
        None,
        exclude_if=lambda value: value is None,
        description=(
            "On a memory extracted from a conversation: the id of an older memory of the"
            " user's that this one updates or contradicts (both are kept)."
        ),
    )


class MemoryBatchResult(BaseModel):
    memories: list[MemoryCreated]
    created_count: int = Field(description="How many were stored (duplicates are not).")


class SearchItem(Memory):
    relevance_score: float = Field(description="0..1, higher is more relevant.")


class SearchResult(BaseModel):
    items: list[SearchItem]
    returned_count: int


class DeleteResult(BaseModel):
    success: bool = True


class FieldChange(BaseModel):
    old: Any = None  # null when the field had no value (a create)
    new: Any = None


class HistoryEntry(BaseModel):
    """One change of a memory (docs/history.md): what, by whom, when, and the fields it
    set with their old and new values (none for a deletion, nor for any change of a
    memory since deleted)."""

    action: str  # created, updated, deleted
    actor: str  # the key's id, or admin, import, extraction, system
    at: datetime
    changes: dict[str, FieldChange]


class ErrorBody(BaseModel):
    detail: str


class ValidationIssue(BaseModel):
    """One item of FastAPI's validation body."""

    type: str
    loc: list[str | int]
    msg: str
    input: Any = None
    ctx: dict[str, Any] | None = None


class UnprocessableBody(BaseModel):
    """A 422: FastAPI's list of issues, or one of the contract's sentences."""

    detail: str | list[ValidationIssue]


class DeleteAllResult(BaseModel):
    """`DELETE /v1/dev/user/memories?confirm=true`: every memory of the user is gone."""

    success: bool = True
    deleted_count: int = Field(description="How many memories were deleted.")


class ApiKeyInfo(BaseModel):
    """An API key's record (Omi's `DevApiKey` fields, and `user`, `revoked_at`); never
    the key itself nor its hash."""

    id: str
    user: str = Field(description="The name of the key's user.")
    name: str
    key_prefix: str = Field(description="The key's first characters, to recognise it.")
    scopes: list[str]
    created_at: datetime
    last_used_at: datetime | None = Field(
        description="When it last authenticated a request (recorded at most once a minute)."
    )
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyInfo):
    key: str = Field(description="The key: shown in this answer only, never again.")


class KeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(
        "",
        max_length=200,
        description="A label for the key: no control characters.",
        json_schema_extra={"pattern": r"^[^\x00-\x1f\x7f-\x9f]*$"},
    )
    scopes: list[str] = Field(
        default_factory=lambda: list(SCOPES),
        max_length=8,
        description="Of " + ", ".join(SCOPES) + " (all of them by default).",
        json_schema_extra={
            "minItems": 1,
            "items": {"type": "string", "enum": list(SCOPES)},
        },
    )


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(
        max_length=64,
        description="1-64 ASCII letters, digits and _ . @ - (starting with a letter or digit).",
        json_schema_extra={"pattern": "^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$"},
    )


class UserInfo(BaseModel):
    id: str
    name: str
    created_at: datetime
    memory_count: int


class UserDeleted(BaseModel):
    success: bool = True
    deleted_memories: int = Field(description="How many memories were erased with the user.")


class ImportResult(BaseModel):
    """What an import added, and what it found already there, by kind of record."""

    added: dict[str, int]
    existing: dict[str, int]


Description = Annotated[
    str,
    StringConstraints(min_length=1, max_length=MAX_ACTION_ITEM_CHARS),
    AfterValidator(_storable),
    Field(json_schema_extra={"pattern": TEXT_PATTERN}),
]


class ActionItem(BaseModel):
    """A stored action item (Omi's shape); times in UTC, null when not set."""

    id: str
    description: str
    completed: bool
    created_at: datetime
    updated_at: datetime
    due_at: datetime | None = None
    completed_at: datetime | None = Field(None, description="Set while `completed`.")
    conversation_id: str | None = Field(
        None, description="The conversation it was extracted from; null: standalone."
    )


class ActionItemCreate(BaseModel):
    """Body of `POST /v1/dev/user/action-items` and of each batch item."""

    description: Description = Field(description="1-500 characters as sent; stored stripped.")
    completed: bool = False
    due_at: datetime | None = Field(None, description="ISO 8601; without a zone: UTC.")


class ActionItemBatchCreate(BaseModel):
    action_items: list[ActionItemCreate] = Field(max_length=MAX_ACTION_ITEM_BATCH)


class ActionItemBatchResult(BaseModel):
    action_items: list[ActionItem]
    created_count: int


class ActionItemUpdate(BaseModel):
    """Body of `PATCH /v1/dev/user/action-items/{id}`; a field sent as null is not given
    (Omi's rule: a due date cannot be removed, only replaced)."""

    model_config = one_of_given("description", "completed", "due_at")

    description: Description | None = None
    completed: bool | None = None
    due_at: datetime | None = None
