"""Embed the texts of concurrent requests together, requests ahead of background work.

Every search (and the background embedder, mnemo.jobs.embedder) needs embeddings. Run
one by one, each would take a thread of its own and the CPU-bound model calls would
contend for the cores. `EmbeddingBatcher` runs one model call at a time per process:
while it computes, the texts that arrive meanwhile wait, and the next call takes them
together (up to `MAX_TEXTS` texts and `MAX_CHARS` characters). A lone request is never
delayed (its call starts at once), and under load one call serves many requests.

Fair under load: a request's texts go in pieces of at most one call's size, each
queued behind the pieces already waiting, so one request with many texts (a search of
a user with a backlog of queued memories) delays another request by one piece at a
time, not by all of it; and texts of requests (`background=False`) are taken before
the background embedder's, which therefore delays a request by at most the one call
already running.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

Embed = Callable[[list[str]], Sequence[bytes]]
# The most one model call takes, so a request that arrives behind a crowd (a search
# behind a backlog of long memories) waits for one bounded call, not for all of them.
MAX_TEXTS = 64
MAX_CHARS = 1_500  # 3 memories of 500 characters: ~55 ms of MiniLM on one idle core
_Request = tuple[list[str], "asyncio.Future[list[bytes]]"]


def pieces(texts: Sequence[str]) -> list[list[str]]:
    """`texts` cut into consecutive pieces of one call's size (a longer text alone)."""
    out: list[list[str]] = []
    chars = 0
    for text in texts:
        if not out or len(out[-1]) >= MAX_TEXTS or chars + len(text) > MAX_CHARS:
            out.append([])
            chars = 0
        out[-1].append(text)
        chars += len(text)
    return out


class EmbeddingBatcher:
    """`await batcher.embed(texts)` = `embed(texts)` run in a worker thread, merged with
    the texts of other requests waiting at the same time."""

    def __init__(self, embed: Embed) -> None:
        self._embed = embed
        self._waiting: list[_Request] = []  # requests' pieces
        self._background: list[_Request] = []  # the background embedder's
        self._runner: asyncio.Task[None] | None = None

    async def embed(self, texts: Sequence[str], *, background: bool = False) -> list[bytes]:
        """The texts' vectors; `background`: after every request's texts (module)."""
        vectors: list[bytes] = []
        for piece in pieces(texts):
            vectors += await self._one(piece, self._background if background else self._waiting)
        return vectors

    async def _one(self, texts: list[str], line: list[_Request]) -> list[bytes]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[list[bytes]] = loop.create_future()
        line.append((texts, future))
        if self._runner is None or self._runner.done() or self._runner.get_loop() is not loop:
            # (A runner of another, finished event loop left its requests behind.)
            for old in (self._waiting, self._background):
                old[:] = [w for w in old if w[1].get_loop() is loop]
            self._runner = loop.create_task(self._run())
        return await future

    def _next_call(self) -> list[_Request]:
        """The pieces of the next call: requests' first, in order, then background."""
        batch: list[_Request] = []
        size = chars = 0
        for line in (self._waiting, self._background):
            while line:
                texts = line[0][0]
                more = sum(map(len, texts))
                if batch and (size + len(texts) > MAX_TEXTS or chars + more > MAX_CHARS):
                    return batch
                batch.append(line.pop(0))
                size, chars = size + len(texts), chars + more
        return batch

    async def _run(self) -> None:
        while batch := self._next_call():
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
