"""`/mcp` of `mnemo serve`: mnemo's MCP tools (mnemo.mcp_tools) over streamable HTTP.

The door: a request without a valid key is answered 401 (or 429 past the failed-
authentication limit) by `admit`, the one admission rule of every route, before the MCP
SDK sees it. A valid key goes on whatever its scopes, because each tool's call is then
sent to this same app, in process (httpx's ASGI transport, no socket), with the request's
key and client address by the SDK's `AsyncClient`: the route judges and counts it like any
other request, so a `memories:read` key's writing tools answer 403, another user's memory
is a 404, and the rate limits count each call once. No rule is written twice.

Stateless and JSON: each POST is one whole exchange, answered as JSON (no session to
keep, no event stream), so any worker of `mnemo serve` can answer any request.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.types import Receive, Scope, Send

from mnemo.api.deps import admit, components
from mnemo.errors import Forbidden
from mnemo.store import READ_SCOPE

if TYPE_CHECKING:
    from mnemo.mcp_sessions import Handler

PATH = "/mcp"


class McpEndpoint:
    """The ASGI app of `/mcp`; `running()` is entered in the app's lifespan. The MCP
    SDK's session manager (mnemo.mcp_sessions) starts with the first request that
    passes the door, and stops when the lifespan ends."""

    def __init__(self) -> None:
        self._handler: Handler | None = None
        self._task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()
        self._starting = asyncio.Lock()
        self._open = False

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        # new ones for each lifespan, which may run in another event loop than the last
        self._stop, self._starting = asyncio.Event(), asyncio.Lock()
        self._open = True
        try:
            yield
        finally:
            self._open = False
            self._stop.set()
            if self._task is not None:
                await self._task
            self._handler = self._task = None

    async def _started(self) -> Handler:
        async with self._starting:
            if self._handler is None:
                assert self._open, "requests come only within the lifespan"
                from mnemo import mcp_sessions

                self._handler, self._task = await mcp_sessions.start(self._stop)
            return self._handler

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        address = request.client.host if request.client else "unknown"
        # a valid key without memories:read goes on: each of its calls is judged itself
        with contextlib.suppress(Forbidden):
            await admit(
                components(request),
                request.headers.get("authorization"),
                address,
                READ_SCOPE,
                None,
                scope.setdefault("state", {}),
            )
        handle = await self._started()
        await handle(scope, receive, send)
