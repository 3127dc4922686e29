"""The fast path: ordinary hot reads answered without FastAPI's routing and dependencies.

It answers exactly three kinds of request, and only in their plain form:

- `GET /v1/dev/user/memories`, with no query string or only `limit` and/or `offset`,
  each at most once, as a plain decimal integer (`-?[0-9]{1,9}`, no `+`, no `%`
  escapes, no blanks);
- `GET /v1/dev/user/memories/{id}` where the id is a canonical lower-case UUID (the
  form mnemo gives every memory);
- `POST /v1/dev/user/memories` with no query string, no `Idempotency-Key`, a
  `Content-Length` and a `Content-Type` of `application/json` (optionally with
  `; charset=utf-8`), whose body is a JSON object that `MemoryCreate` accepts, validated
  as FastAPI validates it (`json.loads`, then the model in Python mode);

each with an `Authorization: Bearer omi_dev_<32 hex>` header (the first one, as
Starlette reads it) and an empty `root_path` (a HEAD arrives as a GET:
`mnemo.api.methods.HeadAsGet` sits outside). Everything else (OPTIONS, any other
parameter such as `categories`, `limit=abc`, `offset=1.0`, a trailing slash, another
path, a malformed header, no header) goes on to FastAPI unchanged. For a read, that
decision is taken from the request line and headers alone, before anything is counted
or looked up, so a request is either wholly the fast path's or wholly FastAPI's:
nothing (a failed authentication, a read under the rate limit, a key lookup) is done
twice. A create is admitted first (key, `memories:write`, the `writes` limit: what
FastAPI's route does before it reads a body), then its body is read; a body that is not
a plain valid create (malformed JSON, a field the model refuses, an empty body), or
whose reading fails (408, 413, a disconnect), is handed to FastAPI with its key
(`deps.ADMITTED`, so `AuthenticatedRoute` does not admit it twice) and its body (or the
reading's error, raised again at FastAPI's first read), and FastAPI answers it as if
it had come straight there.

A request the fast path takes is answered by the same functions as FastAPI's route:
`api.deps.admit` (the authenticator, then the rate limiter's `check`/`hit` for the
`auth_failures` and `reads` policies), the store's page and memory reads (through
`MemoryService.key_and_page` / `key_and_memory`, the same bounds and the same store
SQL as `list_memories` / `get_memory_json`), and `api.memories.json_response` for the
bytes; a create, by `deps.charge` (the characters budget) and
`MemoryService.create_memory`, as the route calls them. One difference of cost, none
of answer: a read's key is looked up by the store call that also reads the page or
memory (`_Prefetch`; on PostgreSQL one statement, one round trip, where FastAPI's route
makes two), so a read refused after the lookup (403 scope, 429) has paid for a small
read whose result is dropped. Its errors (401 unknown or revoked key, 403 scope, 429,
404 unknown or another user's id, 503 store unavailable, 500 store error) go to the
app's own `MnemoError` handler, the one FastAPI calls, so their bodies and headers are
FastAPI's too; any other exception propagates to the app's server-error handler as it
would from a route.

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
property tests in tests/api/test_fast_path.py compare both paths byte for byte, but for
what each create makes its own: id, times, `scoring`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mnemo.api.deps import ADMITTED, Components, admit, charge, client_address
from mnemo.api.memories import json_response
from mnemo.errors import MnemoError
from mnemo.idempotency import answer_json
from mnemo.models import DEFAULT_LIST_LIMIT, MemoryCreate
from mnemo.ratelimit import READS, WRITES
from mnemo.service import memory_or_404
from mnemo.store import READ_SCOPE, WRITE_SCOPE
from mnemo.store.base import FoundKey, KeyAndRead
from mnemo.store.changes import acting_as

PREFIX = "/v1/dev/user/memories"
_ITEM_PREFIX = PREFIX + "/"
_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_AUTHORIZATION = re.compile(rb"(?i:bearer) omi_dev_[0-9a-f]{32}")
_NUMBER = re.compile(rb"-?[0-9]{1,9}")
_JSON_TYPES = (b"application/json", b"application/json; charset=utf-8")

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


def _header(scope: Scope, wanted: bytes) -> bytes | None:
    """The first header of that (lower-case) name, as Starlette reads it, or None."""
    for name, value in scope["headers"]:
        if name == wanted:
            return bytes(value)
    return None


def _authorization(scope: Scope) -> str | None:
    """The first `Authorization` header if it is a well-formed bearer key, else None."""
    value = _header(scope, b"authorization")
    if value is None or not _AUTHORIZATION.fullmatch(value):
        return None
    return value.decode("latin-1")


def _plain_create(scope: Scope) -> bool:
    """Whether the request line and headers are those of a plain create (see module)."""
    content_type = _header(scope, b"content-type")
    return (
        not scope["query_string"]
        and content_type is not None
        and content_type.lower() in _JSON_TYPES
        and _header(scope, b"content-length") is not None
        and _header(scope, b"idempotency-key") is None
    )


def parse_create(body: bytes) -> MemoryCreate | None:
    """The create a body holds, validated as FastAPI validates the route's body, or None
    for any body FastAPI should answer (its 422 is the one to give)."""
    try:
        given = json.loads(body)
    except (ValueError, RecursionError):  # malformed; not UTF-8/16/32; nested too deep
        return None
    if not isinstance(given, dict):
        return None
    try:
        return MemoryCreate.model_validate(given, from_attributes=True)
    except ValidationError:
        return None


async def _read_body(scope: Scope, receive: Receive) -> tuple[bytes, Exception | None]:
    """The whole body (read as FastAPI reads it, by Starlette's `Request.body`), or the
    exception its reading raised (the size limits' 413/408, `ClientDisconnect`)."""
    try:
        return await Request(scope, receive).body(), None
    except Exception as error:  # handed, unchanged, to FastAPI's first read
        return b"", error


def _replayed(body: bytes, failure: Exception | None, receive: Receive) -> Receive:
    """A `receive` that gives FastAPI the body already read (or raises its reading's
    error again), then whatever the client sends next (a disconnect)."""
    given = False

    async def replay() -> Message:
        nonlocal given
        if not given:
            given = True
            if failure is not None:
                raise failure
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


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
        self,
        app: ASGIApp,
        *,
        list_route: BaseRoute,
        get_route: BaseRoute,
        create_route: BaseRoute,
        on_error: ErrorHandler,
    ) -> None:
        self.app = app
        self.list_route = list_route
        self.get_route = get_route
        self.create_route = create_route
        self.on_error = on_error

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = self._components(scope)
        if found is None:
            await self.app(scope, receive, send)
            return
        if scope["method"] == "POST":
            authorization = self._create_authorization(scope)
            if authorization is not None:
                await self._create(found, authorization, scope, receive, send)
                return
        taken = self._take(found, scope)
        if taken is None:
            await self.app(scope, receive, send)
            return
        authorization, read, answer = taken
        state: dict[str, Any] = scope.setdefault("state", {})
        prefetch = _Prefetch(read)
        try:
            await admit(
                found,
                authorization,
                client_address(scope),
                READ_SCOPE,
                READS,
                state,
                prefetch.lookup,
            )
            response = json_response(answer(prefetch.read))
        except MnemoError as error:
            response = await self.on_error(Request(scope, receive), error)
        await response(scope, receive, send)

    async def _create(
        self, found: Components, authorization: str, scope: Scope, receive: Receive, send: Send
    ) -> None:
        """Answer a plain create, or hand it to FastAPI once admitted (see module)."""
        state: dict[str, Any] = scope.setdefault("state", {})
        try:
            key = await admit(
                found, authorization, client_address(scope), WRITE_SCOPE, WRITES, state
            )
        except MnemoError as error:
            response = await self.on_error(Request(scope, receive), error)
            await response(scope, receive, send)
            return
        body, failure = await _read_body(scope, receive)
        memory = None if failure is not None else parse_create(body)
        if memory is None:
            state[ADMITTED] = key
            await self.app(scope, _replayed(body, failure, receive), send)
            return
        try:
            with acting_as(key.id):  # the actor of its history, as AuthenticatedRoute
                await charge(found, key, len(memory.content), state)
                created = await found.service.create_memory(key.user_id, memory)
            response = json_response(answer_json(created))
        except MnemoError as error:
            response = await self.on_error(Request(scope, receive), error)
        await response(scope, receive, send)

    @staticmethod
    def _components(scope: Scope) -> Components | None:
        """The app's components for a request the fast path may take, else None."""
        if scope["type"] != "http" or scope.get("root_path"):
            return None
        found: Components | None = getattr(scope["app"].state, "mnemo", None)
        return found

    def _create_authorization(self, scope: Scope) -> str | None:
        """The bearer key of a plain create (see module), else None."""
        if scope["path"] != PREFIX or not _plain_create(scope):
            return None
        authorization = _authorization(scope)
        if authorization is not None:
            scope["route"] = self.create_route
        return authorization

    def _take(self, found: Components, scope: Scope) -> tuple[str, Read, Answer] | None:
        """What answers this read on the fast path, or None to leave it to FastAPI."""
        if scope["method"] != "GET":
            return None
        path: str = scope["path"]
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
        return authorization, read, answer
