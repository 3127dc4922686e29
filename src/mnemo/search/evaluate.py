"""Retrieval evaluation on `data/retrieval`: keyword-only, semantic-only and hybrid.

Used by `bench/retrieval_eval.py` (figures, tuning) and by the tests (the hybrid
must beat both single modes on the test split, on either store). Each mode searches
one user's memories at a time, as the service does:

- keyword: a real store (a new SQLite file, or a new PostgreSQL schema) holding every
  user of the split with their memories, searched with its own `keyword_search`
  (SQLite FTS5 bm25, PostgreSQL `ts_rank_cd`);
- semantic: exact cosine between the query's vector and each of the user's memory
  vectors (`rank.semantic_ranking` over `embed.to_blob` vectors, as stored);
- hybrid: `rank.fuse` of the two (each `DEPTH` deep), with the store's `keyword_half`.

Metrics over the queries of a split: recall@5 (share of a query's relevant memories
in the first 5), MRR (reciprocal rank of the first relevant memory within the first
10, 0 if none) and nDCG@10 (binary relevance).
"""

from __future__ import annotations

import asyncio
import json
import math
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mnemo.clock import new_id, now_us
from mnemo.config import Settings
from mnemo.models import new_memory
from mnemo.search.embed import Embedder, from_blob, to_blob
from mnemo.search.rank import fuse, semantic_ranking
from mnemo.store import User, store_for

__all__ = [
    "DATA_DIR",
    "DEPTH",
    "Dataset",
    "Query",
    "Runs",
    "embed_all",
    "keyword_rankings",
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


async def _keyword_rankings(
    dataset: Dataset, database_url: str
) -> tuple[dict[str, Ranking], float]:
    store = store_for(Settings(database_url=database_url))
    await store.open()
    try:
        users = {}
        for name, rows in dataset.memories.items():
            user = await store.create_user(User(id=new_id(), name=name, created_at=now_us()))
            users[name] = user.id
            memories = [new_memory(text, memory_id=mid) for mid, text in rows]
            await store.insert_memories(user.id, memories)
        rankings = {
            q.id: await store.keyword_search(users[q.user], q.text, DEPTH) for q in dataset.queries
        }
        return rankings, store.keyword_half
    finally:
        await store.close()


def keyword_rankings(
    dataset: Dataset, database_url: str | None = None
) -> tuple[dict[str, Ranking], float]:
    """Every query's keyword ranking, `DEPTH` deep, by the store at `database_url` (an
    empty database: a new SQLite file or PostgreSQL schema) holding the dataset's users
    and memories, as the service searches; and that store's `keyword_half`. Without a
    URL, a SQLite file in a temporary directory."""
    if database_url is not None:
        return asyncio.run(_keyword_rankings(dataset, database_url))
    with tempfile.TemporaryDirectory() as tmp:
        return asyncio.run(_keyword_rankings(dataset, f"sqlite:///{tmp}/evaluate.db"))


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
    keyword_half: float  # that of the store that ranked `keyword`

    def score(self, fuser: Fuser | None = None, mode: str = "hybrid") -> dict[str, float]:
        rankings: dict[str, list[str]] = {}
        for q in self.dataset.queries:
            if mode == "keyword":
                ranked = self.keyword[q.id][:CUTOFF]
            elif mode == "semantic":
                ranked = self.semantic[q.id][:CUTOFF]
            else:
                ranked = (fuser or self.fuse)(self.keyword[q.id], self.semantic[q.id], CUTOFF)
            rankings[q.id] = [mid for mid, _ in ranked]
        return metrics(rankings, self.dataset.queries)

    def fuse(self, keyword: Ranking, semantic: Ranking, limit: int) -> Ranking:
        """The shipped fusion, for this store's keyword scores."""
        return fuse(keyword, semantic, limit, keyword_half=self.keyword_half)


def run(
    dataset: Dataset,
    embedder: Embedder,
    vectors: dict[str, bytes] | None = None,
    database_url: str | None = None,
) -> Runs:
    """Search every query of `dataset` by keyword (with the store at `database_url`, see
    `keyword_rankings`) and by meaning."""
    vectors = vectors if vectors is not None else embed_all(dataset, embedder)
    keyword, keyword_half = keyword_rankings(dataset, database_url)
    stored = {
        user: [(mid, vectors[mid]) for mid, _ in rows] for user, rows in dataset.memories.items()
    }
    semantic = {
        q.id: semantic_ranking(from_blob(vectors[q.id]), stored[q.user], DEPTH)
        for q in dataset.queries
    }
    return Runs(dataset, keyword, semantic, keyword_half)
