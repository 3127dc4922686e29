"""The web page's routes through the real app, on both backends (no browser: the browser
tests are tests/ui/test_browser.py): isolation, scopes, limits, hostile input, sessions
and the CSRF door. Every test checks the answer and what the database holds after."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager

import httpx
import pytest
from fastapi import FastAPI

from mnemo import Settings, create_app
from mnemo.accounts import delete_user, issue_key, revoke_key
from mnemo.clock import now_us
from mnemo.models import MAX_QUERY_CHARS
from mnemo.store import ALL_SCOPES, Store
from mnemo.store.base import MemoryFilter, NewConversation
from mnemo.ui.session import COOKIE, digest
from tests.contract.test_conversation_store import _conversation, _item
from tests.helpers import MEMORIES

TOKEN = "t" * 40
READ_WRITE = ("memories:read", "memories:write")
HTMX = {"HX-Request": "true"}


@asynccontextmanager
async def _app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def ui_app(database_url: str) -> AsyncIterator[FastAPI]:
    async with _app(Settings(database_url=database_url, admin_token=TOKEN)) as application:
        yield application


def _client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://mnemo.test")


def _store(app: FastAPI) -> Store:
    store: Store = app.state.mnemo.store
    return store


async def _key(app: FastAPI, user: str, scopes: Iterable[str] = READ_WRITE) -> str:
    _, secret = await issue_key(_store(app), user, scopes=scopes)
    return secret


async def sign_in(client: httpx.AsyncClient, secret: str) -> httpx.Response:
    form = (await client.get("/ui/signin")).text
    token = re.search(r'name="csrf" value="([^"]+)"', form)
    assert token, form
    return await client.post("/ui/signin", data={"key": secret, "csrf": token.group(1)})


async def csrf_token(client: httpx.AsyncClient) -> str:
    page = (await client.get("/ui/memories")).text
    found = re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert found, page
    return found.group(1)


async def contents(app: FastAPI, user: str) -> list[str]:
    user_record = await _store(app).get_user(user)
    assert user_record is not None
    found, _ = await _store(app).browse_memories(user_record.id, MemoryFilter(), 1000, 0)
    return sorted(m.content for m in found)


async def add(client: httpx.AsyncClient, secret: str, content: str) -> str:
    made = await client.post(
        MEMORIES, json={"content": content}, headers={"Authorization": f"Bearer {secret}"}
    )
    assert made.status_code == 200, made.text
    memory_id: str = made.json()["id"]
    return memory_id


def assert_message(answer: httpx.Response) -> None:
    """An error answered as the page's message: HTML, an alert, never a trace."""
    assert 400 <= answer.status_code < 500, (answer.status_code, answer.text)
    assert answer.headers["content-type"].startswith("text/html")
    assert 'role="alert"' in answer.text
    assert "Traceback" not in answer.text


async def test_the_page_is_at_ui_with_or_without_its_slash(ui_app: FastAPI) -> None:
    async with _client(ui_app) as client:
        for path in ("/ui", "/ui/"):
            answer = await client.get(path)
            assert (answer.status_code, answer.headers["location"]) == (303, "/ui/signin")
        assert (await sign_in(client, await _key(ui_app, "slash"))).status_code == 303
        for path in ("/ui", "/ui/"):
            assert (await client.get(path)).headers["location"] == "/ui/memories"


