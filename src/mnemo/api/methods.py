"""HTTP methods: HEAD answered as GET without a body, and the `Allow` header of a 405.

- `HeadAsGet`: a HEAD request goes on as a GET (the same route, authentication, rate
  limit and status; the same headers, `Content-Length` included), and the body is
  dropped. So every GET route answers HEAD, the fast path's too, with nothing to keep
  in step.
- `allow_header`: the methods a path really allows, from every route whose path
  matches it (Starlette's own 405 names only the first such route's methods, so
  `PUT /v1/dev/user/memories` said `Allow: GET` although POST is allowed there too).
  GET implies HEAD. OPTIONS is not served: it is a 405 like any other method a path
  does not allow, with that `Allow` header.
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# The order methods are listed in `Allow`.
_ORDER = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


class HeadAsGet:
    """ASGI middleware: HEAD goes on as GET; the body of its answer is dropped."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return
        # A copy: the server and the outer layers keep seeing HEAD (the server then
        # sends no body either, and its access log says HEAD).
        inner = {**scope, "method": "GET"}

        async def without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        try:
            await self.app(inner, receive, without_body)
        finally:
            if "route" in inner:  # the route the GET matched, for the metrics' label
                scope["route"] = inner["route"]


def allow_header(routes: Iterable[BaseRoute], scope: Scope) -> str:
    """The `Allow` header for `scope`'s path: the methods of every route it matches."""
    allowed: set[str] = set()
    for route in routes:
        methods = getattr(route, "methods", None)
        if methods and route.matches(scope)[0] is not Match.NONE:
            allowed.update(methods)
    if "GET" in allowed:
        allowed.add("HEAD")
    return ", ".join(sorted(allowed, key=lambda m: (_ORDER + (m,)).index(m)))
