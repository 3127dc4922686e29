"""Request-scoped dependencies and the authenticated route class."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from fastapi.routing import APIRoute
from fastapi.security import HTTPBearer

from mnemo.auth import Authenticator, Lookup
from mnemo.config import Settings
from mnemo.errors import RateLimited, Unauthorized
from mnemo.metrics import Metrics
from mnemo.ratelimit import AUTH_FAILURES, BATCHES, READS, WRITES, RateLimiter
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
    limiter: RateLimiter | None


def components(request: Request) -> Components:
    found: Components = request.app.state.mnemo
    return found


async def admit(
    found: Components,
    authorization: str | None,
    client: str,
    scope: str,
    policy: str,
    state: dict[str, Any],
    lookup: Lookup | None = None,
) -> ApiKey:
    """The key of a request that may go on, or the error to answer (401, 403, 429).

    The one admission rule of every authenticated route (`AuthenticatedRoute`) and of
    the fast path (`mnemo.api.fast`): a client address over its failed-authentication
    limit is refused before its key is looked at; a failed authentication counts for
    its address; an admitted request counts for its key under `policy`, and that
    decision is kept in `state["rate_limit"]` for `RateLimitHeaders`, errors included.
    `lookup`: see `Authenticator.authenticate`.
    """
    limiter = found.limiter
    if limiter is not None:
        gate = await limiter.check(AUTH_FAILURES, client)
        if not gate.allowed:
            raise RateLimited(gate.reset_s, gate.headers())
    try:
        key = await found.authenticator.authenticate(authorization, scope, lookup)
    except Unauthorized:
        if limiter is not None:
            await limiter.hit(AUTH_FAILURES, client)
        raise
    if limiter is not None:
        decision = await limiter.hit(policy, key.id)
        state["rate_limit"] = decision
        if not decision.allowed:
            raise RateLimited(decision.reset_s, decision.headers())
    return key


class AuthenticatedRoute(APIRoute):
    """Checks the key, its scope and its rate limit before FastAPI reads the body.

    GET routes need `memories:read` and count as reads; the batch route counts as a
    batch; every other method needs `memories:write` and counts as a write. Failed
    authentications count per client address.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        reading = (self.methods or set()) <= _READ_METHODS
        scope = READ_SCOPE if reading else WRITE_SCOPE
        policy = READS if reading else BATCHES if self.path.endswith("/batch") else WRITES

        async def authenticated(request: Request) -> Response:
            client = request.client.host if request.client else "unknown"
            request.state.api_key = await admit(
                components(request),
                request.headers.get("authorization"),
                client,
                scope,
                policy,
                request.scope.setdefault("state", {}),
            )
            return await handler(request)

        return authenticated


# Dependencies are async: FastAPI runs plain functions in a thread pool, a thread hop
# per request for nothing.
async def _current_key(request: Request) -> ApiKey:
    key: ApiKey = request.state.api_key
    return key


async def _service(request: Request) -> MemoryService:
    return components(request).service


CurrentKey = Annotated[ApiKey, Depends(_current_key)]
Service = Annotated[MemoryService, Depends(_service)]


async def _components(request: Request) -> Components:
    return components(request)


App = Annotated[Components, Depends(_components)]
