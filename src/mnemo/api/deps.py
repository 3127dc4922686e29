"""Request-scoped dependencies and the authenticated route class."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Header, Request, Response
from fastapi.routing import APIRoute
from fastapi.security import HTTPBearer
from starlette.types import Scope

from mnemo.auth import Authenticator, Lookup
from mnemo.clock import now_us
from mnemo.config import Settings
from mnemo.errors import RateLimited, Unauthorized
from mnemo.idempotency import HEADER, KEY_PATTERN, MAX_KEY_CHARS, Idempotency, parse
from mnemo.metrics import Metrics
from mnemo.ratelimit import AUTH_FAILURES, BATCHES, CHARACTERS, READS, WRITES, RateLimiter
from mnemo.service import MemoryService
from mnemo.store import READ_SCOPE, WRITE_SCOPE, ApiKey, Store
from mnemo.store.changes import acting_as

T = TypeVar("T")
_READ_METHODS = frozenset({"GET", "HEAD"})
# `scope["state"][ADMITTED]`: the key of a request the fast path admitted, then handed to
# FastAPI (mnemo.api.fast), which `AuthenticatedRoute` does not admit a second time.
ADMITTED = "mnemo.admitted"

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
    scope: str | None,
    policy: str | None,
    state: dict[str, Any],
    lookup: Lookup | None = None,
) -> ApiKey:
    """The key of a request that may go on, or the error to answer (401, 403, 429, 503).

    The one admission rule of every authenticated route (`AuthenticatedRoute`) and of
    the fast path (`mnemo.api.fast`): a client address over its failed-authentication
    limit is refused before its key is looked at; a failed authentication is counted
    for its address and answered 401 only if it fits within that limit, in one atomic
    step (else 429), so concurrent guesses get at most the limit of answers; an
    admitted request counts for its key under `policy`, and that decision is kept in
    `state["rate_limit"]` for `RateLimitHeaders`, errors included. With `policy` None
    nothing is counted for the key: the door of `/mcp` (mnemo.mcp_http), whose tools'
    calls are each admitted, and counted, as requests of their own.
    `lookup`: see `Authenticator.authenticate`.
    """
    key = await counting_failures(
        found, client, lambda: found.authenticator.authenticate(authorization, scope, lookup)
    )
    if policy is not None:
        await count_request(found, key, policy, state)
    return key


async def count_request(found: Components, key: ApiKey, policy: str, state: dict[str, Any]) -> None:
    """Count an admitted request for its key under `policy` (429 over the limit), the
    decision kept in `state["rate_limit"]` for `RateLimitHeaders`: `admit`'s, and the
    web page's for the signed-in key (mnemo.ui.route)."""
    limiter = found.limiter
    if limiter is not None:
        decision = await limiter.take(policy, key.id)
        state["rate_limit"] = decision
        if not decision.allowed:
            raise RateLimited(policy, decision.reset_s, decision.headers())


async def counting_failures(
    found: Components, client: str, authenticate: Callable[[], Awaitable[T]]
) -> T:
    """`authenticate()`, unless the client address is over its failed-authentication
    limit (429 at once); its `Unauthorized` counted for the address, and answered only
    within that limit, in one atomic step (else 429). API keys (`admit`) and the admin
    token (mnemo.api.admin_route) share it, and so the same limit."""
    limiter = found.limiter
    if limiter is not None:
        gate = await limiter.check(AUTH_FAILURES, client)
        if not gate.allowed:
            raise RateLimited(AUTH_FAILURES, gate.reset_s, gate.headers())
    try:
        return await authenticate()
    except Unauthorized:
        if limiter is not None:
            failure = await limiter.take(AUTH_FAILURES, client)
            if not failure.allowed:
                raise RateLimited(AUTH_FAILURES, failure.reset_s, failure.headers()) from None
        raise


