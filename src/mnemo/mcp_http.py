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
import functools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings
from starlette.requests import Request
from starlette.types import Receive, Scope, Send

from mnemo.api.deps import admit, components
from mnemo.errors import Forbidden
from mnemo.mcp_tools import build_server
from mnemo.store import READ_SCOPE
from mnemo_client import AsyncClient

PATH = "/mcp"
_INTERNAL = "http://mnemo.internal"  # the in-process calls' base URL: never resolved


@asynccontextmanager
async def _client_of(ctx: Context[Any, Any]) -> AsyncIterator[AsyncClient]:
    """A client for one tool call: this app, in process, with the request's key and
    client address; no retries (an in-process answer does not change by waiting)."""
    request = ctx.request_context.request
    if not isinstance(request, Request):  # not an HTTP request: no key to act with
        raise ToolError("this tool call came without an HTTP request")
    key = request.headers.get("authorization", "").partition(" ")[2].strip()
    client = (request.client.host, request.client.port) if request.client else ("unknown", 0)
    transport = httpx.ASGITransport(app=request.app, client=client)
    async with (
        httpx.AsyncClient(transport=transport) as http,
        AsyncClient(base_url=_INTERNAL, api_key=key, max_retries=0, http_client=http) as sdk,
    ):
        yield sdk


@functools.cache
def _server() -> MCPServer[Any]:
    """The tools, built once a process (some 25 ms: each tool's schemas): they hold no
    state of an app, and each app's endpoint runs its own session manager of them."""
    return build_server(_client_of)


class McpEndpoint:
    """The ASGI app of `/mcp`; `running()` is entered in the app's lifespan."""

    def __init__(self) -> None:
        self._manager: StreamableHTTPSessionManager | None = None

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Run the SDK's session manager (a new one each lifespan: one runs only once)
        in a task of its own, since its task group must be left by the task that entered
        it and a lifespan may end in another task than it began."""
        # Bearer keys, not cookies, authenticate here: a page that rebinds a name to this
        # address has no key to send, so the SDK's Host/Origin allow-list (which would
        # refuse every name but localhost, e.g. behind a proxy) is not needed.
        server = _server()
        # a new session manager, taken at once (no await between: another app's lifespan
        # may make the shared server's next one)
        server.streamable_http_app(
            stateless_http=True,
            json_response=True,
            transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
        )
        manager = server.session_manager
        started, stop = asyncio.Event(), asyncio.Event()

        async def run() -> None:
            async with manager.run():
                started.set()
                await stop.wait()

        task = asyncio.create_task(run(), name="mnemo-mcp-sessions")
        ready = asyncio.create_task(started.wait())
        await asyncio.wait({task, ready}, return_when=asyncio.FIRST_COMPLETED)
        if task.done():  # it failed to start
            ready.cancel()
            task.result()
        self._manager = manager
        try:
            yield
        finally:
            self._manager = None
            stop.set()
            await task

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
        assert self._manager is not None, "requests come only within the lifespan"
        await self._manager.handle_request(scope, receive, send)
