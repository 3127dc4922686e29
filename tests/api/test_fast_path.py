"""The fast path (mnemo.api.fast) answers exactly as FastAPI does, and only plain requests.

Two apps on one database, one with the fast path and one without (`fast_path=False`),
get the same requests; their answers (status, every header, body) must be the same.
Each app counts rate limits on its own, so with the same requests in the same order
their counters agree (in windows of a day, so no window ends between the two); only
`X-RateLimit-Reset`/`Retry-After` and the seconds a 429's detail says (whole seconds to
the end of the window, read from the clock a moment apart) may differ, by at most 1.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import Receive, Scope, Send

from mnemo import Settings, create_app
from mnemo.accounts import issue_key
from mnemo.api.deps import ADMITTED
from mnemo.api.fast import FastPath
from mnemo.auth import generate_key
from mnemo.clock import now_us
from mnemo.errors import MnemoError
from mnemo.store import READ_SCOPE, WRITE_SCOPE
from tests.helpers import MEMORIES, memory_bodies

_CLOCK_HEADERS = ("x-ratelimit-reset", "retry-after")
_ID_SHAPE = re.compile(r"^[0-9a-f]{16}$")
# Windows are fixed and aligned to the epoch; a day's (the longest allowed) ends only at
# midnight UTC, so a test's counts are not reset halfway, between one app and the other.
_DAY_WINDOWS = {"rate_limit_window_s": 86_400, "auth_failure_window_s": 86_400}
_addresses = itertools.count(1)


def _settings(database_url: str, **extra: Any) -> Settings:
    return Settings(database_url=database_url, dedup_enabled=False, **extra)


@asynccontextmanager
async def _started(settings: Settings) -> AsyncIterator[FastAPI]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        yield app


@asynccontextmanager
async def _clients(
    apps: list[FastAPI], address: str = "127.0.0.1"
) -> AsyncIterator[list[httpx.AsyncClient]]:
    async with AsyncExitStack() as stack:
        clients = []
        for app in apps:
            transport = httpx.ASGITransport(app=app, client=(address, 50000))
            client = httpx.AsyncClient(transport=transport, base_url="http://mnemo.test")
            clients.append(await stack.enter_async_context(client))
        yield clients


# A 429's detail says the same whole seconds as Retry-After.
_CLOCK_DETAIL = re.compile(rb"Try again in (\d+)s")


def _comparable(response: httpx.Response) -> tuple[int, list[tuple[str, str]], bytes]:
    # A request id is each request's own (mnemo.logs): compared by presence and shape.
    headers = [
        (n, "?" if n in _CLOCK_HEADERS else _ID_SHAPE.sub("?", v) if n == "x-request-id" else v)
        for n, v in response.headers.multi_items()
    ]
    return response.status_code, headers, _CLOCK_DETAIL.sub(b"Try again in ?s", response.content)


async def _same_answer(
    clients: list[httpx.AsyncClient], method: str, url: str, headers: dict[str, str]
) -> httpx.Response:
    """Send the request to the fast app, then the FastAPI one; assert both answer alike."""
    fast_answer, slow_answer = [
        await client.request(method, url, headers=headers) for client in clients
    ]
    assert _comparable(fast_answer) == _comparable(slow_answer), url
    for name in _CLOCK_HEADERS:
        a, b = fast_answer.headers.get(name), slow_answer.headers.get(name)
        assert (a is None) == (b is None)
        if a is not None and b is not None:
            assert abs(int(a) - int(b)) <= 1
    said = [_CLOCK_DETAIL.search(answer.content) for answer in (fast_answer, slow_answer)]
    if said[0] is not None and said[1] is not None:
        assert abs(int(said[0][1]) - int(said[1][1])) <= 1
    return fast_answer


@pytest.fixture(params=["unlimited", "limited"])
async def pair(request: pytest.FixtureRequest, database_url: str) -> AsyncIterator[list[FastAPI]]:
    """[the app with the fast path, the same app without], on one database."""
    limits: dict[str, Any] = (
        {"rate_limit_enabled": False}
        if request.param == "unlimited"
        else {
            "rate_limit_reads": 6,
            "rate_limit_writes": 4,
            "auth_failure_limit": 2,
            **_DAY_WINDOWS,
        }
    )
    async with (
        _started(_settings(database_url, **limits)) as with_fast,
        _started(_settings(database_url, fast_path=False, **limits)) as without,
    ):
        yield [with_fast, without]


async def _keys(store: Any, user: str, revoked_scope: str) -> dict[str, dict[str, str]]:
    """The headers of each of `_KEYS` for `user`: a read key, a read-write key, a
    write-only key, a revoked key (of `revoked_scope`, which it would pass), an unknown
    key."""
    keys: dict[str, dict[str, str]] = {}
    for name, scopes in [
        ("read", [READ_SCOPE]),
        ("all", [READ_SCOPE, WRITE_SCOPE]),
        ("write-only", [WRITE_SCOPE]),
        ("revoked", [revoked_scope]),
    ]:
        record, secret = await issue_key(store, user, scopes=scopes)
        keys[name] = {"Authorization": f"Bearer {secret}"}
        if name == "revoked":
            assert await store.revoke_key(record.id, now_us())
    keys["unknown"] = {"Authorization": f"Bearer {generate_key()}"}
    return keys


def _fresh_address() -> str:
    """A client address of its own for each example, so failed authentications of one
    example do not make every later one a 429."""
    n = next(_addresses)
    return f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}"


_body = memory_bodies(max_content=200, max_tags=4)
_number = (
    st.integers(-2, 14).map(str)
    | st.sampled_from([24, 25, 26, 199, 200, 201, 999, 1000, 1001, 999_999_999]).map(str)
    | st.integers(-(10**9) + 1, 10**9 - 1).map(str)
    | st.sampled_from(["-0", "007", "-1", "000000000"])
)
_page = st.fixed_dictionaries({}, optional={"limit": _number, "offset": _number})
_KEYS = ["read", "all", "write-only", "revoked", "unknown"]
_request = st.one_of(
    st.tuples(st.just("list"), _page, st.sampled_from(_KEYS)),
    st.tuples(
        st.just("get"),
        st.sampled_from(["own", "other user's", "unknown"]),
        st.sampled_from(_KEYS),
    ),
)


@hypothesis_settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    own=st.lists(_body, max_size=12),
    others=st.lists(_body, min_size=1, max_size=3),
    requests=st.lists(_request, min_size=1, max_size=12),
    data=st.data(),
)
async def test_fast_path_answers_as_fastapi_does(
    pair: list[FastAPI], own, others, requests, data
) -> None:
    store = pair[0].state.mnemo.store
    user = f"u{uuid.uuid4().hex[:12]}"
    keys = await _keys(store, user, revoked_scope=READ_SCOPE)
    _, other_secret = await issue_key(store, user + "x")
    async with _clients(pair, _fresh_address()) as clients:
        ids = {"own": [], "other user's": [], "unknown": [str(uuid.uuid4())]}
        for owner, bodies, headers in [
            ("own", own, keys["all"]),
            ("other user's", others, {"Authorization": f"Bearer {other_secret}"}),
        ]:
            if bodies:
                # Written through the app without the fast path, so nothing is counted
                # as a read there (writes have their own policy, on both apps alike).
                created = await clients[1].post(
                    f"{MEMORIES}/batch", json={"memories": bodies}, headers=headers
                )
                assert created.status_code == 200, created.text
                ids[owner] = [m["id"] for m in created.json()["memories"]]
        for kind, target, key in requests:
            if kind == "list":
                query = "&".join(f"{name}={value}" for name, value in target.items())
                url = f"{MEMORIES}?{query}" if query else MEMORIES
            else:
                choices = ids[target] or ids["unknown"]
                url = f"{MEMORIES}/{data.draw(st.sampled_from(choices))}"
            await _same_answer(clients, "GET", url, keys[key])


# -- what falls through ---------------------------------------------------------------


class _Downstream:
    """The ASGI app behind a `FastPath` under test: it records what reaches it (the path,
    and the body it reads, for a POST)."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        self.bodies: list[bytes] = []
        self.admitted: list[Any] = []  # the key the fast path admitted a POST with

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.paths.append(scope["path"])
        if scope["method"] == "POST":
            self.bodies.append(await Request(scope, receive).body())
            self.admitted.append(scope.get("state", {}).get(ADMITTED))
        await send({"type": "http.response.start", "status": 299, "headers": []})
        await send({"type": "http.response.body", "body": b""})