async def test_another_users_memory_answers_as_an_unknown_one(ui_app: FastAPI) -> None:
    alice, bob = await _key(ui_app, "alice"), await _key(ui_app, "bob")
    async with _client(ui_app) as client:
        theirs = await add(client, bob, "User is Bob")
        await sign_in(client, alice)
        token = {"X-CSRF-Token": await csrf_token(client), **HTMX}
        for memory_id in (theirs, "no-such-memory"):
            answers = [
                await client.get(f"/ui/memories/{memory_id}", headers=HTMX),
                await client.get(f"/ui/memories/{memory_id}/edit", headers=HTMX),
                await client.get(f"/ui/memories/{memory_id}/history"),
                await client.post(
                    f"/ui/memories/{memory_id}", data={"content": "Mine now"}, headers=token
                ),
                await client.post(f"/ui/memories/{memory_id}/delete", headers=token),
            ]
            for answer in answers:
                assert answer.status_code == 404, answer.text
                assert_message(answer)
                assert "Memory not found" in answer.text
        bulk = await client.post("/ui/memories/bulk-delete", data={"ids": [theirs]}, headers=token)
        assert "Deleted 0 memories" in bulk.text
        listed = await client.get("/ui/memories")
        assert "User is Bob" not in listed.text
        exported = await client.get("/ui/export")
        assert "User is Bob" not in exported.text and '"name":"alice"' in exported.text
    assert await contents(ui_app, "bob") == ["User is Bob"]


HOSTILE_QUERIES = [
    "order=sideways",
    "offset=-1",
    "offset=99999999999999999999",
    "offset=1.5",
    "category=nope",
    "tag=" + "t" * 65,
    "q=" + "q" * (MAX_QUERY_CHARS + 1),
    "category=" + "c" * 201,
]


async def test_a_hostile_list_query_is_a_message(ui_app: FastAPI) -> None:
    alice = await _key(ui_app, "alice")
    async with _client(ui_app) as client:
        await add(client, alice, "User likes tea")
        await sign_in(client, alice)
        for query in HOSTILE_QUERIES:
            for headers in ({}, HTMX):
                assert_message(await client.get(f"/ui/memories?{query}", headers=headers))
    assert await contents(ui_app, "alice") == ["User likes tea"]


HOSTILE_FORMS: list[dict[str, str | list[str]]] = [
    {"content": ""},
    {"content": "   "},
    {"content": "nul \x00 byte"},
    {"content": "x" * 501},
    {"content": "x" * 10_001},
    {"content": "ok", "category": "nope"},
    {"content": "ok", "visibility": "everyone"},
    {"content": "ok", "tags": ",".join(f"t{i}" for i in range(33))},
    {"content": "ok", "tags": "t" * 65},
    {"content": "ok", "tags": "\x00"},
]


async def test_a_hostile_create_or_edit_is_a_message_and_changes_nothing(
    ui_app: FastAPI,
) -> None:
    alice = await _key(ui_app, "alice")
    async with _client(ui_app) as client:
        mine = await add(client, alice, "User likes tea")
        await sign_in(client, alice)
        token = {"X-CSRF-Token": await csrf_token(client), **HTMX}
        for form in HOSTILE_FORMS:
            assert_message(await client.post("/ui/memories", data=form, headers=token))
            if form["content"]:  # an edit sends what changes; an empty content is unchanged
                edit = await client.post(f"/ui/memories/{mine}", data=form, headers=token)
                assert_message(edit)
    assert await contents(ui_app, "alice") == ["User likes tea"]


async def test_hostile_bodies_and_ids_are_messages(ui_app: FastAPI) -> None:
    alice = await _key(ui_app, "alice")
    async with _client(ui_app) as client:
        await add(client, alice, "User likes tea")
        await sign_in(client, alice)
        token = {"X-CSRF-Token": await csrf_token(client), **HTMX}
        answers = [
            await client.post("/ui/memories", content=b"\xff\xfe=\xff", headers=token),
            await client.post(
                "/ui/memories",
                content=b"--x\r\ngarbage",
                headers={**token, "Content-Type": "multipart/form-data; boundary=x"},
            ),
            await client.post("/ui/memories/bulk-delete", data={"ids": ["a"] * 501}, headers=token),
            await client.post("/ui/memories/bulk-delete", headers=token),
            await client.get("/ui/memories/" + "x" * 300, headers=HTMX),
            await client.get("/ui/memories/%00", headers=HTMX),
            await client.get("/ui/memories/%E2%80%AE", headers=HTMX),
            await client.get("/ui/no/such/page"),
            await client.post("/ui/no-such-form", headers=token),
            await client.post("/ui/import", headers=token),
            await client.post("/ui/import", files={"file": ("x.jsonl", b"\xff\n")}, headers=token),
            await client.post(
                "/ui/import",
                files={"file": ("x.jsonl", b'{"kind":"memory","user":"alice"}\n')},
                headers=token,
            ),
        ]
        for answer in answers:
            assert_message(answer)
        over = await client.post(
            "/ui/import",
            files={
                "file": (
                    "x.jsonl",
                    b'{"kind":"user","id":"u","name":"alice","created_at":"2024-01-01T00:00:00Z"}\n'
                    + _memory_line("m1", "x" * 501),
                )
            },
            headers=token,
        )
        assert_message(over)
        assert "line 2" in over.text and "Nothing was imported" in over.text
    assert await contents(ui_app, "alice") == ["User likes tea"]


