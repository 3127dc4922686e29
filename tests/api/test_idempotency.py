"""`Idempotency-Key` on the POST routes (docs/api.md, "Idempotency"), both backends: a
retry answers the first answer's bytes without a second write; another request with
the key is a 422; keys are per user; malformed keys are refused; expired keys, failed
first attempts and changed or deleted memories leave the key fresh; concurrent
requests with one key store once."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest

from mnemo import Settings
from tests.helpers import MEMORIES, list_all, serving

BATCH = f"{MEMORIES}/batch"
REUSED = {"detail": "Idempotency-Key reused with a different request"}
MALFORMED = {"detail": "Idempotency-Key must be 1-255 printable ASCII characters"}


def _key() -> str:
    return str(uuid.uuid4())


async def _post(
    client: httpx.AsyncClient, path: str, headers: dict[str, str], key: str | bytes, body: Any
) -> httpx.Response:
    return await client.post(path, json=body, headers={**headers, "Idempotency-Key": key})


@pytest.mark.parametrize(
    ("path", "body"),
    [
        (MEMORIES, {"content": "User is vegetarian", "tags": ["food"]}),
        (BATCH, {"memories": [{"content": "User works at Acme"}, {"content": "User has a cat"}]}),
    ],
)
async def test_a_retry_answers_the_same_bytes_and_writes_once(
    client: httpx.AsyncClient, alice, path: str, body: Any
) -> None:
    key = _key()
    first = await _post(client, path, alice, key, body)
    assert first.status_code == 200, first.text
    assert "idempotent-replayed" not in first.headers
    again = await _post(client, path, alice, key, body)
    assert again.status_code == 200
    assert again.content == first.content
    assert again.headers["idempotent-replayed"] == "true"
    assert again.headers["content-type"] == "application/json"
    listed = await list_all(client, alice)
    assert len(listed) == (1 if path == MEMORIES else 2)
    # and the answer is the memory as stored (a GET answers the same object)
    created = first.json() if path == MEMORIES else first.json()["memories"][0]
    got = await client.get(f"{MEMORIES}/{created['id']}", headers=alice)
    assert got.json() == created


async def test_without_a_key_nothing_is_remembered(settings: Settings) -> None:
    async with serving(settings.model_copy(update={"dedup_enabled": False}), "carol") as (
        _,
        own,
        headers,
    ):
        for _ in range(2):
            response = await own.post(MEMORIES, json={"content": "User likes tea"}, headers=headers)
            assert response.status_code == 200
            assert "idempotent-replayed" not in response.headers
        assert len(await list_all(own, headers)) == 2


async def test_another_request_with_the_key_is_a_422_and_writes_nothing(
    client: httpx.AsyncClient, alice
) -> None:
    key = _key()
    first = await _post(client, MEMORIES, alice, key, {"content": "User is vegetarian"})
    assert first.status_code == 200
    for path, body in [
        (MEMORIES, {"content": "User is vegan"}),
        (MEMORIES, {"content": "User is vegetarian", "tags": ["x"]}),
        (BATCH, {"memories": [{"content": "User is vegetarian"}]}),
    ]:
        response = await _post(client, path, alice, key, body)
        assert (response.status_code, response.json()) == (422, REUSED), (path, body)
    assert [m["content"] for m in await list_all(client, alice)] == ["User is vegetarian"]


async def test_keys_are_per_user(client: httpx.AsyncClient, alice, bob) -> None:
    key, body = _key(), {"content": "User is vegetarian"}
    mine = await _post(client, MEMORIES, alice, key, body)
    theirs = await _post(client, MEMORIES, bob, key, body)
    assert mine.status_code == theirs.status_code == 200
    assert "idempotent-replayed" not in theirs.headers
    assert mine.json()["id"] != theirs.json()["id"]
    # bob's other body with alice's key is bob's own business: no 422 from alice's answer
    other = await _post(client, MEMORIES, bob, _key(), {"content": "User is vegan"})
    assert other.status_code == 200
    assert len(await list_all(client, alice)) == 1
    assert len(await list_all(client, bob)) == 2


@pytest.mark.parametrize(
    "key",
    ["", "k" * 256, "tab\there", "bell\x07", "caf\xe9".encode("latin-1"), "del\x7f"],
    ids=["empty", "too-long", "tab", "control", "non-ascii", "del"],
)
async def test_a_malformed_key_is_a_422_and_writes_nothing(
    client: httpx.AsyncClient, alice, key: str | bytes
) -> None:
    for path, body in [
        (MEMORIES, {"content": "User is vegetarian"}),
        (BATCH, {"memories": [{"content": "User is vegetarian"}]}),
    ]:
        response = await _post(client, path, alice, key, body)
        assert (response.status_code, response.json()) == (422, MALFORMED)
    assert await list_all(client, alice) == []


async def test_the_longest_key_and_odd_printable_characters_are_accepted(
    client: httpx.AsyncClient, alice
) -> None:
    for key in ["k" * 255, " spaced ~!@#$%^&*()", "x"]:
        body = {"content": f"User tried key {len(key)} {key[:3]}"}
        first = await _post(client, MEMORIES, alice, key, body)
        again = await _post(client, MEMORIES, alice, key, body)
        assert first.status_code == again.status_code == 200
        assert again.content == first.content
    assert len(await list_all(client, alice)) == 3


async def test_a_refused_first_attempt_is_not_remembered(client: httpx.AsyncClient, alice) -> None:
    key = _key()
    refused = await _post(client, MEMORIES, alice, key, {"content": "   "})
    assert refused.status_code == 422
    invalid = await _post(client, MEMORIES, alice, key, {"content": "x" * 501})
    assert invalid.status_code == 422
    accepted = await _post(client, MEMORIES, alice, key, {"content": "User is vegetarian"})
    assert accepted.status_code == 200
    assert "idempotent-replayed" not in accepted.headers


async def test_an_expired_key_is_fresh(settings: Settings) -> None:
    short = settings.model_copy(update={"idempotency_ttl_s": 1, "dedup_enabled": False})
    async with serving(short) as (app, client, headers):
        key, body = _key(), {"content": "User is vegetarian"}
        first = await _post(client, MEMORIES, headers, key, body)
        await asyncio.sleep(1.1)
        again = await _post(client, MEMORIES, headers, key, body)
        assert first.status_code == again.status_code == 200
        assert "idempotent-replayed" not in again.headers
        assert again.json()["id"] != first.json()["id"]
        # and now the fresh answer is the one replayed; another body is refused again
        third = await _post(client, MEMORIES, headers, key, body)
        assert third.content == again.content
        other = await _post(client, MEMORIES, headers, key, {"content": "User is vegan"})
        assert other.status_code == 422
        assert len(await list_all(client, headers)) == 2


async def test_an_expired_answer_is_deleted_by_a_later_keyed_create(settings: Settings) -> None:
    short = settings.model_copy(update={"idempotency_ttl_s": 1})
    async with serving(short) as (app, client, headers):
        store = app.state.mnemo.store
        user = await store.get_user("alice")
        first = _key()
        await _post(client, MEMORIES, headers, first, {"content": "User is vegetarian"})
        await asyncio.sleep(1.1)
        await _post(client, MEMORIES, headers, _key(), {"content": "User has a cat"})
        far_past = 0
        assert await store.stored_answer(user.id, first, far_past) is None


async def test_concurrent_creates_with_one_key_store_once(settings: Settings) -> None:
    # Deduplication off: only the key can keep the copies out.
    async with serving(settings.model_copy(update={"dedup_enabled": False})) as (_, client, h):
        key, body = _key(), {"content": "User is vegetarian"}
        batch_key, batch = _key(), {"memories": [{"content": "User has a cat"}]}
        answers = await asyncio.gather(
            *[_post(client, MEMORIES, h, key, body) for _ in range(8)],
            *[_post(client, BATCH, h, batch_key, batch) for _ in range(8)],
        )
        assert [a.status_code for a in answers] == [200] * 16, [a.text for a in answers]
        assert len({a.content for a in answers[:8]}) == 1
        assert len({a.content for a in answers[8:]}) == 1
        assert sum("idempotent-replayed" not in a.headers for a in answers[:8]) == 1
        assert sorted(m["content"] for m in await list_all(client, h)) == [
            "User has a cat",
            "User is vegetarian",
        ]


async def test_changing_or_deleting_a_memory_forgets_the_answers_that_show_it(
    client: httpx.AsyncClient, alice
) -> None:
    deleted_key, body = _key(), {"content": "User is vegetarian"}
    first = await _post(client, MEMORIES, alice, deleted_key, body)
    memory_id = first.json()["id"]
    assert (await client.delete(f"{MEMORIES}/{memory_id}", headers=alice)).status_code == 200
    fresh = await _post(client, MEMORIES, alice, deleted_key, body)
    assert fresh.status_code == 200
    assert "idempotent-replayed" not in fresh.headers
    assert fresh.json()["id"] != memory_id
    # a batch's answer goes when any memory it shows changes (tags too)
    batch_key = _key()
    batch = {"memories": [{"content": "User works at Acme"}, {"content": "User has a cat"}]}
    answered = (await _post(client, BATCH, alice, batch_key, batch)).json()["memories"]
    patched = await client.patch(
        f"{MEMORIES}/{answered[1]['id']}", json={"tags": ["pet"]}, headers=alice
    )
    assert patched.status_code == 200
    again = await _post(client, BATCH, alice, batch_key, batch)
    assert "idempotent-replayed" not in again.headers
    # the batch ran again: the first item repeats the stored one now
    assert again.json()["memories"][0]["duplicate_of"] == answered[0]["id"]
    # an unchanged memory keeps its answers: a PATCH of another memory does not matter
    kept_key = _key()
    kept = await _post(client, MEMORIES, alice, kept_key, {"content": "User likes tea"})
    await client.patch(f"{MEMORIES}/{answered[0]['id']}", json={"tags": ["job"]}, headers=alice)
    replay = await _post(client, MEMORIES, alice, kept_key, {"content": "User likes tea"})
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.content == kept.content


async def test_a_replay_counts_for_the_rate_limit_but_not_the_characters(
    settings: Settings,
) -> None:
    limited = settings.model_copy(
        update={"rate_limit_writes": 3, "rate_limit_characters": 30, "rate_limit_window_s": 60}
    )
    async with serving(limited) as (_, client, headers):
        key, body = _key(), {"content": "User is vegetarian"}  # 18 characters
        answers = [await _post(client, MEMORIES, headers, key, body) for _ in range(4)]
        assert [a.status_code for a in answers] == [200, 200, 200, 429]
        assert [a.headers.get("x-ratelimit-remaining") for a in answers[:3]] == ["2", "1", "0"]
        assert answers[1].headers["idempotent-replayed"] == "true"
        assert len(await list_all(client, headers)) == 1
