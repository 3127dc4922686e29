"""Action items through a real `mnemo serve` on 2 workers, both backends: batches sent
at once through both processes are each stored whole, the list sees every item, a key
made by `mnemo keys create --scopes action_items:read` reads but cannot write, and a
deleted item is gone for every worker."""

from __future__ import annotations

import asyncio

import httpx

from tests.e2e.server import _KEY, run_cli, start_server

URL = "/v1/dev/user/action-items"
BATCHES = 8
PER_BATCH = 50


def _key(database_url: str, *options: str) -> dict[str, str]:
    """The headers of a new key of user `e2e`, made by `mnemo keys create`."""
    env = {"MNEMO_DATABASE_URL": database_url}
    made = run_cli("keys", "create", "--user", "e2e", *options, env=env)
    assert made.returncode == 0, made.stderr
    found = _KEY.search(made.stdout)
    assert found is not None, made.stdout
    return {"Authorization": f"Bearer {found.group(0)}"}


def test_action_items_across_workers_and_cli_scopes(database_url: str) -> None:
    server = start_server(database_url, workers=2)
    try:
        headers = _key(database_url)  # every scope, by default
        reader = _key(database_url, "--scopes", "action_items:read")

        async def main() -> None:
            limits = httpx.Limits(max_connections=BATCHES)
            async with httpx.AsyncClient(
                base_url=server.base, headers=headers, timeout=60, limits=limits
            ) as client:
                answers = await asyncio.gather(
                    *[
                        client.post(
                            f"{URL}/batch",
                            json={
                                "action_items": [
                                    {"description": f"Task {b}-{i}"} for i in range(PER_BATCH)
                                ]
                            },
                        )
                        for b in range(BATCHES)
                    ]
                )
                assert [a.status_code for a in answers] == [200] * BATCHES
                assert all(a.json()["created_count"] == PER_BATCH for a in answers)
                listed = await client.get(URL, params={"limit": 1000})
                assert len(listed.json()) == BATCHES * PER_BATCH
                descriptions = {item["description"] for item in listed.json()}
                assert descriptions == {
                    f"Task {b}-{i}" for b in range(BATCHES) for i in range(PER_BATCH)
                }

                seen = await client.get(URL, params={"limit": 1}, headers=reader)
                assert seen.status_code == 200 and len(seen.json()) == 1
                refused = await client.post(URL, json={"description": "x"}, headers=reader)
                assert refused.status_code == 403
                assert refused.json() == {
                    "detail": "Insufficient permissions. Required scope: action_items:write"
                }

                target = seen.json()[0]["id"]
                deleted = await client.delete(f"{URL}/{target}")
                assert deleted.json() == {"success": True}
                for _ in range(4):  # whichever worker answers
                    again = await client.patch(f"{URL}/{target}", json={"completed": True})
                    assert again.status_code == 404
                    assert again.json() == {"detail": "Action item not found"}

        asyncio.run(main())
        keys = run_cli("keys", "list", env={"MNEMO_DATABASE_URL": database_url})
        assert "action_items:read" in keys.stdout, keys.stdout
    finally:
        server.stop()
