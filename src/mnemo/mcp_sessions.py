"""The MCP SDK's part of `/mcp` (mnemo.mcp_http): mnemo's tools in the SDK's
stateless, JSON streamable-HTTP session manager, and the in-process client each tool
call acts through. Imported by the first `/mcp` request a worker gets (the SDK costs
some 0.5 s of CPU to import), never by a worker that serves none.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.transport_security import TransportSecuritySettings
from starlette.requests import Request
from starlette.types import Receive, Scope, Send

from mnemo.mcp_tools import build_server
from mnemo_client import AsyncClient

_INTERNAL = "http://mnemo.internal"  # the in-process calls' base URL: never resolved
Handler = Callable[[Scope, Receive, Send], Awaitable[None]]


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


_server: MCPServer[Any] | None = None


async def start(stop: asyncio.Event) -> tuple[Handler, asyncio.Task[None]]:
    """Start a session manager of the tools (a new one each time: one runs only once)
    in a task of its own, since its task group must be left by the task that entered
    it; its request handler, and the task, which ends once `stop` is set."""
    global _server
    if _server is None:  # the tools, built once a process (some 25 ms: their schemas)
        _server = build_server(_client_of)
    # Bearer keys, not cookies, authenticate here: a page that rebinds a name to this
    # address has no key to send, so the SDK's Host/Origin allow-list (which would
    # refuse every name but localhost, e.g. behind a proxy) is not needed. A new
    # session manager, taken at once (no await between: another app's may come next).
    _server.streamable_http_app(
        stateless_http=True,
        json_response=True,
        transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
    )
    manager = _server.session_manager
    started = asyncio.Event()

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
    return manager.handle_request, task
