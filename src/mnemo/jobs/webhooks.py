"""The webhook deliverer: sends the outbox's due deliveries (docs/webhooks.md).

One per serving process. Each round it leases up to `BATCH` due deliveries
(`Store.claim_deliveries`: each row to one process at a time; PostgreSQL's claim skips
rows another worker holds), sends them at once, each within `timeout_s`, and records
every outcome in one transaction, where its lease still holds. The payload is read from
the memory when it is sent. A failed attempt is tried again after an exponential
backoff with jitter (`backoff`); once the next try would fall past `retry_s` after the
event (or its last replay), the delivery is `failed`, with its last error. A process
killed mid-round leaves its rows leased: any process takes them over when the lease
(`lease_s`: twice the timeout and `LEASE_MARGIN_S`) expires and sends them again, so a
receiver may see a message twice (the same `webhook-id`): delivery is at least once.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable

import httpx

from mnemo.clock import now_us
from mnemo.jobs import cancelled, survived
from mnemo.store import Store
from mnemo.store.webhook_rows import DELIVERED, FAILED, PENDING, Attempt, Claimed, Delivery
from mnemo.webhooks.events import WebhookEvent, payload
from mnemo.webhooks.sender import send

log = logging.getLogger(__name__)

BATCH = 32  # deliveries leased, and sent at once, per round
LEASE_MARGIN_S = 5.0
PRUNE_EVERY_S = 3600.0  # between two prunings of old deliveries
PRUNE_BATCH = 1000  # rows deleted per transaction
_DAY_US = 86_400_000_000


def lease_s(timeout_s: float) -> float:
    """How long a claim holds: a round's sends and its record fit well inside."""
    return 2 * timeout_s + LEASE_MARGIN_S


def backoff(attempts: int, base_s: float, most_s: float, rng: random.Random) -> float:
    """The wait after the `attempts`-th failed attempt: `base_s` doubled each time, at
    most `most_s`, times a random factor in [0.5, 1) (jitter: retries spread out)."""
    wait = min(base_s * 2.0 ** min(attempts - 1, 60), most_s)
    return float(wait * (0.5 + rng.random() / 2))


class Deliverer:
    def __init__(
        self,
        store: Store,
        *,
        allow_private: bool,
        timeout_s: float,
        retry_s: float,
        backoff_s: float,
        backoff_max_s: float,
        poll_s: float,
        keep_days: int = 0,
        on_outcome: Callable[[str], None] = lambda status: None,
    ) -> None:
        """`on_outcome(status)`: called for each attempt recorded (`delivered`, `pending`
        for a retry to come, `failed`); `keep_days`: delivered and failed rows older are
        pruned every `PRUNE_EVERY_S` (0: never)."""
        self._store = store
        self._allow_private = allow_private
        self._timeout_s = timeout_s
        self._retry_us = int(retry_s * 1_000_000)
        self._backoff = (backoff_s, backoff_max_s)
        self._poll_s = poll_s
        self._lease_us = int(lease_s(timeout_s) * 1_000_000)
        self._on_outcome = on_outcome
        self._keep_us = keep_days * _DAY_US
        self._pruned_at = 0.0
        self._rng = random.Random()
        self._task: asyncio.Task[None] | None = None
        self._client: httpx.AsyncClient | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="mnemo-webhooks")

    async def stop(self) -> None:
        """Stop; deliveries in flight stay leased and are sent again after their lease."""
        await cancelled(self._task)
        self._task = None
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                follow_redirects=False,
                trust_env=False,  # no proxy: the connection goes to the address checked
                timeout=httpx.Timeout(self._timeout_s),
                limits=httpx.Limits(max_connections=BATCH, max_keepalive_connections=8),
            )
        return self._client

    async def run_once(self) -> int:
        """Lease, send and record one round; how many attempts were recorded."""
        claimed = await self._store.claim_deliveries(BATCH, self._lease_us, now_us())
        if not claimed:
            return 0
        attempts = await asyncio.gather(*(self._attempt(item) for item in claimed))
        done = [(item.delivery, attempt) for item, attempt in zip(claimed, attempts, strict=True)]
        recorded = await self._store.finish_deliveries(done)
        for _, attempt in done:
            self._on_outcome(attempt.status)
        return recorded

    async def _attempt(self, item: Claimed) -> Attempt:
        delivery = item.delivery
        memory = None
        if delivery.event != WebhookEvent.memory_deleted:
            memory = await self._store.get_memory_json(delivery.user_id, delivery.memory_id)
        body = payload(
            delivery.event, delivery.user_name, delivery.memory_id, delivery.occurred_at, memory
        )
        error = await send(
            self._http(),
            item.url,
            item.secret,
            delivery.id,
            body,
            allow_private=self._allow_private,
            timeout_s=self._timeout_s,
        )
        return self._outcome(delivery, error, now_us())

    def _outcome(self, delivery: Delivery, error: str | None, at: int) -> Attempt:
        if error is None:
            return Attempt(DELIVERED, at, at, None)
        wait_s = backoff(delivery.attempts + 1, *self._backoff, self._rng)
        due = at + int(wait_s * 1_000_000)
        if due > delivery.retry_from + self._retry_us:
            return Attempt(FAILED, at, at, error)
        return Attempt(PENDING, at, due, error)

    async def prune(self, now: int | None = None) -> int:
        """Delete the delivered and failed rows last tried over `keep_days` ago; how many."""
        if not self._keep_us:
            return 0
        before = (now_us() if now is None else now) - self._keep_us
        total = 0
        while (pruned := await self._store.prune_deliveries(before, PRUNE_BATCH)) > 0:
            total += pruned
        return total

    async def _round(self) -> int:
        if time.monotonic() - self._pruned_at >= PRUNE_EVERY_S or not self._pruned_at:
            self._pruned_at = time.monotonic()
            await self.prune()
        return await self.run_once()

    async def _run(self) -> None:
        while True:
            recorded = await survived(
                log, "webhooks", self._round, "a round failed (its deliveries stay pending)"
            )
            if not recorded:
                await asyncio.sleep(self._poll_s)
