"""The web page at /ui in a real browser (Debian's Chromium, driven by Playwright) against
a real `mnemo serve` on SQLite: one server and one browser for the module. Each test
checks what the page shows and what the database holds afterwards (read from the SQLite
file directly)."""

from __future__ import annotations

import re
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mnemo.store import ALL_SCOPES
from tests.browser import CHROMIUM, launch
from tests.e2e.server import Server, start_server
from tests.helpers import MEMORIES

if not Path(CHROMIUM).exists():
    pytest.skip(
        f"the web page's browser tests need Debian's Chromium at {CHROMIUM}: "
        "run `apt-get install -y chromium` (./run test does it when run as root)",
        allow_module_level=True,
    )

from playwright.sync_api import BrowserContext, Page, expect, sync_playwright  # noqa: E402

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("ui-browser")]

TOKEN = "ui-admin-token-" + "x" * 30
ADMIN = {"Authorization": f"Bearer {TOKEN}"}
READ = ["memories:read"]
READ_WRITE = ["memories:read", "memories:write"]
XSS = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    url = f"sqlite:///{tmp_path_factory.mktemp('ui')}/mnemo.db"
    running = start_server(
        url,
        log_level="info",
        extra_env={"MNEMO_ADMIN_TOKEN": TOKEN, "MNEMO_ACCESS_LOG": "true"},
    )
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def context() -> Iterator[BrowserContext]:
    profile = tempfile.mkdtemp(prefix="mnemo-ui-chromium-")  # a new, empty profile
    try:
        with sync_playwright() as playwright:
            browser_context = launch(playwright, profile)
            browser_context.set_default_timeout(10_000)
            yield browser_context
            browser_context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def page(context: BrowserContext) -> Iterator[Page]:
    """A new tab with no cookies (no session), failing the test on any JS dialog."""
    context.clear_cookies()
    tab = context.new_page()
    dialogs: list[str] = []
    tab.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    yield tab
    tab.close()
    assert dialogs == [], f"a JavaScript dialog fired: {dialogs}"


def _db(server: Server) -> sqlite3.Connection:
    path = server.database_url.removeprefix("sqlite:///")
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True)


def stored(server: Server, user: str) -> list[tuple[str, str, str, str]]:
    """The user's memories in the database: content, category, visibility, tags."""
    with _db(server) as db:
        rows = db.execute(
            "SELECT content, category, visibility, tags FROM memories"
            " WHERE user_id = (SELECT id FROM users WHERE name = ?) ORDER BY content",
            (user,),
        ).fetchall()
    return [tuple(row) for row in rows]


def sessions(server: Server, user: str | None) -> int:
    """How many page sessions the user (None: the operator) has in the database."""
    with _db(server) as db:
        if user is None:
            return int(
                db.execute("SELECT count(*) FROM ui_sessions WHERE key_id IS NULL").fetchone()[0]
            )
        return int(
            db.execute(
                "SELECT count(*) FROM ui_sessions"
                " WHERE user_id = (SELECT id FROM users WHERE name = ?)",
                (user,),
            ).fetchone()[0]
        )


def new_user(server: Server, name: str, scopes: list[str] = READ_WRITE) -> tuple[str, str]:
    """A user and a key of theirs (made with the admin API): the key and its id."""
    with httpx.Client(base_url=server.base, headers=ADMIN, timeout=30) as http:
        assert http.post("/v1/admin/users", json={"name": name}).status_code == 200
        made = http.post(f"/v1/admin/users/{name}/keys", json={"name": "ui", "scopes": scopes})
        assert made.status_code == 200, made.text
        body = made.json()
        return body["key"], body["id"]


def add(server: Server, key: str, content: str, **fields: Any) -> dict[str, Any]:
    with httpx.Client(base_url=server.base, timeout=30) as http:
        made = http.post(
            MEMORIES,
            json={"content": content, **fields},
            headers={"Authorization": f"Bearer {key}"},
        )
        assert made.status_code == 200, made.text
        memory: dict[str, Any] = made.json()
        return memory


