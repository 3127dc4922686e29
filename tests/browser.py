"""Debian's Chromium driven by Playwright (its own browser download cannot work here):
the web page's browser tests (tests/ui) and scripts/screenshots.py launch it one way."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Playwright

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def launch(playwright: Playwright, profile: str) -> BrowserContext:
    """A headless Chromium with a profile of its own in the folder `profile`."""
    return playwright.chromium.launch_persistent_context(
        profile, executable_path=CHROMIUM, args=ARGS, headless=True
    )
