"""`mnemo mcp --user NAME` (direct mode): the tools on a database with no server running,
driven over stdio by the MCP SDK's own client session: every tool, bad arguments,
isolation between users of one database, and the command's one-line errors."""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from mcp import ClientSession, StdioServerParameters, stdio_client

from tests.e2e.server import run_cli
from tests.e2e.test_mcp_stdio import exercise_every_tool, ok, sees_nothing_of

pytestmark = pytest.mark.e2e


@asynccontextmanager
async def local_session(database_url: str, user: str) -> AsyncIterator[ClientSession]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MNEMO_", "OMI_"))}
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "mnemo", "mcp", "--user", user, "--database-url", database_url],
        env=env,
    )
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        yield session


def _user(database_url: str, name: str) -> None:
    made = run_cli("users", "create", name, "--database-url", database_url)
    assert made.returncode == 0, made.stderr


async def test_every_tool_on_the_database(database_url: str) -> None:
    _user(database_url, "alice")
    async with local_session(database_url, "alice") as session:
        await exercise_every_tool(session)


async def test_one_user_sees_only_their_own(database_url: str) -> None:
    _user(database_url, "alice")
    _user(database_url, "bob")
    async with local_session(database_url, "bob") as session:
        bobs = ok(await session.call_tool("create_memory", {"content": "User has a dog"}))
    async with local_session(database_url, "alice") as session:
        await sees_nothing_of(session, bobs["id"], "dog")
    async with local_session(database_url, "bob") as session:
        assert ok(await session.call_tool("get_memory", {"memory_id": bobs["id"]}))["content"] == (
            "User has a dog"
        )
    # what direct mode stored is what the server serves: the same database, the same rules
    listed = run_cli("search", "dog", "--user", "bob", "--database-url", database_url)
    assert listed.returncode == 0 and bobs["id"] in listed.stdout, listed.stderr


def test_the_command_refuses_bad_settings(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/mnemo.db"
    assert run_cli("migrate", "--database-url", url).returncode == 0
    for args, code, words in (
        (["--user", "nobody", "--database-url", url], 1, "no user 'nobody'"),
        (["--database-url", url], 2, "give --user NAME too"),
        (["--user", "alice", "--api-key", "k"], 2, "not with --base-url or --api-key"),
        (["--user", "alice", "--base-url", "http://x"], 2, "not with --base-url or --api-key"),
        (["--user", "bad name!", "--database-url", url], 2, ""),
        (["--user", "alice", "--database-url", "mysql://x"], 2, ""),
    ):
        done = run_cli("mcp", *args)
        assert done.returncode == code, (args, done.stderr)
        assert done.stderr.startswith("error: ") and words in done.stderr, done.stderr
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr
