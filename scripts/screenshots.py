#!/usr/bin/env python3
"""Screenshots of each main view of the web page, at desktop (1280 px) and phone (375 px)
widths, into docs/screenshots/ (the README shows them).

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots]

Starts `mnemo serve` on a scratch SQLite database with an admin token, makes a demo
user and key and a few memories through the admin API and the memories API, then drives
Debian's Chromium (/usr/bin/chromium, with Playwright) through the views: sign-in, the
memories list, an inline edit, the delete confirmation, a memory's history, the
conversations list, a conversation (with what was extracted from it, and its delete
confirmation), the action items, the admin's users and a user's keys. Needs `apt-get
install chromium` and the test extras.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from playwright.sync_api import Page, sync_playwright

from mnemo.store import ALL_SCOPES

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the browser's launch, shared with the tests
from tests.browser import launch  # noqa: E402

WIDTHS = {"desktop": (1280, 900), "phone": (375, 812)}
CONVERSATIONS = [
    "We talked about the garden. I'm allergic to bee stings, so I keep an EpiPen in the shed."
    " I need to order the tomato seedlings by Friday.",
    "Sam asked about the trip. I'm flying to Lisbon in May with my daughter."
    " I have to renew my passport next week.",
]
FACTS = [
    ("User is vegetarian and avoids mushrooms", "core", ["food"]),
    ("User works as a nurse on night shifts", "work", ["job"]),
    ("User plays the cello in a community orchestra", "hobbies", ["music"]),
    ("User's daughter is called Inès and is seven", "core", ["family"]),
    ("User prefers short answers without bullet points", "system", []),
    ("User is learning Portuguese before a trip to Lisbon", "interests", ["language", "travel"]),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve(database: Path, token: str) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = {**os.environ, "MNEMO_ADMIN_TOKEN": token}
    process = subprocess.Popen(
        [sys.executable, "-m", "mnemo", "serve", "--port", str(port)]
        + ["--database-url", f"sqlite:///{database}", "--log-level", "warning"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return process, base
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    os.killpg(process.pid, signal.SIGTERM)
    raise SystemExit("mnemo serve did not become ready")


def _seed(base: str, token: str) -> str:
    admin = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, timeout=60) as http:
        for name in ("maria", "sam", "alex"):
            http.post("/v1/admin/users", json={"name": name}, headers=admin).raise_for_status()
        made = http.post(
            "/v1/admin/users/maria/keys",
            json={"name": "phone", "scopes": list(ALL_SCOPES)},
            headers=admin,
        )
        key: str = made.raise_for_status().json()["key"]
        http.post("/v1/admin/users/sam/keys", json={"name": "laptop"}, headers=admin)
        auth = {"Authorization": f"Bearer {key}"}
        ids = []
        for content, category, tags in FACTS:
            body = {"content": content, "category": category, "tags": tags}
            answer = http.post("/v1/dev/user/memories", json=body, headers=auth)
            ids.append(answer.raise_for_status().json()["id"])
        patch = {"content": "User works as a nurse, now on day shifts"}
        http.patch(f"/v1/dev/user/memories/{ids[1]}", json=patch, headers=auth)
        for text in CONVERSATIONS:
            answer = http.post("/v1/dev/user/conversations", json={"text": text}, headers=auth)
            answer.raise_for_status()
    return key


def _sign_in(page: Page, base: str, secret: str, landing: str) -> None:
    page.goto(f"{base}/ui/signin")
    page.fill("#key", secret)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}{landing}")


def _shots(page: Page, base: str, key: str, token: str, out: Path, width: str) -> None:
    def shot(view: str) -> None:
        page.screenshot(path=str(out / f"{view}-{width}.png"), full_page=False)

    page.context.clear_cookies()
    page.goto(f"{base}/ui/signin")
    shot("signin")
    _sign_in(page, base, key, "/ui/memories")
    page.wait_for_selector("#memory-list li.memory")
    shot("memories")
    page.locator("#memory-list li.memory").first.get_by_role("button", name="Edit").click()
    page.wait_for_selector("li.editing textarea")
    shot("edit")
    page.locator("li.editing").get_by_role("button", name="Cancel").click()
    page.wait_for_selector("li.editing", state="detached")
    page.get_by_role("button", name="Delete permanently").first.click()
    page.wait_for_selector("dialog#confirm[open]")
    shot("confirm")
    page.keyboard.press("Escape")
    nurse = page.locator("li.memory", has_text="nurse")
    nurse.get_by_role("link", name="History").click()
    page.wait_for_selector("ol.history")
    shot("history")
    page.get_by_role("link", name="Conversations").click()
    page.wait_for_selector("#conversation-list li")
    shot("conversations")
    page.locator("#conversation-list li a").last.click()
    page.wait_for_selector(".transcript")
    shot("conversation")
    page.get_by_role("button", name="Delete permanently").click()
    page.wait_for_selector("dialog#confirm[open]")
    shot("conversation-delete")
    page.keyboard.press("Escape")
    page.get_by_role("link", name="Action items").click()
    page.wait_for_selector("#open-items li")
    shot("action-items")
    page.context.clear_cookies()
    _sign_in(page, base, token, "/ui/admin")
    shot("admin-users")
    page.get_by_role("link", name="maria").click()
    page.wait_for_selector("table")
    shot("admin-user")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    token = secrets.token_hex(20)
    with tempfile.TemporaryDirectory() as scratch:
        process, base = _serve(Path(scratch) / "demo.db", token)
        try:
            key = _seed(base, token)
            with sync_playwright() as playwright:
                context = launch(playwright, str(Path(scratch) / "profile"))
                for width, (w, h) in WIDTHS.items():
                    page = context.new_page()
                    page.set_viewport_size({"width": w, "height": h})
                    _shots(page, base, key, token, args.out, width)
                    page.close()
                context.close()
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)
    print(f"screenshots in {args.out}")


if __name__ == "__main__":
    main()