def sign_in(page: Page, server: Server, secret: str, landing: str = "/ui/memories") -> None:
    page.goto(f"{server.base}/ui/signin")
    page.get_by_label(re.compile("API key")).fill(secret)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{server.base}{landing}")


def cards(page: Page) -> list[str]:
    return page.locator("#memory-list li.memory .content").all_inner_texts()


def expect_cards(page: Page, contents: list[str]) -> None:
    """Wait until the list shows exactly these memories: an Apply's new page can show the
    same count as the one it replaces, so a count alone does not say it has arrived."""
    expect(page.locator("#memory-list li.memory .content")).to_have_text(contents)


def test_the_page_sends_a_strict_policy_and_its_headers(server: Server) -> None:
    with httpx.Client(base_url=server.base, timeout=30) as http:
        for path in ("/ui/signin", "/ui/static/htmx.min.js"):
            answer = http.get(path)
            assert answer.status_code == 200
            csp = answer.headers["content-security-policy"]
            assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
            assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
            assert answer.headers["x-frame-options"] == "DENY"
            assert answer.headers["referrer-policy"] == "no-referrer"
        cookie = http.get("/ui/signin").headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie and "path=/ui" in cookie
        assert "max-age" not in cookie and "expires" not in cookie


def test_a_bad_key_is_refused_and_opens_no_session(server: Server, page: Page) -> None:
    new_user(server, "bad-key")
    before = sessions(server, None) + sessions(server, "bad-key")
    sign_in_page = f"{server.base}/ui/signin"
    page.goto(sign_in_page)
    page.get_by_label(re.compile("API key")).fill("omi_dev_" + "0" * 32)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("not valid")
    assert page.url == sign_in_page
    assert page.get_by_label(re.compile("API key")).input_value() == ""  # not echoed back
    assert sessions(server, None) + sessions(server, "bad-key") == before


def test_list_filter_order_and_search(server: Server, page: Page) -> None:
    key, _ = new_user(server, "lister")
    add(server, key, "User drinks black coffee every morning", category="lifestyle", tags=["food"])
    add(server, key, "User works as a nurse", category="work")
    add(server, key, "User plays the cello", category="hobbies", tags=["music"])
    sign_in(page, server, key)
    find = page.get_by_role("search")
    expect(page.locator("#match-count")).to_contain_text("3 memories")
    assert sorted(cards(page)) == sorted(content for content, *_ in stored(server, "lister"))

    find.get_by_label("Order").select_option("newest")
    find.get_by_role("button", name="Apply").click()
    expect(page.locator("#memory-list li.memory").first).to_contain_text("cello")

    find.get_by_label("Category").select_option("work")
    find.get_by_role("button", name="Apply").click()
    expect_cards(page, ["User works as a nurse"])
    expect(page.locator("#match-count")).to_contain_text("1 memory")

    find.get_by_label("Category").select_option("")
    find.get_by_label("Tag").fill("music")
    find.get_by_role("button", name="Apply").click()
    expect_cards(page, ["User plays the cello"])
    expect(page.locator("#match-count")).to_contain_text("1 memory")

    find.get_by_label("Tag").fill("")
    find.get_by_label(re.compile("Search")).fill("coffee")
    find.get_by_role("button", name="Apply").click()
    expect(page.locator("#match-count")).to_contain_text("match")
    first = page.locator("#memory-list li.memory .content").first
    expect(first).to_have_text("User drinks black coffee every morning")
    assert len(stored(server, "lister")) == 3  # reading changed nothing


