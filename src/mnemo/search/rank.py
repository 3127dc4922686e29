"""Hybrid ranking: one list from a keyword ranking and a semantic ranking.

`fuse(keyword, semantic, limit, keyword_half=...)` takes two rankings of one user's
memories, each a list of `(memory_id, raw_score)` best first, and returns at most
`limit` `(memory_id, relevance_score)` pairs, best first, with scores in [0, 1]:

    relevance = SEMANTIC_WEIGHT * semantic_part + KEYWORD_WEIGHT * keyword_part

(weights normalised to sum 1), where

- `semantic_part` is the cosine similarity mapped linearly from
  [`COSINE_FLOOR`, `COSINE_CEILING`] onto [0, 1] (clipped): an absolute measure, so
  a memory that merely ranks first among unrelated ones does not score high;
- `keyword_part` is `|score| / (|score| + keyword_half)`: it grows with the strength
  of the full-text match and saturates, as BM25 saturates term frequency. It is an
  absolute measure too: a memory that matches only a common word of the query (a
  name the user mentions often) adds little even when nothing matches better.
  `keyword_half` is the engine's score that counts as half a match: each store says
  its own (`Store.keyword_half`: `FTS5_BM25_HALF` for SQLite FTS5's `bm25()`,
  negative, more negative is better; `TS_RANK_CD_HALF` for PostgreSQL's `ts_rank_cd`);
- a memory only the keyword search found gets no semantic part, and one only the
  semantic search found gets no keyword part; memories found by both add up.

`fuse` was mnemo's ranking until issue #16 (its settings chosen on the dev split of
`data/retrieval`); the search now ranks with `relevance.rank`, and `fuse` and `rrf`
(plain reciprocal rank fusion) remain as the evaluation's baselines
(`bench/retrieval_eval.py`, docs/search.md).

`nearest(keys, matrix, query, limit)` is the exact cosine scan that produces the
semantic input from stored vectors (numpy; ~0.5 ms for 10,000 memories), and
`semantic_ranking(query_vector, rows, limit)` the same over `(id, blob)` rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from mnemo.search.embed import DIM, vectors_from_blobs

__all__ = [
    "COSINE_CEILING",
    "COSINE_FLOOR",
    "FTS5_BM25_HALF",
    "KEYWORD_WEIGHT",
    "SEMANTIC_WEIGHT",
    "TS_RANK_CD_HALF",
    "fuse",
    "nearest",
    "rrf",
    "semantic_ranking",
]

SEMANTIC_WEIGHT = 1.0
KEYWORD_WEIGHT = 0.5
COSINE_FLOOR = 0.2
COSINE_CEILING = 0.6
FTS5_BM25_HALF = 12.0
TS_RANK_CD_HALF = 0.3


def _clip01(value: float) -> float:
    return 0.0 if value < 0.0 else 1.0 if value > 1.0 else value


def fuse(
    keyword: Sequence[tuple[str, float]],
    semantic: Sequence[tuple[str, float]],
    limit: int,
    *,
    keyword_half: float,
    semantic_weight: float = SEMANTIC_WEIGHT,
    keyword_weight: float = KEYWORD_WEIGHT,
    cosine_floor: float = COSINE_FLOOR,
    cosine_ceiling: float = COSINE_CEILING,
) -> list[tuple[str, float]]:
    """The `limit` best memories of both rankings, with a relevance score in [0, 1].

    Ties are broken by the semantic rank, then the keyword rank, then the id, so
    the same inputs always give the same order. A memory listed twice in one input
    keeps its first (best) entry.
    """
    if limit <= 0:
        return []
    total = semantic_weight + keyword_weight
    ws, wk = semantic_weight / total, keyword_weight / total
    span = cosine_ceiling - cosine_floor

    kw_part: dict[str, float] = {}
    kw_rank: dict[str, int] = {}
    for rank, (memory_id, score) in enumerate(keyword):
        if memory_id not in kw_part:
            kw_part[memory_id] = abs(score) / (abs(score) + keyword_half)
            kw_rank[memory_id] = rank
    sem_part: dict[str, float] = {}
    sem_rank: dict[str, int] = {}
    for rank, (memory_id, cosine) in enumerate(semantic):
        if memory_id not in sem_part:
            sem_part[memory_id] = _clip01((cosine - cosine_floor) / span)
            sem_rank[memory_id] = rank

    big = len(keyword) + len(semantic) + 1
    scored = []
    for memory_id in sem_part.keys() | kw_part.keys():
        score = _clip01(ws * sem_part.get(memory_id, 0.0) + wk * kw_part.get(memory_id, 0.0))
        key = (-score, sem_rank.get(memory_id, big), kw_rank.get(memory_id, big), memory_id)
        scored.append((key, memory_id, score))
    scored.sort()
    return [(memory_id, round(score, 6)) for _, memory_id, score in scored[:limit]]


def rrf(
    keyword: Sequence[tuple[str, float]],
    semantic: Sequence[tuple[str, float]],
    limit: int,
    *,
    k: float = 60.0,
    keyword_weight: float = 1.0,
    semantic_weight: float = 1.0,
) -> list[tuple[str, float]]:
    """Reciprocal rank fusion, scaled to [0, 1] (1 = first in both): the baseline."""
    top = keyword_weight / (k + 1) + semantic_weight / (k + 1)
    scores: dict[str, float] = {}
    for weight, ranking in ((keyword_weight, keyword), (semantic_weight, semantic)):
        seen: set[str] = set()
        for rank, (memory_id, _) in enumerate(ranking):
            if memory_id not in seen:
                seen.add(memory_id)
                scores[memory_id] = scores.get(memory_id, 0.0) + weight / (k + rank + 1)
    ordered = sorted(scores.items(), key=lambda item: (-item[1], item[0]))[:limit]
    return [(memory_id, round(score / top, 6)) for memory_id, score in ordered]


def nearest(keys: Any, matrix: Any, query_vector: Any, limit: int) -> list[tuple[Any, float]]:
    """The `limit` rows of `matrix` most similar to `query_vector`: `(key, cosine)`,
    best first, equal scores by key. `keys` is an array with one key per row; rows and
    query are normalised float32 vectors."""
    if limit <= 0 or not len(keys):
        return []
    scores = matrix @ np.asarray(query_vector, dtype=np.float32)
    top = np.argpartition(-scores, limit - 1)[:limit] if limit < len(keys) else slice(None)
    top = np.arange(len(keys))[top]
    top = top[np.lexsort((keys[top], -scores[top]))]
    return [(keys[i].item(), float(scores[i])) for i in top]


def semantic_ranking(
    query_vector: Sequence[float] | Any,
    rows: Sequence[tuple[str, bytes]],
    limit: int,
) -> list[tuple[str, float]]:
    """The `limit` memories most similar to `query_vector`: `(id, cosine)`, best first.

    `rows` are `(memory_id, to_blob(vector))` pairs, all vectors normalised. Equal
    scores keep the rows' order.
    """
    matrix = vectors_from_blobs([blob for _, blob in rows], DIM)
    top = nearest(np.arange(len(rows)), matrix, query_vector, limit)
    return [(rows[i][0], score) for i, score in top]
