"""Fixtures of the search tests: the shipped embedder, loaded once per session."""

from __future__ import annotations

import pytest

from mnemo.search.embed import MiniLMEmbedder, default_embedder


@pytest.fixture(scope="session")
def embedder() -> MiniLMEmbedder:
    return default_embedder()
