"""Each route of the memories API as one `Call`: method, path, query, body and the schema
of its answer. Both clients send these, so a route is written down once; a program that
calls the API another way (the MCP server) builds the same calls."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar
from urllib.parse import quote

import httpx
from pydantic import TypeAdapter, ValidationError

from mnemo_client.errors import APIResponseValidationError
from mnemo_client.models import (
    MAX_LIST_LIMIT,
    DeleteResult,
    Memory,
    MemoryBatchResult,
    MemoryCategory,
    MemoryCreate,
    MemoryCreated,
    MemoryVisibility,
    SearchResult,
)

T = TypeVar("T")

MEMORIES = "/v1/dev/user/memories"

Categories = str | MemoryCategory | Iterable[str | MemoryCategory]
Category = str | MemoryCategory
Visibility = str | MemoryVisibility
# A batch item: the create body as a mapping, or the shared model itself.
NewMemory = MemoryCreate | Mapping[str, Any]

_LIST = TypeAdapter(list[Memory])
_MEMORY = TypeAdapter(Memory)
_CREATED = TypeAdapter(MemoryCreated)
_BATCH = TypeAdapter(MemoryBatchResult)
_DELETED = TypeAdapter(DeleteResult)
_SEARCH = TypeAdapter(SearchResult)


@dataclass(frozen=True)
class Call(Generic[T]):
    method: str
    path: str
    answer: TypeAdapter[T]
    params: dict[str, str | int] = field(default_factory=dict)
    body: Any = None

    def parse(self, response: httpx.Response) -> T:
        """The answer of a successful response, as the route's schema."""
        try:
            return self.answer.validate_json(response.content)
        except ValidationError as error:
            kind = "not JSON" if _is_json_error(error) else "not the documented schema"
            raise APIResponseValidationError(
                f"{self.method} {self.path} answered {response.status_code} with a body that "
                f"is {kind}: {error.errors(include_url=False, include_input=False)[:3]}",
                response=response,
            ) from None


def _is_json_error(error: ValidationError) -> bool:
    return any(item["type"] == "json_invalid" for item in error.errors())


def _text(value: str | MemoryCategory | MemoryVisibility) -> str:
    return value.value if isinstance(value, MemoryCategory | MemoryVisibility) else value


def _categories(categories: Categories | None) -> dict[str, str | int]:
    if categories is None:
        return {}
    if isinstance(categories, str):  # MemoryCategory is a str too
        return {"categories": _text(categories)}
    return {"categories": ",".join(_text(c) for c in categories)}


def _given(**fields: Any) -> dict[str, Any]:
    """The fields that are not None, enum members as their values."""
    return {name: _text(value) for name, value in fields.items() if value is not None}


def _tags(tags: Iterable[str] | None) -> Any:
    """`tags` as a JSON list; a lone string is sent as it is, for the server to refuse,
    rather than split into its characters."""
    return tags if tags is None or isinstance(tags, str) else list(tags)


def _memory_path(memory_id: str) -> str:
    """The path of one memory: the id quoted whole, dots too (`..` must name an id, not
    the parent path); an empty id is a mistake of the caller, not an id."""
    if not isinstance(memory_id, str) or not memory_id:
        raise ValueError(f"memory_id must be a non-empty string, not {memory_id!r}")
    quoted = quote(memory_id, safe="", errors="surrogatepass")  # a lone surrogate: its bytes
    return f"{MEMORIES}/{quoted.replace('.', '%2E')}"


def list_memories(
    limit: int | None = None, offset: int | None = None, categories: Categories | None = None
) -> Call[list[Memory]]:
    params = _given(limit=limit, offset=offset) | _categories(categories)
    return Call("GET", MEMORIES, _LIST, params=params)


def create_memory(
    content: str,
    category: Category | None = None,
    visibility: Visibility | None = None,
    tags: Iterable[str] | None = None,
) -> Call[MemoryCreated]:
    body = _given(content=content, category=category, visibility=visibility, tags=_tags(tags))
    return Call("POST", MEMORIES, _CREATED, body=body)


def create_memories(memories: Iterable[NewMemory]) -> Call[MemoryBatchResult]:
    items = [
        item.model_dump(mode="json", exclude_none=True)
        if isinstance(item, MemoryCreate)
        else dict(item)
        if isinstance(item, Mapping)
        else item  # not a memory: sent for the server to refuse
        for item in memories
    ]
    return Call("POST", f"{MEMORIES}/batch", _BATCH, body={"memories": items})


def get_memory(memory_id: str) -> Call[Memory]:
    return Call("GET", _memory_path(memory_id), _MEMORY)


def update_memory(
    memory_id: str,
    content: str | None = None,
    category: Category | None = None,
    visibility: Visibility | None = None,
    tags: Iterable[str] | None = None,
) -> Call[Memory]:
    body = _given(content=content, category=category, visibility=visibility, tags=_tags(tags))
    return Call("PATCH", _memory_path(memory_id), _MEMORY, body=body)


def delete_memory(memory_id: str) -> Call[DeleteResult]:
    return Call("DELETE", _memory_path(memory_id), _DELETED)


def search_memories(
    query: str,
    limit: int | None = None,
    categories: Categories | None = None,
    min_score: float | None = None,
) -> Call[SearchResult]:
    params = _given(query=query, limit=limit, min_score=min_score) | _categories(categories)
    return Call("GET", f"{MEMORIES}/search", _SEARCH, params=params)


@dataclass
class Pager:
    """The state of `iter_all`: which page to ask for next, and what it adds.

    Pages of `page_size` are asked at growing offsets until one is short. A memory is
    yielded once, even when a change between two pages shifts the rest; a page that adds
    nothing new ends the walk (a server ignoring `offset` would repeat it forever).
    mnemo filters by category before paging, so a filtered walk is complete; Omi's hosted
    API filters after paging (its filtered pages are short before the end), so against
    Omi walk without `categories` and filter the memories yourself."""

    page_size: int
    categories: Categories | None = None
    offset: int = 0
    done: bool = False
    seen: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        size = self.page_size
        if not isinstance(size, int) or isinstance(size, bool) or not 1 <= size <= MAX_LIST_LIMIT:
            # a larger page is clamped by the server, and would look like the last one
            raise ValueError(
                f"page_size must be an integer from 1 to {MAX_LIST_LIMIT}, not {size!r}"
            )
        if self.categories is not None and not isinstance(self.categories, str):
            self.categories = list(self.categories)  # iterated once per page

    def next_call(self) -> Call[list[Memory]] | None:
        if self.done:
            return None
        return list_memories(self.page_size, self.offset, self.categories)

    def take(self, page: list[Memory]) -> list[Memory]:
        """The memories of `page` not yielded before; decides whether to go on."""
        fresh = [memory for memory in page if memory.id not in self.seen]
        self.seen.update(memory.id for memory in fresh)
        self.offset += len(page)
        self.done = len(page) < self.page_size or not fresh
        return fresh