def _isolated_fast_path(app: FastAPI) -> tuple[Any, _Downstream]:
    """A `FastPath` in front of a recorder, using `app`'s started components."""
    downstream = _Downstream()
    route = app.routes[0]  # only labels the metrics, which this one does not record
    layer = FastPath(
        downstream, list_route=route, get_route=route, create_route=route, on_error=_error_status
    )

    async def asgi(scope: Scope, receive: Receive, send: Send) -> None:
        scope["app"] = app
        await layer(scope, receive, send)

    return asgi, downstream


async def _error_status(request: Any, error: Exception) -> JSONResponse:
    assert isinstance(error, MnemoError)
    return JSONResponse({"detail": error.detail}, status_code=error.status_code)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return _settings(database_url, rate_limit_enabled=False)


_ID = "0193a0b4-7c2e-7d1a-8b3c-1234567890ab"
_PLAIN = [
    MEMORIES,
    f"{MEMORIES}?limit=5",
    f"{MEMORIES}?offset=3",
    f"{MEMORIES}?limit=-1&offset=007",
    f"{MEMORIES}?offset=0&limit=1000",
    f"{MEMORIES}/{_ID}",
]
_UNUSUAL = [
    ("GET", f"{MEMORIES}?categories=system"),
    ("GET", f"{MEMORIES}?limit=5&categories=system,interesting"),
    ("GET", f"{MEMORIES}?limit=abc"),
    ("GET", f"{MEMORIES}?offset=1.0"),
    ("GET", f"{MEMORIES}?limit=+5"),
    ("GET", f"{MEMORIES}?limit=%35"),
    ("GET", f"{MEMORIES}?limit=5&limit=6"),
    ("GET", f"{MEMORIES}?limit="),
    ("GET", f"{MEMORIES}?limit"),
    ("GET", f"{MEMORIES}?limit=5&"),
    ("GET", f"{MEMORIES}?limit=1%20"),
    ("GET", f"{MEMORIES}?limit=99999999999999999999"),
    ("GET", f"{MEMORIES}?page=2"),
    ("GET", f"{MEMORIES}/"),
    ("GET", f"{MEMORIES}/{_ID.upper()}"),
    ("GET", f"{MEMORIES}/{_ID}?x=1"),
    ("GET", f"{MEMORIES}/{_ID}/"),
    ("GET", f"{MEMORIES}/not-an-id"),
    ("GET", f"{MEMORIES}/batch"),
    ("GET", f"{MEMORIES}/search?query=food"),
    ("GET", f"{MEMORIES}//{_ID}"),
    ("GET", "/v1/dev/user/memoriesx"),
    ("HEAD", MEMORIES),
    ("HEAD", f"{MEMORIES}/{_ID}"),
    ("OPTIONS", MEMORIES),
    ("DELETE", f"{MEMORIES}/{_ID}"),
]
_BAD_HEADERS: list[dict[str, str]] = [
    {},
    {"Authorization": "Basic dXNlcjpwYXNz"},
    {"Authorization": "Bearer omi_dev_short"},
    {"Authorization": "Bearer  omi_dev_" + "a" * 32},
    {"Authorization": "Bearer omi_dev_" + "A" * 32},
    {"Authorization": "Bearer omi_dev_" + "a" * 32 + " "},
]


