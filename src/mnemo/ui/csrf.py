"""Anti-forgery tokens (docs/ui.md, "Security"). A session's token is in its row; the
page puts it in a `<meta>` tag, which ui.js sends on every htmx request as the header
`X-CSRF-Token`, and in a hidden field `csrf` of plain forms. The sign-in form, which has
no session yet, carries a token that must equal its cookie `mnemo_signin` (double
submit). Tokens are compared in constant time."""

from __future__ import annotations

import hmac
import secrets

from fastapi import Request

HEADER = "x-csrf-token"
FIELD = "csrf"
SIGNIN_COOKIE = "mnemo_signin"
REFUSED = "This request did not carry the page's anti-forgery token: reload the page"
_MAX_TOKEN_CHARS = 100


def new_token() -> str:
    return secrets.token_urlsafe(32)


async def presented(request: Request) -> str:
    """The token the request carries (its header, else its form's field), or ""."""
    token = request.headers.get(HEADER)
    if token is None:
        field = (await request.form()).get(FIELD)
        token = field if isinstance(field, str) else ""
    return token


def matches(expected: str | None, token: str) -> bool:
    if not expected or not token or len(token) > _MAX_TOKEN_CHARS:
        return False
    return hmac.compare_digest(expected.encode(), token.encode("utf-8", "surrogatepass"))
