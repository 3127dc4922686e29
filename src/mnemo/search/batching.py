"""Embed the texts of concurrent requests together, requests ahead of background work.

Every search (and the background embedder, mnemo.jobs.embedder) needs embeddings. Run
one by one, each would take a thread of its own and the CPU-bound model calls would
contend for the cores. `EmbeddingBatcher` keeps two lines, each running one model call
at a time: the requests' texts, and the background embedder's. While a call computes,
the texts that arrive on its line wait, and the line's next call takes them together
(up to `MAX_TEXTS` texts and `MAX_CHARS` characters). A lone request is never delayed
by its own line (its call starts at once), and under load one call serves many
requests.

Fair under load: a request's texts go in pieces of at most one call's size, each
queued behind the pieces already waiting, so one request with many texts (a search of
a user with a backlog of queued memories) delays another request by one piece at a
time, not by all of it.

Requests first: the background line's calls run in a thread of their own at the lowest
CPU priority (`nice` 19, on Linux, where a thread's priority is its own; elsewhere at
the process's), and a request's call never waits for them nor holds their texts. On a
busy core the requests' work, the event loop's included, goes first and the embedder
gets the time it leaves; on an idle one it computes at full speed.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

Embed = Callable[[list[str]], Sequence[bytes]]
# The most one model call takes, so a request that arrives behind a crowd (a search
# behind a backlog of long memories) waits for one bounded call, not for all of them.
MAX_TEXTS = 64
MAX_CHARS = 1_500  # 3 memories of 500 characters: ~55 ms of MiniLM on one idle core
_Request = tuple[list[str], "asyncio.Future[list[bytes]]"]
LOWEST_PRIORITY = 19  # the niceness of the background embedder's thread


def _lowest_priority() -> None:
    """Give the calling thread the lowest CPU priority (Linux only: elsewhere
    `setpriority` would apply to the whole process)."""
    if sys.platform == "linux":
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), LOWEST_PRIORITY)


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


class _Line:
    """Pieces waiting for one line's calls, and the task running them."""

    def __init__(self) -> None:
        self.waiting: list[_Request] = []
        self.runner: asyncio.Task[None] | None = None


class EmbeddingBatcher:
    """`await batcher.embed(texts)` = `embed(texts)` run in a worker thread, merged with
    the texts of other requests waiting at the same time."""

    def __init__(self, embed: Embed, *, background: Embed | None = None) -> None:
        """`embed` computes the requests' calls; `background` (default: `embed`) the
        background line's."""
        self._embed = embed
        self._embed_background = background or embed
        self._requests, self._background = _Line(), _Line()
        self._idle: ThreadPoolExecutor | None = None  # the background line's thread

    def _background_thread(self) -> ThreadPoolExecutor:
        if self._idle is None:
            self._idle = ThreadPoolExecutor(
                1, thread_name_prefix="mnemo-embed-idle", initializer=_lowest_priority
            )
        return self._idle

    def close(self) -> None:
        """Let the background line's thread end (after the call it runs, if any)."""
        if self._idle is not None:
            self._idle.shutdown(wait=False)
            self._idle = None

    async def embed(self, texts: Sequence[str], *, background: bool = False) -> list[bytes]:
        """The texts' vectors; `background`: on the background line (module)."""
        line = self._background if background else self._requests
        vectors: list[bytes] = []
        for piece in pieces(texts):
            vectors += await self._one(piece, line)
        return vectors

    async def _one(self, texts: list[str], line: _Line) -> list[bytes]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[list[bytes]] = loop.create_future()
        line.waiting.append((texts, future))
        if line.runner is None or line.runner.done() or line.runner.get_loop() is not loop:
            # (A runner of another, finished event loop left its requests behind.)
            line.waiting[:] = [w for w in line.waiting if w[1].get_loop() is loop]
            line.runner = loop.create_task(self._run(line))
        return await future

    async def _run(self, line: _Line) -> None:
        loop = asyncio.get_running_loop()
        while batch := _take(line.waiting):
            texts = [text for request, _ in batch for text in request]
            try:
                # a request's call in the default pool; the background's in its own
                if line is self._background:
                    pool, embed = self._background_thread(), self._embed_background
                else:
                    pool, embed = None, self._embed
                vectors = list(await loop.run_in_executor(pool, embed, texts))
            except Exception as error:  # each waiting request gets the failure
                for _, future in batch:
                    _settle(future, error=error)
                continue
            start = 0
            for request, future in batch:
                _settle(future, vectors[start : start + len(request)])
                start += len(request)


def _take(line: list[_Request]) -> list[_Request]:
    """The first pieces of `line`, as many as one call takes (at least one)."""
    batch: list[_Request] = []
    size = chars = 0
    while line:
        texts = line[0][0]
        more = sum(map(len, texts))
        if batch and (size + len(texts) > MAX_TEXTS or chars + more > MAX_CHARS):
            break
        batch.append(line.pop(0))
        size, chars = size + len(texts), chars + more
    return batch


def _settle(
    future: asyncio.Future[list[bytes]], value: Any = None, error: BaseException | None = None
) -> None:
    if future.done():  # its request was cancelled; the others still get theirs
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(value)
