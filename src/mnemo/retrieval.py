"""Search and duplicate detection: embeddings on the way in, hybrid ranking on the
way out. The store keeps the indexes; the models live in `mnemo.search`."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import sys
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from mnemo.models import Memory
from mnemo.search.batching import EmbeddingBatcher
from mnemo.search.dedup import is_duplicate
from mnemo.search.embed import MiniLMEmbedder, default_embedder, to_blob
from mnemo.search.rank import fuse
from mnemo.store import Store

# How many candidates each ranking contributes before fusion, and how many existing
# memories a new one is compared with for duplicates.
_POOL = 50
_DUPLICATE_CANDIDATES = 5

# A new memory's duplicate: the id of an existing memory, or the index of an earlier
# item of the same batch.
Duplicate = str | int | None


class Retrieval:
    def __init__(
        self, store: Store, embedder: Callable[[], MiniLMEmbedder] = default_embedder
    ) -> None:
        self.store = store
        self._embedder = embedder
        self._batcher = EmbeddingBatcher(self._embed)

    def _embed(self, contents: list[str]) -> list[bytes]:
        return [to_blob(vector) for vector in self._embedder().embed_array(contents)]

    async def vectors(self, contents: Sequence[str]) -> list[bytes]:
        """Embeddings of the contents, as stored (float32 blobs); computed off the loop,
        together with those of other requests waiting at the same time."""
        return await self._batcher.embed(contents)

    async def duplicates(
        self, user_id: str, contents: Sequence[str], vectors: Sequence[bytes]
    ) -> list[Duplicate]:
        """For each content, the memory it repeats: an existing one of the user's, or an
        earlier item of the same batch; None when it is new."""
        found: list[Duplicate] = []
        matrix = np.frombuffer(b"".join(vectors), dtype="<f4").reshape(len(vectors), -1)
        for i, (content, vector) in enumerate(zip(contents, vectors, strict=True)):
            earlier: Duplicate = next(
                (
                    j
                    for j in range(i)
                    if found[j] is None
                    and is_duplicate(content, contents[j], float(matrix[i] @ matrix[j]))
                ),
                None,
            )
            found.append(
                earlier
                if earlier is not None
                else await self._existing_duplicate(user_id, content, vector)
            )
        return found

    async def _existing_duplicate(self, user_id: str, content: str, vector: bytes) -> str | None:
        nearest = await self.store.semantic_search(user_id, vector, _DUPLICATE_CANDIDATES)
        memories = await self.store.memories_by_ids(user_id, [i for i, _ in nearest])
        for memory_id, cosine in nearest:
            memory = memories.get(memory_id)
            if memory is not None and is_duplicate(content, memory.content, cosine):
                return memory_id
        return None

    async def search(
        self, user_id: str, query: str, limit: int, categories: Sequence[str]
    ) -> list[tuple[Memory, float]]:
        """The user's memories most relevant to `query`, with a relevance in [0, 1]."""
        # The keyword ranking needs no embedding: it runs while the query is embedded.
        embedded, keyword = await asyncio.gather(
            self.vectors([query]), self.store.keyword_search(user_id, query, _POOL, categories)
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
