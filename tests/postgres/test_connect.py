"""Opening a PostgreSQL database that is not there fails within a bounded time with a
message naming the server and what failed: refused, no answer (a server that accepts
the connection and never speaks), a database that does not exist."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
from collections.abc import Iterator

import pytest

from mnemo import Settings
from mnemo.errors import StoreError, StoreUnavailable
from mnemo.store import store_for
from mnemo.store.postgres import PostgresStore
from mnemo.store.postgres_db import CONNECT_TIMEOUT_S


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port whose listener never accepts: the kernel completes the TCP handshake, then
    nothing ever answers, as with a server that hangs or a firewall that swallows."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        yield int(listener.getsockname()[1])


async def _open_fails(store: PostgresStore) -> StoreError:
    with pytest.raises(StoreError) as failed:
        await asyncio.wait_for(store.open(), 60)  # a hang fails the test
    return failed.value


async def test_a_refused_connection_says_so() -> None:
    error = await _open_fails(PostgresStore("postgresql://postgres@127.0.0.1:1/test"))
    assert isinstance(error, StoreUnavailable)
    assert error.detail == (
        "cannot connect to PostgreSQL at 127.0.0.1:1:"
        " [Errno 111] Connect call failed ('127.0.0.1', 1)"
    )


async def test_a_server_that_never_answers_times_out(silent_port: int) -> None:
    url = f"postgresql://postgres:secret@127.0.0.1:{silent_port}/test"
    error = await _open_fails(PostgresStore(url, connect_timeout_s=0.5))
    assert isinstance(error, StoreUnavailable)
    assert error.detail == (
        f"cannot connect to PostgreSQL at 127.0.0.1:{silent_port}: no answer within 0.5 s"
    )


async def test_a_database_that_does_not_exist_is_named() -> None:
    error = await _open_fails(
        store_for(Settings(database_url="postgresql://postgres@127.0.0.1:5432/mnemo_no_such_db"))
    )
    assert error.detail == (
        "PostgreSQL at 127.0.0.1:5432 refused the connection:"
        ' database "mnemo_no_such_db" does not exist'
    )


def test_migrate_against_a_silent_server_exits_3_after_the_connect_timeout(
    silent_port: int,
) -> None:
    url = f"postgresql://postgres@127.0.0.1:{silent_port}/test"
    result = subprocess.run(
        [sys.executable, "-m", "mnemo", "migrate", "--database-url", url],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 3, result.stderr  # cannot be reached (README)
    assert "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: ") and last.endswith(
        f"cannot connect to PostgreSQL at 127.0.0.1:{silent_port}:"
        f" no answer within {CONNECT_TIMEOUT_S:g} s"
    )
