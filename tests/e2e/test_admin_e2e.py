"""The admin API against a real `mnemo serve` (both backends): the operator provisions a
user and a key over HTTP, the key works, the audit trail is in the server's log (at
INFO although the server logs at warning), and erasing the user locks the key out; the
`mnemo users delete` command does the same through the same service layer."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.server import Server, run_cli, start_server
from tests.helpers import MEMORIES

TOKEN = "a0" * 20
ADMIN = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def admin_server(database_url: str) -> Iterator[Server]:
    running = start_server(database_url, extra_env={"MNEMO_ADMIN_TOKEN": TOKEN})
    try:
        yield running
    finally:
        running.stop()


def _audit_lines(server: Server, count: int) -> list[str]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        lines = [line for line in server.output if "mnemo.audit:" in line]
        if len(lines) >= count:
            return lines
        time.sleep(0.05)
    raise AssertionError("\n".join(server.output))


def test_the_operator_provisions_and_erases_a_user_over_http(admin_server: Server) -> None:
    with httpx.Client(base_url=admin_server.base, timeout=30) as http:
        assert http.get("/v1/admin/users").status_code == 401
        assert http.post("/v1/admin/users", json={"name": "alice"}, headers=ADMIN).is_success
        created = http.post("/v1/admin/users/alice/keys", json={"name": "app"}, headers=ADMIN)
        key = created.json()["key"]
        alice = {"Authorization": f"Bearer {key}"}
        assert http.post(MEMORIES, json={"content": "User likes tea"}, headers=alice).is_success
        assert http.get("/v1/dev/key", headers=alice).json()["name"] == "app"
        users = http.get("/v1/admin/users", headers=ADMIN).json()
        assert {u["name"]: u["memory_count"] for u in users}["alice"] == 1
        exported = http.get("/v1/admin/export", params={"user": "alice"}, headers=ADMIN)
        assert exported.text.count("\n") == 3  # user, key, memory
        deleted = http.delete("/v1/admin/users/alice", headers=ADMIN)
        assert deleted.json() == {"success": True, "deleted_memories": 1}
        assert http.get(MEMORIES, headers=alice).status_code == 401
        back = http.post("/v1/admin/import", content=exported.content, headers=ADMIN)
        assert back.json()["added"] == {
            "user": 1,
            "key": 1,
            "conversation": 0,
            "action_item": 0,
            "memory": 1,
        }
        assert [m["content"] for m in http.get(MEMORIES, headers=alice).json()] == [
            "User likes tea"
        ]
    lines = _audit_lines(admin_server, 7)
    assert "who=unauthenticated" in lines[0] and "outcome=401" in lines[0]
    assert "who=admin" in lines[1] and "action=createUser POST /v1/admin/users" in lines[1]
    assert any("action=deleteUser DELETE /v1/admin/users/alice outcome=200" in x for x in lines)
    assert TOKEN not in "\n".join(admin_server.output)
    assert key not in "\n".join(admin_server.output)


def test_the_cli_deletes_a_user_only_with_yes(admin_server: Server) -> None:
    url = ["--database-url", admin_server.database_url]
    made = run_cli("keys", "create", "--user", "bob", *url)
    assert made.returncode == 0, made.stderr
    bob = {"Authorization": f"Bearer {made.stdout.split()[-1]}"}
    refused = run_cli("users", "delete", "bob", *url)
    assert refused.returncode == 2
    assert refused.stderr.strip() == (
        "error: deleting user 'bob' erases all their memories and keys for good:"
        " add --yes to confirm"
    )
    assert httpx.get(f"{admin_server.base}{MEMORIES}", headers=bob).status_code == 200
    done = run_cli("users", "delete", "bob", "--yes", *url)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "Deleted user 'bob' and 0 memories"
    assert httpx.get(f"{admin_server.base}{MEMORIES}", headers=bob).status_code == 401
    missing = run_cli("users", "delete", "bob", "--yes", *url)
    assert missing.returncode == 1 and "no user named 'bob'" in missing.stderr
    assert "Traceback" not in missing.stderr + refused.stderr
