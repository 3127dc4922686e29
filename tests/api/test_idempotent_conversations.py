"""`Idempotency-Key` on the conversation creates (docs/api.md, "Idempotency"), both
backends: a retry answers the first answer's bytes without extracting or writing again
(one conversation, its memories and action items once); another request with the key is
a 422 and writes nothing; concurrent requests with one key store once; changing or
deleting the conversation or an action item its answer shows forgets the answer; a
replay spends no characters."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest

from mnemo import Settings
from tests.api.test_idempotency import MALFORMED, REUSED
from tests.helpers import MEMORIES, list_all, serving

URL = "/v1/dev/user/conversations"
SEGMENTS = f"{URL}/from-segments"
ACTION_ITEMS = "/v1/dev/user/action-items"
TEXT = {
    "text": "I've been vegan since 2019. My sister Sarah moved to Portland."
    " I need to call the dentist tomorrow.",
    "started_at": "2026-12-02T10:00:00Z",
}
SEGMENTED = {
    "transcript_segments": [
        {"text": "Your sister lives in Portland, right?", "is_user": False, "start": 0, "end": 3},
        {"text": "Yes. I play tennis every Sunday.", "is_user": True, "start": 3, "end": 6},
    ],
    "started_at": "2026-12-02T10:00:00Z",
}


async def _post(
    client: httpx.AsyncClient, path: str, headers: dict[str, str], key: str | bytes, body: Any
) -> httpx.Response:
    return await client.post(path, json=body, headers={**headers, "Idempotency-Key": key})


async def _stored(client: httpx.AsyncClient, headers: dict[str, str]) -> tuple[int, int, int]:
    """How many conversations, memories and action items the user has."""
    conversations = (await client.get(URL, headers=headers)).json()
    items = (await client.get(ACTION_ITEMS, headers=headers)).json()
    return len(conversations), len(await list_all(client, headers)), len(items)


@pytest.mark.parametrize(("path", "body"), [(URL, TEXT), (SEGMENTS, SEGMENTED)])
async def test_a_retry_answers_the_same_bytes_and_stores_once(
    client: httpx.AsyncClient, alice, path: str, body: Any
) -> None:
    key = str(uuid.uuid4())
    first = await _post(client, path, alice, key, body)
    assert first.status_code == 200, first.text
    assert first.json()["memories"], first.text  # something was extracted
    assert "idempotent-replayed" not in first.headers
    stored = await _stored(client, alice)
    assert stored[0] == 1
    again = await _post(client, path, alice, key, body)
    assert again.status_code == 200
    assert again.content == first.content
    assert again.headers["idempotent-replayed"] == "true"
    assert await _stored(client, alice) == stored
    # without a key, the same conversation is a new one (its facts repeat the stored ones)
    plain = await client.post(path, json=body, headers=alice)
    assert plain.json()["id"] != first.json()["id"]
    assert all(m["duplicate_of"] for m in plain.json()["memories"])


async def test_another_request_with_the_key_is_a_422_and_writes_nothing(
    client: httpx.AsyncClient, alice
) -> None:
    key = str(uuid.uuid4())
    assert (await _post(client, URL, alice, key, TEXT)).status_code == 200
    stored = await _stored(client, alice)
    for path, body in [
        (URL, {**TEXT, "text": "I am allergic to cats."}),
        (URL, {**TEXT, "language": "de"}),
        (SEGMENTS, SEGMENTED),
        (MEMORIES, {"content": "User is vegan"}),  # the path is part of the request
    ]:
        response = await _post(client, path, alice, key, body)
        assert (response.status_code, response.json()) == (422, REUSED), (path, body)
    assert await _stored(client, alice) == stored


async def test_keys_are_per_user_and_malformed_keys_write_nothing(
    client: httpx.AsyncClient, alice, bob
) -> None:
    key = str(uuid.uuid4())
    mine = await _post(client, URL, alice, key, TEXT)
    theirs = await _post(client, URL, bob, key, TEXT)
    assert mine.status_code == theirs.status_code == 200
    assert "idempotent-replayed" not in theirs.headers
    assert mine.json()["id"] != theirs.json()["id"]
    for bad in ["", "k" * 256, "tab\there", "caf\xe9".encode("latin-1")]:
        for path, body in [(URL, {"text": "I play chess."}), (SEGMENTS, SEGMENTED)]:
            response = await _post(client, path, bob, bad, body)
            assert (response.status_code, response.json()) == (422, MALFORMED)
    assert await _stored(client, bob) == await _stored(client, alice)


async def test_concurrent_creates_with_one_key_store_once(client: httpx.AsyncClient, alice) -> None:
    key = str(uuid.uuid4())
    answers = await asyncio.gather(*[_post(client, URL, alice, key, TEXT) for _ in range(6)])
    assert [a.status_code for a in answers] == [200] * 6, [a.text for a in answers]
    assert len({a.content for a in answers}) == 1
    assert sum("idempotent-replayed" not in a.headers for a in answers) == 1
    conversations, _, items = await _stored(client, alice)
    assert (conversations, items) == (1, 1)


@pytest.mark.parametrize(
    "change", ["delete conversation", "patch conversation", "patch item", "delete item"]
)
async def test_changing_what_the_answer_shows_forgets_it(
    client: httpx.AsyncClient, alice, change: str
) -> None:
    key = str(uuid.uuid4())
    first = (await _post(client, URL, alice, key, TEXT)).json()
    (item,) = first["action_items"]
    kept_key = str(uuid.uuid4())  # another conversation's answer, unchanged, stays
    kept = await _post(client, URL, alice, kept_key, {"text": "I play the cello."})
    if change == "delete conversation":
        done = await client.delete(f"{URL}/{first['id']}", headers=alice)
    elif change == "patch conversation":
        done = await client.patch(f"{URL}/{first['id']}", json={"title": "Lunch"}, headers=alice)
    elif change == "patch item":
        done = await client.patch(
            f"{ACTION_ITEMS}/{item['id']}", json={"completed": True}, headers=alice
        )
    else:
        done = await client.delete(f"{ACTION_ITEMS}/{item['id']}", headers=alice)
    assert done.status_code == 200, done.text
    again = await _post(client, URL, alice, key, TEXT)
    assert again.status_code == 200
    assert "idempotent-replayed" not in again.headers
    assert again.json()["id"] != first["id"]
    replay = await _post(client, URL, alice, kept_key, {"text": "I play the cello."})
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.content == kept.content


async def test_a_replay_spends_no_characters(settings: Settings) -> None:
    body = {"text": "I play the cello every day."}  # 27 characters
    limited = settings.model_copy(
        update={"rate_limit_characters": 60, "rate_limit_window_s": 60, "rate_limit_writes": 100}
    )
    async with serving(limited) as (_, client, headers):
        key = str(uuid.uuid4())
        answers = [await _post(client, URL, headers, key, body) for _ in range(4)]
        assert [a.status_code for a in answers] == [200] * 4
        assert all(a.headers["idempotent-replayed"] == "true" for a in answers[1:])
        # 27 of 60 spent once: two more new conversations of 27 would not both fit
        fresh = [await client.post(URL, json=body, headers=headers) for _ in range(2)]
        assert [f.status_code for f in fresh] == [200, 429]
