"""`mnemo backup` / `mnemo restore` (SQLite) against a real server, and their CLI errors;
PostgreSQL's pg_dump / pg_restore once end to end."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import threading
from pathlib import Path

import httpx
import pytest

from mnemo.cli_support import EXIT_USAGE
from mnemo.store import migrations
from tests import pg
from tests.e2e.server import run_cli, start_server

MEMORIES = "/v1/dev/user/memories"


def test_backup_during_writes_is_complete_and_restores(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/live.db"
    server = start_server(url)
    acknowledged: list[str] = []
    stop = threading.Event()
    try:
        headers = {"Authorization": f"Bearer {server.first_key}"}

        def write() -> None:
            with httpx.Client(base_url=server.base, headers=headers, timeout=30) as c:
                n = 0
                while not stop.is_set():
                    r = c.post(MEMORIES, json={"content": f"User fact number {n} about owls"})
                    assert r.status_code == 200, r.text
                    acknowledged.append(r.json()["id"])
                    n += 1

        writer = threading.Thread(target=write)
        writer.start()
        while len(acknowledged) < 20:
            stop.wait(0.05)
        before = list(acknowledged)  # every write acknowledged before the backup started
        done = run_cli("backup", str(tmp_path / "copy.db"), "--database-url", url)
        assert done.returncode == 0, done.stderr
        stop.set()
        writer.join()
    finally:
        stop.set()
        server.stop()
    assert not (tmp_path / "copy.db-wal").exists()
    with sqlite3.connect(tmp_path / "copy.db") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)

    restored_url = f"sqlite:///{tmp_path}/restored.db"
    done = run_cli("restore", str(tmp_path / "copy.db"), "--database-url", restored_url)
    assert done.returncode == 0, done.stderr
    again = start_server(restored_url)
    try:
        with httpx.Client(base_url=again.base, headers=headers, timeout=30) as c:
            listed = c.get(MEMORIES, params={"limit": 1000}).json()
            ids = {m["id"] for m in listed}
            assert set(before) <= ids <= set(acknowledged)
            found = c.get(f"{MEMORIES}/search", params={"query": "owls", "limit": 5}).json()
            assert found["items"] and {i["id"] for i in found["items"]} <= ids
    finally:
        again.stop()


def _fails(*args: str) -> str:
    done = run_cli(*args)
    assert done.returncode == EXIT_USAGE, (done.returncode, done.stderr)
    assert "Traceback" not in done.stderr and done.stderr.startswith("error: ")
    return done.stderr


def test_cli_mistakes_are_one_line_and_change_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/m.db"
    assert run_cli("migrate", "--database-url", url).returncode == 0
    copy = tmp_path / "b.db"
    assert run_cli("backup", str(copy), "--database-url", url).returncode == 0
    first = copy.read_bytes()
    assert "--force" in _fails("backup", str(copy), "--database-url", url)
    assert copy.read_bytes() == first
    assert run_cli("backup", str(copy), "--force", "--database-url", url).returncode == 0
    assert "--force" in _fails("restore", str(copy), "--database-url", url)
    assert "no folder" in _fails("backup", str(tmp_path / "no" / "b.db"), "--database-url", url)
    assert "no database" in _fails("backup", str(copy), "--database-url", url + "x")

    target = f"sqlite:///{tmp_path}/new.db"
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database\x00" * 100)
    assert "not a SQLite database" in _fails("restore", str(junk), "--database-url", target)
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.commit()
    assert "not a mnemo database" in _fails("restore", str(other), "--database-url", target)
    newer = tmp_path / "newer.db"
    shutil.copy(copy, newer)
    with sqlite3.connect(newer) as conn:
        conn.execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, 'future', '')",
            (len(migrations.load("sqlite")) + 1,),
        )
    assert "upgrade mnemo" in _fails("restore", str(newer), "--database-url", target)
    assert "no backup" in _fails("restore", str(tmp_path / "none.db"), "--database-url", target)
    assert not (tmp_path / "new.db").exists()
    assert "pg_dump" in _fails("backup", str(tmp_path / "p.db"), "--database-url", pg.SERVER)
    assert run_cli("restore", str(copy), "--force", "--database-url", url).returncode == 0


@pytest.mark.skipif(
    not (shutil.which("pg_dump") and shutil.which("pg_restore")),
    reason="pg_dump and pg_restore are not installed",
)
def test_pg_dump_and_pg_restore_round_trip() -> None:
    schema, url = pg.create_schema()
    restored = f"{schema}_restored"
    try:
        assert run_cli("users", "create", "alice", "--database-url", url).returncode == 0
        dump = subprocess.run(
            ["pg_dump", "-Fc", "-n", schema, pg.SERVER], capture_output=True, check=True
        ).stdout
        pg.run_sql(schema, f'ALTER SCHEMA "{schema}" RENAME TO "{restored}"')
        subprocess.run(["pg_restore", "-d", pg.SERVER], input=dump, capture_output=True, check=True)
        listed = run_cli("users", "list", "--database-url", url)
        assert listed.returncode == 0 and "alice" in listed.stdout
    finally:
        pg.drop_schema(restored)
        pg.drop_schema(schema)
