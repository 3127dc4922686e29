"""Documented bounds: body size, tags, hostile text."""

from __future__ import annotations

import httpx

from mnemo.models import MAX_TAG_CHARS, MAX_TAGS
from tests.helpers import MEMORIES, create, list_all

TOO_LARGE = {"detail": "Request body too large: the limit is 1048576 bytes"}


async def test_body_over_limit_is_413_by_header(client: httpx.AsyncClient, alice) -> None:
    body = b'{"content": "' + b"x" * 1_048_576 + b'"}'
    response = await client.post(MEMORIES, content=body, headers=alice)
    assert (response.status_code, response.json()) == (413, TOO_LARGE)
    assert response.headers["connection"] == "close"  # the unread rest: no reuse


async def test_streamed_body_over_limit_is_413(client, alice) -> None:
    async def chunks():
        yield b'{"content": "'
        for _ in range(40):
            yield b"x" * 65_536
        yield b'"}'

    response = await client.post(MEMORIES, content=chunks(), headers=alice)
    assert (response.status_code, response.json()) == (413, TOO_LARGE)
    assert response.headers["connection"] == "close"
    assert await list_all(client, alice) == []


async def test_body_just_under_limit_reaches_validation(client, alice) -> None:
    body = b'{"content": "' + b"x" * 1_000_000 + b'"}'
    response = await client.post(MEMORIES, content=body, headers=alice)
    assert response.status_code == 422


async def test_tag_limits(client, alice) -> None:
    await create(client, alice, tags=[f"t{i}" for i in range(MAX_TAGS)])
    await create(client, alice, tags=["a" * MAX_TAG_CHARS])
    for tags, error in [
        ([f"t{i}" for i in range(MAX_TAGS + 1)], "too_long"),
        (["a" * (MAX_TAG_CHARS + 1)], "string_too_long"),
        (["ok", "  "], "string_too_short"),
        (["ok", 3], "string_type"),
    ]:
        response = await client.post(MEMORIES, json={"content": "x", "tags": tags}, headers=alice)
        assert response.status_code == 422
        assert response.json()["detail"][0]["type"] == error


async def test_nul_and_lone_surrogates_are_rejected(client, alice) -> None:
    for raw in (
        b'{"content": "a\\u0000b"}',
        b'{"content": "a\\ud800b"}',
        b'{"content": "ok", "tags": ["\\udfff"]}',
        b'{"content": "ok", "tags": ["a\\u0000"]}',
    ):
        response = await client.post(
            MEMORIES, content=raw, headers={**alice, "Content-Type": "application/json"}
        )
        assert response.status_code == 422, raw
        assert response.json()["detail"][0]["type"] in ("value_error", "string_unicode")
    assert await list_all(client, alice) == []


async def test_unicode_and_injection_strings_round_trip(client, alice) -> None:
    for content in (
        "Usuário é vegetariano 🥦",
        "Robert'); DROP TABLE memories;--",
        "line\nbreak\ttab",
        "<script>alert(1)</script>",
        "%s %d {0} $1",
    ):
        memory = await create(client, alice, content=content, tags=[content[:10]])
        fetched = await client.get(f"{MEMORIES}/{memory['id']}", headers=alice)
        assert fetched.json()["content"] == content
