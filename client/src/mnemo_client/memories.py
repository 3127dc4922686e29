"""`client.memories`: the methods of the memories API, for `Client` and `AsyncClient`.

Each is one line: the route's call (calls.py) handed to the client's `send`.
"""

from __future__ import annotations

import builtins
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import TYPE_CHECKING

from mnemo_client import calls
from mnemo_client.calls import Categories, Category, NewMemory, Pager, Visibility
from mnemo_client.models import (
    DeleteResult,
    Memory,
    MemoryBatchResult,
    MemoryCreated,
    SearchResult,
)

if TYPE_CHECKING:
    from mnemo_client.client import AsyncClient, Client

__all__ = ["DEFAULT_PAGE_SIZE", "AsyncMemories", "Memories"]

DEFAULT_PAGE_SIZE = 100  # memories a page of iter_all asks for


class Memories:
    """`client.memories`: the user's memories (the key's user)."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def list(
        self,
        *,
        limit: int | None = None,
        offset: int | None = None,
        categories: Categories | None = None,
    ) -> builtins.list[Memory]:
        """One page, most important first (`limit` default 25, clamped to 1-1000)."""
        return self._client.send(calls.list_memories(limit, offset, categories))

    def iter_all(
        self, *, categories: Categories | None = None, page_size: int = DEFAULT_PAGE_SIZE
    ) -> Iterator[Memory]:
        """Every memory, page after page (see `calls.Pager`)."""
        pager = Pager(page_size, categories)

        def walk() -> Iterator[Memory]:
            while (call := pager.next_call()) is not None:
                yield from pager.take(self._client.send(call))

        return walk()

    def create(
        self,
        content: str,
        *,
        category: Category | None = None,
        visibility: Visibility | None = None,
        tags: Iterable[str] | None = None,
    ) -> MemoryCreated:
        """Store one memory (without `category` the server picks one); a repeat of one
        the user has answers that memory with `duplicate_of` set (mnemo only)."""
        return self._client.send(calls.create_memory(content, category, visibility, tags))

    def create_batch(self, memories: Iterable[NewMemory]) -> MemoryBatchResult:
        """Store up to 25 memories at once, all or none."""
        return self._client.send(calls.create_memories(memories))

    def get(self, memory_id: str) -> Memory:
        """One memory by id (mnemo only: Omi's API has no such route)."""
        return self._client.send(calls.get_memory(memory_id))

    def update(
        self,
        memory_id: str,
        *,
        content: str | None = None,
        category: Category | None = None,
        visibility: Visibility | None = None,
        tags: Iterable[str] | None = None,
    ) -> Memory:
        """Change the fields given (at least one); `tags` replaces the list."""
        call = calls.update_memory(memory_id, content, category, visibility, tags)
        return self._client.send(call)

    def delete(self, memory_id: str) -> DeleteResult:
        """Delete one memory for good."""
        return self._client.send(calls.delete_memory(memory_id))

    def search(
        self,
        query: str,
        *,
        limit: int | None = None,
        categories: Categories | None = None,
        min_score: float | None = None,
    ) -> SearchResult:
        """The memories most relevant to `query`, best first (mnemo only); with
        `min_score` (0-1), only those whose `relevance_score` is at least that."""
        return self._client.send(calls.search_memories(query, limit, categories, min_score))


class AsyncMemories:
    """`client.memories` of an `AsyncClient`: `Memories`' methods, awaited."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def list(
        self,
        *,
        limit: int | None = None,
        offset: int | None = None,
        categories: Categories | None = None,
    ) -> builtins.list[Memory]:
        return await self._client.send(calls.list_memories(limit, offset, categories))

    def iter_all(
        self, *, categories: Categories | None = None, page_size: int = DEFAULT_PAGE_SIZE
    ) -> AsyncIterator[Memory]:
        """Every memory, page after page (`async for`; see `calls.Pager`)."""
        pager = Pager(page_size, categories)

        async def walk() -> AsyncIterator[Memory]:
            while (call := pager.next_call()) is not None:
                for memory in pager.take(await self._client.send(call)):
                    yield memory

        return walk()

    async def create(
        self,
        content: str,
        *,
        category: Category | None = None,
        visibility: Visibility | None = None,
        tags: Iterable[str] | None = None,
    ) -> MemoryCreated:
        return await self._client.send(calls.create_memory(content, category, visibility, tags))

    async def create_batch(self, memories: Iterable[NewMemory]) -> MemoryBatchResult:
        return await self._client.send(calls.create_memories(memories))

    async def get(self, memory_id: str) -> Memory:
        return await self._client.send(calls.get_memory(memory_id))

    async def update(
        self,
        memory_id: str,
        *,
        content: str | None = None,
        category: Category | None = None,
        visibility: Visibility | None = None,
        tags: Iterable[str] | None = None,
    ) -> Memory:
        call = calls.update_memory(memory_id, content, category, visibility, tags)
        return await self._client.send(call)

    async def delete(self, memory_id: str) -> DeleteResult:
        return await self._client.send(calls.delete_memory(memory_id))

    async def search(
        self,
        query: str,
        *,
        limit: int | None = None,
        categories: Categories | None = None,
        min_score: float | None = None,
    ) -> SearchResult:
        return await self._client.send(calls.search_memories(query, limit, categories, min_score))
