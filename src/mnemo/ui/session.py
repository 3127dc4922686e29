"""The web page's sessions (docs/ui.md, "Sessions").

Signing in stores a row in `ui_sessions` (both backends: every worker sees it) and gives
the browser a random id in the cookie `mnemo_session` (`HttpOnly; SameSite=Strict;
Path=/ui`, `Secure` over HTTPS or with `MNEMO_UI_SECURE_COOKIES`, no `Max-Age`: closing
the browser ends it). The row holds the SHA-256 of that id, never the id, and names the
key by its id (the operator's session: the SHA-256 of the admin token), never the key.
Every request reads the row and the key again: signing out deletes the row, a revoked
key or a changed admin token ends the session at once, and no session outlives
`MNEMO_UI_SESSION_HOURS` after its sign-in.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from fastapi import Request, Response

from mnemo.clock import now_us
from mnemo.config import Settings
from mnemo.store import ApiKey, Store
from mnemo.store.base import UiSession
from mnemo.ui.csrf import new_token
from mnemo.ui.security import PREFIX

COOKIE = "mnemo_session"
_MAX_COOKIE_CHARS = 100  # an id is 43 characters


@dataclass(frozen=True)
class Visitor:
    """Who a request of the page comes from: a user's key, or the operator (no key)."""

    session: UiSession
    key: ApiKey | None

    @property
    def csrf(self) -> str:
        return self.session.csrf


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def admin_digest(settings: Settings) -> str | None:
    token = settings.admin_token
    return None if token is None else digest(token.get_secret_value())


async def open_session(store: Store, settings: Settings, key: ApiKey | None) -> str:
    """A new session of the key (None: the operator's); the id for its cookie."""
    session_id = secrets.token_urlsafe(32)
    now = now_us()
    await store.create_ui_session(
        UiSession(
            id_hash=digest(session_id),
            user_id=None if key is None else key.user_id,
            key_id=None if key is None else key.id,
            admin_hash=admin_digest(settings) if key is None else None,
            csrf=new_token(),
            created_at=now,
            expires_at=now + int(settings.ui_session_hours * 3600 * 1_000_000),
        )
    )
    return session_id


def _cookie_hash(request: Request) -> str | None:
    value = request.cookies.get(COOKIE)
    if not value or len(value) > _MAX_COOKIE_CHARS:
        return None
    return digest(value)


async def find_visitor(store: Store, settings: Settings, request: Request) -> Visitor | None:
    """The request's live session, or None (and a dead one deleted): none, expired, its
    key revoked or deleted, or (the operator's) the admin token unset or changed."""
    id_hash = _cookie_hash(request)
    found = None if id_hash is None else await store.ui_session(id_hash, now_us())
    if found is None:
        return None
    session, key = found
    if session.key_id is not None:
        alive = key is not None
    else:
        expected = admin_digest(settings)
        alive = expected is not None and hmac.compare_digest(expected, session.admin_hash or "")
    if not alive:
        await store.end_ui_session(session.id_hash)
        return None
    return Visitor(session, key)


async def end_session(store: Store, request: Request) -> None:
    id_hash = _cookie_hash(request)
    if id_hash is not None:
        await store.end_ui_session(id_hash)


def set_cookie(
    response: Response, request: Request, settings: Settings, name: str, value: str
) -> None:
    """A session cookie (no `Max-Age`) of the page's: `HttpOnly; SameSite=Strict;
    Path=/ui`, `Secure` over HTTPS or with `MNEMO_UI_SECURE_COOKIES`."""
    response.set_cookie(
        name,
        value,
        path=PREFIX,
        httponly=True,
        samesite="strict",
        secure=settings.ui_secure_cookies or request.url.scheme == "https",
    )


def clear_cookie(response: Response, name: str) -> None:
    response.delete_cookie(name, path=PREFIX, httponly=True, samesite="strict")