async def charge(found: Components, key: ApiKey, characters: int, state: dict[str, Any]) -> None:
    """Spend `characters` of memory content (what the request will embed) from the key's
    `characters` budget before any work starts, or raise 429 with that budget's headers
    (kept in `state["rate_limit"]` then); a request admitted by `admit` calls this once
    its body is read. A request that does not fit spends nothing."""
    limiter = found.limiter
    if limiter is None or characters <= 0:
        return
    decision = await limiter.take(CHARACTERS, key.id, characters)
    if not decision.allowed:
        state["rate_limit"] = decision
        raise RateLimited(CHARACTERS, decision.reset_s, decision.headers())


class AuthenticatedRoute(APIRoute):
    """Checks the key, its scope and its rate limit before FastAPI reads the body.

    GET routes need `read_scope` (`memories:read`) and count as reads; the batch route
    counts as a batch; every other method needs `write_scope` (`memories:write`) and
    counts as a write. Failed authentications count per client address. The routes of
    another resource use a subclass naming its scopes (`scoped_route`); `any_scope`: a
    key of any scope may call.
    """

    read_scope = READ_SCOPE
    write_scope = WRITE_SCOPE
    any_scope = False

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        reading = (self.methods or set()) <= _READ_METHODS
        scope = None if self.any_scope else self.read_scope if reading else self.write_scope
        policy = READS if reading else BATCHES if self.path.endswith("/batch") else WRITES

        async def authenticated(request: Request) -> Response:
            state = request.scope.setdefault("state", {})
            request.state.api_key = state.pop(ADMITTED, None) or await admit(
                components(request),
                request.headers.get("authorization"),
                client_address(request.scope),
                scope,
                policy,
                state,
            )
            with acting_as(request.state.api_key.id):  # the actor of its writes' history
                return await handler(request)

        return authenticated


class AnyScopeRoute(AuthenticatedRoute):
    """An authenticated route any key may call, whatever its scopes (`GET /v1/dev/key`)."""

    any_scope = True


def scoped_route(read: str, write: str) -> type[AuthenticatedRoute]:
    """`AuthenticatedRoute` for a resource whose reads need `read` and writes `write`."""
    return type("ScopedRoute", (AuthenticatedRoute,), {"read_scope": read, "write_scope": write})


def client_address(scope: Scope) -> str:
    """The request's client address (`request.client.host`, from the ASGI scope), or
    "unknown"; the fast path has a scope and no `Request`."""
    client = scope.get("client")
    return client[0] if client else "unknown"


# Dependencies are async: FastAPI runs plain functions in a thread pool, a thread hop
# per request for nothing.
async def _current_key(request: Request) -> ApiKey:
    key: ApiKey = request.state.api_key
    return key


async def _service(request: Request) -> MemoryService:
    return components(request).service


Charge = Callable[[int], Coroutine[Any, Any, None]]


async def _charge(request: Request) -> Charge:
    found, key = components(request), request.state.api_key
    state = request.scope.setdefault("state", {})

    async def spend(characters: int) -> None:
        await charge(found, key, characters, state)

    return spend


CurrentKey = Annotated[ApiKey, Depends(_current_key)]
Service = Annotated[MemoryService, Depends(_service)]
# `await budget(characters)`: `charge` for this request (see there).
Budget = Annotated[Charge, Depends(_charge)]


async def _components(request: Request) -> Components:
    return components(request)


App = Annotated[Components, Depends(_components)]


async def _idempotency(
    request: Request,
    key: Annotated[
        str | None,
        Header(
            alias=HEADER,
            description=f"1-{MAX_KEY_CHARS} printable ASCII characters: a retry with the "
            "same key and body answers the first answer again, without a second write.",
            json_schema_extra={"pattern": KEY_PATTERN},
        ),
    ] = None,
) -> Idempotency | None:
    if key is None:
        return None
    ttl_s = components(request).settings.idempotency_ttl_s
    return parse(key, request.url.path, await request.body(), now_us(), ttl_s)


# The request's `Idempotency-Key` (mnemo.idempotency), None without one; 422 if malformed.
IdempotencyKey = Annotated[Idempotency | None, Depends(_idempotency)]
