"""The door of the page: `/ui` (to a view, or the sign-in form), signing in with an API
key or the admin token (a form POST: the key is never in a URL), and signing out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from mnemo.api.admin_route import audit_line
from mnemo.api.deps import client_address, components, counting_failures
from mnemo.auth import KEY_PREFIX, admin_token_matches
from mnemo.errors import Forbidden, Unauthorized
from mnemo.store import READ_SCOPE, ApiKey
from mnemo.ui import csrf
from mnemo.ui.route import SIGNIN, OpenRoute, describe
from mnemo.ui.security import PREFIX
from mnemo.ui.session import (
    COOKIE,
    clear_cookie,
    end_session,
    find_visitor,
    open_session,
    set_cookie,
)
from mnemo.ui.templating import render

MEMORIES = f"{PREFIX}/memories"
ADMIN = f"{PREFIX}/admin"
MAX_SECRET_CHARS = 1000
NOT_VALID = "That key is not valid: it may be mistyped, or revoked."
CANNOT_READ = "This key cannot read memories (it lacks the scope memories:read)."
NO_COOKIES = (
    "Your browser must accept this page's cookies to sign in: reload the page and try again."
)

router = APIRouter(prefix=PREFIX, route_class=OpenRoute, include_in_schema=False)


def _form(request: Request, error: str | None = None, status_code: int = 200) -> Response:
    """The sign-in form, with a fresh anti-forgery token in its field and cookie."""
    token = csrf.new_token()
    response = render(
        request,
        "signin.html",
        {
            "signin_token": token,
            "error": error,
            "ended": request.query_params.get("ended") == "1",
            "admin_on": components(request).settings.admin_token is not None,
        },
        status_code,
    )
    set_cookie(response, request, components(request).settings, csrf.SIGNIN_COOKIE, token)
    return response


@router.get("")
@router.get("/")  # /ui/ as typed, too
async def home(request: Request) -> Response:
    found = components(request)
    visitor = await find_visitor(found.store, found.settings, request)
    target = SIGNIN if visitor is None else MEMORIES if visitor.key is not None else ADMIN
    return RedirectResponse(target, status_code=303)


@router.get("/signin")
async def signin_form(request: Request) -> Response:
    return _form(request)


@router.post("/signin")
async def sign_in(
    request: Request,
    key: Annotated[str, Form(max_length=MAX_SECRET_CHARS)] = "",
    token: Annotated[str, Form(alias=csrf.FIELD, max_length=200)] = "",
) -> Response:
    """An API key opens a user's session (it needs `memories:read`); the admin token,
    when set, the operator's. Failures count against the address's failed-authentication
    limit, as the API's do."""
    if not csrf.matches(request.cookies.get(csrf.SIGNIN_COOKIE), token):
        return _form(request, NO_COOKIES, 403)
    found = components(request)
    secret = key.strip()
    expected = found.settings.admin_token
    operator = expected is not None and not secret.startswith(KEY_PREFIX)

    async def check_admin() -> None:
        if not admin_token_matches(expected.get_secret_value() if expected else None, secret):
            raise Unauthorized(NOT_VALID)

    signed_in: ApiKey | None = None
    try:
        if operator:
            await counting_failures(found, client_address(request.scope), check_admin)
        else:
            signed_in = await counting_failures(
                found,
                client_address(request.scope),
                lambda: found.authenticator.authenticate_key(secret, READ_SCOPE),
            )
    except Unauthorized:
        if operator:
            audit_line(request, "unauthenticated", "ui.sign_in", 401)
        return _form(request, NOT_VALID, 401)
    except Forbidden:
        return _form(request, CANNOT_READ, 403)
    except Exception as error:
        status_code, text, headers = describe(request, error)
        response = _form(request, text, status_code)
        response.headers.update(headers)
        return response
    await end_session(found.store, request)  # a session the browser had ends here
    session_id = await open_session(found.store, found.settings, signed_in)
    if operator:
        audit_line(request, "admin", "ui.sign_in", 303)
    response = RedirectResponse(MEMORIES if signed_in else ADMIN, status_code=303)
    set_cookie(response, request, found.settings, COOKIE, session_id)
    clear_cookie(response, csrf.SIGNIN_COOKIE)
    return response


@router.post("/signout")
async def sign_out(request: Request) -> Response:
    """Ends the session in the database (every worker), then in the browser."""
    found = components(request)
    visitor = await find_visitor(found.store, found.settings, request)
    if visitor is not None:
        if not csrf.matches(visitor.csrf, await csrf.presented(request)):
            raise Forbidden(csrf.REFUSED)
        await end_session(found.store, request)
        if visitor.key is None:
            audit_line(request, "admin", "ui.sign_out", 303)
    response = RedirectResponse(SIGNIN, status_code=303)
    clear_cookie(response, COOKIE)
    return response


fallback = APIRouter(prefix=PREFIX, route_class=OpenRoute, include_in_schema=False)


@fallback.api_route("/{path:path}", methods=["GET", "POST"])
async def no_such_page(request: Request, path: str) -> Response:
    """Any other path under /ui: a page saying so (mounted after the static files)."""
    raise StarletteHTTPException(404, "There is no such page.")
