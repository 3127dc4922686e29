"""The service as a user runs it: first start, CLI keys, options, revocation."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import time

import httpx
import pytest

from mnemo.store.migrations import load
from tests.e2e.server import Server, run_cli, start_server
from tests.helpers import MEMORIES


def test_first_start_prints_one_key_and_a_curl_line_that_works(server: Server) -> None:
    text = "\n".join(server.output)
    assert f"Listening on http://127.0.0.1:{server.port}" in text
    assert "mnemo keys create --user NAME" in text
    curl_lines = [line.strip() for line in server.output if line.strip().startswith("curl ")]
    assert len(curl_lines) == 1 and server.first_key in curl_lines[0]
    if shutil.which("curl"):
        result = subprocess.run(
            [*shlex.split(curl_lines[0]), "-s", "-w", "\n%{http_code}"],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert result.stdout.splitlines()[-1] == "200"
        assert result.stdout.splitlines()[0] == "[]"
    else:
        response = httpx.get(
            f"{server.base}{MEMORIES}", headers={"Authorization": f"Bearer {server.first_key}"}
        )
        assert response.json() == []


def test_second_start_prints_no_new_key(server: Server) -> None:
    first = server.first_key
    server.stop()
    again = start_server(server.database_url)
    try:
        assert again.first_key is None
        response = httpx.get(
            f"{again.base}{MEMORIES}", headers={"Authorization": f"Bearer {first}"}
        )
        assert response.status_code == 200
    finally:
        again.stop()


def test_keys_create_list_revoke_against_a_running_server(database_url: str) -> None:
    server = start_server(database_url, workers=2)
    try:
        created = run_cli(
            "keys", "create", "--user", "alice", "--name", "laptop", "--database-url", database_url
        )
        assert created.returncode == 0, created.stderr
        secret = created.stdout.strip().splitlines()[-1]
        assert secret.startswith("omi_dev_") and len(secret) == 40
        read_only = (
            run_cli(
                "keys",
                "create",
                "--user",
                "alice",
                "--scopes",
                "memories:read",
                "--database-url",
                database_url,
            )
            .stdout.strip()
            .splitlines()[-1]
        )
        headers = {"Authorization": f"Bearer {secret}"}
        made = httpx.post(
            f"{server.base}{MEMORIES}", json={"content": "User likes chess"}, headers=headers
        )
        assert made.status_code == 200
        denied = httpx.post(
            f"{server.base}{MEMORIES}",
            json={"content": "x"},
            headers={"Authorization": f"Bearer {read_only}"},
        )
        assert denied.status_code == 403

        listing = run_cli("keys", "list", "--database-url", database_url)
        assert listing.returncode == 0
        assert secret not in listing.stdout and read_only not in listing.stdout
        rows = [line.split() for line in listing.stdout.splitlines()[1:]]
        alice_rows = [row for row in rows if row[1] == "alice"]
        assert len(alice_rows) == 2
        key_id = next(row[0] for row in alice_rows if row[2] == "laptop")
        assert secret[:12] + "..." in listing.stdout

        revoked = run_cli("keys", "revoke", key_id, "--database-url", database_url)
        assert revoked.returncode == 0, revoked.stderr
        # Every worker refuses it from the next request on.
        with httpx.Client() as client:
            for _ in range(20):
                response = client.get(f"{server.base}{MEMORIES}", headers=headers)
                assert response.status_code == 401
                client.close()
                client = httpx.Client()
        again = run_cli("keys", "revoke", key_id, "--database-url", database_url)
        assert again.returncode == 1
        assert f"no active key with id '{key_id}' in " in again.stderr
    finally:
        server.stop()


def test_keys_create_rejects_bad_scopes_and_names(tmp_path) -> None:
    url = f"sqlite:///{tmp_path}/k.db"
    bad_scope = run_cli(
        "keys", "create", "--user", "a", "--scopes", "memories:admin", "--database-url", url
    )
    assert bad_scope.returncode == 2 and "Unknown scope" in bad_scope.stderr
    bad_name = run_cli("keys", "create", "--user", "no spaces", "--database-url", url)
    assert bad_name.returncode == 2 and "user name" in bad_name.stderr
    assert "Traceback" not in bad_scope.stderr + bad_name.stderr


def test_settings_from_environment(tmp_path) -> None:
    url = f"sqlite:///{tmp_path}/env.db"
    server = start_server(url, workers=2, via_env=True)
    try:
        text = "\n".join(server.output)
        assert f"on {url}" in text and f"127.0.0.1:{server.port} (2 workers)" in text
    finally:
        server.stop()
    # A flag wins over the environment.
    other = f"sqlite:///{tmp_path}/flag.db"
    server = start_server(other, extra_env={"MNEMO_DATABASE_URL": url})
    try:
        assert f"on {other}" in "\n".join(server.output)
    finally:
        server.stop()


def test_migrate_and_help(tmp_path) -> None:
    url = f"sqlite:///{tmp_path}/nested/dir/m.db"
    migrated = run_cli("migrate", "--database-url", url)
    assert migrated.returncode == 0
    assert migrated.stdout.strip() == f"schema version {len(load('sqlite'))}"
    assert (tmp_path / "nested" / "dir" / "m.db").exists()
    for command in (
        [],
        ["serve"],
        ["migrate"],
        ["keys"],
        ["keys", "create"],
        ["keys", "list"],
        ["keys", "revoke"],
        ["users"],
        ["users", "list"],
        ["users", "create"],
    ):
        result = run_cli(*command, "--help")
        assert result.returncode == 0 and "Usage" in result.stdout, command
    users = run_cli("users", "list", "--database-url", url)
    assert users.returncode == 0 and users.stdout.startswith("NAME")
    bad = run_cli("migrate", "--database-url", "mysql://nope")
    assert bad.returncode == 2 and "unsupported database URL" in bad.stderr


def _wait_for(server: Server, text: str) -> str:
    """The server's output once a line holding `text` is in it (the output is read by a
    thread of its own), or all of it after 20 s."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not any(text in line for line in server.output):
        time.sleep(0.05)
    return "\n".join(server.output)


_STOPPED = "Granian shutdown completed"  # the server's last line at `info`


@pytest.mark.parametrize("on", [False, True])
def test_the_access_log_is_off_unless_asked_for(tmp_path, on: bool) -> None:
    env = {"MNEMO_ACCESS_LOG": "true"} if on else {}
    server = start_server(f"sqlite:///{tmp_path}/m.db", extra_env=env, log_level="info")
    try:
        assert httpx.get(f"{server.base}/healthz").status_code == 200
    finally:
        server.stop()
    output = _wait_for(server, _STOPPED)
    assert _STOPPED in output
    assert ('"GET /healthz HTTP/1.1" 200' in output) is on, output