async def test_plain_requests_take_the_fast_path(app, alice) -> None:
    asgi, downstream = _isolated_fast_path(app)
    transport = httpx.ASGITransport(app=asgi)
    async with httpx.AsyncClient(transport=transport, base_url="http://mnemo.test") as client:
        for url in _PLAIN:
            response = await client.get(url, headers=alice)
            assert response.status_code in (200, 404), url
    assert downstream.paths == []


@pytest.mark.parametrize(("method", "url"), _UNUSUAL)
async def test_unusual_requests_fall_through_to_fastapi(database_url, method, url) -> None:
    settings = _settings(database_url, rate_limit_enabled=False)
    async with (
        _started(settings) as with_fast,
        _started(_settings(database_url, rate_limit_enabled=False, fast_path=False)) as without,
    ):
        _, secret = await issue_key(with_fast.state.mnemo.store, "alice")
        headers = {"Authorization": f"Bearer {secret}"}
        asgi, downstream = _isolated_fast_path(with_fast)
        transport = httpx.ASGITransport(app=asgi)
        async with httpx.AsyncClient(transport=transport, base_url="http://mnemo.test") as c:
            assert (await c.request(method, url, headers=headers)).status_code == 299
        assert len(downstream.paths) == 1
        async with _clients([with_fast, without]) as clients:
            await _same_answer(clients, method, url, headers)


