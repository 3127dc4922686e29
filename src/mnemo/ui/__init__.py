"""The web page at `/ui` (docs/ui.md): server-rendered Jinja2 templates and the vendored
htmx, over the same service layer, scopes and rate limits as the API.

A view is a template and a route: `memories` (a user's memories, their history, export
and import), `conversations` (a user's conversations: list, one with what was extracted
from it, create from text, delete), `action_items` (a user's action items: list, mark
done, delete), `admin` (the operator's users and keys), `signin` (the door). Every route
goes through `mnemo.ui.route` (session, CSRF, scope, rate limit, errors as a message);
`mnemo.ui.security` sets the page's headers (CSP and the rest).
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles

from mnemo.ui import action_items, admin, conversations, memories, signin
from mnemo.ui.security import PREFIX, PageHeaders

IMPORT_PATH = memories.IMPORT_PATH

__all__ = ["IMPORT_PATH", "PREFIX", "mount"]


def mount(app: FastAPI) -> None:
    """Serve the page at `/ui` (its static files at `/ui/static/`), with its headers."""
    for router in (
        signin.router,
        memories.router,
        conversations.router,
        action_items.router,
        admin.router,
    ):
        app.include_router(router)
    app.mount(f"{PREFIX}/static", StaticFiles(packages=[("mnemo.ui", "static")]), name="ui-static")
    app.include_router(signin.fallback)
    app.add_middleware(PageHeaders)
