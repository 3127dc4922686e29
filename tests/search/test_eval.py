"""The retrieval evaluation set, and the hybrid ranking's lead on its test split."""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

import pytest

from mnemo.search.embed import MiniLMEmbedder
from mnemo.search.evaluate import DATA_DIR, embed_all, load, run

ROOT = Path(__file__).resolve().parents[2]


def test_the_data_set_is_as_described() -> None:
    data = load()
    assert len(data.memories) >= 50
    assert all(30 <= len(rows) <= 80 for rows in data.memories.values())
    assert len(data.queries) >= 200
    splits = Counter(q.split for q in data.queries)
    assert splits["dev"] >= 100 and splits["test"] >= 200
    assert {q.kind for q in data.queries} == {"semantic", "keyword", "mixed"}
    owner = {mid: user for user, rows in data.memories.items() for mid, _ in rows}
    for q in data.queries:
        assert q.relevant and all(owner[mid] == q.user for mid in q.relevant)
    dev_users = {q.user for q in data.queries if q.split == "dev"}
    assert dev_users.isdisjoint(q.user for q in data.queries if q.split == "test")


def test_the_generator_writes_the_committed_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(ROOT / "bench"))
    import retrieval_data

    monkeypatch.setattr(retrieval_data, "OUT", tmp_path)
    assert retrieval_data.main() == 0
    for name in ("memories.jsonl", "queries.jsonl"):
        assert (tmp_path / name).read_bytes() == (DATA_DIR / name).read_bytes()
    sys.modules.pop("retrieval_data", None)


@pytest.fixture(scope="module")
def test_split_vectors(embedder: MiniLMEmbedder) -> dict[str, bytes]:
    return embed_all(load("test"), embedder)


def test_hybrid_beats_keyword_only_and_semantic_only_on_the_test_split(
    embedder: MiniLMEmbedder, test_split_vectors: dict[str, bytes], database_url: str
) -> None:
    """On either store: its own keyword search, fused with its `keyword_half`."""
    runs = run(load("test"), embedder, test_split_vectors, database_url)
    figures = {mode: runs.score(mode=mode) for mode in ("keyword", "semantic", "hybrid")}
    hybrid, keyword, semantic = figures["hybrid"], figures["keyword"], figures["semantic"]
    report = json.dumps(figures, indent=1)
    for metric in ("recall@5", "mrr"):
        assert hybrid[metric] > keyword[metric], report
        assert hybrid[metric] > semantic[metric], report
