"""Retrieval evaluation on `data/retrieval` (fact-shaped memories) and
`data/retrieval_conversations` (conversation turns): keyword-only, semantic-only,
plain reciprocal rank fusion, the previous `rank.fuse` and the shipped ranking.

Used by `bench/retrieval_eval.py` (figures, tuning) and by the tests (the hybrid
must beat both single modes on the test split, on either store). Each mode searches
one user's memories at a time, as the service does:

- keyword: a real store (a new SQLite file, or a new PostgreSQL schema) holding every
  user of the split with their memories, searched with its own `keyword_search`
  (SQLite FTS5 bm25, PostgreSQL `ts_rank_cd`);
- semantic: exact cosine between the query's vector and each of the user's memory
  vectors (`rank.semantic_ranking` over `embed.to_blob` vectors, as stored);
- rrf: `rank.rrf` of the two, k = 60, equal weights (the textbook baseline);
- fuse: `rank.fuse` of the two (each `DEPTH` deep), with the store's `keyword_half`
  (the ranking mnemo shipped before `relevance.rank`);
- hybrid: `relevance.rank`, the shipped ranking (fused evidence and names).

Metrics over the queries of a split: recall@k for k = 1, 5, 10, 50 (share of a
query's relevant memories in the first k), MRR (reciprocal rank of the first relevant
memory within the first 10, 0 if none) and nDCG@10 (binary relevance).
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
from mnemo.search.entities import content_query
from mnemo.search.rank import fuse, rrf, semantic_ranking
from mnemo.search.relevance import rank
from mnemo.store import User, store_for

__all__ = [
    "CONVERSATIONS_DIR",
    "DATA_DIR",
    "DEPTH",
    "MODES",
    "Dataset",
    "Query",
    "Runs",
    "embed_all",
    "keyword_rankings",
    "load",
    "metrics",
]

DATA_DIR = Path(__file__).resolve().parents[3] / "data" / "retrieval"
CONVERSATIONS_DIR = DATA_DIR.with_name("retrieval_conversations")
MODES = ("keyword", "semantic", "rrf", "fuse", "hybrid")
DEPTH = 50  # candidates taken from each single ranking before fusing
CUTOFF = 10  # length of the list that MRR and nDCG score
RECALL_AT = (1, 5, 10, 50)
FOREIGN = "@foreign"  # the id suffix of a query asked of another user (`Dataset.foreign`)

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

    @property
    def text_id(self) -> str:
        """The id of the query whose text this is (a foreign query's own)."""
        return self.id.removesuffix(FOREIGN)


@dataclass
class Dataset:
    memories: dict[str, list[tuple[str, str]]]  # user -> [(memory id, content)]
    queries: list[Query]

    def foreign(self, q: Query) -> Query:
        """`q` asked of another user of the set (the next one by name): a query none of
        whose candidates is relevant, for calibrating the score (`relevance.py`)."""
        users = sorted(self.memories)
        other = users[(users.index(q.user) + 1) % len(users)]
        return Query(q.id + FOREIGN, other, q.split, q.kind, q.text, frozenset())

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


KeywordRuns = tuple[dict[str, Ranking], dict[str, Ranking], float]


async def _keyword_rankings(dataset: Dataset, database_url: str) -> KeywordRuns:
    store = store_for(Settings(database_url=database_url))
    await store.open()
    try:
        users = {}
        for name, rows in dataset.memories.items():
            user = await store.create_user(User(id=new_id(), name=name, created_at=now_us()))
            users[name] = user.id
            memories = [new_memory(text, memory_id=mid) for mid, text in rows]
            await store.insert_memories(user.id, memories)
        full, content = {}, {}
        for q in [*dataset.queries, *map(dataset.foreign, dataset.queries)]:
            full[q.id] = await store.keyword_search(users[q.user], q.text, DEPTH)
            words = content_query(q.text)
            same = words == q.text
            content[q.id] = (
                full[q.id] if same else await store.keyword_search(users[q.user], words, DEPTH)
            )
        return full, content, store.keyword_half
    finally:
        await store.close()


def keyword_rankings(dataset: Dataset, database_url: str | None = None) -> KeywordRuns:
    """Every query's keyword rankings, `DEPTH` deep, by the store at `database_url` (an
    empty database: a new SQLite file or PostgreSQL schema) holding the dataset's users
    and memories, as the service searches: of the whole query (the baselines) and of
    `entities.content_query` (the shipped ranking); and that store's `keyword_half`.
    Without a URL, a SQLite file in a temporary directory."""
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
    """recall@1/5/10/50, MRR (@10) and nDCG@10, averaged over `queries`."""
    recall = dict.fromkeys(RECALL_AT, 0.0)
    mrr = ndcg = 0.0
    for q in queries:
        full = list(rankings.get(q.id, []))
        for k in RECALL_AT:
            recall[k] += len(q.relevant & set(full[:k])) / len(q.relevant)
        ranked = full[:CUTOFF]
        mrr += next((1.0 / (i + 1) for i, m in enumerate(ranked) if m in q.relevant), 0.0)
        dcg = sum(1.0 / math.log2(i + 2) for i, m in enumerate(ranked) if m in q.relevant)
        ideal = sum(1.0 / math.log2(i + 2) for i in range(min(len(q.relevant), CUTOFF)))
        ndcg += dcg / ideal
    n = max(len(queries), 1)
    return {
        **{f"recall@{k}": value / n for k, value in recall.items()},
        "mrr": mrr / n,
        "ndcg@10": ndcg / n,
    }


@dataclass
class Runs:
    """The single rankings of every query, computed once, fused many times (tuning)."""

    dataset: Dataset
    keyword: dict[str, Ranking]
    semantic: dict[str, Ranking]
    keyword_half: float  # that of the store that ranked `keyword`
    content_keyword: dict[str, Ranking]  # the keyword rankings of the content words
    _contents: dict[str, str] | None = None

    def ranking(self, q: Query, mode: str = "hybrid", fuser: Fuser | None = None) -> Ranking:
        """The query's ranking by `mode` (one of MODES), `DEPTH` long; with `fuser`,
        that fusion of the two single rankings instead."""
        keyword, semantic = self.keyword[q.id], self.semantic[q.id]
        if fuser is not None:
            return fuser(keyword, semantic, DEPTH)
        if mode == "keyword":
            return keyword[:DEPTH]
        if mode == "semantic":
            return semantic[:DEPTH]
        if mode == "rrf":
            return rrf(keyword, semantic, DEPTH)
        if mode == "fuse":
            return fuse(keyword, semantic, DEPTH, keyword_half=self.keyword_half)
        return rank(
            q.text,
            self.content_keyword[q.id],
            semantic,
            self.contents,
            DEPTH,
            keyword_half=self.keyword_half,
        )

    @property
    def contents(self) -> dict[str, str]:
        if self._contents is None:
            self._contents = {
                mid: text for rows in self.dataset.memories.values() for mid, text in rows
            }
        return self._contents

    def score(self, fuser: Fuser | None = None, mode: str = "hybrid") -> dict[str, float]:
        rankings = {
            q.id: [mid for mid, _ in self.ranking(q, mode, fuser)] for q in self.dataset.queries
        }
        return metrics(rankings, self.dataset.queries)

    def only(self, queries: Sequence[Query]) -> Runs:
        """The same runs, scored over `queries` only."""
        subset = Dataset(self.dataset.memories, list(queries))
        return Runs(subset, self.keyword, self.semantic, self.keyword_half, self.content_keyword)


def run(
    dataset: Dataset,
    embedder: Embedder,
    vectors: dict[str, bytes] | None = None,
    database_url: str | None = None,
) -> Runs:
    """Search every query of `dataset` by keyword (with the store at `database_url`, see
    `keyword_rankings`) and by meaning."""
    vectors = vectors if vectors is not None else embed_all(dataset, embedder)
    keyword, content, keyword_half = keyword_rankings(dataset, database_url)
    stored = {
        user: [(mid, vectors[mid]) for mid, _ in rows] for user, rows in dataset.memories.items()
    }
    semantic = {
        q.id: semantic_ranking(from_blob(vectors[q.text_id]), stored[q.user], DEPTH)
        for q in [*dataset.queries, *map(dataset.foreign, dataset.queries)]
    }
    return Runs(dataset, keyword, semantic, keyword_half, content)
