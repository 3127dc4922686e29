"""The background embedder: computes the embeddings of queued memories.

A create (or a content PATCH) writes its memory and a row of the embedding queue in one
transaction and answers; this job, one per serving process, then:

- leases up to `BATCH` queued rows at a time (`Store.claim_embeddings`: round robin
  between users, so one user's backlog delays another's rows by one batch at most;
  rows leased by another process are left to it until their lease expires, after which
  any process takes them over: a killed worker's rows are not lost);
- embeds them in pieces of a bounded size, on the batcher's background line: a thread
  at the lowest CPU priority, beside the requests' calls, which never wait for it
  (search/batching.py);
- stores the vectors and removes their queue rows in one transaction, only where the
  memory's content is still the one embedded (`Store.complete_embeddings`).

It gives way to requests: while any request of this process is in flight, or one
started or ended in the last `QUIET_S`, it waits (`YIELD_S` at a time, up to
`MAX_YIELD_S`, so that steady traffic cannot starve it), and it pauses `PAUSE_S`
between batches. So a client's create followed by its search finds the model free, and
the creates of a busy client are embedded together, in fewer transactions. A search
does not wait for it: it embeds its user's queued memories itself first
(`Retrieval.search`, read-your-writes).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from mnemo.jobs import cancelled, survived
from mnemo.retrieval import Retrieval
from mnemo.search.batching import MAX_TEXTS
from mnemo.store import Store

log = logging.getLogger(__name__)

BATCH = MAX_TEXTS  # memories leased at a time (embedded in pieces: search/batching.py)
PAUSE_S = 0.005  # between two batches
QUIET_S = 0.02  # requests this recent still count as traffic
YIELD_S = 0.002  # a wait while requests are in flight
MAX_YIELD_S = 0.25  # the longest the job gives way before it takes a batch anyway


class Embedder:
    def __init__(
        self,
        store: Store,
        retrieval: Retrieval,
        *,
        lease_s: float,
        poll_s: float,
        busy: Callable[[], bool] = lambda: False,
    ) -> None:
        """`lease_s`: how long a claim holds rows; `poll_s`: how often an idle job looks
        for queued rows; `busy()`: whether requests are in flight (or just were)."""
        self._store = store
        self._retrieval = retrieval
        self._lease_us = int(lease_s * 1_000_000)
        self._poll_s = poll_s
        self._busy = busy
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="mnemo-embedder")

    def wake(self) -> None:
        """Something was queued: look now rather than at the next poll."""
        self._wake.set()

    async def stop(self) -> None:
        """Stop after the current batch is abandoned (its rows stay queued)."""
        await cancelled(self._task)
        self._task = None

    async def run_once(self) -> int:
        """Lease, embed and store one batch; how many memories got their embedding."""
        items = await self._store.claim_embeddings(BATCH, self._lease_us)
        if not items:
            return 0
        await self._retrieval.embed_queued(items, background=True)
        return len(items)

    async def _run(self) -> None:
        while True:
            claimed = await survived(
                log, "embedder", self._batch, "a batch failed (its rows stay queued)"
            )
            if claimed:
                await asyncio.sleep(PAUSE_S)
                continue
            self._wake.clear()
            # (Not asyncio.wait_for: on Python 3.11 a cancel that meets the wake-up can
            # be lost, and stop() then waits forever.)
            waiter = asyncio.ensure_future(self._wake.wait())
            try:
                await asyncio.wait([waiter], timeout=self._poll_s)
            finally:
                waiter.cancel()

    async def _batch(self) -> int:
        await self._give_way()
        return await self.run_once()

    async def _give_way(self) -> None:
        waited = 0.0
        while self._busy() and waited < MAX_YIELD_S:
            await asyncio.sleep(YIELD_S)
            waited += YIELD_S


async def embed_all_pending(retrieval: Retrieval, store: Store, user_id: str | None = None) -> int:
    """Embed every memory queued now (of one user, if given), leased or not (`mnemo
    reindex --pending`); how many got their embedding."""
    total = 0
    while items := await store.pending_embeddings(user_id, limit=BATCH):
        _, done = await retrieval.embed_queued(items)
        if not done:  # every one changed since it was read: they are queued again
            break
        total += done
    return total