def test_create_shows_the_category_the_server_chose(server: Server, page: Page) -> None:
    key, _ = new_user(server, "creator")
    sign_in(page, server, key)
    page.get_by_label("Memory", exact=True).fill("User is allergic to peanuts")
    page.get_by_label("Tags, comma-separated").fill("health, food")
    page.get_by_role("button", name="Add").click()
    notice = page.locator("#messages .notice")
    expect(notice).to_contain_text("chosen by the server")
    [(content, category, visibility, tags)] = stored(server, "creator")
    assert (content, visibility, tags) == (
        "User is allergic to peanuts",
        "private",
        '["health", "food"]',
    )
    assert f"category {category}" in notice.inner_text()
    expect(page.locator("#memory-list")).to_contain_text("User is allergic to peanuts")
    expect(page.get_by_label("Memory", exact=True)).to_have_value("")  # ready for the next


def test_a_bad_create_is_a_message_and_stores_nothing(server: Server, page: Page) -> None:
    key, _ = new_user(server, "bad-create")
    sign_in(page, server, key)
    page.get_by_label("Memory", exact=True).fill("User likes tea")
    page.get_by_label("Tags, comma-separated").fill("x" * 65)
    page.get_by_role("button", name="Add").click()
    expect(page.get_by_role("alert")).to_contain_text("tags")
    assert stored(server, "bad-create") == []


def test_inline_edit_and_escape_cancels(server: Server, page: Page) -> None:
    key, _ = new_user(server, "editor")
    add(server, key, "User lives in Lyon", category="system")
    sign_in(page, server, key)
    card = page.locator("#memory-list li.memory").first
    card.get_by_role("button", name="Edit").click()
    editor = page.locator("li.editing textarea")
    expect(editor).to_be_focused()
    editor.fill("Something else")
    editor.press("Escape")  # cancels: nothing saved
    expect(page.locator("li.editing")).to_have_count(0)
    assert stored(server, "editor")[0][0] == "User lives in Lyon"

    page.locator("#memory-list li.memory").first.get_by_role("button", name="Edit").click()
    page.locator("li.editing textarea").fill("User lives in Marseille")
    page.locator("li.editing").get_by_label("Category").select_option("interesting")
    page.locator("li.editing").get_by_label("Visibility").select_option("public")
    page.locator("li.editing").get_by_label("Tags, comma-separated").fill("home, city")
    page.locator("li.editing").get_by_role("button", name="Save").click()
    expect(page.locator("#memory-list")).to_contain_text("User lives in Marseille")
    assert stored(server, "editor") == [
        ("User lives in Marseille", "interesting", "public", '["home", "city"]')
    ]


def test_delete_asks_in_a_dialog_then_deletes(server: Server, page: Page) -> None:
    key, _ = new_user(server, "deleter")
    add(server, key, "User has a dog named Rex")
    sign_in(page, server, key)
    delete = page.get_by_role("button", name="Delete permanently").first
    delete.click()
    dialog = page.locator("dialog#confirm")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("permanent")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    assert len(stored(server, "deleter")) == 1  # cancelled: still there

    delete.click()
    dialog.get_by_role("button", name="Delete permanently").click()
    expect(page.locator("#messages .notice")).to_contain_text("Deleted permanently")
    expect(page.locator("#match-count")).to_contain_text("0 memories")
    assert stored(server, "deleter") == []


def test_bulk_delete_of_the_selected(server: Server, page: Page) -> None:
    key, _ = new_user(server, "bulk")
    for fact in ("User likes jazz", "User likes rock", "User likes folk"):
        add(server, key, fact)
    sign_in(page, server, key)
    page.get_by_label(re.compile("Select “User likes jazz")).check()
    page.get_by_label(re.compile("Select “User likes rock")).check()
    page.get_by_role("button", name="Delete selected permanently").click()
    page.locator("dialog#confirm").get_by_role("button", name="Delete permanently").click()
    expect(page.locator("#messages .notice")).to_contain_text("Deleted 2 memories permanently")
    expect(page.locator("#match-count")).to_contain_text("1 memory")
    assert [content for content, *_ in stored(server, "bulk")] == ["User likes folk"]


