"""`mnemo export` and `mnemo import` move a live SQLite database to PostgreSQL and back."""

from __future__ import annotations

import httpx

from tests import pg
from tests.e2e.server import run_cli, start_server
from tests.helpers import MEMORIES


def test_sqlite_to_postgres_and_back(tmp_path) -> None:
    sqlite_url = f"sqlite:///{tmp_path}/source.db"
    source = start_server(sqlite_url)
    headers = {"Authorization": f"Bearer {source.first_key}"}
    try:
        for i in range(30):
            body = {"content": f"User fact {i} ✓", "category": "system", "tags": [f"t{i}"]}
            assert (
                httpx.post(f"{source.base}{MEMORIES}", json=body, headers=headers).status_code
                == 200
            )
        before = httpx.get(
            f"{source.base}{MEMORIES}", headers=headers, params={"limit": 100}
        ).json()
    finally:
        source.stop()

    dump = tmp_path / "dump.jsonl"
    exported = run_cli("export", "--output", str(dump), "--database-url", sqlite_url)
    assert exported.returncode == 0, exported.stderr
    assert "exported 32 records" in exported.stderr  # 1 user, 1 key, 30 memories
    assert source.first_key not in dump.read_text()

    schema, pg_url = pg.create_schema()
    try:
        for attempt in (1, 2):
            imported = run_cli("import", str(dump), "--database-url", pg_url)
            assert imported.returncode == 0, imported.stderr
            added = 30 if attempt == 1 else 0
            assert f"memories: {added} added, {30 - added} already there" in imported.stdout
        target = start_server(pg_url)
        try:
            assert target.first_key is None  # the imported key is there, so none was made
            after = httpx.get(
                f"{target.base}{MEMORIES}", headers=headers, params={"limit": 100}
            ).json()
            assert after == before
        finally:
            target.stop()

        back = tmp_path / "back.jsonl"
        assert run_cli("export", "-o", str(back), "--database-url", pg_url).returncode == 0
        assert back.read_text() == dump.read_text()
        restored_url = f"sqlite:///{tmp_path}/restored.db"
        assert run_cli("import", str(back), "--database-url", restored_url).returncode == 0
        restored = run_cli("export", "--database-url", restored_url)
        assert restored.stdout == dump.read_text()
    finally:
        pg.drop_schema(schema)


def test_import_reports_bad_input_without_a_traceback(tmp_path) -> None:
    url = f"sqlite:///{tmp_path}/x.db"
    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        '{"kind": "user", "id": "u1", "name": "ann", "created_at": "2026-01-01T00:00:00Z"}\n{oops\n'
    )
    result = run_cli("import", str(bad), "--database-url", url)
    assert result.returncode == 2
    assert "line 2" in result.stderr and "Traceback" not in result.stderr
    missing = run_cli("import", str(tmp_path / "nope.jsonl"), "--database-url", url)
    assert missing.returncode == 3 and "no such file" in missing.stderr
