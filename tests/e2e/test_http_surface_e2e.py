"""The HTTP surface of a real server, route by route from its live OpenAPI document:
HEAD answers as GET without a body; a 405's `Allow` names every method of the path; a
trailing slash is a 404, never a redirect; every integer parameter takes plain decimal
digits only; every answer carries `X-Request-ID`, and every log line has a time, a
level and, for a request's lines, that id."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.e2e.server import Server, start_server
from tests.helpers import MEMORIES

_VOLATILE = {"date", "x-request-id", "x-ratelimit-remaining", "x-ratelimit-reset"}
_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
_LINE = re.compile(
    r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (DEBUG|INFO|WARNING|ERROR|CRITICAL)"
    r" \[(-|[A-Za-z0-9._-]{1,64})\] [\w.]+: \S"
)
_GENERATED_ID = re.compile(r"[0-9a-f]{16}")
ADMIN_TOKEN = "s" * 40


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("surface")
    server = start_server(
        f"sqlite:///{folder}/m.db",
        log_level="info",
        extra_env={
            "MNEMO_ACCESS_LOG": "true",
            "MNEMO_ADMIN_TOKEN": ADMIN_TOKEN,
            "MNEMO_WEBHOOKS_ALLOW_PRIVATE": "true",  # endpoints on the discard port
        },
    )
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def client(running: Server) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {running.first_key}"}

    def admin_token(request: httpx.Request) -> None:  # the admin API's credential
        if request.url.path.startswith("/v1/admin/"):
            request.headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"

    hooks = {"request": [admin_token]}
    with httpx.Client(base_url=running.base, headers=headers, timeout=30, event_hooks=hooks) as c:
        yield c


@pytest.fixture(scope="module")
def document(client: httpx.Client) -> dict[str, Any]:
    found: dict[str, Any] = client.get("/openapi.json").json()
    return found


@pytest.fixture(scope="module")
def memory_id(client: httpx.Client) -> str:
    created = client.post(MEMORIES, json={"content": "User drinks green tea"})
    assert created.status_code == 200
    found: str = created.json()["id"]
    return found


@pytest.fixture(scope="module")
def ids(client: httpx.Client, memory_id: str) -> dict[str, str]:
    """A real id for each path parameter: a memory, a user's and the admin's webhook
    endpoint (whose deliveries list is then empty)."""
    found = {"memory_id": memory_id}
    for prefix in ("/v1/dev/user", "/v1/admin"):
        body = {"url": "http://127.0.0.1:9/", "events": ["memory.deleted"]}
        made = client.post(f"{prefix}/webhooks", json=body)
        assert made.status_code == 200, made.text
        found[prefix] = made.json()["id"]
    return found


def _concrete(path: str, ids: dict[str, str]) -> str:
    prefix = "/v1/admin" if path.startswith("/v1/admin/") else "/v1/dev/user"
    return path.replace("{memory_id}", ids["memory_id"]).replace("{endpoint_id}", ids[prefix])


def _get_urls(document: dict[str, Any], ids: dict[str, str]) -> list[str]:
    """Every GET route of the document, with its required parameters filled in, and
    the documentation pages (not in the document)."""
    urls = ["/openapi.json", "/docs"]
    for path, operations in document["paths"].items():
        if "get" in operations:
            required = [p["name"] for p in operations["get"].get("parameters", []) if p["required"]]
            query = "&".join(f"{name}=tea" for name in required if name != "memory_id")
            urls.append(_concrete(path, ids) + (f"?{query}" if query else ""))
    return urls


def test_head_answers_as_get_without_a_body(client, document, memory_id, ids) -> None:
    urls = _get_urls(document, ids)
    assert f"{MEMORIES}/{memory_id}" in urls and MEMORIES in urls  # the fast path's
    for url in [*urls, f"{MEMORIES}?limit=2", f"{MEMORIES}/{'0' * 8}-0000-0000-0000-{'0' * 12}"]:
        got = client.get(url)
        head = client.head(url)
        assert head.status_code == got.status_code, url
        assert head.content == b"", url
        volatile = _VOLATILE | ({"content-length"} if url == "/metrics" else set())
        if url.startswith("/v1/admin/export"):  # a stream: chunked, and HEAD has none
            volatile |= {"transfer-encoding"}
        same = {k: v for k, v in got.headers.items() if k not in volatile}
        assert {k: v for k, v in head.headers.items() if k not in volatile} == same, url
    # counted as HEAD, under the route the GET matched (the fast path's and FastAPI's)
    metrics = client.get("/metrics").text
    for route in (MEMORIES, f"{MEMORIES}/{{memory_id}}", f"{MEMORIES}/search"):
        assert f'method="HEAD",route="{route}",status="200"' in metrics, route
    # refused like the GET: no key, no body
    anonymous = httpx.head(client.base_url.join(MEMORIES))
    assert anonymous.status_code == 401 and anonymous.content == b""


def _template(path: str) -> re.Pattern[str]:
    return re.compile(re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path)))


def test_a_405_names_every_method_of_its_path(client, document, ids) -> None:
    """`Allow` is every method of every route whose template matches the path: so
    `/v1/dev/user/memories/batch` also allows what `/{memory_id}` does (GET of it is a
    404 for the id "batch", not a 405)."""
    templates = {_template(path): set(ops) for path, ops in document["paths"].items()}
    for path in document["paths"]:
        concrete = _concrete(path, ids)
        allowed = {
            method.upper()
            for template, methods in templates.items()
            if template.fullmatch(concrete)
            for method in methods
        }
        if "GET" in allowed:
            allowed.add("HEAD")
        for method in ["OPTIONS", *(m for m in _METHODS if m not in allowed)]:
            response = client.request(method, concrete)
            assert response.status_code == 405, (method, path)
            if method != "HEAD":  # (a path without GET: HEAD's answer has no body)
                assert response.json() == {"detail": "Method Not Allowed"}
            listed = set(response.headers["allow"].split(", "))
            assert listed == allowed, (method, path, listed)


def test_a_trailing_slash_is_not_found_never_a_redirect(client, document, ids) -> None:
    paths = [_concrete(path, ids) for path in document["paths"]] + ["/docs"]
    for path in paths:
        for method in ("GET", "POST", "DELETE"):
            response = client.request(method, path + "/", headers={"Host": "evil.example"})
            assert response.status_code == 404, (method, path)
            assert response.json() == {"detail": "Not Found"}
            assert "location" not in response.headers


# Spellings that Python's int() or pydantic's lax mode would take, or that look like
# numbers: every one is a 422 `int_parsing` on every integer parameter.
HOSTILE = [
    "1.0", "2.0", "1e3", "1_000", " 5", "5 ", "\t5", "5\n", "+5", "--5", "5-", "0x10",
    "0b1", "0o7", "1,000", "５", "٥", "১", "inf", "nan", "true", "", "abc", "5abc",
    "1" * 5000, "\x005",
]  # fmt: skip
PLAIN = ["5", "007", "-0", "-5", "99999999999999999999"]


def _integer_parameters(document: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(method, path, where, name) of every integer parameter in the document."""
    found = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                if parameter["schema"].get("type") == "integer":
                    found.append((method.upper(), path, parameter["in"], parameter["name"]))
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            assert "integer" not in str(body), f"an integer in a body: test it here ({path})"
    return found


