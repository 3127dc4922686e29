"""Admission control: the bounds on queued work, and what a request past one gets.

Two queues hold work that requests leave behind or wait on:

- the embedding queue (durable, in the database, shared by every process: memories
  whose embedding the background embedder has still to compute; docs/search.md);
- the SQLite writer's queue (in memory, one per process: writes waiting for the one
  writer thread; store/sqlite_db.py).

A request that would add to a queue past its bound is refused before it does anything,
with `Retry-After`:

- 429 (`Backlogged`) when this user's own share is full: their queued work alone has
  reached the per-user bound. Other users are not affected;
- 503 (`Saturated`) when the queue as a whole is full.

A user refused for the embedding queue is refused again at once, before the request's
costly work (categorisation, dedup), until their `Retry-After` has passed
(`EmbeddingAdmission.admit_early`): a flooder that ignores `Retry-After` costs little
more than the parsing of its requests. So no queue grows without bound, and one
user's backlog cannot fill a queue for the others (the queues also serve users in
turn: `Store.claim_embeddings`, the SQLite writer's groups). The bounds are settings
(`MNEMO_EMBED_QUEUE_USER_LIMIT`, `MNEMO_EMBED_QUEUE_LIMIT`,
`MNEMO_WRITE_QUEUE_USER_LIMIT`, `MNEMO_WRITE_QUEUE_LIMIT`;
docs/security.md).
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass

from mnemo.errors import Backlogged, Saturated

EMBED_RETRY_AFTER_S: float = 2  # the embedder works through ~100-300 texts a second per process
WRITE_RETRY_AFTER_S = 1  # the writer's queue drains within a few group commits
RECOUNT_S = 0.5  # the whole embedding queue is counted again at most this often
_EMBEDDINGS = "memories waiting for their embedding"
# The bounds' names, as the metrics' `mnemo_rejections_total{limit}` labels them.
EMBED_USER, EMBED_TOTAL = "embedding_queue_user", "embedding_queue"
WRITE_USER, WRITE_TOTAL = "write_queue_user", "write_queue"
_WRITES = "writes"


@dataclass(frozen=True)
class QueueBounds:
    """The bounds (see the module docstring); their defaults are the settings'."""

    embed_user: int = 1_000
    embed_total: int = 20_000
    write_user: int = 64
    write_total: int = 1_024


class EmbeddingAdmission:
    """The embedding queue's bounds for one store. A write that queues embeddings asks,
    in its transaction, with the user's queued count (counted up to `bounds.embed_user`)
    and, when `recount()` says so, the whole queue's (up to `bounds.embed_total`); the
    whole queue's count is kept between recounts (it reads every row)."""

    def __init__(self, bounds: QueueBounds) -> None:
        self.bounds = bounds
        self._total = 0
        self._counted_at = -math.inf
        self._lock = threading.Lock()
        self._refused: dict[str, float] = {}  # user -> until when (monotonic)
        self._saturated_until = -math.inf

    def recount(self) -> bool:
        """Whether the whole queue is to be counted by this write."""
        return time.monotonic() - self._counted_at >= RECOUNT_S

    def admit(self, user_id: str, user_queued: int, total_queued: int | None = None) -> None:
        """Refuse (429, then 503) a write past a bound; `total_queued`: a fresh count."""
        now = time.monotonic()
        with self._lock:
            if total_queued is not None:
                self._total, self._counted_at = total_queued, now
            total = self._total
            until = now + EMBED_RETRY_AFTER_S
            if user_queued >= self.bounds.embed_user:
                if len(self._refused) >= _MAX_REMEMBERED:
                    self._refused = {u: t for u, t in self._refused.items() if t > now}
                self._refused[user_id] = until
                retry = _seconds(EMBED_RETRY_AFTER_S)
                error: Exception = Backlogged(_EMBEDDINGS, retry, EMBED_USER)
            elif total >= self.bounds.embed_total:
                self._saturated_until = until
                error = Saturated(_EMBEDDINGS, _seconds(EMBED_RETRY_AFTER_S), EMBED_TOTAL)
            else:
                return
        raise error

    def admit_early(self, user_id: str) -> None:
        """Refuse at once a user refused less than their `Retry-After` ago (or anyone,
        while the whole queue was found full that recently): before a write's costly
        work, which a refusal in its transaction would waste."""
        now = time.monotonic()
        with self._lock:
            user_until = self._refused.get(user_id, -math.inf)
            everyone_until = self._saturated_until
        if user_until > now:
            raise Backlogged(_EMBEDDINGS, _seconds(user_until - now), EMBED_USER)
        if everyone_until > now:
            raise Saturated(_EMBEDDINGS, _seconds(everyone_until - now), EMBED_TOTAL)


_MAX_REMEMBERED = 4_096  # refused users remembered before the expired ones are dropped


def _seconds(left: float) -> int:
    return max(1, math.ceil(left))


def admit_write(bounds: QueueBounds, user_waiting: int, total_waiting: int) -> None:
    """Refuse (429, then 503) a write that would wait for the SQLite writer past a bound."""
    if user_waiting >= bounds.write_user:
        raise Backlogged(_WRITES, WRITE_RETRY_AFTER_S, WRITE_USER)
    if total_waiting >= bounds.write_total:
        raise Saturated(_WRITES, WRITE_RETRY_AFTER_S, WRITE_TOTAL)