def test_export_then_import(server: Server, page: Page, tmp_path: Path) -> None:
    key, _ = new_user(server, "mover")
    add(server, key, "User speaks Portuguese", tags=["language"])
    add(server, key, "User runs marathons")
    sign_in(page, server, key)
    with page.expect_download() as download:
        page.get_by_role("link", name="Export").click()
    exported = tmp_path / "export.jsonl"
    download.value.save_as(exported)
    lines = exported.read_text().splitlines()
    assert [line.split('"kind":"')[1].split('"')[0] for line in lines] == [
        "user",
        "memory",
        "memory",
    ]
    assert "key_hash" not in exported.read_text()
    before = stored(server, "mover")
    with httpx.Client(base_url=server.base, timeout=30) as http:
        http.delete(
            MEMORIES, params={"confirm": "true"}, headers={"Authorization": f"Bearer {key}"}
        )
    assert stored(server, "mover") == []

    bad = tmp_path / "bad.jsonl"
    bad.write_text(lines[1] + "\n{not json\n")
    page.get_by_label(re.compile("A JSON Lines file")).set_input_files(bad)
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_role("alert")).to_contain_text("line 2")
    expect(page.get_by_role("alert")).to_contain_text("Nothing was imported")
    assert stored(server, "mover") == []  # a bad file changes nothing

    page.get_by_label(re.compile("A JSON Lines file")).set_input_files(exported)
    page.get_by_role("button", name="Import").click()
    expect(page.locator("#messages .notice")).to_contain_text("2 memories added")
    expect(page.locator("#match-count")).to_contain_text("2 memories")
    assert stored(server, "mover") == before


def test_a_revoked_key_ends_the_session_at_once(server: Server, page: Page) -> None:
    key, key_id = new_user(server, "revoked")
    add(server, key, "User likes chess")
    sign_in(page, server, key)
    assert sessions(server, "revoked") == 1
    with httpx.Client(base_url=server.base, headers=ADMIN, timeout=30) as http:
        assert http.delete(f"/v1/admin/users/revoked/keys/{key_id}").status_code == 200
    page.get_by_role("button", name="Apply").click()  # the next request of the page
    page.wait_for_url(re.compile(r"/ui/signin\?ended=1$"))
    expect(page.locator("#messages")).to_contain_text("session has ended")
    assert sessions(server, "revoked") == 0
    page.goto(f"{server.base}/ui/memories")
    assert page.url.startswith(f"{server.base}/ui/signin")