@pytest.mark.parametrize("headers", _BAD_HEADERS)
async def test_malformed_authorization_falls_through_to_fastapi(database_url, headers) -> None:
    limits = {"auth_failure_limit": 1, **_DAY_WINDOWS}
    async with (
        _started(_settings(database_url, **limits)) as with_fast,
        _started(_settings(database_url, fast_path=False, **limits)) as without,
    ):
        asgi, downstream = _isolated_fast_path(with_fast)
        transport = httpx.ASGITransport(app=asgi)
        async with httpx.AsyncClient(transport=transport, base_url="http://mnemo.test") as c:
            assert (await c.get(MEMORIES, headers=headers)).status_code == 299
        async with _clients([with_fast, without]) as clients:
            first = await _same_answer(clients, "GET", MEMORIES, headers)
            assert first.status_code == 401
            # Counted once (by FastAPI), so the second failure is already over a limit of 1.
            assert (await _same_answer(clients, "GET", MEMORIES, headers)).status_code == 429


async def test_oversized_headers_are_a_431_on_both_paths(database_url) -> None:
    async with (
        _started(_settings(database_url)) as with_fast,
        _started(_settings(database_url, fast_path=False)) as without,
    ):
        _, secret = await issue_key(with_fast.state.mnemo.store, "alice")
        headers = {"Authorization": f"Bearer {secret}", "X-Padding": "x" * 20_000}
        async with _clients([with_fast, without]) as clients:
            for url in (MEMORIES, f"{MEMORIES}/{_ID}"):
                response = await _same_answer(clients, "GET", url, headers)
                assert response.status_code == 431
                assert "limit is 16384 bytes" in response.json()["detail"]


# -- what the fast path's answers carry -----------------------------------------------


async def _metric(client: httpx.AsyncClient, route: str, status: int) -> float:
    text = (await client.get("/metrics")).text
    line = f'mnemo_http_requests_total{{method="GET",route="{route}",status="{status}"}} '
    found = [row for row in text.splitlines() if row.startswith(line)]
    return float(found[0].split()[-1]) if found else 0.0


async def test_fast_answers_are_counted_under_their_route_template(client, alice, bob) -> None:
    created = await client.post(MEMORIES, json={"content": "User likes tea"}, headers=alice)
    memory_id = created.json()["id"]
    item = f"{MEMORIES}/{{memory_id}}"
    assert (await client.get(MEMORIES, params={"limit": 5}, headers=alice)).status_code == 200
    assert (await client.get(f"{MEMORIES}/{memory_id}", headers=alice)).status_code == 200
    assert (await client.get(f"{MEMORIES}/{memory_id}", headers=bob)).status_code == 404
    assert (await client.get(f"{MEMORIES}/{_ID}", headers=alice)).status_code == 404
    assert await _metric(client, MEMORIES, 200) == 1
    assert await _metric(client, item, 200) == 1
    assert await _metric(client, item, 404) == 2
    text = (await client.get("/metrics")).text
    assert f'mnemo_http_request_duration_seconds_count{{method="GET",route="{item}"}} 3.0' in text


async def test_fast_answers_carry_the_rate_limit_headers(database_url) -> None:
    settings = _settings(database_url, rate_limit_reads=3, **_DAY_WINDOWS)
    async with _started(settings) as app:
        _, secret = await issue_key(app.state.mnemo.store, "alice")
        headers = {"Authorization": f"Bearer {secret}"}
        async with _clients([app]) as (client,):
            answers = [
                await client.get(url, headers=headers)
                for url in (MEMORIES, f"{MEMORIES}/{_ID}", f"{MEMORIES}?limit=2", MEMORIES)
            ]
    assert [a.status_code for a in answers] == [200, 404, 200, 429]
    assert [a.headers["X-RateLimit-Remaining"] for a in answers] == ["2", "1", "0", "0"]
    assert {a.headers["X-RateLimit-Limit"] for a in answers} == {"3"}
    assert all(1 <= int(a.headers["X-RateLimit-Reset"]) <= 86_400 for a in answers)
    assert answers[3].headers["Retry-After"] == answers[3].headers["X-RateLimit-Reset"]
    assert answers[3].json()["detail"].startswith("Rate limit exceeded. Try again in ")
    assert answers[0].headers["content-type"] == "application/json"
    assert answers[0].headers["content-length"] == str(len(answers[0].content)) == "2"


