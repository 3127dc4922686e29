"""The client's edge cases, against a transport that answers from a script: which calls
are retried and how often, Retry-After, bad JSON, timeouts, errors and what they carry."""

from __future__ import annotations

import json
import logging
from typing import Any

import httpx
import pytest

from mnemo_client import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    InternalServerError,
    MemoryCategory,
    MemoryCreate,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    UnprocessableEntityError,
    retries,
)
from tests.client.script import KEY, MEMORY, Script, fail, ok

SEARCH = {"items": [{**MEMORY, "relevance_score": 0.5}], "returned_count": 1}


@pytest.fixture(autouse=True)
def quick_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Backoff of milliseconds, so that counting retries takes no time (the schedule
    itself is tested on `retries.delay`)."""
    monkeypatch.setattr(retries, "INITIAL_DELAY_S", 0.001)


# -- what is retried ---------------------------------------------------------------


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
def test_a_get_is_retried_on_408_429_and_5xx_then_succeeds(status: int) -> None:
    script = Script([fail(status), fail(status), ok([MEMORY])])
    with script.client(max_retries=2) as client:
        (memory,) = client.memories.list()
    assert memory.id == MEMORY["id"]
    assert len(script.requests) == 3


@pytest.mark.parametrize("status", [400, 401, 403, 404, 405, 409, 413, 422, 431])
def test_other_4xx_are_never_retried(status: int) -> None:
    script = Script([fail(status, "refused")])
    with script.client(max_retries=5) as client, pytest.raises(APIStatusError) as raised:
        client.memories.get("x")
    assert len(script.requests) == 1
    assert (raised.value.status_code, raised.value.detail) == (status, "refused")


def test_retries_stop_after_max_retries_and_raise_the_last_error() -> None:
    script = Script([fail(503, "a"), fail(503, "b"), fail(500, "c"), ok([])])
    with script.client(max_retries=2) as client, pytest.raises(InternalServerError) as raised:
        client.memories.list()
    assert len(script.requests) == 3
    assert (raised.value.status_code, raised.value.detail) == (500, "c")


def test_max_retries_zero_makes_one_attempt() -> None:
    script = Script([fail(503)])
    with script.client(max_retries=0) as client, pytest.raises(InternalServerError):
        client.memories.search("food")
    assert len(script.requests) == 1


@pytest.mark.parametrize(
    "error",
    [
        httpx.ReadError("reset"),
        httpx.RemoteProtocolError("closed mid-answer"),
        httpx.ReadTimeout("slow"),
        httpx.WriteError("broken pipe"),
    ],
)
@pytest.mark.parametrize("method", ["get", "update", "delete"])
def test_repeatable_calls_are_retried_when_the_connection_breaks(
    error: Exception, method: str
) -> None:
    answer = {"success": True} if method == "delete" else MEMORY
    script = Script([error, ok(answer)])
    with script.client() as client:
        if method == "update":
            client.memories.update("m1", content="User is vegan")
        else:
            getattr(client.memories, method)("m1")
    assert len(script.requests) == 2


@pytest.mark.parametrize(
    "entry",
    [
        httpx.ReadError("reset"),
        httpx.RemoteProtocolError("closed mid-answer"),
        httpx.ReadTimeout("slow"),
        httpx.WriteTimeout("slow"),
        fail(500),
        fail(502),
        fail(503, "Database unavailable, try again shortly"),
        fail(408),
    ],
)
@pytest.mark.parametrize("method", ["create", "create_batch"])
def test_a_post_that_may_have_reached_the_server_is_retried_with_its_key_and_body(
    entry: httpx.Response | Exception, method: str
) -> None:
    # the server answers a repeated Idempotency-Key with the first answer (docs/api.md)
    answer = MEMORY if method == "create" else {"memories": [MEMORY], "created_count": 1}
    script = Script([entry, entry, ok(answer)])
    with script.client(max_retries=3) as client:
        if method == "create":
            client.memories.create("User is vegetarian")
        else:
            client.memories.create_batch([{"content": "User is vegetarian"}])
    assert len(script.requests) == 3
    keys = {r.headers["Idempotency-Key"] for r in script.requests}
    assert len(keys) == 1
    assert len({r.content for r in script.requests}) == 1  # the same bytes each time


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 413, 422])
def test_a_post_refused_with_another_4xx_is_not_retried(status: int) -> None:
    script = Script([fail(status), ok()])
    with script.client(max_retries=3) as client, pytest.raises(APIStatusError):
        client.memories.create("User is vegetarian")
    assert len(script.requests) == 1


@pytest.mark.parametrize(
    "entry",
    [httpx.ConnectError("refused"), httpx.ConnectTimeout("no answer to SYN"), fail(429)],
)
def test_a_post_is_retried_when_it_was_not_sent_or_was_refused_with_429(
    entry: httpx.Response | Exception,
) -> None:
    script = Script([entry, entry, ok({**MEMORY})])
    with script.client(max_retries=2) as client:
        created = client.memories.create("User is vegetarian")
    assert created.duplicate_of is None
    assert len(script.requests) == 3


def test_every_post_carries_one_idempotency_key_across_its_retries() -> None:
    script = Script([fail(429), ok(), ok({"memories": [], "created_count": 0}), ok([])])
    with script.client() as client:
        client.memories.create("User is vegetarian")
        client.memories.create_batch([])
        client.memories.list()
    first, retry, batch, listed = (r.headers.get("Idempotency-Key") for r in script.requests)
    assert first and first == retry  # the same key on the retry of one call
    assert batch and batch != first  # a fresh one for the next call
    assert listed is None  # only POSTs carry one


# -- Retry-After and backoff -------------------------------------------------------


def test_retry_after_is_waited_for() -> None:
    script = Script([fail(429, "Rate limit exceeded. Try again in 1s.", **{"Retry-After": "1"})])
    script.entries.append(ok([]))
    with script.client() as client:
        assert client.memories.list() == []
    assert script.times[1] - script.times[0] >= 1.0


def test_retry_after_as_an_http_date_is_understood() -> None:
    script = Script([fail(503, **{"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}), ok([])])
    with script.client() as client:  # a date in the past: no wait at all
        assert client.memories.list() == []
    assert len(script.requests) == 2


def test_a_retry_after_over_the_cap_is_raised_at_once_with_its_value() -> None:
    hour = {"Retry-After": "3600"}
    script = Script([fail(429, "Rate limit exceeded. Try again in 3600s.", **hour)])
    with script.client(max_retries=5) as client, pytest.raises(RateLimitError) as raised:
        client.memories.create("User is vegetarian")
    assert len(script.requests) == 1
    assert raised.value.retry_after == 3600.0
    assert raised.value.detail == "Rate limit exceeded. Try again in 3600s."


@pytest.mark.parametrize(("header", "expected"), [("7", 7.0), ("0", 0.0), ("soon", None)])
def test_rate_limit_error_carries_retry_after(header: str, expected: float | None) -> None:
    script = Script([fail(429, "slow down", **{"Retry-After": header})])
    with script.client(max_retries=0) as client, pytest.raises(RateLimitError) as raised:
        client.memories.list()
    assert raised.value.retry_after == expected


def test_backoff_doubles_with_jitter_and_is_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(retries, "INITIAL_DELAY_S", 0.5)
    for retry, full in [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (5, 8.0), (9, 8.0)]:
        waits = [retries.delay(retry, None) for _ in range(200)]
        assert all(w is not None and full * 0.5 <= w <= full for w in waits), (retry, waits)
        assert len(set(waits)) > 1  # jittered
    assert retries.delay(1, 2.5) == 2.5
    assert retries.delay(1, retries.MAX_RETRY_AFTER_S + 1) is None


def test_backoff_waits_between_attempts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(retries, "INITIAL_DELAY_S", 0.1)
    script = Script([fail(503), fail(503), ok([])])
    with script.client() as client:
        client.memories.list()
    first, second = (b - a for a, b in zip(script.times, script.times[1:], strict=False))
    assert first >= 0.05 and second >= 0.1  # at least half of 0.1 s, then of 0.2 s


# -- answers that are not what the API documents ----------------------------------


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(200, content=b"<html>proxy</html>"),
        httpx.Response(200, content=b'{"id": "truncated'),
        httpx.Response(200, json={"unexpected": "shape"}),
        httpx.Response(200, json=[{"id": 1}]),
    ],
)
def test_a_bad_success_body_raises_response_validation_error(response: httpx.Response) -> None:
    script = Script([response])
    with script.client() as client, pytest.raises(APIResponseValidationError) as raised:
        client.memories.get("m1")
    assert raised.value.status_code == 200
    assert len(script.requests) == 1  # not retried: the server did answer


def test_an_error_without_json_detail_carries_the_reason_phrase() -> None:
    script = Script([httpx.Response(502, content=b"<html>bad gateway</html>")] * 3)
    with script.client() as client, pytest.raises(InternalServerError) as raised:
        client.memories.list()
    assert (raised.value.status_code, raised.value.detail) == (502, "Bad Gateway")
    assert str(raised.value) == "502 Bad Gateway"


def test_a_5xx_then_success_answers_the_success() -> None:
    script = Script([httpx.Response(500, content=b"oops"), ok(SEARCH)])
    with script.client() as client:
        result = client.memories.search("food")
    assert result.returned_count == 1 and result.items[0].relevance_score == 0.5


# -- the error classes --------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (422, UnprocessableEntityError),
        (429, RateLimitError),
        (500, InternalServerError),
        (503, InternalServerError),
        (405, APIStatusError),
    ],
)
def test_each_status_family_has_its_class(status: int, cls: type[APIStatusError]) -> None:
    script = Script([fail(status, "the server's words")])
    with script.client(max_retries=0) as client, pytest.raises(cls) as raised:
        client.memories.list()
    assert type(raised.value) is cls
    assert raised.value.detail == "the server's words"
    assert raised.value.response.status_code == status


def test_a_validation_body_is_kept_and_described() -> None:
    issue = {"type": "string_too_long", "loc": ["body", "content"], "msg": "String should have"}
    script = Script([fail(422, [{**issue, "input": "x", "ctx": {"max_length": 500}}])])
    with script.client() as client, pytest.raises(UnprocessableEntityError) as raised:
        client.memories.create("x" * 501)
    assert raised.value.issues[0].type == "string_too_long"
    assert raised.value.issues[0].loc == ["body", "content"]
    assert str(raised.value) == "422 body.content: String should have"


@pytest.mark.parametrize(
    ("error", "cls"),
    [
        (httpx.ConnectError("refused"), APIConnectionError),
        (httpx.ReadTimeout("slow"), APITimeoutError),
        (httpx.ConnectTimeout("slow"), APITimeoutError),
        (httpx.RemoteProtocolError("closed"), APIConnectionError),
    ],
)
def test_transport_failures_become_connection_errors(error: Exception, cls: type) -> None:
    script = Script([error] * 3)
    with script.client(max_retries=2) as client, pytest.raises(cls) as raised:
        client.memories.list()
    assert type(raised.value) is cls
    assert raised.value.__cause__ is error
    assert len(script.requests) == 3


# -- requests as sent ---------------------------------------------------------------


def test_requests_carry_the_documented_paths_queries_and_bodies() -> None:
    script = Script(
        [
            ok([]),
            ok(),
            ok({"memories": [], "created_count": 0}),
            ok(),
            ok(),
            ok({"success": True}),
            ok(SEARCH),
            ok(SEARCH),
        ]
    )
    with script.client() as client:
        client.memories.list(limit=5, offset=10, categories=[MemoryCategory.work, "system"])
        client.memories.create("User is vegan", category="interesting", tags=("food",))
        client.memories.create_batch(
            [MemoryCreate(content="User runs"), {"content": "User swims", "tags": ["sport"]}]
        )
        client.memories.get("a/../b?c")
        client.memories.update("..", visibility="public")
        client.memories.delete("m1")
        client.memories.search("food", limit=3, categories="work")
        client.memories.search("food", min_score=0.25)
    sent = [(r.method, r.url.raw_path.decode(), r.content) for r in script.requests]
    assert sent[0] == (
        "GET",
        "/v1/dev/user/memories?limit=5&offset=10&categories=work%2Csystem",
        b"",
    )
    assert sent[1][:2] == ("POST", "/v1/dev/user/memories")
    assert json.loads(sent[1][2]) == {
        "content": "User is vegan",
        "category": "interesting",
        "tags": ["food"],
    }
    assert json.loads(sent[2][2]) == {
        "memories": [
            {"content": "User runs", "visibility": "private", "tags": []},
            {"content": "User swims", "tags": ["sport"]},
        ]
    }
    # an id is one path segment, whatever it holds: it can never name another route
    assert sent[3][:2] == ("GET", "/v1/dev/user/memories/a%2F%2E%2E%2Fb%3Fc")
    assert sent[4][:2] == ("PATCH", "/v1/dev/user/memories/%2E%2E")
    assert json.loads(sent[4][2]) == {"visibility": "public"}
    assert sent[5][:2] == ("DELETE", "/v1/dev/user/memories/m1")
    assert sent[6][:2] == ("GET", "/v1/dev/user/memories/search?query=food&limit=3&categories=work")
    assert sent[7][:2] == ("GET", "/v1/dev/user/memories/search?query=food&min_score=0.25")
    for request in script.requests:
        assert request.headers["Authorization"] == f"Bearer {KEY}"
        assert request.headers["User-Agent"].startswith("mnemo-client/")


def test_a_lone_string_of_tags_is_sent_whole_not_split_into_characters() -> None:
    script = Script([fail(422, [{"type": "list_type", "loc": ["body", "tags"], "msg": "no"}])])
    with script.client() as client, pytest.raises(UnprocessableEntityError):
        client.memories.create("User is vegetarian", tags="food")
    assert json.loads(script.requests[0].content)["tags"] == "food"


def test_an_empty_id_is_refused_before_any_request() -> None:
    script = Script([])
    with script.client() as client, pytest.raises(ValueError, match="memory_id"):
        client.memories.delete("")
    assert script.requests == []


def test_a_base_url_path_prefix_is_kept() -> None:
    script = Script([ok([])])
    http = httpx.Client(transport=httpx.MockTransport(script))
    from mnemo_client import Client

    with Client(base_url="https://proxy.test/mnemo/", api_key=KEY, http_client=http) as client:
        client.memories.list()
    assert str(script.requests[0].url) == "https://proxy.test/mnemo/v1/dev/user/memories"


# -- iter_all ---------------------------------------------------------------------


def _page(start: int, count: int) -> list[dict[str, Any]]:
    return [{**MEMORY, "id": f"m{n}"} for n in range(start, start + count)]


def test_iter_all_pages_over_offset_until_a_short_page() -> None:
    script = Script([ok(_page(0, 2)), ok(_page(2, 2)), ok(_page(4, 1))])
    with script.client() as client:
        ids = [m.id for m in client.memories.iter_all(page_size=2, categories=["work"])]
    assert ids == ["m0", "m1", "m2", "m3", "m4"]
    offsets = [r.url.params["offset"] for r in script.requests]
    assert offsets == ["0", "2", "4"]
    assert {r.url.params["categories"] for r in script.requests} == {"work"}


def test_iter_all_yields_each_memory_once_and_stops_on_a_repeated_page() -> None:
    # a server that ignores offset answers the same page forever
    script = Script([ok(_page(0, 2)), ok(_page(0, 2))])
    with script.client() as client:
        assert [m.id for m in client.memories.iter_all(page_size=2)] == ["m0", "m1"]
    assert len(script.requests) == 2


@pytest.mark.parametrize("page_size", [0, -1, 1001, True])
def test_iter_all_refuses_a_page_size_the_server_would_not_answer(page_size: int) -> None:
    with Script([]).client() as client, pytest.raises(ValueError, match="page_size"):
        client.memories.iter_all(page_size=page_size)


async def test_the_async_client_retries_and_pages_the_same_way() -> None:
    script = Script([fail(503), ok(_page(0, 2)), httpx.ReadError("reset"), ok(_page(2, 1))])
    async with script.async_client() as client:
        ids = [m.id async for m in client.memories.iter_all(page_size=2)]
    assert ids == ["m0", "m1", "m2"]
    assert len(script.requests) == 4
    script = Script([fail(503), httpx.ReadError("reset"), ok()])
    async with script.async_client(max_retries=2) as client:
        await client.memories.create("User is vegetarian")  # a POST: retried, by its key
    assert len({r.headers["Idempotency-Key"] for r in script.requests}) == 1
    assert len(script.requests) == 3
    script = Script([fail(503), fail(503)])
    async with script.async_client(max_retries=1) as client:
        with pytest.raises(InternalServerError):
            await client.memories.create("User is vegetarian")
    assert len(script.requests) == 2


# -- the key stays secret ---------------------------------------------------------


def test_the_key_is_in_no_log_line_error_or_repr(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)  # every logger: the client's, httpx's, httpcore's
    script = Script([fail(503), httpx.ConnectError("refused"), fail(401, "Invalid API Key")])
    with script.client() as client, pytest.raises(AuthenticationError) as raised:
        client.memories.list()
    assert KEY not in repr(client) and KEY not in str(vars(client.memories))
    records = [r for r in caplog.records if r.name == "mnemo.client"]
    assert any("retry 1 of 2" in r.getMessage() for r in records), records
    assert any("retry 2 of 2" in r.getMessage() for r in records), records
    for text in (*(r.getMessage() for r in caplog.records), str(raised.value), repr(raised.value)):
        assert KEY not in text
        assert KEY[8:] not in text
