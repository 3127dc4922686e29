"""`mnemo export` and `mnemo import` move a live SQLite database (memories, conversations,
action items) to PostgreSQL and back."""

from __future__ import annotations

import httpx

from tests import pg
from tests.api.test_conversations import FACTUAL
from tests.e2e.server import run_cli, start_server
from tests.helpers import MEMORIES

CONVERSATIONS = "/v1/dev/user/conversations"
ACTION_ITEMS = "/v1/dev/user/action-items"


def _read_all(base: str, headers: dict[str, str], conversation_id: str) -> list[object]:
    """What the API answers of the user's memories, conversations and action items."""
    reads = [
        (MEMORIES, {"limit": 100}),
        (CONVERSATIONS, {"include_transcript": "true"}),
        (f"{CONVERSATIONS}/{conversation_id}", {}),
        (ACTION_ITEMS, {}),
        (MEMORIES, {"conversation_id": conversation_id}),
    ]
    answers = []
    for path, params in reads:
        answer = httpx.get(f"{base}{path}", headers=headers, params=params)
        assert answer.status_code == 200, answer.text
        answers.append(answer.json())
    return answers


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
        talk = httpx.post(
            f"{source.base}{CONVERSATIONS}", json={"text": FACTUAL}, headers=headers, timeout=30
        )
        assert talk.status_code == 200, talk.text
        extracted = talk.json()
        assert extracted["memories"] and extracted["action_items"]
        task = {"description": "Buy milk"}
        assert httpx.post(f"{source.base}{ACTION_ITEMS}", json=task, headers=headers).is_success
        before = _read_all(source.base, headers, extracted["id"])
    finally:
        source.stop()
    memories = 30 + len(extracted["memories"])
    items = 1 + len(extracted["action_items"])

    dump = tmp_path / "dump.jsonl"
    exported = run_cli("export", "--output", str(dump), "--database-url", sqlite_url)
    assert exported.returncode == 0, exported.stderr
    # 1 user, 1 key, 1 conversation, its action items and one more, the memories
    assert f"exported {3 + items + memories} records" in exported.stderr
    assert source.first_key not in dump.read_text()

    schema, pg_url = pg.create_schema()
    try:
        for attempt in (1, 2):
            imported = run_cli("import", str(dump), "--database-url", pg_url)
            assert imported.returncode == 0, imported.stderr
            first = attempt == 1
            for plural, n in (
                ("conversations", 1),
                ("action items", items),
                ("memories", memories),
            ):
                added, there = (n, 0) if first else (0, n)
                assert f"{plural}: {added} added, {there} already there" in imported.stdout
        target = start_server(pg_url)
        try:
            assert target.first_key is None  # the imported key is there, so none was made
            assert _read_all(target.base, headers, extracted["id"]) == before
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