def _memory_line(memory_id: str, content: str, user: str = "alice") -> bytes:
    record = {
        "kind": "memory",
        "user": user,
        "id": memory_id,
        "content": content,
        "category": "system",
        "visibility": "private",
        "tags": [],
        "created_at": "2024-01-01T00:00:00Z",
        "updated_at": "2024-01-01T00:00:00Z",
        "manually_added": True,
        "scoring": "01_999_1",
        "reviewed": True,
        "user_review": None,
        "edited": False,
    }
    return (json.dumps(record) + "\n").encode()


async def test_an_import_goes_to_the_signed_in_user_only(ui_app: FastAPI) -> None:
    alice, bob = await _key(ui_app, "alice"), await _key(ui_app, "bob")
    async with _client(ui_app) as client:
        taken = await add(client, bob, "User is Bob")
        await sign_in(client, alice)
        token = {"X-CSRF-Token": await csrf_token(client), **HTMX}
        body = _memory_line("m-new", "User likes maps", user="bob") + _memory_line(
            taken, "User was overwritten", user="bob"
        )
        answer = await client.post("/ui/import", files={"file": ("x.jsonl", body)}, headers=token)
        assert answer.status_code == 200, answer.text
        assert "1 memories added, 1 already there" in answer.text
    assert await contents(ui_app, "alice") == ["User likes maps"]
    assert await contents(ui_app, "bob") == ["User is Bob"]


async def test_the_page_exports_conversations_and_imports_only_memories(
    ui_app: FastAPI,
) -> None:
    """The page's export carries the user's conversations and action items; its import
    takes the memories only, keeping a link to a conversation of the signed-in user's
    and dropping one to anyone else's."""
    alice, _ = await _key(ui_app, "alice"), await _key(ui_app, "bob")
    store = _store(ui_app)
    ids = {}
    for name in ("alice", "bob"):
        user = await store.get_user(name)
        assert user is not None
        ids[name] = user.id
    mine, theirs = _conversation(now_us()), _conversation(now_us() + 1)
    await store.insert_memories(ids["alice"], [], conversation=NewConversation(mine, [_item(mine)]))
    await store.insert_memories(ids["bob"], [], conversation=NewConversation(theirs))

    def linked(memory_id: str, content: str, conversation_id: str) -> bytes:
        record = json.loads(_memory_line(memory_id, content))
        return (json.dumps(record | {"conversation_id": conversation_id}) + "\n").encode()

    async with _client(ui_app) as client:
        await sign_in(client, alice)
        exported = await client.get("/ui/export")
        kinds = [json.loads(line)["kind"] for line in exported.text.splitlines()]
        assert kinds == ["user", "conversation", "action_item"]
        assert mine.text is not None and mine.text in exported.text
        token = {"X-CSRF-Token": await csrf_token(client), **HTMX}
        body = (
            exported.content
            + linked("m-mine", "User likes maps", mine.id)
            + linked("m-theirs", "User likes tea", theirs.id)
        )
        answer = await client.post("/ui/import", files={"file": ("x.jsonl", body)}, headers=token)
        assert answer.status_code == 200, answer.text
        assert "2 memories added, 0 already there" in answer.text
    found, _ = await store.browse_memories(ids["alice"], MemoryFilter(), 10, 0)
    assert {m.content: m.conversation_id for m in found} == {
        "User likes maps": mine.id,
        "User likes tea": None,
    }
    assert await store.conversation_memories_json(ids["bob"], theirs.id, (), 10, 0) == b"[]"


