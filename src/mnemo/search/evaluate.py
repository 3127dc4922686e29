"""Retrieval evaluation on `data/retrieval`: keyword-only, semantic-only and hybrid.

Used by `bench/retrieval_eval.py` (figures, tuning, latency) and by the tests (the
hybrid must beat both single modes on the test split). Each mode searches one
user's memories at a time, as the stores do:

- keyword: a real SQLite FTS5 index (`porter unicode61 remove_diacritics 2`) holding
  every user's memories, queried with `keyword.fts5_query`, filtered to the user,
  ordered by `bm25()`;
- semantic: exact cosine between the query's vector and each of the user's memory
  vectors (`rank.semantic_ranking` over `embed.to_blob` vectors, as stored);
- hybrid: `rank.fuse` of the two (each `DEPTH` deep).

Metrics over the queries of a split: recall@5 (share of a query's relevant memories
in the first 5), MRR (reciprocal rank of the first relevant memory within the first
10, 0 if none) and nDCG@10 (binary relevance).
"""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mnemo.search.embed import Embedder, from_blob, to_blob
from mnemo.search.keyword import fts5_query
from mnemo.search.rank import fuse, semantic_ranking

__all__ = [
    "DATA_DIR",
    "DEPTH",
    "Dataset",
    "KeywordIndex",
    "Query",
    "evaluate",
    "load",
    "metrics",
]

DATA_DIR = Path(__file__).resolve().parents[3] / "data" / "retrieval"
DEPTH = 50  # candidates taken from each single ranking before fusing
CUTOFF = 10  # length of the list that is scored

Ranking = list[tuple[str, float]]
Fuser = Callable[[Ranking, Ranking, int], Ranking]


@dataclass(frozen=True)
class Query:
    id: str
    user: str
    split: str
    kind: str
    text: str
    relevant: frozenset[str]


@dataclass
class Dataset:
    memories: dict[str, list[tuple[str, str]]]  # user -> [(memory id, content)]
    queries: list[Query]

    def texts(self) -> dict[str, str]:
        """Every memory and query text by id."""
        out = {mid: text for rows in self.memories.values() for mid, text in rows}
        out.update({q.id: q.text for q in self.queries})
        return out


def load(split: str | None = None, data_dir: Path = DATA_DIR) -> Dataset:
    """The memories and queries of `split` ("dev", "test" or None for both)."""
    queries = []
    with (data_dir / "queries.jsonl").open(encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            if split is None or row["split"] == split:
                queries.append(
                    Query(
                        row["id"],
                        row["user"],
                        row["split"],
                        row["kind"],
                        row["query"],
                        frozenset(row["relevant"]),
                    )
                )
    users = {q.user for q in queries}
    memories: dict[str, list[tuple[str, str]]] = {}
    with (data_dir / "memories.jsonl").open(encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            if row["user"] in users:
                memories.setdefault(row["user"], []).append((row["id"], row["content"]))
    return Dataset(memories, queries)


class KeywordIndex:
    """An in-memory SQLite FTS5 index of memories, searched one user at a time."""

    def __init__(self, memories: dict[str, list[tuple[str, str]]]) -> None:
        self.db = sqlite3.connect(":memory:")
        self.db.execute(
            "CREATE VIRTUAL TABLE memories_fts USING fts5(content, user_id UNINDEXED, "
            "memory_id UNINDEXED, tokenize = 'porter unicode61 remove_diacritics 2')"
        )
        self.db.executemany(
            "INSERT INTO memories_fts (content, user_id, memory_id) VALUES (?, ?, ?)",
            [(text, user, mid) for user, rows in memories.items() for mid, text in rows],
        )

    def search(self, user: str, query: str, limit: int = DEPTH) -> Ranking:
        match = fts5_query(query)
        if match is None:
            return []
        rows = self.db.execute(
            "SELECT memory_id, bm25(memories_fts) FROM memories_fts "
            "WHERE memories_fts MATCH ? AND user_id = ? "
            "ORDER BY bm25(memories_fts), memory_id LIMIT ?",
            (match, user, limit),
        ).fetchall()
        return [(str(mid), float(score)) for mid, score in rows]

    def close(self) -> None:
        self.db.close()


def embed_all(dataset: Dataset, embedder: Embedder) -> dict[str, bytes]:
    """Every memory and query vector of `dataset`, as stored blobs, by id."""
    texts = dataset.texts()
    ids = list(texts)
    embed_array = getattr(embedder, "embed_array", None)
    vectors: Iterable[Any] = (
        embed_array([texts[i] for i in ids])
        if embed_array is not None
        else embedder.embed([texts[i] for i in ids])
    )
    return {i: to_blob(v) for i, v in zip(ids, vectors, strict=True)}


def metrics(rankings: Mapping[str, Sequence[str]], queries: Sequence[Query]) -> dict[str, float]:
    """recall@5, MRR (@10) and nDCG@10, averaged over `queries`."""
    recall = mrr = ndcg = 0.0
    for q in queries:
        ranked = list(rankings.get(q.id, []))[:CUTOFF]
        recall += len(q.relevant & set(ranked[:5])) / len(q.relevant)
        mrr += next((1.0 / (i + 1) for i, m in enumerate(ranked) if m in q.relevant), 0.0)
        dcg = sum(1.0 / math.log2(i + 2) for i, m in enumerate(ranked) if m in q.relevant)
        ideal = sum(1.0 / math.log2(i + 2) for i in range(min(len(q.relevant), CUTOFF)))
        ndcg += dcg / ideal
    n = max(len(queries), 1)
    return {"recall@5": recall / n, "mrr": mrr / n, "ndcg@10": ndcg / n}


@dataclass
class Runs:
    """The single rankings of every query, computed once, fused many times (tuning)."""

    dataset: Dataset
    keyword: dict[str, Ranking]
    semantic: dict[str, Ranking]

    def score(self, fuser: Fuser | None = None, mode: str = "hybrid") -> dict[str, float]:
        rankings: dict[str, list[str]] = {}
        for q in self.dataset.queries:
            if mode == "keyword":
                ranked = self.keyword[q.id][:CUTOFF]
            elif mode == "semantic":
                ranked = self.semantic[q.id][:CUTOFF]
            else:
                ranked = (fuser or fuse)(self.keyword[q.id], self.semantic[q.id], CUTOFF)
            rankings[q.id] = [mid for mid, _ in ranked]
        return metrics(rankings, self.dataset.queries)


def run(dataset: Dataset, embedder: Embedder, vectors: dict[str, bytes] | None = None) -> Runs:
    """Search every query of `dataset` by keyword and by meaning."""
    vectors = vectors if vectors is not None else embed_all(dataset, embedder)
    index = KeywordIndex(dataset.memories)
    try:
        keyword = {q.id: index.search(q.user, q.text) for q in dataset.queries}
    finally:
        index.close()
    stored = {
        user: [(mid, vectors[mid]) for mid, _ in rows] for user, rows in dataset.memories.items()
    }
    semantic = {
        q.id: semantic_ranking(from_blob(vectors[q.id]), stored[q.user], DEPTH)
        for q in dataset.queries
    }
    return Runs(dataset, keyword, semantic)


def evaluate(split: str, embedder: Embedder) -> dict[str, dict[str, float]]:
    """recall@5, MRR and nDCG@10 of each mode on `split`."""
    runs = run(load(split), embedder)
    return {mode: runs.score(mode=mode) for mode in ("keyword", "semantic", "hybrid")}
