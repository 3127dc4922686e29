"""Search (hybrid keyword + semantic) and deduplication through the API, both backends."""

from __future__ import annotations

import httpx

from mnemo import Settings
from tests.helpers import MEMORIES, create, list_all, serving

SEARCH = f"{MEMORIES}/search"
FACTS = [
    "User's sister Sarah lives in Portland",
    "User is vegetarian and avoids fish",
    "User works night shifts as a nurse at St. Mary's hospital",
    "User ran the Boston Marathon in 2019",
    "User's car is a blue 2014 Subaru Outback",
    "User is allergic to penicillin",
]


async def _search(client: httpx.AsyncClient, headers, query: str, **params) -> list[dict]:
    response = await client.get(SEARCH, params={"query": query, **params}, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["returned_count"] == len(body["items"])
    return list(body["items"])


async def test_finds_the_right_memory_by_meaning_and_by_keyword(client, alice) -> None:
    for fact in FACTS:
        await create(client, alice, content=fact)
    cases = {
        "where does his family live?": FACTS[0],
        "what should I cook for dinner tonight?": FACTS[1],
        "what is their job": FACTS[2],
        "Subaru": FACTS[4],
        "which medicines are dangerous for me": FACTS[5],
    }
    for query, expected in cases.items():
        items = await _search(client, alice, query, limit=3)
        assert items[0]["content"] == expected, (query, items)
        scores = [item["relevance_score"] for item in items]
        assert scores == sorted(scores, reverse=True)
        assert all(0 <= score <= 1 for score in scores)
        assert {"id", "content", "category", "relevance_score", "tags"} <= set(items[0])
    alias = await client.get(f"{MEMORIES}/vector/search", params={"query": "Subaru"}, headers=alice)
    assert alias.json()["items"][0]["content"] == FACTS[4]


async def test_bounds_filters_and_errors(client, alice) -> None:
    await create(client, alice, content=FACTS[0], category="system")
    await create(client, alice, content=FACTS[3], category="interesting")
    for params in (
        {"query": ""},
        {"query": "x" * 1001},
        {"query": "a", "limit": 0},
        {"query": "a", "limit": 101},
        {"limit": 5},
    ):
        response = await client.get(SEARCH, params=params, headers=alice)
        assert response.status_code == 422, params
    bad = await client.get(SEARCH, params={"query": "a", "categories": "nope"}, headers=alice)
    assert (bad.status_code, bad.json()) == (
        400,
        {"detail": "Invalid category 'nope' is not a valid MemoryCategory"},
    )
    only = await _search(client, alice, "marathon sister", categories="interesting")
    assert [item["content"] for item in only] == [FACTS[3]]
    assert len(await _search(client, alice, "anything", limit=1)) == 1
    assert await _search(client, alice, "?!?") is not None  # no searchable word: still 200


async def test_index_follows_every_change_at_once(client, alice) -> None:
    memory = await create(client, alice, content="User collects vintage typewriters")
    assert (await _search(client, alice, "typewriters"))[0]["id"] == memory["id"]
    await client.patch(
        f"{MEMORIES}/{memory['id']}",
        headers=alice,
        json={"content": "User collects antique fountain pens"},
    )
    first = await _search(client, alice, "fountain pens")
    assert first[0]["id"] == memory["id"]
    assert first[0]["content"] == "User collects antique fountain pens"
    assert (await client.delete(f"{MEMORIES}/{memory['id']}", headers=alice)).status_code == 200
    for query in ("fountain pens", "typewriters", "collects"):
        assert all(item["id"] != memory["id"] for item in await _search(client, alice, query))


async def test_search_never_returns_another_users_memory(client, alice, bob) -> None:
    secret = await create(client, alice, content="User's safe code is 4471")
    await create(client, bob, content="User likes jazz")
    for query in ("safe code 4471", "User's safe code is 4471", "jazz"):
        for item in await _search(client, bob, query):
            assert item["id"] != secret["id"]
    assert (await _search(client, alice, "safe code"))[0]["id"] == secret["id"]


async def test_duplicates_are_not_stored_twice(client, alice) -> None:
    first = await create(client, alice, content="User is vegetarian")
    again = await create(client, alice, content="  user is Vegetarian! ")
    assert again["id"] == first["id"] and again["duplicate_of"] == first["id"]
    assert again["content"] == "User is vegetarian"
    near = await create(client, alice, content="The user is a vegetarian")
    assert near["duplicate_of"] == first["id"]
    different = [
        await create(client, alice, content=text)
        for text in (
            "User's sister lives in Portland",
            "User's brother lives in Portland",
            "User likes cats",
            "User dislikes cats",
        )
    ]
    assert all("duplicate_of" not in memory for memory in different)
    assert len(await list_all(client, alice)) == 5
    assert "duplicate_of" not in first  # a new memory reads exactly as it is fetched


async def test_batches_dedupe_within_and_against_stored(client, alice) -> None:
    stored = await create(client, alice, content="User plays the cello")
    body = {
        "memories": [
            {"content": "User has two cats"},
            {"content": "user has 2 cats"},
            {"content": "User plays the cello."},
            {"content": "User speaks Greek"},
        ]
    }
    response = await client.post(f"{MEMORIES}/batch", json=body, headers=alice)
    result = response.json()
    assert result["created_count"] == 2
    cats, cats_again, cello, greek = result["memories"]
    assert "duplicate_of" not in cats and "duplicate_of" not in greek
    assert cats_again["duplicate_of"] == cats["id"] == cats_again["id"]
    assert cello["duplicate_of"] == stored["id"]
    assert len(await list_all(client, alice)) == 3


async def test_deduplication_can_be_switched_off(database_url: str) -> None:
    settings = Settings(database_url=database_url, dedup_enabled=False)
    async with serving(settings) as (_, client, headers):
        one = await create(client, headers, content="User is vegetarian")
        two = await create(client, headers, content="User is vegetarian")
    assert one["id"] != two["id"] and "duplicate_of" not in two


async def test_a_search_right_after_a_create_finds_it_by_meaning(client, make_key) -> None:
    """Read-your-writes: the embeddings are computed in the background, yet a search sees
    every memory its user created before it (their queued embeddings are computed first)."""
    facts = [
        ("User's dog is a golden retriever named Biscuit", "what kind of pet do I have"),
        ("User is learning to play the cello", "which instrument am I practising"),
        ("User flies to Tokyo next Tuesday", "when is my trip to Japan"),
        ("User cannot eat peanuts", "which foods am I allergic to"),
    ]
    for round_ in range(4):
        headers = await make_key(f"reader{round_}")
        for content, question in facts:  # no word in common: found by its embedding
            made = await create(client, headers, content=content)
            items = await _search(client, headers, question, limit=3)
            assert items[0]["id"] == made["id"], (question, items)


# A new user's memories, all about one person (issue #16's check).
NEW_USER = [
    "User is vegetarian",
    "User's name is Alex",
    "User lives in Berlin",
    "User works as a software engineer",
    "User plays tennis on weekends",
    "User has a dog named Biscuit",
    "User's sister Sarah lives in Portland",
    "User is allergic to penicillin",
    "User drinks oat milk lattes",
    "User is learning Spanish",
    "User's birthday is March 3",
    "User prefers morning meetings",
    "User drives a Honda Civic",
    "User reads science fiction novels",
    "User's favourite band is Radiohead",
    "User wants to run a marathon next year",
    "User is afraid of heights",
    "User grew up in Lisbon",
    "User's partner is called Jamie",
    "User uses a Pixel phone",
    "User goes to bed around 11 pm",
]
MCP_SEARCH = "/v1/mcp/memories/search"


async def _mcp_search(client: httpx.AsyncClient, headers, query: str, **params) -> list[dict]:
    response = await client.get(MCP_SEARCH, params={"query": query, **params}, headers=headers)
    assert response.status_code == 200, response.text
    return list(response.json())


async def test_a_new_users_search_ranks_the_answer_with_a_score_that_means_something(
    client, alice
) -> None:
    response = await client.post(
        f"{MEMORIES}/batch", json={"memories": [{"content": c} for c in NEW_USER]}, headers=alice
    )
    assert response.status_code == 200, response.text
    for query, expected in (
        ("what should I cook for dinner", "User is vegetarian"),
        ("what sports am I into", "User plays tennis on weekends"),
        ("where does my sister live", "User's sister Sarah lives in Portland"),
        ("what pets do I have", "User has a dog named Biscuit"),
    ):
        items = await _search(client, alice, query, limit=3)
        assert expected in [item["content"] for item in items], (query, items)
        score = next(item["relevance_score"] for item in items if item["content"] == expected)
        assert score > 0.01, (query, items)
    # A threshold keeps what is likely relevant, and nothing for an unrelated question.
    sister = await _search(client, alice, "where does my sister live", min_score=0.3)
    assert [item["content"] for item in sister] == ["User's sister Sarah lives in Portland"]
    for query in ("quantum chromodynamics lecture notes", "recommend a stock to buy"):
        assert await _search(client, alice, query, min_score=0.3) == []
        assert len(await _search(client, alice, query)) == 10  # default 0: `limit` results
        assert await _mcp_search(client, alice, query, min_score=0.3) == []


async def test_min_score_filters_every_search_route_and_is_validated(client, alice, bob) -> None:
    for fact in FACTS:
        await create(client, alice, content=fact)
    everything = await _search(client, alice, "marathon", limit=6)
    assert len(everything) == 6
    for threshold in (0.0, 0.05, 0.3, 0.9, 1.0):
        for search in (_search, _mcp_search):
            kept = await search(client, alice, "marathon", limit=6, min_score=threshold)
            # the same order, cut where the score falls below the threshold
            expected = [i for i in everything if i["relevance_score"] >= threshold]
            assert [i["id"] for i in kept] == [i["id"] for i in expected][: len(kept)]
            assert all(i["relevance_score"] >= threshold for i in kept)
            if search is _search:
                assert len(kept) == len(expected)
    assert await _search(client, alice, "marathon", min_score=1) == []  # never certain
    assert await _search(client, bob, "marathon", min_score=0) == []  # nothing of alice's
    for bad in ("-0.01", "1.01", "nan", "NaN", "inf", "-inf", "abc", "", "0x1", "1e400", " "):
        for path in (SEARCH, f"{MEMORIES}/vector/search", MCP_SEARCH):
            params = {"query": "marathon", "min_score": bad}
            response = await client.get(path, params=params, headers=alice)
            assert response.status_code == 422, (path, bad, response.text)
            issue = response.json()["detail"][0]
            assert issue["loc"] == ["query", "min_score"], issue


async def test_a_question_about_one_person_prefers_that_persons_memory(client, alice) -> None:
    """Names in the query against who a memory is about (issue #16: "User's sister
    Sarah" vs "Caroline's sister"), for facts and for conversation turns."""
    texts = [
        "User's sister Sarah lives in Portland",
        "Caroline's sister lives in Denver",
        "Melanie (8 May 2023): I finally adopted a beagle last weekend!",
        "Caroline (8 May 2023): We brought home a tabby cat from the shelter.",
        "Caroline (8 May 2023): That's amazing, Melanie!",
    ]
    for text in texts:
        await create(client, alice, content=text)
    first = await _search(client, alice, "Where does Caroline's sister live?", limit=2)
    assert first[0]["content"] == texts[1], first
    pet = await _search(client, alice, "What pet did Melanie adopt?", limit=2)
    assert pet[0]["content"] == texts[2], pet
    pet = await _search(client, alice, "What animal did Caroline bring home?", limit=2)
    assert pet[0]["content"] == texts[3], pet
