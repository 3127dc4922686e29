"""The fast path: ordinary hot reads answered without FastAPI's routing and dependencies.

It answers exactly two kinds of request, and only in their plain form:

- `GET /v1/dev/user/memories`, with no query string or only `limit` and/or `offset`,
  each at most once, as a plain decimal integer (`-?[0-9]{1,9}`, no `+`, no `%`
  escapes, no blanks);
- `GET /v1/dev/user/memories/{id}` where the id is a canonical lower-case UUID (the
  form mnemo gives every memory);

each with an `Authorization: Bearer omi_dev_<32 hex>` header (the first one, as
Starlette reads it) and an empty `root_path` (a HEAD arrives as a GET:
`mnemo.api.methods.HeadAsGet` sits outside). Everything else (OPTIONS, any other
parameter such as `categories`, `limit=abc`, `offset=1.0`, a trailing slash, another
path, a malformed header, no header) goes on to FastAPI unchanged. That decision is
taken from the request line and headers alone, before anything is counted or looked
up, so a request is either wholly the fast path's or wholly FastAPI's: nothing (a
failed authentication, a read under the rate limit, a key lookup) is done twice.

A request the fast path takes is answered by the same functions as FastAPI's route:
`api.deps.admit` (the authenticator, then the rate limiter's `check`/`hit` for the
`auth_failures` and `reads` policies), the store's page and memory reads (through
`MemoryService.key_and_page` / `key_and_memory`, the same bounds and the same store
SQL as `list_memories` / `get_memory_json`), and `api.memories.json_response` for the
bytes. One difference of cost, none of answer: the key is looked up by the store call
that also reads the page or memory (`_Prefetch`; on PostgreSQL one statement, one
round trip, where FastAPI's route makes two), so a request refused after the lookup
(403 scope, 429) has paid for a small read whose result is dropped. Its
errors (401 unknown or revoked key, 403 scope, 429, 404 unknown or another user's
id, 503 store unavailable, 500 store error) go to the app's own `MnemoError` handler,
the one FastAPI calls, so their bodies and headers are FastAPI's too; any other
exception propagates to the app's server-error handler as it would from a route.

Where it sits: the innermost of the app's own middleware, inside `MetricsMiddleware`,
`RequestSizeLimits` and `RateLimitHeaders`, ahead of FastAPI's exception middleware,
its router and its dependency resolution. So the observable effects of those layers
(the request counted and timed under its route template, the 431 for oversized
headers, the `X-RateLimit-*` headers) are produced by the very code that produces them
for every other request, not by a copy; the fast path only names the route
(`scope["route"]`, the route object FastAPI's router puts there) and leaves the
rate-limit decision in `scope["state"]`, as `AuthenticatedRoute` does. Those three
layers are plain ASGI and a small part of a request (docs/performance.md); what is
skipped (routing, the request and dependency machinery, query validation, the
exception and exit-stack layers) is most of the framework's cost. Wrapping the whole
app instead would have meant re-doing metrics, size limits and headers here, a second
copy of each rule.

`MNEMO_FAST_PATH=false` sends every request through FastAPI (the same answers; the
property test in tests/api/test_fast_path.py compares both paths byte for byte).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from mnemo.api.deps import Components, admit
from mnemo.api.memories import json_response
from mnemo.errors import MnemoError
from mnemo.models import DEFAULT_LIST_LIMIT
from mnemo.ratelimit import READS
from mnemo.service import memory_or_404
from mnemo.store import READ_SCOPE
from mnemo.store.base import FoundKey, KeyAndRead

PREFIX = "/v1/dev/user/memories"
_ITEM_PREFIX = PREFIX + "/"
_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_AUTHORIZATION = re.compile(rb"(?i:bearer) omi_dev_[0-9a-f]{32}")
_NUMBER = re.compile(rb"-?[0-9]{1,9}")

ErrorHandler = Callable[[Request, Exception], Awaitable[Response]]


def parse_page(query: bytes) -> tuple[int, int] | None:
    """(limit, offset) of a plain list query string, or None if it is anything else."""
    limit, offset = DEFAULT_LIST_LIMIT, 0
    if not query:
        return limit, offset
    seen: set[bytes] = set()
    for part in query.split(b"&"):
        name, equals, value = part.partition(b"=")
        if not equals or name in seen or not _NUMBER.fullmatch(value):
            return None
        if name == b"limit":
            limit = int(value)
        elif name == b"offset":
            offset = int(value)
        else:
            return None
        seen.add(name)
    return limit, offset


def _authorization(scope: Scope) -> str | None:
    """The first `Authorization` header if it is a well-formed bearer key, else None."""
    for name, value in scope["headers"]:
        if name == b"authorization":
            return value.decode("latin-1") if _AUTHORIZATION.fullmatch(value) else None
    return None


Read = Callable[[str], Awaitable[KeyAndRead]]  # a key's hash -> the key, and the read
Answer = Callable[[bytes | None], bytes]  # what was read -> the answer's body


def _page(read: bytes | None) -> bytes:
    assert read is not None, "a page is read whenever its key is found"
    return read


class _Prefetch:
    """The authenticator's key lookup (`admit`'s `lookup`) made by the store call that
    also reads the request's page or memory (`Store.key_and_page`/`key_and_memory`:
    one query on PostgreSQL). What was read is used only once the key is admitted."""

    def __init__(self, read: Read) -> None:
        self._read = read
        self.read: bytes | None = None

    async def lookup(self, key_hash: str) -> FoundKey | None:
        found, self.read = await self._read(key_hash)
        return found


class FastPath:
    """ASGI middleware answering the plain list and get-by-id requests (see module)."""

    def __init__(
        self, app: ASGIApp, *, list_route: BaseRoute, get_route: BaseRoute, on_error: ErrorHandler
    ) -> None:
        self.app = app
        self.list_route = list_route
        self.get_route = get_route
        self.on_error = on_error

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        taken = self._take(scope)
        if taken is None:
            await self.app(scope, receive, send)
            return
        found, authorization, read, answer = taken
        client = scope.get("client")
        state: dict[str, Any] = scope.setdefault("state", {})
        prefetch = _Prefetch(read)
        try:
            await admit(
                found,
                authorization,
                client[0] if client else "unknown",
                READ_SCOPE,
                READS,
                state,
                prefetch.lookup,
            )
            response = json_response(answer(prefetch.read))
        except MnemoError as error:
            response = await self.on_error(Request(scope, receive), error)
        await response(scope, receive, send)

    def _take(self, scope: Scope) -> tuple[Components, str, Read, Answer] | None:
        """What answers this request on the fast path, or None to leave it to FastAPI."""
        if scope["type"] != "http" or scope["method"] != "GET" or scope.get("root_path"):
            return None
        path: str = scope["path"]
        found: Components | None = getattr(scope["app"].state, "mnemo", None)
        if found is None:
            return None
        service = found.service
        read: Read
        answer: Answer
        if path == PREFIX:
            page = parse_page(scope["query_string"])
            if page is None:
                return None
            limit, offset = page

            def read(key_hash: str) -> Awaitable[KeyAndRead]:
                return service.key_and_page(key_hash, limit, offset)

            answer, route = _page, self.list_route
        elif path.startswith(_ITEM_PREFIX) and _ID.fullmatch(path, len(_ITEM_PREFIX)):
            if scope["query_string"]:
                return None
            memory_id = path[len(_ITEM_PREFIX) :]

            def read(key_hash: str) -> Awaitable[KeyAndRead]:
                return service.key_and_memory(key_hash, memory_id)

            answer, route = memory_or_404, self.get_route
        else:
            return None
        authorization = _authorization(scope)
        if authorization is None:
            return None
        scope["route"] = route
        return found, authorization, read, answer
