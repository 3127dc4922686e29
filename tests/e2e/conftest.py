from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.server import Server, start_server


@pytest.fixture
def server(database_url: str) -> Iterator[Server]:
    running = start_server(database_url)
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def auth(server: Server) -> dict[str, str]:
    assert server.first_key, server.output
    return {"Authorization": f"Bearer {server.first_key}"}