async def test_a_read_only_key_cannot_write_and_a_key_without_read_cannot_sign_in(
    ui_app: FastAPI,
) -> None:
    writer = await _key(ui_app, "alice")
    reader = await _key(ui_app, "alice", ["memories:read"])
    other = await _key(ui_app, "alice", ["action_items:read"])
    async with _client(ui_app) as client:
        mine = await add(client, writer, "User likes tea")
        refused = await sign_in(client, other)
        assert refused.status_code == 403 and "memories:read" in refused.text
        assert COOKIE not in client.cookies
        await sign_in(client, reader)
        page = await client.get("/ui/memories")
        assert "User likes tea" in page.text
        assert "/delete" not in page.text and "/edit" not in page.text
        assert 'id="create"' not in page.text and 'id="import"' not in page.text
        token = {"X-CSRF-Token": await csrf_token(client), **HTMX}
        for answer in (
            await client.post("/ui/memories", data={"content": "User is new"}, headers=token),
            await client.post(f"/ui/memories/{mine}", data={"content": "x"}, headers=token),
            await client.post(f"/ui/memories/{mine}/delete", headers=token),
            await client.post("/ui/memories/bulk-delete", data={"ids": [mine]}, headers=token),
            await client.post(
                "/ui/import", files={"file": ("x.jsonl", _memory_line("m", "x"))}, headers=token
            ),
        ):
            assert answer.status_code == 403
            assert_message(answer)
            assert "memories:write" in answer.text
    assert await contents(ui_app, "alice") == ["User likes tea"]


async def test_the_api_rate_limits_apply_to_the_page(database_url: str) -> None:
    settings = Settings(database_url=database_url, rate_limit_writes=2, rate_limit_reads=1000)
    async with _app(settings) as app:
        alice = await _key(app, "alice")
        async with _client(app) as client:
            await sign_in(client, alice)
            token = {"X-CSRF-Token": await csrf_token(client), **HTMX}
            statuses = [
                (
                    await client.post(
                        "/ui/memories", data={"content": f"User fact {i}"}, headers=token
                    )
                )
                for i in range(3)
            ]
            assert [a.status_code for a in statuses] == [200, 200, 429]
            assert_message(statuses[2])
            assert "retry-after" in statuses[2].headers
        assert await contents(app, "alice") == ["User fact 0", "User fact 1"]


async def test_failed_sign_ins_count_against_the_address(database_url: str) -> None:
    settings = Settings(database_url=database_url, auth_failure_limit=2)
    async with _app(settings) as app:
        await _key(app, "alice")
        async with _client(app) as client:
            statuses = [
                (await sign_in(client, "omi_dev_" + "0" * 32)).status_code for _ in range(3)
            ]
        assert statuses == [401, 401, 429]


