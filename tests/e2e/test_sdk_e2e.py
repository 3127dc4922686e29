"""The client against real servers: a running `mnemo serve` (each method, keys of each
kind, its rate limit's Retry-After), a port nobody listens on, and one that never answers."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mnemo_client import (
    APIConnectionError,
    APITimeoutError,
    AsyncClient,
    AuthenticationError,
    Client,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
)
from tests.e2e.server import Server, free_port, run_cli, start_server
from tests.install.wheels import ROOT

pytestmark = pytest.mark.e2e


def _key(server: Server, *args: str) -> str:
    made = run_cli("keys", "create", "--database-url", server.database_url, *args)
    assert made.returncode == 0, made.stderr
    return made.stdout.strip().splitlines()[-1]


def test_every_method_against_a_real_server(server: Server) -> None:
    assert server.first_key
    with Client(base_url=server.base, api_key=server.first_key) as client:
        memories = client.memories
        created = memories.create("User is vegetarian", tags=["food"])
        assert created.category in {"system", "interesting"}  # the categoriser picked
        batch = memories.create_batch([{"content": f"User owns book {n}"} for n in range(25)])
        assert batch.created_count == 25
        updated = memories.update(created.id, tags=["food", "diet"])
        assert memories.get(created.id) == updated and updated.tags == ["food", "diet"]
        walked = list(memories.iter_all(page_size=10))
        assert len(walked) == 26 and walked == memories.list(limit=100)
        found = memories.search("what does the user eat?", limit=3)
        assert found.items[0].id == created.id
        assert memories.delete(created.id).success
        with pytest.raises(NotFoundError):
            memories.delete(created.id)
    asyncio.run(_async_calls(server.base, server.first_key))


async def _async_calls(base: str, key: str) -> None:
    async with AsyncClient(base_url=base, api_key=key) as client:
        created = await client.memories.create("User works at Acme", category="work")
        assert [m.id async for m in client.memories.iter_all(categories="work")] == [created.id]
        assert (await client.memories.search("job")).items[0].id == created.id


def test_the_documented_examples_run(server: Server) -> None:
    """Each Python example of docs/sdk.md and the README, against a real server (the
    placeholders of the address and the key replaced by the server's)."""
    assert server.first_key
    examples = [
        block
        for page in (ROOT / "docs" / "sdk.md", ROOT / "README.md")
        for block in re.findall(r"```python\n(.*?)```", page.read_text(), re.DOTALL)
    ]
    assert len(examples) == 4
    env = {**os.environ, "MNEMO_BASE_URL": server.base, "MNEMO_API_KEY": server.first_key}
    for code in examples:
        code = code.replace("http://127.0.0.1:8080", server.base)
        code = code.replace("omi_dev_...", server.first_key)
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60
        )
        assert done.returncode == 0, code + done.stderr


def test_read_only_and_revoked_keys(server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    reader = _key(server, "--user", "carol", "--scopes", "memories:read")
    monkeypatch.setenv("MNEMO_BASE_URL", server.base)  # the variables, this time
    monkeypatch.setenv("MNEMO_API_KEY", reader)
    with Client() as client:
        assert client.memories.list() == []
        with pytest.raises(PermissionDeniedError) as denied:
            client.memories.create("User is vegetarian")
        assert denied.value.detail == "Insufficient permissions. Required scope: memories:write"
        listed = run_cli("keys", "list", "--user", "carol", "--database-url", server.database_url)
        key_id = listed.stdout.splitlines()[-1].split()[0]
        revoked = run_cli("keys", "revoke", key_id, "--database-url", server.database_url)
        assert revoked.returncode == 0, revoked.stdout + revoked.stderr
        with pytest.raises(AuthenticationError) as refused:
            client.memories.list()
        assert refused.value.detail == "Invalid API Key"


def test_a_429_is_waited_out_as_retry_after_says(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    limits = {"MNEMO_RATE_LIMIT_READS": "2", "MNEMO_RATE_LIMIT_WINDOW_S": "2"}
    server = start_server(f"sqlite:///{tmp_path}/rl.db", extra_env=limits)
    try:
        assert server.first_key
        with Client(base_url=server.base, api_key=server.first_key, max_retries=0) as client:
            while True:  # spend the window's reads
                try:
                    client.memories.list()
                except RateLimitError as error:
                    assert error.retry_after is not None and 1 <= error.retry_after <= 2
                    assert error.detail.startswith("Rate limit exceeded. Try again in")
                    break
        caplog.set_level(logging.INFO, logger="mnemo.client")
        with Client(base_url=server.base, api_key=server.first_key, max_retries=2) as client:
            started = time.monotonic()
            assert client.memories.list() == []  # after waiting for the next window
            assert time.monotonic() - started >= 0.5
        assert any("429" in r.getMessage() for r in caplog.records), caplog.records
    finally:
        server.stop()


def test_a_port_nobody_listens_on_is_a_connection_error_after_retries(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="mnemo.client")
    base = f"http://127.0.0.1:{free_port()}"
    client = Client(base_url=base, api_key="omi_dev_" + "1" * 32, max_retries=1)
    with client, pytest.raises(APIConnectionError) as raised:
        client.memories.create("User is vegetarian")  # never sent: safe to retry
    assert type(raised.value) is APIConnectionError
    assert [r.getMessage() for r in caplog.records if "retry 1 of 1" in r.getMessage()]


class Silent:
    """A TCP server that accepts connections, reads, and never answers."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self.held: list[socket.socket] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            self.held.append(conn)

    def close(self) -> None:
        self.sock.close()
        for conn in self.held:
            conn.close()


@pytest.fixture
def silent() -> Iterator[Silent]:
    server = Silent()
    yield server
    server.close()


def test_a_server_that_never_answers_times_out(silent: Silent) -> None:
    base = f"http://127.0.0.1:{silent.port}"
    with Client(base_url=base, api_key="omi_dev_" + "1" * 32, timeout=0.3, max_retries=1) as c:
        started = time.monotonic()
        with pytest.raises(APITimeoutError):
            c.memories.list()  # a GET: tried twice
        assert time.monotonic() - started >= 0.6
        assert silent.accepted == 2
        with pytest.raises(APITimeoutError):
            c.memories.create("User is vegetarian")  # a POST too, by its Idempotency-Key
        assert silent.accepted == 4
