"""Embed the texts of concurrent requests together.

Every create, content patch and search needs embeddings before it can answer. Run
one by one, each request would take a thread of its own and the CPU-bound model
calls would contend for the cores. `EmbeddingBatcher` runs one model call at a time
per process: while it computes, the texts of the requests that arrive meanwhile
wait, and the next call takes them all (up to `MAX_TEXTS`). A lone request is never
delayed (its call starts at once), and under load one call serves many requests (the
model computes texts of equal token length together, and each call costs one thread
switch, not one per request).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

Embed = Callable[[list[str]], Sequence[bytes]]
# Texts per model call, so a request that arrives behind a crowd (a search behind many
# batch creates) waits for one bounded call, not for all of them.
MAX_TEXTS = 64
_Request = tuple[list[str], "asyncio.Future[list[bytes]]"]


class EmbeddingBatcher:
    """`await batcher.embed(texts)` = `embed(texts)` run in a worker thread, merged with
    the texts of other requests waiting at the same time."""

    def __init__(self, embed: Embed) -> None:
        self._embed = embed
        self._waiting: list[_Request] = []
        self._runner: asyncio.Task[None] | None = None

    async def embed(self, texts: Sequence[str]) -> list[bytes]:
        if not texts:
            return []
        loop = asyncio.get_running_loop()
        future: asyncio.Future[list[bytes]] = loop.create_future()
        self._waiting.append((list(texts), future))
        if self._runner is None or self._runner.done() or self._runner.get_loop() is not loop:
            # (A runner of another, finished event loop left its requests behind.)
            self._waiting = [w for w in self._waiting if w[1].get_loop() is loop]
            self._runner = loop.create_task(self._run())
        return await future

    async def _run(self) -> None:
        while self._waiting:
            batch: list[_Request] = []
            size = 0
            while self._waiting and (not batch or size + len(self._waiting[0][0]) <= MAX_TEXTS):
                batch.append(self._waiting.pop(0))
                size += len(batch[-1][0])
            texts = [text for request, _ in batch for text in request]
            try:
                vectors = list(await asyncio.to_thread(self._embed, texts))
            except Exception as error:  # each waiting request gets the failure
                for _, future in batch:
                    _settle(future, error=error)
                continue
            start = 0
            for request, future in batch:
                _settle(future, vectors[start : start + len(request)])
                start += len(request)


def _settle(
    future: asyncio.Future[list[bytes]], value: Any = None, error: BaseException | None = None
) -> None:
    if future.done():  # its request was cancelled; the others still get theirs
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(value)
