"""Rate limits on real servers: Redis shared by two workers, exact under concurrent
floods (reads, failed authentications, characters to embed); the omi CLI backs off."""

from __future__ import annotations

import asyncio
import os
import random
import subprocess
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.server import Server, run_cli, start_server
from tests.e2e.test_omi_clients import OMI
from tests.helpers import MEMORIES


def test_two_workers_share_one_budget_through_redis(tmp_path) -> None:
    server = start_server(
        f"sqlite:///{tmp_path}/rl.db",
        workers=2,
        extra_env={
            "MNEMO_REDIS_URL": "redis://127.0.0.1:6379/0",
            "MNEMO_RATE_LIMIT_WRITES": "10",
            "MNEMO_RATE_LIMIT_WINDOW_S": "86400",  # no window boundary inside the test
        },
    )
    try:
        headers = {"Authorization": f"Bearer {server.first_key}"}
        codes = []
        for i in range(16):  # a new connection each time, so both workers answer
            with httpx.Client(base_url=server.base, headers=headers) as client:
                codes.append(client.post(MEMORIES, json={"content": f"m{i}"}).status_code)
        assert codes.count(200) == 10 and codes.count(429) == 6
        assert codes[:10] == [200] * 10
    finally:
        server.stop()


def test_omi_cli_backs_off_on_429_and_succeeds(tmp_path) -> None:
    server = start_server(
        f"sqlite:///{tmp_path}/cli.db",
        extra_env={"MNEMO_RATE_LIMIT_WRITES": "1", "MNEMO_RATE_LIMIT_WINDOW_S": "4"},
    )
    try:
        env = {
            **os.environ,
            "OMI_API_BASE": server.base,
            "OMI_API_KEY": server.first_key or "",
            "HOME": str(tmp_path),
            "XDG_CONFIG_HOME": str(tmp_path / ".config"),
        }
        # Start at the top of a 4 s window so both commands fall in the same one.
        time.sleep(4 - time.time() % 4)
        for content in ("User likes tea", "User likes coffee"):
            result = subprocess.run(
                [OMI, "--json", "memory", "create", content],
                capture_output=True,
                text=True,
                env=env,
                timeout=60,
            )
            assert result.returncode == 0, result.stdout + result.stderr
        metrics = httpx.get(f"{server.base}/metrics").text
        assert 'route="/v1/dev/user/memories",status="429"}' in metrics  # it was limited...
        listed = httpx.get(
            f"{server.base}{MEMORIES}", headers={"Authorization": f"Bearer {server.first_key}"}
        ).json()
        assert {m["content"] for m in listed} == {"User likes tea", "User likes coffee"}
    finally:
        server.stop()


OMI_READS, AUTH_FAILURES, CHARACTERS = 120, 30, 12_500


@pytest.fixture(scope="module")
def omi_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Two workers with Omi's limits (in day-long windows), counting in Redis; the
    smallest character budget allowed (one full batch), so a flood needs little
    embedding."""
    server = start_server(
        f"sqlite:///{tmp_path_factory.mktemp('omi')}/omi.db",
        workers=2,
        extra_env={
            "MNEMO_REDIS_URL": "redis://127.0.0.1:6379/0",
            "MNEMO_RATE_LIMIT_PRESET": "omi",
            "MNEMO_RATE_LIMIT_CHARACTERS": str(CHARACTERS),
            # Omi's counts in day-long windows: a burst that straddles the end of a
            # fixed window gets a second window's allowance (as documented), which
            # would make "exactly the limit" flaky; a day's boundary is not met here.
            "MNEMO_RATE_LIMIT_WINDOW_S": "86400",
            "MNEMO_AUTH_FAILURE_WINDOW_S": "86400",
            # a loaded test machine may keep a request queued for Redis past the 2 s
            # default, which would answer 503 (never let it through): not measured here
            "MNEMO_REDIS_TIMEOUT_S": "30",
        },
    )
    try:
        yield server
    finally:
        server.stop()


def _new_key(server: Server, user: str) -> dict[str, str]:
    created = run_cli("keys", "create", "--user", user, "--database-url", server.database_url)
    assert created.returncode == 0, created.stderr
    return {"Authorization": f"Bearer {created.stdout.strip().splitlines()[-1]}"}


def _address() -> str:
    """A client address of this test's own (through the trusted local proxy header), so
    no other test's failed authentications in the shared Redis count against it."""
    return f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"


