"""One user flooding cannot starve another (issue #14, item 1), against a real server.

The attack: one key sends batches of 25 memories of 500 characters on 4 connections,
as fast as the server answers, each memory new (so each is stored and queued for its
embedding), while another user creates and searches one request at a time. The
flooder's share of the embedding queue fills and their batches are refused with 429
and `Retry-After` (mnemo.admission) instead of growing the queue without bound; the
other user's requests all succeed, and their latency under the flood stays within a
wide ratio of their latency without it (no absolute timing: the machine may be slow or
busy). The figures are printed (`-s`) for docs/security.md."""

from __future__ import annotations

import asyncio
import random
import statistics
import time
import uuid

import httpx

from tests.e2e.server import run_cli, start_server
from tests.helpers import MEMORIES

FLOOD_CONNECTIONS = 4
ROUNDS = 15  # the other user's create + search rounds, with and without the flood
USER_SHARE = 300  # MNEMO_EMBED_QUEUE_USER_LIMIT here (a quicker flood than the default)
# The other user's median create / search latency under the flood, as a multiple of
# their own without it: before admission control and fair shares it was ~600x (16 ms ->
# 10 s for creates). Wide on purpose: the flood shares the machine's cores.
MAX_SLOWDOWN = 40
FLOOR_S = 0.05  # medians below this count as this much (a ratio of tiny numbers is noise)
FLOOD_WAIT_S = 120  # the longest the flooder is given to fill its share
_WORDS = [
    "tea",
    "chess",
    "violin",
    "Lisbon",
    "marathon",
    "cello",
    "penguins",
    "sourdough",
    "kayak",
    "opera",
    "tulips",
    "Kyoto",
    "pottery",
    "salsa",
    "hiking",
    "Berlin",
    "origami",
    "jazz",
    "cycling",
    "basil",
]


def _long(tag: str, i: int) -> str:
    words = f"User note {tag} {i} remembers {uuid.uuid4().hex} about the garden and the river"
    return ((words + " and more details of the day ") * 10)[:500]


async def _rounds(client: httpx.AsyncClient, tag: str) -> tuple[list[float], list[int]]:
    """The other user's ROUNDS of a create then a search for its words: latencies
    (seconds) of every request, and their statuses."""
    latencies, statuses = [], []
    for _ in range(ROUNDS):
        word = f"zq{uuid.uuid4().hex[:10]}"
        likes = " and ".join(random.sample(_WORDS, 3))
        content = f"User's {tag} code is {word}; likes {likes}"
        for method, path, field in (("POST", "", "json"), ("GET", "/search", "params")):
            body = {"content": content} if method == "POST" else {"query": content}
            t0 = time.perf_counter()
            answer = await client.request(method, MEMORIES + path, **{field: body})
            latencies.append(time.perf_counter() - t0)
            statuses.append(answer.status_code)
            assert answer.status_code != 200 or "duplicate_of" not in answer.text
        # read-your-writes holds under the flood: the memory just made ranks first
        assert answer.json()["items"][0]["content"] == content, answer.text
    return latencies, statuses


def _median(values: list[float]) -> float:
    return max(statistics.median(values), FLOOR_S)


def test_a_flooding_user_gets_429_and_another_user_is_not_starved(database_url: str) -> None:
    # Rate limits off: the queues' bounds alone must hold (with them on, the flooder's
    # quick refusals soon meet the batches limit too).
    server = start_server(
        database_url,
        extra_env={
            "MNEMO_EMBED_QUEUE_USER_LIMIT": str(USER_SHARE),
            "MNEMO_RATE_LIMIT_ENABLED": "false",
        },
    )
    try:
        flooder = {"Authorization": f"Bearer {server.first_key}"}
        made = run_cli("keys", "create", "--user", "victim", "--database-url", database_url)
        assert made.returncode == 0, made.stderr
        victim = {"Authorization": f"Bearer {made.stdout.strip().splitlines()[-1]}"}
        refusals: list[httpx.Response] = []
        flood_statuses: list[int] = []
        stop, refused = asyncio.Event(), asyncio.Event()

        async def flood(client: httpx.AsyncClient, n: int) -> None:
            sent = 0
            while not stop.is_set():
                body = {"memories": [{"content": _long(f"f{n}-{sent}", j)} for j in range(25)]}
                answer = await client.post(f"{MEMORIES}/batch", json=body)
                flood_statuses.append(answer.status_code)
                if answer.status_code in (429, 503):
                    refusals.append(answer)
                    refused.set()
                sent += 1

        async def main() -> tuple[list[float], list[int], list[float], list[int]]:
            async with (
                httpx.AsyncClient(base_url=server.base, headers=victim, timeout=120) as mine,
                httpx.AsyncClient(
                    base_url=server.base,
                    headers=flooder,
                    timeout=120,
                    limits=httpx.Limits(max_connections=FLOOD_CONNECTIONS),
                ) as theirs,
            ):
                await _rounds(mine, "warm-up")
                quiet, quiet_statuses = await _rounds(mine, "quiet")
                flooders = [asyncio.create_task(flood(theirs, n)) for n in range(FLOOD_CONNECTIONS)]
                try:
                    # (TimeoutError, failing the test, if the flooder is never refused)
                    await asyncio.wait_for(refused.wait(), FLOOD_WAIT_S)
                    loud, loud_statuses = await _rounds(mine, "flood")
                finally:
                    stop.set()
                    await asyncio.gather(*flooders)
            return quiet, quiet_statuses, loud, loud_statuses

        quiet, quiet_statuses, loud, loud_statuses = asyncio.run(main())
        assert set(quiet_statuses) == {200}
        assert set(loud_statuses) == {200}, loud_statuses  # never refused, never an error
        assert set(flood_statuses) <= {200, 429}, flood_statuses
        for refused in refusals:
            assert refused.status_code == 429
            assert refused.headers["Retry-After"].isdigit()
            detail = refused.json()["detail"]
            assert detail.startswith("Too many of this user's memories waiting"), detail
        creates, searches = (quiet[0::2], loud[0::2]), (quiet[1::2], loud[1::2])
        for name, (before, during) in (("create", creates), ("search", searches)):
            print(
                f"\nother user's {name}: p50 {statistics.median(before) * 1000:.1f} ms, max "
                f"{max(before) * 1000:.1f} ms alone; p50 "
                f"{statistics.median(during) * 1000:.1f} ms, max {max(during) * 1000:.1f} ms "
                f"under the flood ({flood_statuses.count(200)} batches stored, "
                f"{len(refusals)} refused)"
            )
            assert _median(during) <= MAX_SLOWDOWN * _median(before), (name, before, during)
    finally:
        server.stop()
