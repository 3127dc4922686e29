"""One test pins the error body on every failure path: JSON with a `detail` that is a
string (or FastAPI's validation list for 422), nothing else, never a trace."""

from __future__ import annotations

from collections.abc import Sequence

import httpx
import pytest

from mnemo import create_app
from mnemo.categorize import Categorization
from tests.helpers import MEMORIES, create

FORBIDDEN_WORDS = ("Traceback", 'File "', "sqlite", "SELECT", "asyncpg", "/work/", "/tmp/")


def _assert_error_shape(response: httpx.Response, status: int) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"detail"}, body
    detail = body["detail"]
    if status == 422 and isinstance(detail, list):
        assert detail and all({"type", "loc", "msg"} <= set(item) for item in detail)
    else:
        assert isinstance(detail, str) and detail
    for word in FORBIDDEN_WORDS:
        assert word not in response.text


async def test_every_failure_path_has_the_one_error_shape(
    client: httpx.AsyncClient, make_key, alice, bob
) -> None:
    reader = await make_key("alice", scopes=["memories:read"])
    memory = await create(client, alice)
    path = f"{MEMORIES}/{memory['id']}"
    json_header = {"Content-Type": "application/json"}
    cases: list[tuple[str, str, dict[str, str], object, int]] = [
        ("GET", MEMORIES, {}, None, 401),
        ("GET", MEMORIES, {"Authorization": "Bearer omi_dev_" + "1" * 32}, None, 401),
        ("POST", MEMORIES, reader, {"content": "x"}, 403),
        ("GET", f"{MEMORIES}/nope", alice, None, 404),
        ("GET", path, bob, None, 404),
        ("PATCH", f"{MEMORIES}/nope", alice, {"content": "x"}, 404),
        ("DELETE", f"{MEMORIES}/nope", alice, None, 404),
        ("GET", "/no/such/path", {}, None, 404),
        ("PUT", MEMORIES, alice, {"content": "x"}, 405),
        ("GET", MEMORIES, alice, {"categories": "bogus"}, 400),
        ("GET", MEMORIES + "?limit=x", alice, None, 422),
        ("POST", MEMORIES, alice, {"content": ""}, 422),
        ("POST", MEMORIES, alice, {"content": "   "}, 422),
        ("POST", MEMORIES, alice, {"content": "ok", "tags": ["a" * 65]}, 422),
        ("POST", f"{MEMORIES}/batch", alice, {"memories": [{"content": " "}]}, 422),
        ("POST", f"{MEMORIES}/batch", alice, {"memories": "nope"}, 422),
        ("PATCH", path, alice, {}, 422),
        ("PATCH", path, alice, {"visibility": "x"}, 422),
        ("PATCH", path, alice, {"content": "x" * 501}, 422),
        ("PATCH", path, alice, [], 422),
    ]
    for method, url, headers, body, status in cases:
        if method == "GET" and isinstance(body, dict):
            response = await client.get(url, params=body, headers=headers)
        else:
            response = await client.request(method, url, json=body, headers=headers)
        _assert_error_shape(response, status)
    for raw in (b"{", b"[1, 2", b"\xff\xfe", b'{"content": "\xc3\x28"}', b"null"):
        response = await client.post(MEMORIES, content=raw, headers={**alice, **json_header})
        _assert_error_shape(response, 422)
    big = b'{"content": "' + b"x" * 2_000_000 + b'"}'
    _assert_error_shape(await client.post(MEMORIES, content=big, headers=alice), 413)


class _ExplodingCategorizer:
    async def categorize(self, contents: Sequence[str]) -> list[Categorization]:
        raise RuntimeError("boom at /srv/secret/path SELECT * FROM memories")


async def test_unexpected_exception_is_a_masked_500(
    settings, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(settings, categorizer=_ExplodingCategorizer())
    async with app.router.lifespan_context(app):
        from mnemo.accounts import issue_key

        _, secret = await issue_key(app.state.mnemo.store, "erin")
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            response = await client.post(
                MEMORIES,
                json={"content": "no category given"},
                headers={"Authorization": f"Bearer {secret}"},
            )
    assert response.status_code == 500
    assert response.json() == {"detail": "Internal Server Error"}
    assert "boom at /srv/secret/path" in caplog.text  # the cause is logged, not sent
