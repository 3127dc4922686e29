"""EmbeddingBatcher: concurrent requests share model calls and each gets its own vectors."""

from __future__ import annotations

import asyncio
import os
import sys
import threading
import time

import pytest

from mnemo.search.batching import LOWEST_PRIORITY, MAX_CHARS, MAX_TEXTS, EmbeddingBatcher


class Recorder:
    """A fake model: each text's 'vector' is its own bytes; remembers every call."""

    def __init__(self, delay: float = 0.05, fail_on: str | None = None) -> None:
        self.calls: list[list[str]] = []
        self.delay = delay
        self.fail_on = fail_on
        self.threads: set[int] = set()

    def __call__(self, texts: list[str]) -> list[bytes]:
        self.calls.append(texts)
        self.threads.add(threading.get_ident())
        time.sleep(self.delay)
        if self.fail_on in texts:
            raise ValueError("model failed")
        return [text.encode() for text in texts]


async def test_a_lone_request_is_embedded_at_once_off_the_loop() -> None:
    model = Recorder(delay=0)
    batcher = EmbeddingBatcher(model)
    assert await batcher.embed(["a", "b"]) == [b"a", b"b"]
    assert await batcher.embed([]) == []
    assert model.calls == [["a", "b"]]
    assert threading.get_ident() not in model.threads


async def test_requests_waiting_together_share_one_call_and_get_their_own_vectors() -> None:
    model = Recorder()
    batcher = EmbeddingBatcher(model)
    first = asyncio.create_task(batcher.embed(["first"]))
    await asyncio.sleep(0.01)  # the first call is running: the next ones wait for it
    rest = [asyncio.create_task(batcher.embed([f"{i}a", f"{i}b"])) for i in range(5)]
    assert await first == [b"first"]
    assert [await task for task in rest] == [[f"{i}a".encode(), f"{i}b".encode()] for i in range(5)]
    assert model.calls == [["first"], [t for i in range(5) for t in (f"{i}a", f"{i}b")]]


async def test_a_big_request_goes_in_pieces_and_others_get_in_between() -> None:
    model = Recorder()
    batcher = EmbeddingBatcher(model)
    blocker = asyncio.create_task(batcher.embed(["x"]))
    await asyncio.sleep(0.01)
    big = [f"b{i}" for i in range(2 * MAX_TEXTS + 5)]
    tasks = [asyncio.create_task(batcher.embed(texts)) for texts in (["s1"], big, ["s2"])]
    await blocker
    results = [await task for task in tasks]
    assert results == [[b"s1"], [t.encode() for t in big], [b"s2"]]
    assert all(len(call) <= MAX_TEXTS for call in model.calls)
    # s2, sent after the big request, was not kept waiting until all of it was done
    where = {text: n for n, call in enumerate(model.calls) for text in call}
    assert where["s2"] < where[big[-1]]


async def test_a_call_holds_at_most_max_chars_unless_one_text_is_longer() -> None:
    model = Recorder(delay=0)
    batcher = EmbeddingBatcher(model)
    long = "y" * (MAX_CHARS + 1)
    texts = ["a" * (MAX_CHARS // 2)] * 3 + [long, "z"]
    assert await batcher.embed(texts) == [t.encode() for t in texts]
    assert [sum(map(len, call)) for call in model.calls] == [
        MAX_CHARS,
        MAX_CHARS // 2,
        MAX_CHARS + 1,
        1,
    ]


async def test_a_request_never_waits_for_the_background_line() -> None:
    release = threading.Event()

    class Holding(Recorder):  # the background call of "x" runs until released
        def __call__(self, texts: list[str]) -> list[bytes]:
            if texts == ["x"]:
                release.wait(10)
            return super().__call__(texts)

    model = Holding(delay=0)
    batcher = EmbeddingBatcher(model)
    blocker = asyncio.create_task(batcher.embed(["x"], background=True))
    await asyncio.sleep(0.01)  # a background call is running
    backlog = asyncio.create_task(batcher.embed(["bg"] * (3 * MAX_TEXTS), background=True))
    await asyncio.sleep(0)
    request = asyncio.create_task(batcher.embed(["search"]))
    assert await asyncio.wait_for(request, 5) == [b"search"]
    assert not blocker.done()  # the request's call ran while the background one was held
    release.set()
    # its call held no background text, and the backlog waits on its own line
    assert model.calls[0] == ["search"]
    assert await blocker == [b"x"]
    assert len(await backlog) == 3 * MAX_TEXTS
    batcher.close()


class Niceness(Recorder):
    """Remembers the CPU priority (niceness) of the thread of each call."""

    def __init__(self) -> None:
        super().__init__(delay=0)
        self.niceness: list[int] = []

    def __call__(self, texts: list[str]) -> list[bytes]:
        self.niceness.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
        return super().__call__(texts)


@pytest.mark.skipif(sys.platform != "linux", reason="a thread's own priority is Linux's")
async def test_background_calls_run_at_the_lowest_priority_and_requests_calls_do_not() -> None:
    model = Niceness()
    batcher = EmbeddingBatcher(model)
    base = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    assert await batcher.embed(["bg"], background=True) == [b"bg"]
    assert await batcher.embed(["search"]) == [b"search"]
    assert await batcher.embed(["bg2"], background=True) == [b"bg2"]
    assert model.niceness == [LOWEST_PRIORITY, base, LOWEST_PRIORITY]
    # the loop's thread (and so the requests' work) kept its priority
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == base
    batcher.close()
    assert await batcher.embed(["after"], background=True) == [b"after"]  # a new thread
    batcher.close()


async def test_a_failure_reaches_every_request_of_its_call_and_the_next_call_works() -> None:
    model = Recorder(fail_on="bad")
    batcher = EmbeddingBatcher(model)
    blocker = asyncio.create_task(batcher.embed(["ok"]))
    await asyncio.sleep(0.01)
    doomed = [asyncio.create_task(batcher.embed([text])) for text in ("bad", "fine")]
    assert await blocker == [b"ok"]
    for task in doomed:
        with pytest.raises(ValueError, match="model failed"):
            await task
    assert await batcher.embed(["later"]) == [b"later"]


async def test_a_cancelled_request_does_not_disturb_the_others() -> None:
    model = Recorder()
    batcher = EmbeddingBatcher(model)
    blocker = asyncio.create_task(batcher.embed(["x"]))
    await asyncio.sleep(0.01)
    gone = asyncio.create_task(batcher.embed(["gone"]))
    kept = asyncio.create_task(batcher.embed(["kept"]))
    await asyncio.sleep(0)
    gone.cancel()
    assert await blocker == [b"x"]
    assert await kept == [b"kept"]
    assert gone.cancelled()
