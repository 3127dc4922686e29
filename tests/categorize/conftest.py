"""Fixtures for the categoriser tests: the data set paths and a fake LLM server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.categorize.llm_server import FakeLLM, RunningServer

DATA = Path(__file__).resolve().parents[2] / "data" / "categorize"


@pytest.fixture(scope="module")
def llm_server() -> Iterator[RunningServer]:
    """One real OpenAI-compatible HTTP server for the module, stopped afterwards."""
    server = RunningServer(FakeLLM())
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def fake_llm(llm_server: RunningServer) -> FakeLLM:
    """The server's behaviour, reset for each test."""
    fake = llm_server.fake
    fake.mode = "good"
    fake.answer = lambda content: "interesting"
    fake.requests.clear()
    return fake
