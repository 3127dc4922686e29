"""The web page's conversations and action items views through the real app, on both
backends (tests/ui/test_pages.py's style and helpers): isolation, scopes, the CSRF door,
hostile input, a transcript of markup shown as text; every test checks the answer and
what the database holds after."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from mnemo.store import ALL_SCOPES
from mnemo.store.base import ActionItemFilter, ConversationFilter
from mnemo.ui import conversations as ui_conversations
from tests.ui.test_pages import (
    HTMX,
    _client,
    _key,
    _store,
    assert_message,
    contents,
    csrf_token,
    sign_in,
    ui_app,  # noqa: F401 (the fixture)
)

EVERYTHING = ALL_SCOPES
TEXT = "I've been allergic to peanuts since I was a kid. I need to call the dentist tomorrow."
CONVERSATIONS = "/v1/dev/user/conversations"


async def _user_id(app: FastAPI, user: str) -> str:
    record = await _store(app).get_user(user)
    assert record is not None
    return record.id


async def titles(app: FastAPI, user: str) -> list[str]:
    found = await _store(app).list_conversations(
        await _user_id(app, user), ConversationFilter(), 100, 0, transcript=False
    )
    return [c.title for c in found]


async def items(app: FastAPI, user: str) -> list[tuple[str, bool]]:
    found = await _store(app).list_action_items(
        await _user_id(app, user), ActionItemFilter(), 1000, 0
    )
    return sorted((i.description, i.completed) for i in found)


async def api_conversation(
    client: httpx.AsyncClient, secret: str, text: str = TEXT
) -> dict[str, Any]:
    made = await client.post(
        CONVERSATIONS, json={"text": text}, headers={"Authorization": f"Bearer {secret}"}
    )
    assert made.status_code == 200, made.text
    body: dict[str, Any] = made.json()
    return body


async def signed_in_with_a_conversation(
    client: httpx.AsyncClient, secret: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A conversation made through the API (and its one action item), then signed in."""
    made = await api_conversation(client, secret)
    [item] = made["action_items"]
    await sign_in(client, secret)
    return made, item


async def test_a_pasted_text_becomes_a_conversation_with_what_was_extracted(
    ui_app: FastAPI,  # noqa: F811
) -> None:
    alice = await _key(ui_app, "alice", EVERYTHING)
    async with _client(ui_app) as client:
        await sign_in(client, alice)
        token = {"X-CSRF-Token": await csrf_token(client), **HTMX}
        made = await client.post("/ui/conversations", data={"text": TEXT}, headers=token)
        assert made.status_code == 200, made.text
        assert made.headers["hx-trigger"] == "conversations-changed"
        assert "User is allergic to peanuts" in made.text and "Call the dentist" in made.text
        found = re.search(r'href="/ui/conversations/([0-9a-f-]{36})"', made.text)
        assert found
        listed = await client.get("/ui/conversations")
        assert f"/ui/conversations/{found.group(1)}" in listed.text
        page = await client.get(f"/ui/conversations/{found.group(1)}")
        assert page.status_code == 200
        memory = re.search(
            r'href="/ui/memories/([0-9a-f-]{36})/history">User is allergic', page.text
        )
        assert memory, page.text
        assert "Call the dentist" in page.text
        history = await client.get(f"/ui/memories/{memory.group(1)}/history")
        assert "User is allergic to peanuts" in history.text
        assert (
            'href="/ui/conversations"' in listed.text and 'href="/ui/action-items"' in listed.text
        )
    assert await contents(ui_app, "alice") == ["User is allergic to peanuts"]
    assert await items(ui_app, "alice") == [("Call the dentist", False)]


