"""Keys: the header, unknown and revoked keys, scopes, and that auth comes first."""

from __future__ import annotations

from pathlib import Path

import httpx

from mnemo.auth import admin_token_matches, hash_key
from mnemo.clock import now_us
from mnemo.store import READ_SCOPE, WRITE_SCOPE
from tests import pg
from tests.helpers import MEMORIES, create

MISSING = {"detail": "Missing or invalid Authorization header. Must be 'Bearer API_KEY'"}
INVALID = {"detail": "Invalid API Key"}


async def test_missing_or_malformed_header_is_401(client: httpx.AsyncClient, alice) -> None:
    key = alice["Authorization"].removeprefix("Bearer ")
    for headers in (
        {},
        {"Authorization": key},
        {"Authorization": "Basic abc"},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer   "},
        {"Authorization": f"Token {key}"},
    ):
        response = await client.get(MEMORIES, headers=headers)
        assert (response.status_code, response.json()) == (401, MISSING), headers


async def test_unknown_key_is_401(client, alice) -> None:
    for token in (
        "omi_dev_" + "0" * 32,
        "omi_dev_short",
        "sk-123",
        "omi_dev_" + "G" * 32,
        alice["Authorization"].removeprefix("Bearer ") + "0",
    ):
        response = await client.get(MEMORIES, headers={"Authorization": f"Bearer {token}"})
        assert (response.status_code, response.json()) == (401, INVALID), token


async def test_scheme_is_case_insensitive(client, alice) -> None:
    key = alice["Authorization"].removeprefix("Bearer ")
    response = await client.get(MEMORIES, headers={"Authorization": f"bearer {key}"})
    assert response.status_code == 200


async def test_revoked_key_stops_at_once(client, app, alice) -> None:
    await create(client, alice)
    store = app.state.mnemo.store
    (key,) = await store.list_keys()
    assert await store.revoke_key(key.id, now_us())
    response = await client.get(MEMORIES, headers=alice)
    assert (response.status_code, response.json()) == (401, INVALID)
    assert not await store.revoke_key(key.id, now_us())


async def test_scopes_are_enforced_per_method(client, make_key) -> None:
    writer = await make_key("carol")
    reader = await make_key("carol", scopes=[READ_SCOPE])
    write_only = await make_key("carol", scopes=[WRITE_SCOPE])
    memory = await create(client, writer)
    path = f"{MEMORIES}/{memory['id']}"
    need_write = {"detail": "Insufficient permissions. Required scope: memories:write"}
    need_read = {"detail": "Insufficient permissions. Required scope: memories:read"}
    for method, url, body in [
        ("POST", MEMORIES, {"content": "x"}),
        ("POST", f"{MEMORIES}/batch", {"memories": []}),
        ("PATCH", path, {"content": "x"}),
        ("DELETE", path, None),
    ]:
        response = await client.request(method, url, json=body, headers=reader)
        assert (response.status_code, response.json()) == (403, need_write), (method, url)
    for url in (MEMORIES, path):
        assert (await client.get(url, headers=reader)).status_code == 200
        response = await client.get(url, headers=write_only)
        assert (response.status_code, response.json()) == (403, need_read)
    assert (await client.get(path, headers=writer)).json() == memory


async def test_auth_is_checked_before_the_body(client, make_key) -> None:
    reader = await make_key("dave", scopes=[READ_SCOPE])
    bad_bodies = [b"{not json", b'{"content": ""}', b"x" * 10]
    for body in bad_bodies:
        response = await client.post(
            MEMORIES, content=body, headers={"Content-Type": "application/json"}
        )
        assert (response.status_code, response.json()) == (401, MISSING)
        response = await client.post(
            MEMORIES, content=body, headers={**reader, "Content-Type": "application/json"}
        )
        assert response.status_code == 403


async def test_keys_are_stored_only_as_hashes(app, alice, settings) -> None:
    secret = alice["Authorization"].removeprefix("Bearer ")
    rows = pg.fetch(settings.database_url, "SELECT key_hash, prefix FROM api_keys")
    assert rows == [(hash_key(secret), secret[:12])]
    if settings.database_url.startswith("sqlite:///"):
        path = Path(settings.database_url.removeprefix("sqlite:///"))
        assert secret.encode() not in path.read_bytes()


async def test_last_used_is_recorded(client, app, alice) -> None:
    store = app.state.mnemo.store
    (before,) = await store.list_keys()
    assert before.last_used_at is None
    await client.get(MEMORIES, headers=alice)
    await app.state.mnemo.authenticator.drain()  # written after the answer, not before
    (after,) = await store.list_keys()
    assert after.last_used_at is not None and after.last_used_at >= before.created_at


def test_admin_token_matches_only_the_configured_token() -> None:
    token = "t" * 40
    assert admin_token_matches(token, token)
    assert not admin_token_matches(token, token[:-1])
    assert not admin_token_matches(token, token + "t")
    assert not admin_token_matches(token, "")
    assert not admin_token_matches(None, "")  # none configured: nothing matches
    assert not admin_token_matches("", "")
