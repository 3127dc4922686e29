"""`mnemo search` and `mnemo reindex` on a database a running server wrote."""

from __future__ import annotations

import json

import httpx

from tests.e2e.server import run_cli, start_server
from tests.helpers import MEMORIES


def test_search_and_reindex_commands(database_url: str) -> None:
    server = start_server(database_url)
    try:
        headers = {"Authorization": f"Bearer {server.first_key}"}
        for content in (
            "User's sister Sarah lives in Portland",
            "User is vegetarian",
            "User drives a blue Subaru",
        ):
            assert (
                httpx.post(
                    f"{server.base}{MEMORIES}", json={"content": content}, headers=headers
                ).status_code
                == 200
            )
    finally:
        server.stop()
    found = run_cli(
        "search",
        "--user",
        "default",
        "where does her family live",
        "--limit",
        "2",
        "--database-url",
        database_url,
    )
    assert found.returncode == 0, found.stderr
    lines = [json.loads(line) for line in found.stdout.splitlines()]
    assert len(lines) == 2 and lines[0]["content"] == "User's sister Sarah lives in Portland"
    assert set(lines[0]) == {"id", "relevance_score", "category", "content"}
    reindexed = run_cli("reindex", "--database-url", database_url)
    assert reindexed.returncode == 0 and reindexed.stdout.strip() == "reindexed 3 memories"
    again = run_cli("search", "--user", "default", "Subaru", "--database-url", database_url)
    assert json.loads(again.stdout.splitlines()[0])["content"] == "User drives a blue Subaru"
    strict = ["search", "--user", "default", "Subaru", "--min-score", "1"]
    none = run_cli(*strict, "--database-url", database_url)
    assert none.returncode == 0 and none.stdout == ""  # no score reaches 1
    nobody = run_cli("search", "--user", "ghost", "x", "--database-url", database_url)
    assert nobody.returncode == 1 and "no user named 'ghost' in " in nobody.stderr
    empty = run_cli("search", "--user", "default", "  ", "--database-url", database_url)
    assert empty.returncode == 2 and "1-1000 characters" in empty.stderr
