"""Conversations against a real `mnemo serve`: extraction by a real local language-model
HTTP server and its failure fallback, and the one-transaction rule under `kill -9` (a
crash never leaves a conversation without its memories, nor a memory pointing to a
missing conversation)."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.categorize.llm_server import RunningServer
from tests.e2e.server import Server, start_server
from tests.extract.test_llm import ExtractionLLM
from tests.helpers import MEMORIES

URL = "/v1/dev/user/conversations"
ACTION_ITEMS = "/v1/dev/user/action-items"
REPLY = {
    "facts": ["User's sister Sarah lives in Portland", "User is vegan"],
    "action_items": [{"description": "Call the dentist", "due_at": "2026-12-03T09:00:00Z"}],
}
TEXT = "So, I've been vegan since 2019, and my sister Sarah moved to Portland."


@pytest.fixture
def llm() -> Iterator[ExtractionLLM]:
    fake = ExtractionLLM(reply=REPLY)
    running = RunningServer(fake)
    running.start()
    try:
        yield fake
    finally:
        running.stop()


def _serve(tmp_path: Path, llm: ExtractionLLM) -> Server:
    return start_server(
        f"sqlite:///{tmp_path}/mnemo.db",
        extra_env={"MNEMO_LLM_BASE_URL": llm.base_url, "MNEMO_LLM_TIMEOUT_S": "2"},
    )


def test_extraction_by_a_language_model_and_its_fallback(tmp_path: Path, llm) -> None:
    server = _serve(tmp_path, llm)
    try:
        assert server.first_key, server.output
        headers = {"Authorization": f"Bearer {server.first_key}"}
        with httpx.Client(base_url=server.base, headers=headers, timeout=30) as client:
            stored = client.post(MEMORIES, json={"content": "User plays the cello"}).json()
            made = client.post(URL, json={"text": TEXT}).json()
            assert [m["content"] for m in made["memories"]] == REPLY["facts"]
            assert [i["description"] for i in made["action_items"]] == ["Call the dentist"]
            assert made["action_items"][0]["due_at"] == "2026-12-03T09:00:00Z"
            # The model was asked with the rules and the user's existing memories.
            prompts = [r["body"]["messages"][-1]["content"] for r in llm.requests]
            asking = [p for p in prompts if TEXT in p]
            assert asking and stored["content"] in asking[0]

            # Whatever the model answers, what no database can store is not stored.
            llm.reply = {
                "facts": ["User is \x00 odd", "User likes \ud800", "User likes green tea"],
                "action_items": [{"description": "Pay \x00"}, {"description": "Pay rent"}],
            }
            odd = client.post(URL, json={"text": "I like green tea."})
            assert odd.status_code == 200, odd.text
            assert [m["content"] for m in odd.json()["memories"]] == ["User likes green tea"]
            assert [i["description"] for i in odd.json()["action_items"]] == ["Pay rent"]
            for mode, thing in (("error500", "peanuts"), ("garbage", "cats"), ("slow", "dust")):
                llm.mode = mode
                response = client.post(URL, json={"text": f"I'm allergic to {thing}."})
                assert response.status_code == 200, (mode, response.text)
                contents = [m["content"] for m in response.json()["memories"]]
                assert contents == [f"User is allergic to {thing}"], (mode, contents)
            listed = client.get(URL).json()
            assert len(listed) == 5
            linked = client.get(MEMORIES, params={"conversation_id": made["id"]}).json()
            assert sorted(m["content"] for m in linked) == sorted(REPLY["facts"])
    finally:
        server.stop()


def _creator(base: str, headers: dict[str, str], acked: list[str], stop, n: int) -> None:
    with httpx.Client(base_url=base, headers=headers, timeout=10) as client:
        i = 0
        while not stop.is_set():
            i += 1
            text = (
                f"My favorite number is {n}{i:05d}. I have {n * 1000 + i} stamps."
                f" I need to call Ana{n}x{i} tomorrow."
            )
            try:
                response = client.post(URL, json={"text": text})
            except httpx.TransportError:
                return
            if response.status_code == 200:
                acked.append(response.json()["id"])


def test_a_crash_never_splits_a_conversation_from_its_extraction(tmp_path: Path) -> None:
    database = tmp_path / "mnemo.db"
    server = start_server(f"sqlite:///{database}", extra_env={"MNEMO_RATE_LIMIT_ENABLED": "false"})
    assert server.first_key, server.output
    headers = {"Authorization": f"Bearer {server.first_key}"}
    acked: list[str] = []
    stop = threading.Event()
    threads = [
        threading.Thread(target=_creator, args=(server.base, headers, acked, stop, n))
        for n in range(1, 5)
    ]
    for thread in threads:
        thread.start()
    while len(acked) < 40:
        threading.Event().wait(0.01)
    server.kill()  # SIGKILL while creates are in flight
    stop.set()
    for thread in threads:
        thread.join(timeout=30)
    snapshot = set(acked)

    with sqlite3.connect(database) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        conversations = {row[0] for row in conn.execute("SELECT id FROM conversations")}
        orphans = conn.execute(
            "SELECT count(*) FROM memories m WHERE m.conversation_id IS NOT NULL AND NOT EXISTS"
            " (SELECT 1 FROM conversations c WHERE c.id = m.conversation_id)"
        ).fetchone()[0]
        orphan_items = conn.execute(
            "SELECT count(*) FROM action_items a WHERE a.conversation_id IS NOT NULL AND NOT"
            " EXISTS (SELECT 1 FROM conversations c WHERE c.id = a.conversation_id)"
        ).fetchone()[0]
        # Each conversation's text has two unique facts and one task: all or nothing.
        incomplete = conn.execute(
            "SELECT count(*) FROM conversations c WHERE"
            " (SELECT count(*) FROM memories m WHERE m.conversation_id = c.id) != 2"
            " OR (SELECT count(*) FROM action_items a WHERE a.conversation_id = c.id) != 1"
        ).fetchone()[0]
    assert orphans == 0 and orphan_items == 0
    assert incomplete == 0
    assert snapshot <= conversations, f"{len(snapshot - conversations)} acknowledged lost"

    restarted = start_server(f"sqlite:///{database}")
    try:
        with httpx.Client(base_url=restarted.base, headers=headers, timeout=30) as client:
            some = sorted(snapshot)[:5]
            for conversation_id in some:
                assert client.get(f"{URL}/{conversation_id}").status_code == 200
                linked = client.get(MEMORIES, params={"conversation_id": conversation_id})
                assert len(linked.json()) == 2
    finally:
        restarted.stop()
