"""The door of every route of the page: the session, the anti-forgery token, the key's
scope and rate limit (the API's: mnemo.api.deps), and every error as a message in the
page (never a stack trace, nor the API's JSON).

`UserRoute`: a user's session; GET needs `memories:read` and counts as a read, other
methods need `memories:write` and the token, and count as a write (a bulk delete and an
import as a batch). `ConversationsRoute` and `ActionItemsRoute`: the same, under
`conversations:read`/`:write` and `action_items:read`/`:write`. `AdminRoute`: the
operator's session (each request audited on `mnemo.audit`, as the admin API's).
`OpenRoute`: no session (the sign-in form).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from html import escape
from typing import Any, ClassVar

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from mnemo.api.admin_route import audit_line
from mnemo.api.deps import components, count_request
from mnemo.auth import require_scope
from mnemo.errors import Forbidden, MnemoError, StoreError, Unprocessable
from mnemo.ratelimit import BATCHES, READS, WRITES
from mnemo.store import READ_SCOPE, WRITE_SCOPE, ApiKey
from mnemo.store.base import (
    ACTION_ITEMS_READ_SCOPE,
    ACTION_ITEMS_WRITE_SCOPE,
    CONVERSATIONS_READ_SCOPE,
    CONVERSATIONS_WRITE_SCOPE,
)
from mnemo.store.changes import acting_as
from mnemo.ui import csrf
from mnemo.ui.security import PREFIX
from mnemo.ui.session import find_visitor
from mnemo.ui.templating import htmx, render

log = logging.getLogger("mnemo")

_READ_METHODS = frozenset({"GET", "HEAD"})
BATCH_SUFFIXES = ("/bulk-delete", "/import")
SIGNIN = f"{PREFIX}/signin"
SERVER_ERROR = (
    "the server could not do that (its log has the details). Try again, or tell the operator."
)


def issues(error: RequestValidationError) -> str:
    """A validation error's issues as one sentence a person reads."""
    parts = []
    for item in error.errors():
        where = ".".join(str(part) for part in item.get("loc", ()) if part not in ("body", "form"))
        parts.append(f"{where}: {item.get('msg')}" if where else str(item.get("msg")))
    return "; ".join(parts) or "The form is not valid"


def describe(request: Request, error: Exception) -> tuple[int, str, dict[str, str]]:
    """An error's status, the sentence the page shows, and its headers."""
    if isinstance(error, StoreError):
        cause = f" ({error.__cause__!r})" if error.__cause__ is not None else ""
        log.error("%s %s failed: %s%s", request.method, request.url.path, error.detail, cause)
        text = f"{type(error).default_detail}: {SERVER_ERROR}"
        return error.status_code, text, dict(error.headers or {})
    if isinstance(error, MnemoError):
        return error.status_code, error.detail, dict(error.headers or {})
    if isinstance(error, RequestValidationError):
        return 422, issues(error), {}
    if isinstance(error, StarletteHTTPException):
        return error.status_code, str(error.detail), dict(error.headers or {})
    log.exception("unexpected error on %s %s", request.method, request.url.path, exc_info=error)
    return 500, f"Internal Server Error: {SERVER_ERROR}", {}


def message(request: Request, text: str, status_code: int, headers: dict[str, str]) -> Response:
    """An error as the page shows it: in the messages area of the page (htmx), or as a
    page of its own."""
    fragment = htmx(request)
    if fragment:
        headers = {**headers, "HX-Retarget": "#messages", "HX-Reswap": "innerHTML"}
    try:
        return render(
            request,
            "_message.html" if fragment else "error.html",
            {"error": text},
            status_code,
            headers,
        )
    except Exception:  # a page that cannot even render its error: the sentence alone
        log.exception("the page's error message could not be rendered")
        body = f'<p class="message error" role="alert">{escape(text)}</p>'
        return HTMLResponse(body, status_code=status_code, headers=headers)


def signed_out(request: Request, ended: bool) -> Response:
    """To the sign-in form (`ended`: it says the session ended)."""
    target = SIGNIN + ("?ended=1" if ended else "")
    if htmx(request):
        return Response(status_code=401, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


def visitor_key(request: Request) -> ApiKey:
    """The signed-in user's key (a user's route admits only a user's session)."""
    key: ApiKey | None = request.state.ui_visitor.key
    assert key is not None
    return key


def form_issues(error: ValidationError) -> Unprocessable:
    """A form's validation error as one sentence (422)."""
    sentence = "; ".join(
        f"{'.'.join(map(str, e['loc']))}: {e['msg']}" if e["loc"] else e["msg"]
        for e in error.errors()
    )
    return Unprocessable(sentence)


def notice(request: Request, text: str, event: str | None = None) -> Response:
    """A message in the page's messages area; `event`: the htmx event that makes the
    page fetch its list again."""
    headers = {"HX-Trigger": event} if event else {}
    if not htmx(request):
        return render(request, "error.html", {"error": None, "notice": text})
    return render(request, "_message.html", {"notice": text}, headers=headers)


class OpenRoute(APIRoute):
    door: ClassVar[str] = "open"
    read_scope: ClassVar[str] = READ_SCOPE
    write_scope: ClassVar[str] = WRITE_SCOPE

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        reading = (self.methods or set()) <= _READ_METHODS
        policy = READS if reading else BATCHES if self.path.endswith(BATCH_SUFFIXES) else WRITES
        scope = self.read_scope if reading else self.write_scope
        door = self.door
        operation = f"ui.{self.name}"

        async def page(request: Request) -> Response:
            if door == "admin":
                status = 500
                try:
                    response = await answer(request)
                    status = response.status_code
                    return response
                finally:
                    if getattr(request.state, "ui_visitor", None) is not None:
                        audit_line(request, "admin", operation, status)
            return await answer(request)

        async def answer(request: Request) -> Response:
            try:
                if door == "open":
                    return await handler(request)
                found = components(request)
                visitor = await find_visitor(found.store, found.settings, request)
                if visitor is None or (visitor.key is None) != (door == "admin"):
                    return signed_out(request, ended="mnemo_session" in request.cookies)
                request.state.ui_visitor = visitor
                if not reading and not csrf.matches(visitor.csrf, await csrf.presented(request)):
                    raise Forbidden(csrf.REFUSED)
                if visitor.key is None:
                    return await handler(request)
                require_scope(visitor.key, scope)
                await count_request(
                    found, visitor.key, policy, request.scope.setdefault("state", {})
                )
                with acting_as(visitor.key.id):
                    return await handler(request)
            except Exception as error:
                status_code, text, headers = describe(request, error)
                return message(request, text, status_code, headers)

        return page


class UserRoute(OpenRoute):
    door = "user"


class ConversationsRoute(UserRoute):
    read_scope = CONVERSATIONS_READ_SCOPE
    write_scope = CONVERSATIONS_WRITE_SCOPE


class ActionItemsRoute(UserRoute):
    read_scope = ACTION_ITEMS_READ_SCOPE
    write_scope = ACTION_ITEMS_WRITE_SCOPE


class AdminRoute(OpenRoute):
    door = "admin"


__all__ = [
    "ActionItemsRoute",
    "AdminRoute",
    "ConversationsRoute",
    "OpenRoute",
    "UserRoute",
    "describe",
    "form_issues",
    "message",
    "notice",
    "visitor_key",
]