async def test_another_users_memory_is_a_404_exactly_like_an_unknown_id(
    database_url,
) -> None:
    async with (
        _started(_settings(database_url, rate_limit_enabled=False)) as with_fast,
        _started(_settings(database_url, rate_limit_enabled=False, fast_path=False)) as without,
    ):
        store = with_fast.state.mnemo.store
        alice = {"Authorization": f"Bearer {(await issue_key(store, 'alice'))[1]}"}
        bob = {"Authorization": f"Bearer {(await issue_key(store, 'bob'))[1]}"}
        async with _clients([with_fast, without]) as clients:
            created = await clients[0].post(MEMORIES, json={"content": "Bob's"}, headers=bob)
            bobs = f"{MEMORIES}/{created.json()['id']}"
            assert (await _same_answer(clients, "GET", bobs, bob)).status_code == 200
            stolen = await _same_answer(clients, "GET", bobs, alice)
            unknown = await _same_answer(clients, "GET", f"{MEMORIES}/{_ID}", alice)
            listed = await _same_answer(clients, "GET", MEMORIES, alice)
    assert stolen.status_code == unknown.status_code == 404
    assert _comparable(stolen) == _comparable(unknown)
    assert stolen.json() == {"detail": "Memory not found"}
    assert listed.json() == []


async def test_a_failed_authentication_on_the_fast_path_counts_once(database_url) -> None:
    settings = _settings(database_url, auth_failure_limit=2, **_DAY_WINDOWS)
    unknown = {"Authorization": f"Bearer {generate_key()}"}
    async with _started(settings) as app, _clients([app]) as (client,):
        answers = [(await client.get(f"{MEMORIES}/{_ID}", headers=unknown)) for _ in range(3)]
    assert [a.status_code for a in answers] == [401, 401, 429]
    assert answers[0].json() == {"detail": "Invalid API Key"}
    assert "X-RateLimit-Remaining" not in answers[0].headers


async def test_a_key_revoked_between_two_fast_requests_fails_on_the_second(app) -> None:
    store = app.state.mnemo.store
    record, secret = await issue_key(store, "carol")
    headers = {"Authorization": f"Bearer {secret}"}
    async with _clients([app]) as (client,):
        assert (await client.get(MEMORIES, headers=headers)).status_code == 200
        assert await store.revoke_key(record.id, now_us())
        refused = await client.get(MEMORIES, headers=headers)
    assert refused.status_code == 401
    assert refused.json() == {"detail": "Invalid API Key"}


# -- creates --------------------------------------------------------------------------

_JSON = {"Content-Type": "application/json"}
_MADE = ("id", "created_at", "updated_at", "scoring")  # of its time: its own


def _create_comparable(response: httpx.Response) -> tuple[int, list[tuple[str, str]], Any]:
    status, headers, body = _comparable(response)
    try:
        answer = response.json()
    except ValueError:
        return status, headers, body
    if isinstance(answer, dict) and status == 200:
        answer = {n: "?" if n in _MADE else v for n, v in answer.items()}
    # The body's length follows the answer's bytes, compared above as JSON.
    return status, [(n, v) for n, v in headers if n != "content-length"], answer


async def _same_create(
    clients: list[httpx.AsyncClient], body: bytes, headers: dict[str, str], url: str = MEMORIES
) -> httpx.Response:
    """POST the body to the fast app, then the FastAPI one; both must answer alike."""
    fast_answer, slow_answer = [
        await client.post(url, content=body, headers=headers) for client in clients
    ]
    assert _create_comparable(fast_answer) == _create_comparable(slow_answer), body[:200]
    return fast_answer


