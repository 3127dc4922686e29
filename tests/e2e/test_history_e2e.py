"""History through a real `mnemo serve` on 2 workers, both backends: changes made on
either process are recorded once each, in order, with the key that made them; the
history of a deleted memory keeps no content; another user's id is a 404."""

from __future__ import annotations

import httpx

from tests.e2e.server import Server, run_cli, start_server
from tests.helpers import MEMORIES


def _key(server: Server, user: str) -> dict[str, str]:
    created = run_cli(
        "keys", "create", "--user", user, env={"MNEMO_DATABASE_URL": server.database_url}
    )
    assert created.returncode == 0, created.stderr
    secret = next(w for w in created.stdout.split() if w.startswith("omi_dev_"))
    return {"Authorization": f"Bearer {secret}"}


def test_history_across_a_real_server(database_url: str) -> None:
    server = start_server(database_url, workers=2)
    try:
        _check(server, {"Authorization": f"Bearer {server.first_key}"})
    finally:
        server.stop()


def _check(server: Server, auth: dict[str, str]) -> None:
    with httpx.Client(base_url=server.base, headers=auth, timeout=30) as client:
        memory = client.post(MEMORIES, json={"content": "User collects stamps"}).json()
        path = f"{MEMORIES}/{memory['id']}"
        for n in range(4):  # several requests: spread over both workers
            response = client.patch(path, json={"content": f"User collects coins {n}"})
            assert response.status_code == 200
        entries = client.get(f"{path}/history").json()
        assert [e["action"] for e in entries] == ["created"] + ["updated"] * 4
        assert len({e["actor"] for e in entries}) == 1
        assert entries[-1]["changes"]["content"] == {
            "old": "User collects coins 2",
            "new": "User collects coins 3",
        }
        other = client.get(f"{path}/history", headers=_key(server, "mallory"))
        assert other.status_code == 404 and other.json() == {"detail": "Memory not found"}
        assert client.delete(path).status_code == 200
        after = client.get(f"{path}/history")
        assert after.status_code == 200
        assert [e["action"] for e in after.json()][-1] == "deleted"
        assert "stamps" not in after.text and "coins" not in after.text
