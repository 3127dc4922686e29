"""The admin API's door: the operator's token (`MNEMO_ADMIN_TOKEN`), and the audit
trail of every admin request.

With no token set, every admin route answers 404 `{"detail": "Not Found"}`, as a path
that does not exist, and is not logged. Otherwise the request needs `Authorization:
Bearer <token>`, compared in constant time (`auth.admin_token_matches`); a missing or
wrong one is a 401 counted by the failed-authentication limiter of the client's
address, exactly as a bad API key is (`deps.admit`), so guessing the token is as slow
as guessing a key, and a user's API key is only ever a wrong token here.

Each admitted or refused request is one line on the logger `mnemo.audit` (at INFO,
whatever `MNEMO_LOG_LEVEL`: mnemo.logs): who (`admin`, or `unauthenticated` for a
refused token), the client address, the operation, the method and path with its
query, and the outcome (the status). The line's time and request id are the log's.
Neither the token nor a key is ever written (a key created is in the answer only).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException

from mnemo.api.deps import Components, client_address, components, counting_failures
from mnemo.auth import admin_token_matches
from mnemo.errors import MnemoError, Unauthorized

audit = logging.getLogger("mnemo.audit")

MISSING_TOKEN = "Missing or invalid Authorization header. Must be 'Bearer ADMIN_TOKEN'"
INVALID_TOKEN = "Invalid admin token"


async def _admit(found: Components, expected: str, authorization: str | None, client: str) -> None:
    """Return if the header carries the admin token; else 401, counted as a failed
    authentication of the address (`deps.counting_failures`)."""

    async def check() -> None:
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer":
            raise Unauthorized(MISSING_TOKEN)
        if not admin_token_matches(expected, token.strip()):
            raise Unauthorized(INVALID_TOKEN)

    await counting_failures(found, client, check)


def _status(error: Exception) -> int:
    if isinstance(error, MnemoError):
        return error.status_code
    if isinstance(error, StarletteHTTPException):
        return error.status_code
    if isinstance(error, RequestValidationError):
        return 422
    return 500


class AdminRoute(APIRoute):
    """A route of `/v1/admin/...`: admitted by the admin token, and audited."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        operation = self.operation_id or self.name

        async def admitted(request: Request) -> Response:
            found = components(request)
            if found.settings.admin_token is None:
                raise StarletteHTTPException(404)
            client = client_address(request.scope)
            who, status = "unauthenticated", 500
            try:
                await _admit(
                    found,
                    found.settings.admin_token.get_secret_value(),
                    request.headers.get("authorization"),
                    client,
                )
                who = "admin"
                response = await handler(request)
                status = response.status_code
                return response
            except Exception as error:
                status = _status(error)
                raise
            finally:
                audit_line(request, who, operation, status)

        return admitted


def audit_line(request: Request, who: str, operation: str, status: int) -> None:
    """The request's line on `mnemo.audit` (this module's docstring): the admin API's and
    the web page's admin view's (mnemo.ui.route)."""
    target = request.url.path
    if request.url.query:
        target += "?" + request.url.query
    audit.info(
        "who=%s client=%s action=%s %s %s outcome=%d",
        who,
        client_address(request.scope),
        operation,
        request.method,
        target,
        status,
    )