def _client(server: Server) -> httpx.AsyncClient:
    """A client that opens a connection per request in flight (so both workers answer)."""
    limits = httpx.Limits(max_connections=300, max_keepalive_connections=0)
    return httpx.AsyncClient(base_url=server.base, limits=limits, timeout=60)


async def test_300_reads_at_once_on_two_workers_let_exactly_the_limit_through(
    omi_server: Server,
) -> None:
    headers = {**_new_key(omi_server, "reader"), "X-Forwarded-For": _address()}
    async with _client(omi_server) as client:
        answers = await asyncio.gather(*(client.get(MEMORIES, headers=headers) for _ in range(300)))
        codes = [response.status_code for response in answers]
        assert codes.count(200) == OMI_READS and codes.count(429) == 300 - OMI_READS, codes
        refused = next(response for response in answers if response.status_code == 429)
        assert refused.headers["X-RateLimit-Limit"] == str(OMI_READS)
        assert refused.headers["X-RateLimit-Remaining"] == "0"
        seconds = refused.headers["Retry-After"]
        assert refused.json() == {"detail": f"Rate limit exceeded. Try again in {seconds}s."}
        # six more bursts: not one more read in this window
        for _ in range(6):
            again = await asyncio.gather(
                *(client.get(MEMORIES, headers=headers) for _ in range(50))
            )
            assert {response.status_code for response in again} == {429}


async def test_300_bad_keys_at_once_get_at_most_the_failure_limit_of_answers(
    omi_server: Server,
) -> None:
    address = _address()
    good = _new_key(omi_server, "guessed")
    async with _client(omi_server) as client:
        answers = await asyncio.gather(
            *(
                client.get(
                    MEMORIES,
                    headers={
                        "Authorization": f"Bearer omi_dev_{random.getrandbits(128):032x}",
                        "X-Forwarded-For": address,
                    },
                )
                for _ in range(300)
            )
        )
        codes = [response.status_code for response in answers]
        assert codes.count(401) == AUTH_FAILURES, codes
        assert codes.count(429) == 300 - AUTH_FAILURES, codes
        # the address stays blocked, even with a valid key; another address is not
        blocked = await client.get(MEMORIES, headers={**good, "X-Forwarded-For": address})
        assert blocked.status_code == 429 and "Retry-After" in blocked.headers
        elsewhere = await client.get(MEMORIES, headers={**good, "X-Forwarded-For": _address()})
        assert elsewhere.status_code == 200


async def test_a_flood_of_batch_characters_hits_the_cost_limit(omi_server: Server) -> None:
    headers = {**_new_key(omi_server, "flooder"), "X-Forwarded-For": _address()}
    other = {**_new_key(omi_server, "neighbour"), "X-Forwarded-For": _address()}
    body = {"memories": [{"content": f"fact {i} ".ljust(500, "z")} for i in range(25)]}
    async with _client(omi_server) as client:
        answers = await asyncio.gather(
            *(client.post(f"{MEMORIES}/batch", json=body, headers=headers) for _ in range(10))
        )
        codes = [response.status_code for response in answers]
        assert codes.count(200) == CHARACTERS // 12_500 and codes.count(429) == 9, codes
        for refused in (r for r in answers if r.status_code == 429):
            seconds = refused.headers["Retry-After"]
            assert refused.json() == {"detail": f"Rate limit exceeded. Try again in {seconds}s."}
            assert refused.headers["X-RateLimit-Limit"] == str(CHARACTERS)
            assert refused.headers["X-RateLimit-Remaining"] == "0"
            assert refused.headers["X-RateLimit-Reset"] == seconds
        # the same budget refuses a single create, which the writes policy alone allows
        single = await client.post(MEMORIES, json={"content": "x"}, headers=headers)
        assert single.status_code == 429
        assert single.headers["X-RateLimit-Limit"] == str(CHARACTERS)
        listed = await client.get(MEMORIES, params={"limit": 100}, headers=headers)
        assert len(listed.json()) == 25  # nothing refused was stored
        # another user is not held back by the flooder's budget
        created = await client.post(MEMORIES, json={"content": "x"}, headers=other)
        assert created.status_code == 200
