"""Request-scoped dependencies and the authenticated route class."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from fastapi.routing import APIRoute
from fastapi.security import HTTPBearer

from mnemo.auth import Authenticator
from mnemo.config import Settings
from mnemo.metrics import Metrics
from mnemo.service import MemoryService
from mnemo.store import READ_SCOPE, WRITE_SCOPE, ApiKey, Store

_READ_METHODS = frozenset({"GET", "HEAD"})

# Declares the bearer scheme in the OpenAPI document; authentication itself is
# done by `AuthenticatedRoute`, before the body is read.
bearer_scheme = HTTPBearer(auto_error=False, description="An `omi_dev_...` API key")


@dataclass
class Components:
    """What the app built at start-up; one per app, kept on `app.state.mnemo`."""

    settings: Settings
    store: Store
    service: MemoryService
    authenticator: Authenticator
    metrics: Metrics


def components(request: Request) -> Components:
    found: Components = request.app.state.mnemo
    return found


class AuthenticatedRoute(APIRoute):
    """Checks the key and its scope before FastAPI reads or validates the body.

    GET routes need `memories:read`; every other method needs `memories:write`.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        scope = READ_SCOPE if (self.methods or set()) <= _READ_METHODS else WRITE_SCOPE

        async def authenticated(request: Request) -> Response:
            authenticator = components(request).authenticator
            request.state.api_key = await authenticator.authenticate(
                request.headers.get("authorization"), scope
            )
            return await handler(request)

        return authenticated


def _current_key(request: Request) -> ApiKey:
    key: ApiKey = request.state.api_key
    return key


def _service(request: Request) -> MemoryService:
    return components(request).service


CurrentKey = Annotated[ApiKey, Depends(_current_key)]
Service = Annotated[MemoryService, Depends(_service)]
App = Annotated[Components, Depends(components)]