async def test_the_list_is_newest_first_a_page_at_a_time(
    ui_app: FastAPI,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(ui_conversations, "PAGE_SIZE", 2)
    alice = await _key(ui_app, "alice", EVERYTHING)
    async with _client(ui_app) as client:
        for word in ("first", "second", "third"):
            await api_conversation(client, alice, f"Hello, the {word} one.")
        await sign_in(client, alice)
        page = (await client.get("/ui/conversations")).text
        assert page.index("the third one") < page.index("the second one")
        assert "the first one" not in page and 'href="/ui/conversations?offset=2">Older' in page
        older = (await client.get("/ui/conversations?offset=2")).text
        assert "the first one" in older and "the second one" not in older
        assert 'href="/ui/conversations?offset=0">Newer' in older
    assert len(await titles(ui_app, "alice")) == 3


async def test_delete_with_or_without_its_memories(ui_app: FastAPI) -> None:  # noqa: F811
    alice = await _key(ui_app, "alice", EVERYTHING)
    async with _client(ui_app) as client:
        kept = await api_conversation(client, alice)
        gone = await api_conversation(client, alice, "I play the cello in a string quartet.")
        await sign_in(client, alice)
        token = {"X-CSRF-Token": await csrf_token(client), **HTMX}
        first = await client.post(f"/ui/conversations/{kept['id']}/delete", headers=token)
        assert first.headers["hx-redirect"] == "/ui/conversations?deleted=1"
        second = await client.post(
            f"/ui/conversations/{gone['id']}/delete", data={"with_memories": "true"}, headers=token
        )
        assert second.headers["hx-redirect"] == "/ui/conversations?deleted=1"
        told = await client.get("/ui/conversations?deleted=1")
        assert "deleted permanently" in told.text
        again = await client.get(f"/ui/conversations/{kept['id']}")
        assert again.status_code == 404 and "Conversation not found" in again.text
    assert await titles(ui_app, "alice") == []
    assert await contents(ui_app, "alice") == ["User is allergic to peanuts"]
    assert await items(ui_app, "alice") == [("Call the dentist", False)]  # unlinked, kept


async def test_action_items_open_first_marked_done_undone_and_deleted(
    ui_app: FastAPI,  # noqa: F811
) -> None:
    alice = await _key(ui_app, "alice", EVERYTHING)
    bearer = {"Authorization": f"Bearer {alice}"}
    async with _client(ui_app) as client:
        made = await client.post(
            "/v1/dev/user/action-items/batch",
            json={"action_items": [{"description": "Buy milk"}, {"description": "Call Sam"}]},
            headers=bearer,
        )
        assert made.status_code == 200, made.text
        milk, sam = (item["id"] for item in made.json()["action_items"])
        await sign_in(client, alice)
        token = {"X-CSRF-Token": await csrf_token(client), **HTMX}
        done = await client.post(
            f"/ui/action-items/{milk}", data={"completed": "true"}, headers=token
        )
        assert done.status_code == 200 and "Marked done: Buy milk" in done.text
        assert done.headers["hx-trigger"] == "action-items-changed"
        assert await items(ui_app, "alice") == [("Buy milk", True), ("Call Sam", False)]
        page = (await client.get("/ui/action-items")).text
        assert page.index("Call Sam") < page.index('id="done-h"') < page.index("Buy milk")
        undone = await client.post(
            f"/ui/action-items/{milk}", data={"completed": "false"}, headers=token
        )
        assert "Marked not done" in undone.text
        deleted = await client.post(f"/ui/action-items/{sam}/delete", headers=token)
        assert deleted.status_code == 200 and "Deleted permanently" in deleted.text
    assert await items(ui_app, "alice") == [("Buy milk", False)]


async def test_another_users_conversation_and_items_answer_as_unknown(
    ui_app: FastAPI,  # noqa: F811
) -> None:
    alice, bob = await _key(ui_app, "alice", EVERYTHING), await _key(ui_app, "bob", EVERYTHING)
    async with _client(ui_app) as client:
        theirs = await api_conversation(client, bob)
        [item] = theirs["action_items"]
        await sign_in(client, alice)
        token = {"X-CSRF-Token": await csrf_token(client), **HTMX}
        for conversation_id in (theirs["id"], "no-such-conversation", "0" * 36):
            for answer in (
                await client.get(f"/ui/conversations/{conversation_id}"),
                await client.post(
                    f"/ui/conversations/{conversation_id}/delete",
                    data={"with_memories": "true"},
                    headers=token,
                ),
            ):
                assert answer.status_code == 404, answer.text
                assert_message(answer)
                assert "Conversation not found" in answer.text
        for item_id in (item["id"], "no-such-item"):
            for answer in (
                await client.post(
                    f"/ui/action-items/{item_id}", data={"completed": "true"}, headers=token
                ),
                await client.post(f"/ui/action-items/{item_id}/delete", headers=token),
            ):
                assert answer.status_code == 404, answer.text
                assert_message(answer)
                assert "Action item not found" in answer.text
        assert theirs["id"] not in (await client.get("/ui/conversations")).text
        assert "Call the dentist" not in (await client.get("/ui/action-items")).text
    assert len(await titles(ui_app, "bob")) == 1
    assert await contents(ui_app, "bob") == ["User is allergic to peanuts"]
    assert await items(ui_app, "bob") == [("Call the dentist", False)]


async def test_a_key_without_the_scopes_has_no_views_and_is_refused(
    ui_app: FastAPI,  # noqa: F811
) -> None:
    writer = await _key(ui_app, "alice", EVERYTHING)
    memories_only = await _key(ui_app, "alice", ["memories:read", "memories:write"])
    readers = await _key(
        ui_app, "alice", ["memories:read", "conversations:read", "action_items:read"]
    )
    async with _client(ui_app) as client:
        made = await api_conversation(client, writer)
        [item] = made["action_items"]
        await sign_in(client, memories_only)
        page = (await client.get("/ui/memories")).text
        assert 'href="/ui/conversations"' not in page and 'href="/ui/action-items"' not in page
        token = {"X-CSRF-Token": await csrf_token(client), **HTMX}
        for answer, scope in (
            (await client.get("/ui/conversations"), "conversations:read"),
            (await client.get(f"/ui/conversations/{made['id']}"), "conversations:read"),
            (await client.get("/ui/action-items"), "action_items:read"),
            (
                await client.post("/ui/conversations", data={"text": TEXT}, headers=token),
                "conversations:write",
            ),
        ):
            assert answer.status_code == 403, answer.text
            assert_message(answer)
            assert scope in answer.text
        await sign_in(client, readers)
        listed = await client.get("/ui/conversations")
        assert listed.status_code == 200 and 'id="create-conversation"' not in listed.text
        one = await client.get(f"/ui/conversations/{made['id']}")
        assert "Call the dentist" in one.text and "/delete" not in one.text
        todo = await client.get("/ui/action-items")
        assert "Call the dentist" in todo.text and "Mark done" not in todo.text
        token = {"X-CSRF-Token": await csrf_token(client), **HTMX}
        for answer, scope in (
            (
                await client.post("/ui/conversations", data={"text": TEXT}, headers=token),
                "conversations:write",
            ),
            (
                await client.post(f"/ui/conversations/{made['id']}/delete", headers=token),
                "conversations:write",
            ),
            (
                await client.post(
                    f"/ui/action-items/{item['id']}", data={"completed": "true"}, headers=token
                ),
                "action_items:write",
            ),
            (
                await client.post(f"/ui/action-items/{item['id']}/delete", headers=token),
                "action_items:write",
            ),
        ):
            assert answer.status_code == 403, answer.text
            assert_message(answer)
            assert scope in answer.text
    assert len(await titles(ui_app, "alice")) == 1
    assert await items(ui_app, "alice") == [("Call the dentist", False)]


async def test_writes_need_the_anti_forgery_token(ui_app: FastAPI) -> None:  # noqa: F811
    alice = await _key(ui_app, "alice", EVERYTHING)
    async with _client(ui_app) as client:
        made, item = await signed_in_with_a_conversation(client, alice)
        forged = {"X-CSRF-Token": "guess", **HTMX}
        for headers in (HTMX, forged):
            for answer in (
                await client.post(
                    "/ui/conversations", data={"text": "I own a cat."}, headers=headers
                ),
                await client.post(
                    f"/ui/conversations/{made['id']}/delete",
                    data={"with_memories": "true"},
                    headers=headers,
                ),
                await client.post(
                    f"/ui/action-items/{item['id']}", data={"completed": "true"}, headers=headers
                ),
                await client.post(f"/ui/action-items/{item['id']}/delete", headers=headers),
            ):
                assert answer.status_code == 403, answer.text
                assert_message(answer)
    assert len(await titles(ui_app, "alice")) == 1
    assert await contents(ui_app, "alice") == ["User is allergic to peanuts"]
    assert await items(ui_app, "alice") == [("Call the dentist", False)]


HOSTILE_TEXTS = ["", "   \n\t", "x" * 100_001, "nul \x00 byte"]
HOSTILE_QUERIES = [
    "/ui/conversations?offset=-1",
    "/ui/conversations?offset=1.5",
    "/ui/conversations?offset=99999999999999999999",
    "/ui/conversations?deleted=maybe",
    "/ui/action-items?open_offset=-1",
    "/ui/action-items?done_offset=x",
    "/ui/conversations/%00",
    "/ui/conversations/" + "x" * 300,
    "/ui/conversations/%E2%80%AE",
]


async def test_hostile_input_is_a_message_and_changes_nothing(ui_app: FastAPI) -> None:  # noqa: F811
    alice = await _key(ui_app, "alice", EVERYTHING)
    async with _client(ui_app) as client:
        made, item = await signed_in_with_a_conversation(client, alice)
        token = {"X-CSRF-Token": await csrf_token(client), **HTMX}
        answers = [
            *[
                await client.post("/ui/conversations", data={"text": text}, headers=token)
                for text in HOSTILE_TEXTS
            ],
            *[
                await client.get(query, headers=headers)
                for query in HOSTILE_QUERIES
                for headers in ({}, HTMX)
            ],
            await client.post("/ui/conversations", content=b"\xff\xfe=\xff", headers=token),
            await client.post(
                f"/ui/conversations/{made['id']}/delete",
                data={"with_memories": "perhaps"},
                headers=token,
            ),
            await client.post(f"/ui/action-items/{item['id']}", headers=token),
            await client.post(
                f"/ui/action-items/{item['id']}", data={"completed": "sometimes"}, headers=token
            ),
            await client.post("/ui/action-items/%00/delete", headers=token),
        ]
        for answer in answers:
            assert_message(answer)
    assert len(await titles(ui_app, "alice")) == 1
    assert await contents(ui_app, "alice") == ["User is allergic to peanuts"]
    assert await items(ui_app, "alice") == [("Call the dentist", False)]


async def test_a_transcript_of_markup_is_shown_as_text(ui_app: FastAPI) -> None:  # noqa: F811
    alice = await _key(ui_app, "alice", EVERYTHING)
    markup = '<img src=x onerror=alert(1)> "quoted" </p><script>alert(2)</script>'
    async with _client(ui_app) as client:
        made = await api_conversation(client, alice, f"I like jazz. {markup}")
        await sign_in(client, alice)
        for path in (f"/ui/conversations/{made['id']}", "/ui/conversations"):
            page = (await client.get(path)).text
            assert "<img src=x" not in page and "<script>alert" not in page
        page = (await client.get(f"/ui/conversations/{made['id']}")).text
        assert "&lt;img src=x onerror=alert(1)&gt;" in page
        assert "&lt;script&gt;alert(2)&lt;/script&gt;" in page
