"""The history's retention (docs/history.md): one task per serving process deletes the
history rows older than `MNEMO_HISTORY_RETENTION_DAYS`, `PRUNE_BATCH` rows a
transaction, every `PRUNE_EVERY_S` (several processes doing it at once delete each row
once: a row already deleted is not found again)."""

from __future__ import annotations

import asyncio
import logging

from mnemo.clock import now_us
from mnemo.jobs import cancelled, survived
from mnemo.store import Store

log = logging.getLogger(__name__)

PRUNE_BATCH = 1000  # rows deleted per transaction
PRUNE_EVERY_S = 3600.0  # between two rounds
_DAY_US = 86_400_000_000


async def prune_history(store: Store, retention_days: int, now: int | None = None) -> int:
    """Delete every history row older than `retention_days` (none if 0); how many."""
    if retention_days <= 0:
        return 0
    before = (now_us() if now is None else now) - retention_days * _DAY_US
    total = 0
    while (pruned := await store.prune_history(before, PRUNE_BATCH)) > 0:
        total += pruned
    return total


class HistoryPruner:
    def __init__(self, store: Store, retention_days: int, every_s: float = PRUNE_EVERY_S) -> None:
        self._store = store
        self._days = retention_days
        self._every_s = every_s
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._days > 0:
            loop = asyncio.get_running_loop()
            self._task = loop.create_task(self._run(), name="mnemo-history-pruner")

    async def stop(self) -> None:
        await cancelled(self._task)
        self._task = None

    async def _run(self) -> None:
        while True:
            await survived(
                log,
                "history pruner",
                lambda: prune_history(self._store, self._days),
                "a round failed",
            )
            await asyncio.sleep(self._every_s)
