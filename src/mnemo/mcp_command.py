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

if TYPE_CHECKING:
    from mcp.server.mcpserver import Context

    from mnemo_client import AsyncClient

HELP = "\n\n".join(
    [
        "Serve mnemo's memory tools to an MCP host (a desktop assistant, an IDE agent) on "
        "stdin/stdout: search_memories, get_memories, get_memory, create_memory, "
        "edit_memory, delete_memory.",
        "By default the tools call a running mnemo (or Omi's hosted API) with an API "
        "key: --base-url and --api-key, or the environment: MNEMO_BASE_URL and "
        "MNEMO_API_KEY, else Omi's "
        "OMI_API_BASE and OMI_API_KEY (default URL http://127.0.0.1:8080). The key's "
        "scopes decide what the tools may do: a read-only key's writing tools answer the "
        "server's 403 as their error.",
        "Errors (a bad argument, an unknown id, a refused key, the server unreachable) "
        "are the tool's error, with the server's message; the session goes on. Only MCP "
        "messages go to stdout.",
        "Direct mode, for one person on one machine with no server running: --user NAME "
        "(and --database-url, or MNEMO_DATABASE_URL) runs mnemo itself in this process on "
        "the database, as that user, with every scope. The user must exist (mnemo users "
        "create NAME); the database is migrated first. Not with --base-url or --api-key.",
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
    user: Annotated[
        str | None,
        typer.Option(
            "--user",
            metavar="NAME",
            help="Direct mode: this user's memories, on the database itself (no server).",
            show_default=False,
        ),
    ] = None,
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url",
            metavar="URL",
            help="Direct mode's database (env MNEMO_DATABASE_URL, "
            "default sqlite:///./data/mnemo.db).",
            show_default=False,
        ),
    ] = None,
) -> None:
    if user is None:
        if database_url is not None:
            raise CliError("--database-url is for direct mode: give --user NAME too", EXIT_USAGE)
        from mnemo_client import AsyncClient, MnemoClientError  # httpx: only for this command

        try:
            client = AsyncClient(base_url=base_url, api_key=api_key)
        except MnemoClientError as error:  # no key, a malformed key or URL
            raise CliError(str(error), EXIT_USAGE) from None
        asyncio.run(_serve_remote(client))
        return
    if base_url is not None or api_key is not None:
        raise CliError(
            "--user is direct mode, on a database: not with --base-url or --api-key", EXIT_USAGE
        )
    _serve_database(user, database_url)


def _serve_database(name: str, database_url: str | None) -> None:
    """Direct mode: mnemo's app in this process, on the database (mnemo.mcp_local)."""
    from mnemo.accounts import check_user_name
    from mnemo.cli_support import EXIT_FAILED, store_failure, with_store
    from mnemo.config import InvalidSettings, load_settings
    from mnemo.errors import MnemoError
    from mnemo.mcp_local import local_client
    from mnemo.urls import parse_database_url

    try:
        settings = load_settings(database_url=database_url)
        name = check_user_name(name)
    except (InvalidSettings, MnemoError) as error:
        raise CliError(str(error), EXIT_USAGE) from None
    # migrate the database, and find the user, with the one-line errors of every command
    found = with_store(settings, lambda store: store.get_user(name))
    if found is None:
        raise CliError(
            f"no user {name!r} in {parse_database_url(settings.database_url).shown} "
            f"(create it with: mnemo users create {name})",
            EXIT_FAILED,
        )

    async def serve() -> None:
        async with local_client(settings, found) as client:
            await _serve_stdio(client)

    try:
        asyncio.run(serve())
    except MnemoError as error:
        raise store_failure(error, parse_database_url(settings.database_url)) from None


async def _serve_stdio(client: AsyncClient) -> None:
    from mnemo.mcp_tools import build_server  # the MCP SDK, only for this command

    @asynccontextmanager
    async def the_client(ctx: Context[Any, Any]) -> AsyncIterator[AsyncClient]:
        yield client

    await build_server(the_client).run_stdio_async()


async def _serve_remote(client: AsyncClient) -> None:
    async with client:
        await _serve_stdio(client)
