"""Search: embeddings of queued memories (the embedder job's and a search's own
read-your-writes), hybrid ranking on the way out. The store keeps the indexes and
the embedding queue; the models live in `mnemo.search`."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import sys
from collections.abc import Callable, Sequence
from typing import Any

from threadpoolctl import threadpool_limits

from mnemo.models import Memory
from mnemo.search.batching import EmbeddingBatcher
from mnemo.search.embed import MiniLMEmbedder, default_embedder, to_blob
from mnemo.search.rank import fuse
from mnemo.store import Store
from mnemo.store.base import Queued

# How many candidates each ranking contributes before fusion.
_POOL = 50


class Retrieval:
    def __init__(
        self,
        store: Store,
        embedder: Callable[[], MiniLMEmbedder] = default_embedder,
        *,
        on_embedded: Callable[[int], None] | None = None,
    ) -> None:
        """`on_embedded(n)`: told how many queued memories got their embedding."""
        self.store = store
        self._embedder = embedder
        self._batcher = EmbeddingBatcher(self._embed)
        self._on_embedded = on_embedded

    def _embed(self, contents: list[str]) -> list[bytes]:
        return [to_blob(vector) for vector in self._embedder().embed_array(contents)]

    async def vectors(self, contents: Sequence[str]) -> list[bytes]:
        """Embeddings of the contents, as stored (float32 blobs); computed off the loop,
        together with those of other requests waiting at the same time."""
        return await self._batcher.embed(contents)

    async def embed_queued(
        self, items: Sequence[Queued], extra: Sequence[str] = ()
    ) -> tuple[list[bytes], int]:
        """Embed the queued memories (with the `extra` texts, in the same model call) and
        store those whose content is unchanged: the embeddings of `extra`, and how many
        memories got theirs."""
        vectors = await self.vectors([*extra, *(item.content for item in items)])
        done = 0
        if items:
            done = await self.store.complete_embeddings(
                list(zip(items, vectors[len(extra) :], strict=True))
            )
            if self._on_embedded is not None and done:
                self._on_embedded(done)
        return vectors[: len(extra)], done

    async def search(
        self, user_id: str, query: str, limit: int, categories: Sequence[str]
    ) -> list[tuple[Memory, float]]:
        """The user's memories most relevant to `query`, with a relevance in [0, 1].

        Read-your-writes: the user's queued memories are embedded (with the query, in one
        model call) and stored before the semantic ranking runs, so it sees every memory
        the user created before the search."""
        pending = await self.store.pending_embeddings(user_id)
        # The keyword ranking needs no embedding: it runs while the query is embedded.
        (embedded, _), keyword = await asyncio.gather(
            self.embed_queued(pending, [query]),
            self.store.keyword_search(user_id, query, _POOL, categories),
        )
        semantic = await self.store.semantic_search(user_id, embedded[0], _POOL, categories)
        ranked = fuse(keyword, semantic, limit, keyword_half=self.store.keyword_half)
        memories = await self.store.memories_by_ids(user_id, [i for i, _ in ranked])
        return [(memories[i], score) for i, score in ranked if i in memories]

    async def reindex(self, user_id: str, page: int = 256) -> int:
        """Recompute the embeddings of all the user's memories; how many."""
        done, after = 0, ""
        while batch := await self.store.memories_after(user_id, after, page):
            vectors = await self.vectors([m.content for m in batch])
            await self.store.set_vectors(
                user_id, [(m.id, v) for m, v in zip(batch, vectors, strict=True)]
            )
            done += len(batch)
            after = batch[-1].id
        return done


def warm(embedder: Callable[[], Any] = default_embedder) -> None:
    """At start-up: load the embedding model now (so the first request is not slow), and
    tune this process for the vector scan of a search:

    - numpy's BLAS on one thread: its products here are small (a query against 1,024
      vectors at a time), and a second thread only adds a hand-off and contends with
      the other requests (10,000 vectors: 1.6 -> 1.0 ms);
    - large allocations from the heap, kept for reuse: the scan reads a 1.5 MB blob per
      1,024 memories, and glibc serves each with a fresh mmap that the copy then faults
      in page by page (10,000 memories: 17 ms of page faults a search, 2.9 ms without).
      Up to `_KEEP_FREED` bytes freed stay in the process for the next search.
    """
    threadpool_limits(limits=1, user_api="blas")
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to tune
            libc = ctypes.CDLL("libc.so.6")
            libc.mallopt(_M_MMAP_THRESHOLD, _KEEP_FREED // 2)
            libc.mallopt(_M_TRIM_THRESHOLD, _KEEP_FREED)
    embedder()


_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters
_KEEP_FREED = 64 << 20