def test_sign_out_ends_the_session_in_the_database(server: Server, page: Page) -> None:
    key, _ = new_user(server, "leaver")
    sign_in(page, server, key)
    cookie = next(c for c in page.context.cookies() if c["name"] == "mnemo_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["expires"] == -1
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{server.base}/ui/signin")
    assert sessions(server, "leaver") == 0
    old = {"mnemo_session": cookie["value"]}
    with httpx.Client(base_url=server.base, cookies=old, timeout=30) as http:  # it is dead
        assert http.get("/ui/memories").status_code == 303
    assert key not in "\n".join(server.output)  # never logged (access log is on)


def test_a_memory_of_markup_is_shown_as_text(server: Server, page: Page) -> None:
    key, _ = new_user(server, "xss")
    add(server, key, XSS, tags=["<b>bold</b>"])
    sign_in(page, server, key)
    card = page.locator("#memory-list li.memory").first
    expect(card.locator(".content")).to_have_text(XSS)
    expect(card.locator(".tag")).to_have_text("#<b>bold</b>")
    assert page.locator("#memory-list img, #memory-list b").count() == 0
    assert stored(server, "xss")[0][0] == XSS
    # the `page` fixture fails the test if alert(1) opened a dialog


def test_a_server_error_is_a_message_not_a_trace(server: Server, page: Page) -> None:
    key, _ = new_user(server, "faulty")
    sign_in(page, server, key)
    path = server.database_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as db:  # every insert of a memory now fails in the database
        db.execute(
            "CREATE TRIGGER ui_test_fault BEFORE INSERT ON memories"
            " BEGIN SELECT RAISE(ABORT, 'injected fault'); END"
        )
    try:
        page.get_by_label("Memory", exact=True).fill("User sails on weekends")
        page.get_by_role("button", name="Add").click()
        alert = page.get_by_role("alert")
        expect(alert).to_contain_text("Internal Server Error")
        assert "Traceback" not in page.content() and "injected" not in alert.inner_text()
    finally:
        with sqlite3.connect(path) as db:
            db.execute("DROP TRIGGER ui_test_fault")
    assert stored(server, "faulty") == []


def test_csrf_is_refused_without_the_token(server: Server, page: Page) -> None:
    key, _ = new_user(server, "forged")
    sign_in(page, server, key)
    forged = page.request.post(
        f"{server.base}/ui/memories", form={"content": "User was forged"}
    )  # the session's cookie, but no token
    assert forged.status == 403
    assert "anti-forgery" in forged.text()
    wrong = page.request.post(
        f"{server.base}/ui/memories",
        form={"content": "User was forged"},
        headers={"X-CSRF-Token": "not-the-token"},
    )
    assert wrong.status == 403
    assert stored(server, "forged") == []


def test_a_read_only_key_sees_no_edit_controls_and_cannot_write(server: Server, page: Page) -> None:
    writer, _ = new_user(server, "reader")
    add(server, writer, "User reads poetry")
    with httpx.Client(base_url=server.base, headers=ADMIN, timeout=30) as http:
        reader = http.post("/v1/admin/users/reader/keys", json={"scopes": READ}).json()["key"]
    sign_in(page, server, reader)
    expect(page.locator("#memory-list")).to_contain_text("User reads poetry")
    expect(page.locator("header")).to_contain_text("read-only")
    for name in ("Add", "Edit", "Delete permanently", "Import"):
        expect(page.get_by_role("button", name=name, exact=True)).to_have_count(0)
    token = page.locator('meta[name="csrf-token"]').get_attribute("content")
    assert token
    refused = page.request.post(
        f"{server.base}/ui/memories",
        form={"content": "User was written by a reader"},
        headers={"X-CSRF-Token": token},
    )
    assert refused.status == 403
    assert "memories:write" in refused.text()
    assert [content for content, *_ in stored(server, "reader")] == ["User reads poetry"]


def test_the_admin_view_lists_users_and_manages_keys(server: Server, page: Page) -> None:
    key, _ = new_user(server, "managed")
    add(server, key, "User collects stamps")
    sign_in(page, server, TOKEN, landing="/ui/admin")
    row = page.locator("tr", has=page.get_by_role("link", name="managed", exact=True))
    expect(row).to_contain_text("1")
    row.get_by_role("link", name="managed").click()
    page.get_by_label(re.compile("Name")).fill("phone")
    page.get_by_role("button", name="Create key").click()
    secret = page.get_by_label("The new key").input_value()
    assert re.fullmatch(r"omi_dev_[0-9a-f]{32}", secret)
    expect(page.locator(".created")).to_contain_text("shown only this once")
    with httpx.Client(base_url=server.base, timeout=30) as http:  # the new key works
        assert http.get(MEMORIES, headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    page.goto(f"{server.base}/ui/admin/users/managed")  # shown once: not on the page again
    assert secret not in page.content()
    phone = page.locator("tr", has_text="phone")
    phone.get_by_role("button", name="Revoke permanently").click()
    page.locator("dialog#confirm").get_by_role("button", name="Revoke permanently").click()
    expect(page.locator("tr", has_text="phone")).to_contain_text("revoked")
    with _db(server) as db:
        revoked = db.execute(
            "SELECT revoked_at FROM api_keys WHERE name = 'phone'"
            " AND user_id = (SELECT id FROM users WHERE name = 'managed')"
        ).fetchone()[0]
    assert revoked is not None
    with httpx.Client(base_url=server.base, timeout=30) as http:
        assert http.get(MEMORIES, headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    assert any("who=admin" in line and "ui.create_key" in line for line in server.output)
    assert TOKEN not in "\n".join(server.output) and secret not in "\n".join(server.output)


EVERYTHING = list(ALL_SCOPES)


def user_rows(server: Server, user: str, query: str) -> list[tuple[Any, ...]]:
    """The rows `query` (over a table with a user_id) finds of the user's."""
    with _db(server) as db:
        rows = db.execute(
            f"{query} WHERE user_id = (SELECT id FROM users WHERE name = ?)", (user,)
        ).fetchall()
    return [tuple(row) for row in rows]


def test_a_conversation_from_text_its_memory_then_deleted_with_it(
    server: Server, page: Page
) -> None:
    key, _ = new_user(server, "talker", EVERYTHING)
    sign_in(page, server, key)
    page.get_by_role("link", name="Conversations").click()
    text = "I've been allergic to peanuts since I was a kid. I need to call the dentist. " + XSS
    page.get_by_label("Transcript (pasted text)").fill(text)
    page.get_by_role("button", name="Add and extract").click()
    created = page.locator("#messages .created")
    expect(created).to_contain_text("Extracted 1 memory and 1 action item")
    expect(created.get_by_role("link", name="User is allergic to peanuts")).to_be_visible()
    expect(page.locator("#conversation-list li")).to_have_count(1)  # the list fetched again
    created.get_by_role("link", name=re.compile("allergic to peanuts since")).click()
    expect(page.locator(".transcript")).to_have_text(text)  # the markup as text
    page.get_by_role("link", name="User is allergic to peanuts").click()
    expect(page.locator("main")).to_contain_text("History of a memory")
    page.go_back()

    page.get_by_role("button", name="Delete permanently").click()
    dialog = page.locator("dialog#confirm")
    expect(dialog).to_contain_text("permanent")
    choice = dialog.get_by_label(re.compile("Also delete the memories"))
    expect(choice).not_to_be_checked()
    choice.check()
    dialog.get_by_role("button", name="Delete permanently").click()
    page.wait_for_url(f"{server.base}/ui/conversations?deleted=1")
    expect(page.locator("#messages .notice")).to_contain_text("deleted permanently")
    assert user_rows(server, "talker", "SELECT id FROM conversations") == []
    assert stored(server, "talker") == []
    # its action item stays, unlinked from it
    assert user_rows(server, "talker", "SELECT description, conversation_id FROM action_items") == [
        ("Call the dentist", None)
    ]


def test_action_items_marked_done_and_deleted_on_a_phone(server: Server, page: Page) -> None:
    key, _ = new_user(server, "doer", EVERYTHING)
    with httpx.Client(base_url=server.base, timeout=30) as http:
        made = http.post(
            "/v1/dev/user/action-items/batch",
            json={"action_items": [{"description": "Buy milk"}, {"description": "Call Sam"}]},
            headers={"Authorization": f"Bearer {key}"},
        )
        assert made.status_code == 200, made.text
    page.set_viewport_size({"width": 375, "height": 812})
    sign_in(page, server, key)
    page.get_by_role("link", name="Action items").click()
    expect(page.locator("#open-items li")).to_have_count(2)
    page.get_by_role("button", name="Mark done: Buy milk").click()
    expect(page.locator("#done-items")).to_contain_text("Buy milk")
    expect(page.locator("#open-items li")).to_have_count(1)
    assert page.evaluate("document.documentElement.scrollWidth") <= 375  # no sideways scroll
    page.get_by_role("button", name="Delete permanently: Call Sam").focus()
    page.keyboard.press("Enter")
    page.locator("dialog#confirm").get_by_role("button", name="Delete permanently").click()
    expect(page.locator("#messages .notice")).to_contain_text("Deleted permanently")
    expect(page.locator("#open-items li")).to_have_count(0)
    assert user_rows(server, "doer", "SELECT description, completed FROM action_items") == [
        ("Buy milk", 1)
    ]