def test_every_integer_parameter_takes_plain_decimal_digits_only(client, document, ids) -> None:
    parameters = _integer_parameters(document)
    names = {(path, name) for _, path, _, name in parameters}
    assert {(MEMORIES, "limit"), (MEMORIES, "offset"), (f"{MEMORIES}/search", "limit")} <= names
    for method, path, where, name in parameters:
        assert where == "query"  # (no integer path parameter exists)
        base = _concrete(path, ids)
        extra = "&query=tea" if "search" in path else ""
        for value in HOSTILE:
            url = f"{base}?{name}={httpx.URL('', params={'v': value}).query.decode()[2:]}{extra}"
            response = client.request(method, url)
            assert response.status_code == 422, (path, name, value, response.text)
            [issue] = response.json()["detail"]
            assert issue["type"] == "int_parsing" and issue["loc"] == ["query", name], issue
        for value in PLAIN:
            response = client.request(method, f"{base}?{name}={value}{extra}")
            if response.status_code == 422:  # a range the route checks, never the spelling
                assert response.json()["detail"][0]["type"] != "int_parsing", (path, value)
            else:
                assert response.status_code == 200, (path, name, value, response.text)


def _lines_after_banner(server: Server, *wanted: str) -> list[str]:
    """The server's lines after its banner, once every `wanted` text is in them (its
    output is read by a thread of its own and may lag on a loaded machine), or all of
    them after 20 s."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not all(
        any(text in line for line in server.output) for text in wanted
    ):
        time.sleep(0.05)
    return "\n".join(server.output).split("Get an API key for a user", 1)[1].splitlines()[1:]


def test_a_keep_alive_client_goes_on_after_a_413(client: httpx.Client) -> None:
    """A 413 leaves the rest of the body unread, so it says `Connection: close`: the
    client's next request goes on a new connection instead of one the server drops
    (which answered "Server disconnected" now and then, as a race, before)."""
    for _ in range(20):
        refused = client.post(MEMORIES, content=b"x" * 2_000_000)
        assert refused.status_code == 413 and refused.headers["connection"] == "close"
        assert client.get(MEMORIES).status_code == 200


def test_every_answer_has_a_request_id_and_every_log_line_its_fields(
    running: Server, client: httpx.Client, memory_id: str
) -> None:
    answers = [
        client.get(MEMORIES),  # the fast path
        client.get(f"{MEMORIES}/{memory_id}"),
        client.get(f"{MEMORIES}/search?query=tea"),
        client.get(f"{MEMORIES}?limit=x"),  # 422
        client.get(f"{MEMORIES}/nope"),  # 404
        client.put(MEMORIES),  # 405
        client.get("/nowhere"),  # 404 of the router
        client.post(MEMORIES, content=b"x" * 2_000_000),  # 413
        client.get(MEMORIES, headers={"X-Big": "x" * 20_000}),  # 431
        httpx.get(client.base_url.join(MEMORIES)),  # 401
        client.head(MEMORIES),
        client.get("/healthz"),
    ]
    ids = [answer.headers.get("x-request-id") for answer in answers]
    assert all(value and _GENERATED_ID.fullmatch(value) for value in ids), ids
    assert len(set(ids)) == len(ids)
    # a well-formed id of the client's is kept; anything else is replaced
    kept = client.get(MEMORIES, headers={"X-Request-ID": "proxy-7.f_3"})
    assert kept.headers["x-request-id"] == "proxy-7.f_3"
    for sent in ["x" * 65, "a b", "a\u00e9", "", "id;drop", f"omi_dev_{'a' * 32}", "OMI_DEV_x"]:
        answer = client.get(MEMORIES, headers={"X-Request-ID": sent.encode("utf-8")})
        assert _GENERATED_ID.fullmatch(answer.headers["x-request-id"]), sent
    # a newline a client puts in the path cannot forge a log line (mnemo.logs escapes
    # control characters; this server's access log also keeps the path encoded)
    forged = client.get("/x%0a2026-01-01T00:00:00.000Z%20INFO%20[-]%20forged:%20hi")
    assert forged.status_code == 404
    lines = _lines_after_banner(running, *ids, "proxy-7.f_3", forged.headers["x-request-id"])
    for line in lines:
        if line.startswith("Traceback") or line.startswith(" "):
            continue
        assert _LINE.match(line), line
    access = {line.split("[", 1)[1].split("]", 1)[0]: line for line in lines if "access" in line}
    for value in [*ids, "proxy-7.f_3", forged.headers["x-request-id"]]:
        assert value in access, value
    assert not any(line.startswith("2026-01-01T00:00:00.000Z") for line in lines)
