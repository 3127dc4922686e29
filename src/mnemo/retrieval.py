"""Search: embeddings of queued memories (the embedder job's and a search's own
read-your-writes), hybrid ranking on the way out. The store keeps the indexes and
the embedding queue; the models live in `mnemo.search`."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from mnemo.errors import MnemoError
from mnemo.metrics import Metrics
from mnemo.models import Memory
from mnemo.search.batching import EmbeddingBatcher
from mnemo.search.embed import MiniLMEmbedder, default_embedder, to_blob
from mnemo.search.entities import content_query
from mnemo.search.rank import semantic_ranking
from mnemo.search.relevance import rank
from mnemo.store import Store
from mnemo.store.base import Queued

log = logging.getLogger(__name__)

# How many candidates each ranking contributes before fusion.
_POOL = 50
# A batch of queued memories being embedded here: its vectors once computed (empty if
# that failed), and its end (stored, or given up: they stay queued).
_InFlight = tuple["asyncio.Future[dict[Queued, bytes]]", "asyncio.Future[None]"]


class Retrieval:
    def __init__(
        self,
        store: Store,
        embedder: Callable[[], MiniLMEmbedder] = default_embedder,
        *,
        metrics: Metrics | None = None,
    ) -> None:
        """`metrics`: where searches, embeddings and the memories embedded are counted."""
        self.store = store
        self._embedder = embedder
        self._batcher = EmbeddingBatcher(self._embed_request, background=self._embed)
        # A request's model call computes its batches (texts of one token length each)
        # on two threads: the caller's and this one's (MiniLMEmbedder.embed_array).
        self._helper: ThreadPoolExecutor | None = None
        self._metrics = metrics
        # Queued memories being embedded now (by the embedder, or stored after a search).
        self._embedding: dict[Queued, _InFlight] = {}
        # Those of the background embedder's calls, which run at the lowest priority
        # (search/batching.py): a search does not wait for them.
        self._idle_flights: set[_InFlight] = set()
        self._storing: set[asyncio.Task[None]] = set()

    def _embed_request(self, contents: list[str]) -> list[bytes]:
        """A request's model call (see `_helper`)."""
        if self._helper is None:
            self._helper = ThreadPoolExecutor(1, thread_name_prefix="mnemo-embed-helper")
        return self._embed(contents, self._helper)

    def _embed(self, contents: list[str], helper: Executor | None = None) -> list[bytes]:
        """One model call (a worker thread's, with `helper`'s thread), timed as a `batch`."""
        started = time.perf_counter()
        vectors = self._embedder().embed_array(contents, helper)
        blobs = [to_blob(vector) for vector in vectors]
        if self._metrics is not None:
            self._metrics.embedding("batch", time.perf_counter() - started)
        return blobs

    async def vectors(self, contents: Sequence[str], *, background: bool = False) -> list[bytes]:
        """Embeddings of the contents, as stored (float32 blobs); computed off the loop,
        together with those of other requests waiting at the same time (`background`:
        after theirs, see search/batching.py). Timed, waits included, as `background`
        or (a request's) `search`."""
        started = time.perf_counter()
        vectors = await self._batcher.embed(contents, background=background)
        if self._metrics is not None:
            kind = "background" if background else "search"
            self._metrics.embedding(kind, time.perf_counter() - started)
        return vectors

    async def embed_queued(
        self, items: Sequence[Queued], extra: Sequence[str] = (), *, background: bool = False
    ) -> tuple[list[bytes], int]:
        """Embed the queued memories (with the `extra` texts, in the same model call) and
        store those whose content is unchanged: the embeddings of `extra`, and how many
        memories got theirs. Those this process is embedding already (the embedder's
        batch, another search) are not embedded twice: this waits until they are stored."""
        loop = asyncio.get_running_loop()
        elsewhere = {id(f): f for item in items if (f := self._ends(item)) is not None}
        mine = [item for item in items if item not in self._embedding]
        flight: _InFlight = (loop.create_future(), loop.create_future())
        self._embedding.update((item, flight) for item in mine)
        if background:
            self._idle_flights.add(flight)
        try:
            vectors = await self.vectors(
                [*extra, *(item.content for item in mine)], background=background
            )
            pairs = list(zip(mine, vectors[len(extra) :], strict=True))
            flight[0].set_result(dict(pairs))  # a search waiting for them takes them now
            done = await self._complete(pairs) if mine else 0
        finally:
            self._idle_flights.discard(flight)
            self._release(mine, flight)
        if elsewhere:
            await asyncio.gather(*elsewhere.values())
        return vectors[: len(extra)], done

    async def search(
        self,
        user_id: str,
        query: str,
        limit: int,
        categories: Sequence[str],
        min_score: float = 0.0,
    ) -> list[tuple[Memory, float]]:
        """The user's memories most relevant to `query`, with a relevance in [0, 1] (the
        calibrated probability that the memory is relevant, `search/relevance.py`): at
        most `limit`, and only those scoring at least `min_score`.

        Read-your-writes: the user's queued memories are embedded with the query (one
        model call) and ranked with the stored vectors, so the search sees every memory
        the user created before it; their vectors are then stored after the answer (in
        the background: until then they stay queued, so nothing is lost). Those another
        search is embedding are not embedded again: the search takes their vectors when
        computed; those of the background embedder's call (the lowest CPU priority) it
        embeds itself rather than wait."""
        started = time.perf_counter()
        found = await self._search(user_id, query, limit, categories, min_score)
        if self._metrics is not None:
            self._metrics.search_latency.observe(time.perf_counter() - started)
        return found

    async def _search(
        self, user_id: str, query: str, limit: int, categories: Sequence[str], min_score: float
    ) -> list[tuple[Memory, float]]:
        pending = await self.store.pending_embeddings(user_id)
        # Rows a search embeds already are taken from it; rows of the background
        # embedder's call (at the lowest priority, it may wait long for a busy core) are
        # embedded again here, at the request's priority, and its call stores them.
        flying = {
            item: flight[0]
            for item in pending
            if (flight := self._embedding.get(item)) and flight not in self._idle_flights
        }
        todo = [item for item in pending if item not in flying]
        # The keyword ranking needs no embedding: it runs while the query is embedded.
        embedded, keyword, computed = await asyncio.gather(
            self.vectors([query, *(item.content for item in todo)]),
            self.store.keyword_search(user_id, content_query(query), _POOL, categories),
            asyncio.gather(*set(flying.values())),
        )
        fresh = list(zip(todo, embedded[1:], strict=True))
        known = {item: v for batch in computed for item, v in batch.items() if item in flying}
        missed = [item for item in flying if item not in known]  # their embedding failed
        fresh += [(item, known[item]) for item in flying if item in known]
        if missed:
            vectors = await self.vectors([item.content for item in missed])
            fresh += zip(missed, vectors, strict=True)
        semantic = await self.store.semantic_search(user_id, embedded[0], _POOL, categories)
        if fresh:
            self._store_later(fresh)
            semantic = await self._with_pending(user_id, embedded[0], semantic, fresh, categories)
        # The names in the candidates count, so all of them are read (at most 2 * _POOL).
        candidates = list(dict.fromkeys(i for i, _ in [*semantic, *keyword]))
        memories = await self.store.memories_by_ids(user_id, candidates)
        contents = {i: m.content for i, m in memories.items()}
        ranked = rank(
            query, keyword, semantic, contents, limit, keyword_half=self.store.keyword_half
        )
        return [(memories[i], s) for i, s in ranked if i in memories and s >= min_score]

    async def _with_pending(
        self,
        user_id: str,
        query: bytes,
        semantic: list[tuple[str, float]],
        fresh: list[tuple[Queued, bytes]],
        categories: Sequence[str],
    ) -> list[tuple[str, float]]:
        """The semantic ranking with the queued memories (one stored meanwhile, by the
        embedder, is ranked once: the same vector gives the same score)."""
        rows = [(item.memory_id, vector) for item, vector in fresh]
        if categories:
            found = await self.store.memories_by_ids(user_id, [i for i, _ in rows])
            rows = [(i, v) for i, v in rows if i in found and found[i].category in categories]
        query_vector = np.frombuffer(query, dtype="<f4")
        queued = dict(semantic_ranking(query_vector, rows, _POOL))
        both = [*((i, score) for i, score in semantic if i not in queued), *queued.items()]
        return sorted(both, key=lambda pair: (-pair[1], pair[0]))[:_POOL]

    def _store_later(self, fresh: list[tuple[Queued, bytes]]) -> None:
        """Store these embeddings (and unqueue them) in the background."""
        mine = [(item, v) for item, v in fresh if item not in self._embedding]
        if not mine:
            return
        loop = asyncio.get_running_loop()
        flight: _InFlight = (loop.create_future(), loop.create_future())
        flight[0].set_result(dict(mine))
        self._embedding.update((item, flight) for item, _ in mine)

        async def store() -> None:
            try:
                await self._complete(mine)
            except MnemoError as error:  # they stay queued: the embedder does them later
                log.warning("embeddings not stored after a search: %s", error.detail)
            finally:
                self._release([item for item, _ in mine], flight)

        task = asyncio.get_running_loop().create_task(store())
        self._storing.add(task)
        task.add_done_callback(self._storing.discard)

    async def _complete(self, pairs: list[tuple[Queued, bytes]]) -> int:
        """Store these embeddings where the content is unchanged (and unqueue them); how
        many were stored, counted too."""
        done = await self.store.complete_embeddings(pairs)
        if self._metrics is not None and done:
            self._metrics.embedded.inc(done)
        return done

    def _ends(self, item: Queued) -> asyncio.Future[None] | None:
        flight = self._embedding.get(item)
        return None if flight is None else flight[1]

    def _release(self, items: Sequence[Queued], flight: _InFlight) -> None:
        """These are no longer being embedded here: wake whoever waits on them."""
        for item in items:
            self._embedding.pop(item, None)
        if not flight[0].done():  # never computed: whoever waits embeds them itself
            flight[0].set_result({})
        flight[1].set_result(None)

    async def drain(self) -> None:
        """Wait until the embeddings searches computed are stored, and let the
        background embedder's thread end (before closing)."""
        while self._storing:
            await asyncio.gather(*self._storing, return_exceptions=True)
        self._batcher.close()
        if self._helper is not None:
            self._helper.shutdown(wait=False)
            self._helper = None

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