_json_value = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=6,
)
_field_value = _json_value | st.sampled_from(["", " ", "\x00", "system", "x" * 501, "public"])
# Bodies the model accepts, bodies it refuses field by field, and bytes that are no
# object at all (not JSON, not UTF-8, another encoding, a BOM, NaN).
_create_body = st.one_of(
    _body.map(lambda b: json.dumps(b).encode()),
    st.dictionaries(
        st.sampled_from(["content", "category", "visibility", "tags", "extra", "id"]),
        _field_value,
    ).map(lambda b: json.dumps(b).encode()),
    _body.map(lambda b: json.dumps(b).encode("utf-16")),
    _body.map(lambda b: b"\xef\xbb\xbf" + json.dumps(b).encode()),
    _json_value.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=40),
    st.sampled_from(
        [b"", b"{", b'{"content": NaN}', b'{"content": "a"} x', b'{"content": "\xff"}']
    ),
)
_content_type = st.sampled_from(
    [
        "application/json",
        "application/json; charset=utf-8",
        "APPLICATION/JSON",
        "application/json; charset=latin-1",
        "application/merge-patch+json",
        "text/plain",
        None,
    ]
)


@hypothesis_settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    creates=st.lists(
        st.tuples(_create_body, _content_type, st.sampled_from(_KEYS)), min_size=1, max_size=8
    )
)
async def test_creates_answer_as_fastapi_does(pair: list[FastAPI], creates) -> None:
    """Valid or not, any key, any content type: the same status, headers and answer (but
    for what each create makes its own); what is stored afterwards is the same too."""
    store = pair[0].state.mnemo.store
    user = f"u{uuid.uuid4().hex[:12]}"
    keys = await _keys(store, user, revoked_scope=WRITE_SCOPE)
    async with _clients(pair, _fresh_address()) as clients:
        for body, content_type, key in creates:
            headers = dict(keys[key])
            if content_type is not None:
                headers["Content-Type"] = content_type
            await _same_create(clients, body, headers)
    owner = await store.get_user(user)
    stored = [] if owner is None else await _contents(store, owner.id)
    # Each create went to both apps: every stored content is there twice, in pairs.
    assert sorted(stored[::2]) == sorted(stored[1::2])


async def _contents(store: Any, user_id: str) -> list[str]:
    return [m["content"] for m in json.loads(await store.list_memories_json(user_id, [], 1000, 0))]


_CREATE = json.dumps({"content": "User likes tea", "tags": ["drinks"]}).encode()
_UNUSUAL_CREATES: list[tuple[str, dict[str, str], bytes]] = [
    (f"{MEMORIES}?x=1", _JSON, _CREATE),
    (MEMORIES, {**_JSON, "Idempotency-Key": "k1"}, _CREATE),
    (MEMORIES, {}, _CREATE),
    (MEMORIES, {"Content-Type": "text/plain"}, _CREATE),
    (MEMORIES, {"Content-Type": "application/json; charset=latin-1"}, _CREATE),
    (MEMORIES + "/", _JSON, _CREATE),
]
# Plain by their headers, so admitted on the fast path, then handed on with their body.
_INVALID_CREATES = [
    b"",
    b"{",
    b"[]",
    b'{"content": ""}',
    b'{"content": "x", "category": "bogus"}',
    b'{"content": "\xff"}',
    b'{"content": "x", "tags": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
]


@pytest.mark.parametrize(("url", "headers", "body"), _UNUSUAL_CREATES)
async def test_unusual_creates_fall_through_with_their_body(app, alice, url, headers, body):
    downstream = await _handed_on(app, url, body, {**alice, **headers})
    assert downstream.admitted == [None]  # not admitted: FastAPI does that


@pytest.mark.parametrize("body", _INVALID_CREATES)
async def test_invalid_creates_are_handed_on_admitted_with_their_body(app, alice, body):
    downstream = await _handed_on(app, MEMORIES, body, {**alice, **_JSON})
    [admitted] = downstream.admitted
    assert admitted is not None and admitted.user_id == (await _user_id(app, "alice"))


async def _handed_on(app: FastAPI, url: str, body: bytes, headers: dict[str, str]) -> _Downstream:
    """POST through a `FastPath` in front of a recorder; assert the recorder answered,
    having read the very body sent."""
    asgi, downstream = _isolated_fast_path(app)
    transport = httpx.ASGITransport(app=asgi)
    async with httpx.AsyncClient(transport=transport, base_url="http://mnemo.test") as client:
        response = await client.post(url, content=body, headers=headers)
    assert response.status_code == 299
    assert downstream.bodies == [body]
    return downstream


async def _user_id(app: FastAPI, name: str) -> str:
    user = await app.state.mnemo.store.get_user(name)
    assert user is not None
    return str(user.id)


