"""Omi's MCP REST routes against a real `mnemo serve`, as Omi's MCP server calls them:
create, list, search, edit, delete with a full key; a read-only key refused on writes; a
revoked key refused on the next request."""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.server import Server, run_cli

pytestmark = pytest.mark.e2e

MCP = "/v1/mcp/memories"


def _key(server: Server, *args: str) -> str:
    made = run_cli("keys", "create", "--database-url", server.database_url, *args)
    assert made.returncode == 0, made.stderr
    return made.stdout.strip().splitlines()[-1]


def test_omi_mcp_routes_against_a_real_server(server: Server) -> None:
    assert server.first_key
    full = {"Authorization": f"Bearer {server.first_key}"}
    reader_key = _key(server, "--user", "default", "--scopes", "memories:read")
    reader = {"Authorization": f"Bearer {reader_key}"}
    with httpx.Client(base_url=server.base, timeout=30) as http:
        created = http.post(
            MCP, json={"content": "User is vegetarian", "category": "work"}, headers=full
        )
        assert created.status_code == 200, created.text
        memory = created.json()
        assert memory["category"] in ("system", "interesting")
        listed = http.get(MCP, headers=reader).json()
        assert listed == [
            {"id": memory["id"], "content": "User is vegetarian", "category": memory["category"]}
        ]
        found = http.get(f"{MCP}/search", params={"query": "what should I cook?"}, headers=reader)
        assert [m["id"] for m in found.json()] == [memory["id"]]
        refused = http.patch(
            f"{MCP}/{memory['id']}", params={"value": "User eats fish"}, headers=reader
        )
        assert refused.status_code == 403
        edited = http.patch(
            f"{MCP}/{memory['id']}", params={"value": "User is vegan"}, headers=full
        )
        assert edited.json() == {"status": "ok"}
        assert http.get(MCP, headers=reader).json()[0]["content"] == "User is vegan"
        assert http.delete(f"{MCP}/{memory['id']}", headers=full).json() == {"status": "ok"}
        assert http.get(MCP, headers=reader).json() == []
        key_id = http.get("/v1/dev/key", headers=reader).json()["id"]
        revoked = run_cli("keys", "revoke", key_id, "--database-url", server.database_url)
        assert revoked.returncode == 0, revoked.stderr
        assert http.get(MCP, headers=reader).status_code == 401