async def test_a_session_ends_on_revocation_erasure_and_its_time_cap(database_url: str) -> None:
    settings = Settings(database_url=database_url, ui_session_hours=1.5 / 3600)  # 1.5 s
    async with _app(settings) as app:
        store = _store(app)
        alice = await _key(app, "alice")
        async with _client(app) as client:
            assert (await sign_in(client, alice)).headers["location"] == "/ui/memories"
            id_hash = digest(client.cookies[COOKIE])
            assert (await client.get("/ui/memories")).status_code == 200
            await asyncio.sleep(1.6)
            ended = await client.get("/ui/memories")
            assert ended.headers["location"] == "/ui/signin?ended=1"
            assert await store.ui_session(id_hash, 0) is not None  # expired, kept until pruned
    settings = Settings(database_url=database_url)
    async with _app(settings) as app:
        store = _store(app)
        bob = await _key(app, "bob")
        async with _client(app) as client:
            await sign_in(client, bob)
            id_hash = digest(client.cookies[COOKIE])
            assert await store.ui_session(id_hash, 0) is not None
            [key] = await store.list_keys((await store.get_user("bob")).id)  # type: ignore[union-attr]
            await revoke_key(store, key.id)
            assert (await client.get("/ui/memories", headers=HTMX)).headers[
                "hx-redirect"
            ] == "/ui/signin?ended=1"
            assert await store.ui_session(id_hash, 0) is None  # ended in the database
            carol = await _key(app, "carol")
            await sign_in(client, carol)
            id_hash = digest(client.cookies[COOKIE])
            await delete_user(store, "carol")
            assert await store.ui_session(id_hash, 0) is None  # erased with the user


async def test_the_admin_door(database_url: str) -> None:
    async with _app(Settings(database_url=database_url)) as app:  # no admin token: no admin
        await _key(app, "alice")
        async with _client(app) as client:
            assert (await sign_in(client, TOKEN)).status_code == 401
            assert (await client.get("/ui/admin")).headers["location"] == "/ui/signin"
    async with _app(Settings(database_url=database_url, admin_token=TOKEN)) as app:
        alice = await _key(app, "alice")
        async with _client(app) as client:
            await sign_in(client, alice)  # a user's session does not open the admin view
            assert (await client.get("/ui/admin")).status_code == 303
            alices = digest(client.cookies[COOKIE])
            assert (await sign_in(client, TOKEN)).headers["location"] == "/ui/admin"
            assert await _store(app).ui_session(alices, 0) is None  # a new sign-in ends it
            users = await client.get("/ui/admin")
            assert users.status_code == 200 and "alice" in users.text
            assert (await client.get("/ui/memories")).status_code == 303  # not a user's
            token = re.search(r'name="csrf" value="([^"]+)"', users.text)
            assert token
            forged = await client.post("/ui/admin/users/alice/keys", data={"scopes": ["x"]})
            assert forged.status_code == 403
            bad = await client.post(
                "/ui/admin/users/alice/keys",
                data={"scopes": ["nope"], "csrf": token.group(1)},
            )
            assert_message(bad)
            unknown = await client.post(
                "/ui/admin/users/nobody/keys",
                data={"scopes": ["memories:read"], "csrf": token.group(1)},
            )
            assert unknown.status_code == 404
            cookie = client.cookies[COOKIE]
        assert len(await _store(app).list_keys()) == 2  # alice's two: nothing was created
    other = Settings(database_url=database_url, admin_token="u" * 40)
    # a changed admin token ends the operator's sessions
    async with _app(other) as app, _client(app) as client:
        client.cookies.set(COOKIE, cookie, domain="mnemo.test", path="/ui")
        assert (await client.get("/ui/admin")).headers["location"] == "/ui/signin?ended=1"


async def test_sign_in_needs_its_anti_forgery_token_and_scopes_are_all_offered(
    ui_app: FastAPI,
) -> None:
    alice = await _key(ui_app, "alice", ALL_SCOPES)
    async with _client(ui_app) as client:
        refused = await client.post("/ui/signin", data={"key": alice, "csrf": "guess"})
        assert refused.status_code == 403 and COOKIE not in client.cookies
        await client.get("/ui/signin")
        no_field = await client.post("/ui/signin", data={"key": alice})
        assert no_field.status_code == 403 and COOKIE not in client.cookies
        assert (await sign_in(client, alice)).status_code == 303
        page = await client.get("/ui/memories")
        assert page.status_code == 200
        out = await client.post("/ui/signout")  # no token: the session stays
        assert out.status_code == 403
        assert (await client.get("/ui/memories")).status_code == 200