async def test_plain_creates_take_the_fast_path(app, alice) -> None:
    asgi, downstream = _isolated_fast_path(app)
    transport = httpx.ASGITransport(app=asgi)
    async with httpx.AsyncClient(transport=transport, base_url="http://mnemo.test") as client:
        for content_type in ("application/json", "Application/JSON; Charset=UTF-8"):
            response = await client.post(
                MEMORIES, content=_CREATE, headers={**alice, "Content-Type": content_type}
            )
            assert response.status_code == 200, response.text
            assert response.json()["content"] == "User likes tea"
            assert response.json()["tags"] == ["drinks"]
    assert downstream.paths == []


async def test_unusual_and_invalid_creates_answer_as_fastapi_does(pair, alice_secret) -> None:
    async with _clients(pair) as clients:
        for url, headers, body in _UNUSUAL_CREATES:
            if "Idempotency-Key" in headers:  # the second app would replay the first's
                continue
            await _same_create(clients, body, {**alice_secret, **headers}, url)
        for body in _INVALID_CREATES:
            answer = await _same_create(clients, body, {**alice_secret, **_JSON})
            assert answer.status_code in (400, 422, 429), body  # 429: the limited pair


@pytest.fixture
async def alice_secret(pair: list[FastAPI]) -> dict[str, str]:
    _, secret = await issue_key(pair[0].state.mnemo.store, f"alice{uuid.uuid4().hex[:8]}")
    return {"Authorization": f"Bearer {secret}"}


async def test_a_handed_on_create_counts_as_one_write(database_url) -> None:
    """Admitted on the fast path, refused by FastAPI's validation: one write spent, not
    two, exactly as without the fast path."""
    limits = {"rate_limit_writes": 3, **_DAY_WINDOWS}
    async with (
        _started(_settings(database_url, **limits)) as with_fast,
        _started(_settings(database_url, fast_path=False, **limits)) as without,
    ):
        for app in (with_fast, without):
            _, secret = await issue_key(app.state.mnemo.store, f"w{uuid.uuid4().hex[:8]}")
            headers = {"Authorization": f"Bearer {secret}", **_JSON}
            async with _clients([app]) as (client,):
                answers = [
                    await client.post(MEMORIES, content=body, headers=headers)
                    for body in (b"{", _CREATE, b'{"content": ""}', _CREATE)
                ]
            assert [a.status_code for a in answers] == [422, 200, 422, 429]
            assert [a.headers["X-RateLimit-Remaining"] for a in answers] == ["2", "1", "0", "0"]


async def test_a_create_stalled_or_over_the_limit_is_refused_as_by_fastapi(database_url):
    """A body with a Content-Length that stalls (408) or runs past the size limit (413)
    while the fast path reads it: FastAPI's answer, and nothing stored."""
    extra = {"rate_limit_enabled": False, "body_timeout_s": 0.3, "max_body_bytes": 2048}
    async with (
        _started(_settings(database_url, **extra)) as with_fast,
        _started(_settings(database_url, fast_path=False, **extra)) as without,
    ):
        _, secret = await issue_key(with_fast.state.mnemo.store, "stalls")
        key = {"Authorization": f"Bearer {secret}"}

        def stalling() -> AsyncIterator[bytes]:
            async def chunks() -> AsyncIterator[bytes]:
                yield b'{"content": "User never'
                await asyncio.sleep(6)
                yield b' finishes"}'

            return chunks()

        def overlong() -> AsyncIterator[bytes]:
            async def chunks() -> AsyncIterator[bytes]:
                yield b'{"content": "'
                for _ in range(4):
                    yield b"x" * 1024
                yield b'"}'

            return chunks()

        # Each says a Content-Length under the limit, as a plain create does.
        headers = {**key, **_JSON, "Content-Length": "100"}
        async with _clients([with_fast, without]) as clients:
            for make, status, said in (
                (stalling, 408, "Request body not received within 0.3 s"),
                (overlong, 413, "Request body too large: the limit is 2048 bytes"),
            ):
                answers = [
                    await client.post(MEMORIES, content=make(), headers=headers)
                    for client in clients
                ]
                assert [_comparable(a) for a in answers] == [_comparable(answers[1])] * 2
                assert answers[0].status_code == status
                assert answers[0].json() == {"detail": said}
                assert answers[0].headers["connection"] == "close"
            listed = await clients[0].get(MEMORIES, headers=key)
        assert listed.json() == []
