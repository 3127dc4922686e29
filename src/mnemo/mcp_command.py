"""`mnemo mcp`: mnemo's MCP tools (mnemo.mcp_tools) on stdio, for a desktop assistant.

The MCP SDK is imported only when the command runs: every other command starts without it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Annotated, Any

import typer

from mnemo.cli_support import EXIT_USAGE, CliError
from mnemo_client import AsyncClient, MnemoClientError

if TYPE_CHECKING:
    from mcp.server.mcpserver import Context

HELP = "\n\n".join(
    [
        "Serve mnemo's memory tools to an MCP host (a desktop assistant, an IDE agent) on "
        "stdin/stdout: search_memories, get_memories, get_memory, create_memory, "
        "edit_memory, delete_memory.",
        "The tools call a running mnemo (or Omi's hosted API) with an API key: --base-url "
        "and --api-key, or the environment: MNEMO_BASE_URL and MNEMO_API_KEY, else Omi's "
        "OMI_API_BASE and OMI_API_KEY (default URL http://127.0.0.1:8080). The key's "
        "scopes decide what the tools may do: a read-only key's writing tools answer the "
        "server's 403 as their error.",
        "Errors (a bad argument, an unknown id, a refused key, the server unreachable) "
        "are the tool's error, with the server's message; the session goes on. Only MCP "
        "messages go to stdout.",
        "A remote assistant needs no process of its own: `mnemo serve` answers the same "
        "tools over streamable HTTP at /mcp, with the same keys (see docs/mcp.md).",
    ]
)


def mcp_command(
    base_url: Annotated[
        str | None,
        typer.Option(
            "--base-url",
            metavar="URL",
            help="The mnemo to call (env MNEMO_BASE_URL, else OMI_API_BASE).",
            show_default=False,
        ),
    ] = None,
    api_key: Annotated[
        str | None,
        typer.Option(
            "--api-key",
            metavar="KEY",
            help="Its API key (env MNEMO_API_KEY, else OMI_API_KEY).",
            show_default=False,
        ),
    ] = None,
) -> None:
    try:
        client = AsyncClient(base_url=base_url, api_key=api_key)
    except MnemoClientError as error:  # no key, a malformed key or URL
        raise CliError(str(error), EXIT_USAGE) from None
    asyncio.run(_serve_stdio(client))


async def _serve_stdio(client: AsyncClient) -> None:
    from mnemo.mcp_tools import build_server  # the MCP SDK, only for this command

    @asynccontextmanager
    async def the_client(ctx: Context[Any, Any]) -> AsyncIterator[AsyncClient]:
        yield client

    async with client:
        await build_server(the_client).run_stdio_async()
