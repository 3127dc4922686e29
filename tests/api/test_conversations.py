"""The conversations routes (Omi's shapes) on both backends: both creates and what they
extract, every documented 422, the list's filters and clamps, get, patch, delete (with
and without `delete_memories`), the memories list's `conversation_id` filter, isolation,
scopes, hostile input, and the deletion of a transcript from every SQLite file."""

from __future__ import annotations

from typing import Any

import pytest

from mnemo.models import MAX_CONVERSATION_LIMIT, MAX_SEGMENTS
from tests.api.test_secure_delete import _assert_gone, _holds
from tests.helpers import MEMORIES, create

URL = "/v1/dev/user/conversations"
SEGMENTS = f"{URL}/from-segments"
ACTION_ITEMS = "/v1/dev/user/action-items"
FACTUAL = (
    "I've been vegan since 2019. My sister Sarah moved to Portland."
    " I need to call the dentist tomorrow."
)
DAY = "2026-12-02T10:00:00Z"
SMALL_TALK = "Hi! How are you? Nice weather today, isn't it?"


async def _post(client, headers, url: str = URL, **body: Any) -> dict[str, Any]:
    response = await client.post(url, json=body, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def _segment(text: str, start: float, end: float, **fields: Any) -> dict[str, Any]:
    return {"text": text, "start": start, "end": end, **fields}


async def test_text_conversation_extracts_memories_and_action_items(client, alice) -> None:
    made = await _post(client, alice, text=FACTUAL, started_at="2026-12-02T10:00:00Z")
    assert made["status"] == "completed" and made["discarded"] is False
    assert set(made) == {"id", "status", "discarded", "title", "memories", "action_items"}
    contents = [m["content"] for m in made["memories"]]
    assert "User is vegan" in contents
    assert any("Sarah" in c and "Portland" in c for c in contents)
    for memory in made["memories"]:
        assert memory["conversation_id"] == made["id"]
        assert memory["manually_added"] is False
        assert memory["category"] in {"system", "interesting"}
        assert memory["scoring"].startswith("00_")
    (item,) = made["action_items"]
    assert "dentist" in item["description"].lower()
    assert item["conversation_id"] == made["id"] and item["due_at"].startswith("2026-12-03")

    # What the answer shows is what is stored, and fetched alike.
    for memory in made["memories"]:
        fetched = await client.get(f"{MEMORIES}/{memory['id']}", headers=alice)
        assert fetched.json() == memory
    listed = (await client.get(ACTION_ITEMS, headers=alice)).json()
    assert listed == made["action_items"]
    by_conversation = await client.get(
        ACTION_ITEMS, params={"conversation_id": made["id"]}, headers=alice
    )
    assert by_conversation.json() == made["action_items"]
    history = await client.get(f"{MEMORIES}/{made['memories'][0]['id']}/history", headers=alice)
    assert history.json()[0]["actor"] == "extraction"

    got = (await client.get(f"{URL}/{made['id']}", headers=alice)).json()
    assert got["text"] == FACTUAL and "transcript_segments" not in got
    assert got["text_source"] == "other_text" and got["language"] == "en"
    assert got["started_at"] == "2026-12-02T10:00:00Z"
    assert got["finished_at"] == "2026-12-02T10:05:00Z"  # started_at + 300 s
    assert got["title"] == made["title"] and FACTUAL.startswith(got["title"])


async def test_nothing_to_extract_is_stored_discarded(client, alice) -> None:
    made = await _post(client, alice, text=SMALL_TALK)
    assert made["discarded"] is True and made["memories"] == [] == made["action_items"]
    got = (await client.get(f"{URL}/{made['id']}", headers=alice)).json()
    assert got["discarded"] is True
    assert (await client.get(MEMORIES, headers=alice)).json() == []


async def test_extracted_facts_are_deduplicated_against_stored_memories(client, alice) -> None:
    stored = await create(client, alice, content="Sarah, User's sister, lives in Portland")
    exact = await create(client, alice, content="User is vegan")
    made = await _post(client, alice, text="My sister Sarah lives in Portland. I'm vegan.")
    # A paraphrase goes through the create path's deduplication: answered with the
    # stored memory; a word-for-word repeat is not extracted at all.
    (memory,) = made["memories"]
    assert memory["id"] == stored["id"] and memory["duplicate_of"] == stored["id"]
    assert "conversation_id" not in memory  # the stored memory, as it is
    listed = (await client.get(MEMORIES, headers=alice)).json()
    assert sorted(m["id"] for m in listed) == sorted([stored["id"], exact["id"]])


async def test_an_update_links_the_older_memory(client, alice) -> None:
    older = await create(client, alice, content="User lives in Portland")
    made = await _post(client, alice, text="I live in Seattle.")
    (memory,) = made["memories"]
    assert memory["content"] == "User lives in Seattle"
    assert memory["supersedes"] == older["id"] and "duplicate_of" not in memory
    both = {m["content"] for m in (await client.get(MEMORIES, headers=alice)).json()}
    assert both == {"User lives in Portland", "User lives in Seattle"}
    # `supersedes` is the create's answer only: the stored memory reads without it.
    fetched = (await client.get(f"{MEMORIES}/{memory['id']}", headers=alice)).json()
    assert "supersedes" not in fetched


async def test_from_segments_uses_who_speaks(client, alice) -> None:
    made = await _post(
        client,
        alice,
        SEGMENTS,
        transcript_segments=[
            _segment("My brother Tom lives in Denver.", 0, 2.5, speaker="SPEAKER_01"),
            _segment("I'm allergic to peanuts.", 2.5, 4, is_user=True),
        ],
        source="omi",
        started_at="2026-12-02T10:00:00+01:00",
    )
    contents = [m["content"] for m in made["memories"]]
    assert contents == ["User is allergic to peanuts"], contents
    got = (await client.get(f"{URL}/{made['id']}", headers=alice)).json()
    assert got["source"] == "omi" and got["text_source"] is None and "text" not in got
    assert [s["text"] for s in got["transcript_segments"]][1] == "I'm allergic to peanuts."
    assert got["transcript_segments"][0]["speaker"] == "SPEAKER_01"
    assert got["transcript_segments"][1]["speaker"] == "SPEAKER_00"  # the default
    assert got["started_at"] == "2026-12-02T09:00:00Z"
    assert got["finished_at"] == "2026-12-02T09:00:04Z"  # started_at + the last end


async def test_every_documented_422(client, alice) -> None:
    cases = [
        (URL, {"text": " \n\t "}, "text cannot be empty"),
        (
            URL,
            {
                "text": "x",
                "started_at": "2026-12-02T10:00:00Z",
                "finished_at": "2026-12-02T10:00:00Z",
            },
            "finished_at must be after started_at",
        ),
        (
            URL,
            {
                "text": "x",
                "started_at": "2026-12-02T10:00:00Z",
                "finished_at": "2026-12-01T10:00:00Z",
            },
            "finished_at must be after started_at",
        ),
        (
            URL,
            {"text": "x", "started_at": "9998-12-31T23:59:00Z"},
            "started_at and finished_at must be between 1900-01-01 and 9999-01-01",
        ),
        (
            URL,
            {"text": "x", "started_at": "1850-01-01T00:00:00Z"},
            "started_at and finished_at must be between 1900-01-01 and 9999-01-01",
        ),
        (
            SEGMENTS,
            {"transcript_segments": [_segment("a", 0, 1), _segment("b", 2, 2)]},
            "Segment 1: end time must be after start time",
        ),
        (
            SEGMENTS,
            {"transcript_segments": [_segment("a", 5, 1)]},
            "Segment 0: end time must be after start time",
        ),
        (
            SEGMENTS,
            {"transcript_segments": [_segment("a", -1, 1)]},
            "Segment 0: start time cannot be negative",
        ),
        (
            SEGMENTS,
            {"transcript_segments": [_segment("a", 0, 1), _segment("  ", 1, 2)]},
            "Segment 1: text cannot be empty",
        ),
        (
            SEGMENTS,
            {"transcript_segments": [_segment("x" * 60_000, 0, 1), _segment("y" * 40_001, 1, 2)]},
            "The transcript cannot exceed 100000 characters",
        ),
        (
            SEGMENTS,
            {
                "transcript_segments": [_segment("a", 0, 10)],
                "started_at": "2026-12-02T10:00:00Z",
                "finished_at": "2026-12-02T09:00:00Z",
            },
            "finished_at must be after started_at",
        ),
    ]
    for url, body, detail in cases:
        response = await client.post(url, json=body, headers=alice)
        assert response.status_code == 422, (body, response.text)
        assert response.json() == {"detail": detail}
    assert (await client.get(URL, headers=alice)).json() == []


@pytest.mark.parametrize(
    "url,body",
    [
        (URL, {}),
        (URL, {"text": ""}),
        (URL, {"text": "x" * 100_001}),
        (URL, {"text": "a\x00b"}),
        (URL, {"text": 5}),
        (URL, {"text": "x", "text_source": "fax"}),
        (URL, {"text": "x", "language": "not a language!"}),
        (URL, {"text": "x", "started_at": "yesterday"}),
        (URL, {"text": "x", "started_at": "2026-02-30T00:00:00Z"}),
        (URL, {"text": "x", "geolocation": {"latitude": 91, "longitude": 0}}),
        (URL, {"text": "x", "geolocation": {"latitude": "NaN", "longitude": 0}}),
        (URL, {"text": "x", "text_source_spec": "s" * 101}),
        (SEGMENTS, {}),
        (SEGMENTS, {"transcript_segments": []}),
        (SEGMENTS, {"transcript_segments": [_segment("a", 0, 1)] * (MAX_SEGMENTS + 1)}),
        (SEGMENTS, {"transcript_segments": [{"text": "a"}]}),
        (SEGMENTS, {"transcript_segments": [_segment("a", 0, 10**9)]}),
        (SEGMENTS, {"transcript_segments": [_segment("a", 0, 1, is_user=[1])]}),
        (SEGMENTS, {"transcript_segments": "text"}),
        (SEGMENTS, []),
    ],
)
async def test_hostile_creates_are_refused_and_store_nothing(client, alice, url, body) -> None:
    response = await client.post(url, json=body, headers=alice)
    assert response.status_code == 422, response.text
    assert "detail" in response.json()
    assert (await client.get(URL, headers=alice)).json() == []


async def test_nan_and_infinity_in_raw_json_are_refused(client, alice) -> None:
    for raw in ("NaN", "Infinity", "-Infinity", "1e999"):
        content = (
            '{"transcript_segments": [{"text": "I am vegan", "start": 0, "end": ' + raw + "}]}"
        )
        response = await client.post(
            SEGMENTS, content=content, headers={**alice, "Content-Type": "application/json"}
        )
        assert response.status_code == 422, (raw, response.text)
    assert (await client.get(URL, headers=alice)).json() == []


async def test_huge_bodies_are_413_and_store_nothing(client, alice) -> None:
    response = await client.post(URL, json={"text": "x" * 2_000_000}, headers=alice)
    assert response.status_code == 413
    assert (await client.get(URL, headers=alice)).json() == []


async def test_unicode_round_trips(client, alice) -> None:
    text = "我是素食者。 Ich wohne in Berlin. 🙂 مرحبا"
    made = await _post(client, alice, text=text, language="zh-Hans")
    got = (await client.get(f"{URL}/{made['id']}", headers=alice)).json()
    assert got["text"] == text and got["language"] == "zh-Hans"


async def test_list_order_filters_and_clamps(client, alice) -> None:
    made = [await _post(client, alice, text=f"Conversation number {i}") for i in range(3)]
    listed = (await client.get(URL, headers=alice)).json()
    assert [c["id"] for c in listed] == [c["id"] for c in reversed(made)]
    assert all("text" not in c and "transcript_segments" not in c for c in listed)
    full = (await client.get(URL, params={"include_transcript": "true"}, headers=alice)).json()
    assert [c["text"] for c in full] == [f"Conversation number {i}" for i in (2, 1, 0)]
    for limit, count in (("0", 1), ("-5", 1), ("2", 2), ("1000", 3)):
        page = await client.get(URL, params={"limit": limit}, headers=alice)
        assert page.status_code == 200 and len(page.json()) == count, limit
    assert len((await client.get(URL, params={"offset": "-3"}, headers=alice)).json()) == 3
    assert len((await client.get(URL, params={"offset": "2"}, headers=alice)).json()) == 1
    middle = listed[1]["created_at"]
    since = await client.get(URL, params={"start_date": middle}, headers=alice)
    assert [c["id"] for c in since.json()] == [made[2]["id"], made[1]["id"]]
    until = await client.get(URL, params={"end_date": middle}, headers=alice)
    assert [c["id"] for c in until.json()] == [made[1]["id"], made[0]["id"]]
    assert MAX_CONVERSATION_LIMIT == 100


async def test_list_limit_is_clamped_to_100(client, alice) -> None:
    for i in range(101):
        await _post(client, alice, text=f"Hello number {i}")
    assert len((await client.get(URL, params={"limit": "500"}, headers=alice)).json()) == 100
    assert len((await client.get(URL, headers=alice)).json()) == 25


async def test_patch(client, alice) -> None:
    made = await _post(client, alice, text=FACTUAL)
    renamed = await client.patch(
        f"{URL}/{made['id']}", json={"title": "  Lunch with Sam  "}, headers=alice
    )
    assert renamed.status_code == 200
    assert renamed.json()["title"] == "Lunch with Sam" and renamed.json()["discarded"] is False
    flagged = await client.patch(f"{URL}/{made['id']}", json={"discarded": True}, headers=alice)
    assert flagged.json()["discarded"] is True and flagged.json()["title"] == "Lunch with Sam"
    assert (await client.get(f"{URL}/{made['id']}", headers=alice)).json() == flagged.json()
    for body in ({}, {"title": None, "discarded": None}):
        response = await client.patch(f"{URL}/{made['id']}", json=body, headers=alice)
        assert response.status_code == 422
        assert response.json() == {
            "detail": "At least one field (title or discarded) must be provided"
        }
    for body in ({"title": "t" * 201}, {"discarded": "maybe"}, {"title": "a\x00"}):
        response = await client.patch(f"{URL}/{made['id']}", json=body, headers=alice)
        assert response.status_code == 422, body


async def test_delete_keeps_the_memories_unlinked(client, alice) -> None:
    made = await _post(client, alice, text=FACTUAL)
    deleted = await client.delete(f"{URL}/{made['id']}", headers=alice)
    assert deleted.status_code == 200 and deleted.json() == {"success": True}
    gone = await client.get(f"{URL}/{made['id']}", headers=alice)
    assert gone.status_code == 404 and gone.json() == {"detail": "Conversation not found"}
    kept = (await client.get(MEMORIES, headers=alice)).json()
    assert {m["id"] for m in kept} == {m["id"] for m in made["memories"]}
    assert all("conversation_id" not in m for m in kept)
    items = (await client.get(ACTION_ITEMS, headers=alice)).json()
    assert [i["id"] for i in items] == [i["id"] for i in made["action_items"]]
    assert all(i["conversation_id"] is None for i in items)
    again = await client.delete(f"{URL}/{made['id']}", headers=alice)
    assert again.status_code == 404


async def test_delete_memories_deletes_them_too(client, alice) -> None:
    mine = await create(client, alice, content="User plays the cello")
    made = await _post(client, alice, text=FACTUAL)
    other = await _post(client, alice, text="I speak Portuguese fluently.")
    response = await client.delete(
        f"{URL}/{made['id']}", params={"delete_memories": "true"}, headers=alice
    )
    assert response.status_code == 200
    left = {m["id"] for m in (await client.get(MEMORIES, headers=alice)).json()}
    assert left == {mine["id"], *(m["id"] for m in other["memories"])}
    for memory in made["memories"]:
        assert (await client.get(f"{MEMORIES}/{memory['id']}", headers=alice)).status_code == 404
    bad = await client.delete(
        f"{URL}/{other['id']}", params={"delete_memories": "perhaps"}, headers=alice
    )
    assert bad.status_code == 422
    assert (await client.get(f"{URL}/{other['id']}", headers=alice)).status_code == 200


async def test_memories_filter_by_conversation(client, alice) -> None:
    await create(client, alice, content="User plays the cello")
    made = await _post(client, alice, text=FACTUAL)
    await _post(client, alice, text="I speak Portuguese fluently.")
    page = await client.get(MEMORIES, params={"conversation_id": made["id"]}, headers=alice)
    assert page.status_code == 200
    assert sorted(m["id"] for m in page.json()) == sorted(m["id"] for m in made["memories"])
    one = await client.get(
        MEMORIES, params={"conversation_id": made["id"], "limit": "1"}, headers=alice
    )
    assert len(one.json()) == 1
    for unknown in ("nope", "x" * 10_000, "ä"):
        empty = await client.get(MEMORIES, params={"conversation_id": unknown}, headers=alice)
        assert empty.status_code == 200 and empty.json() == []


async def test_another_users_conversation_is_an_unknown_one(client, alice, bob) -> None:
    made = await _post(client, alice, text=FACTUAL)
    path = f"{URL}/{made['id']}"
    for method, params, body in (
        ("GET", None, None),
        ("PATCH", None, {"title": "mine now"}),
        ("DELETE", None, None),
        ("DELETE", {"delete_memories": "true"}, None),
    ):
        response = await client.request(method, path, params=params, json=body, headers=bob)
        assert response.status_code == 404, method
        assert response.json() == {"detail": "Conversation not found"}
    assert (await client.get(URL, headers=bob)).json() == []
    theirs = await client.get(MEMORIES, params={"conversation_id": made["id"]}, headers=bob)
    assert theirs.json() == []
    still = (await client.get(path, headers=alice)).json()
    assert still["title"] == made["title"]
    assert len((await client.get(MEMORIES, headers=alice)).json()) == len(made["memories"])


async def test_scopes(client, make_key) -> None:
    memories_only = await make_key("carol", scopes=["memories:read", "memories:write"])
    reader = await make_key("carol", scopes=["conversations:read"])
    writer = await make_key("carol", scopes=["conversations:write"])
    for headers, method, path, body in (
        (memories_only, "GET", URL, None),
        (memories_only, "GET", f"{URL}/x", None),
        (memories_only, "POST", URL, {"text": "x"}),
        (memories_only, "POST", SEGMENTS, {"transcript_segments": []}),
        (reader, "POST", URL, {"text": "x"}),
        (reader, "POST", SEGMENTS, {"transcript_segments": []}),
        (reader, "PATCH", f"{URL}/x", {"title": "t"}),
        (reader, "DELETE", f"{URL}/x", None),
        (writer, "GET", URL, None),
        (writer, "GET", f"{URL}/x", None),
    ):
        response = await client.request(method, path, json=body, headers=headers)
        assert response.status_code == 403, (method, path, headers)
        assert "conversations:" in response.json()["detail"]
    made = await client.post(URL, json={"text": FACTUAL}, headers=writer)
    assert made.status_code == 200
    assert len((await client.get(URL, headers=reader)).json()) == 1


async def test_hostile_queries_and_ids(client, alice) -> None:
    await _post(client, alice, text="ünïcødé ✓ 漢字")
    for params in (
        {"limit": "abc"},
        {"offset": "1.5"},
        {"include_transcript": "perhaps"},
        {"start_date": "yesterday"},
        {"end_date": "2026-02-30"},
    ):
        response = await client.get(URL, params=params, headers=alice)
        assert response.status_code == 422, params
    for conversation_id in ("x" * 10_000, "ä", "%00", "a b"):
        for method, body in (("GET", None), ("DELETE", None), ("PATCH", {"title": "t"})):
            response = await client.request(
                method, f"{URL}/{conversation_id}", json=body, headers=alice
            )
            assert response.status_code == 404, (method, conversation_id)
    assert len((await client.get(URL, headers=alice)).json()) == 1


async def test_transcript_counts_against_the_characters_budget(make_key, tmp_path) -> None:
    from mnemo import Settings, create_app

    settings = Settings(database_url=f"sqlite:///{tmp_path}/m.db", rate_limit_characters=12_500)
    import httpx

    application = create_app(settings)
    async with application.router.lifespan_context(application):
        from mnemo.accounts import issue_key

        _, secret = await issue_key(application.state.mnemo.store, "dave")
        headers = {"Authorization": f"Bearer {secret}"}
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            ok = await c.post(URL, json={"text": "I'm vegan. " * 700}, headers=headers)
            assert ok.status_code == 200
            over = await c.post(URL, json={"text": "I'm vegan. " * 700}, headers=headers)
            assert over.status_code == 429 and "Retry-After" in over.headers
            assert len((await c.get(URL, headers=headers)).json()) == 1


async def test_deleted_transcript_leaves_the_sqlite_files(client, alice, settings) -> None:
    if not settings.database_url.startswith("sqlite"):
        pytest.skip("the files of SQLite")
    marker = "Zq7forensicconversationmarker"
    made = await _post(client, alice, text=f"We talked about {marker} for an hour.")
    titled = await _post(client, alice, text=f"Another chat about {marker}-title")
    await client.patch(f"{URL}/{titled['id']}", json={"title": "Renamed"}, headers=alice)
    await client.delete(f"{URL}/{titled['id']}", headers=alice)
    # A keyed create's stored answer (its title, its action item) goes with them.
    keyed = {**alice, "Idempotency-Key": "forensic"}
    answered = await _post(client, keyed, text=f"{marker} again. I need to call {marker} tomorrow.")
    (task,) = answered["action_items"]
    await client.delete(f"{ACTION_ITEMS}/{task['id']}", headers=alice)
    await client.delete(f"{URL}/{answered['id']}", headers=alice)
    await client.delete(f"{URL}/{made['id']}", headers=alice)
    # With delete_memories, the facts extracted from it leave too (index entries included).
    word = "zq7forensicextractedword"
    spoken = await _post(client, alice, text=f"My favorite word is {word}.")
    assert [m["content"] for m in spoken["memories"]] == [f"User's favorite word is {word}"]
    await client.delete(f"{URL}/{spoken['id']}", params={"delete_memories": "true"}, headers=alice)
    kept = "Zq7forensickeptmarker"
    await _post(client, alice, text=f"And then {kept} again.")
    await _assert_gone(settings, [marker.encode(), word.encode()])
    assert _holds(settings, kept.encode())  # the check can see a transcript
