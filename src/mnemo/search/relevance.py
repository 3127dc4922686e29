"""The ranking of a search: fused evidence mapped to a calibrated relevance.

`rank(query, keyword, semantic, contents, limit, keyword_half=...)` takes the two
rankings of one user's memories (`(memory_id, raw_score)`, best first: the store's
full-text search and the exact cosine scan) and the contents of the memories in them,
and returns at most `limit` `(memory_id, relevance_score)` pairs, best first.

Each candidate (a memory in either list) gets the features of `features()`:

- `cosine`: its cosine with the query (a memory only the keyword side found gets the
  lowest cosine of the semantic list, an upper bound of its own, and `semantic` 0);
- `keyword`: the strength of its full-text match, `|score| / (|score| + keyword_half)`
  (0 if the keyword side did not find it; each store says its own half, as for
  `rank.fuse`);
- `1 / (RRF_K + rank)` on each side (reciprocal-rank evidence: either side alone can
  lift a memory; 0 where it is absent);
- names (`entities.py`): whether the memory is about a person the query names (the
  speaker of a turn, or a name in a fact), only mentions one, or is about someone else
  while the query names people.

`relevance_score = 1 / (1 + exp(-(BIAS + WEIGHTS · features)))`: a logistic model
fitted on the dev splits of both evaluation sets (`bench/retrieval_eval.py --fit`) to
the probability that the memory answers the query. So a threshold means the same for
every query and user: `min_score=0.5` keeps what is more likely relevant than not.
The ranking is by that score (ties: the semantic rank, the keyword rank, the id), so
it is deterministic.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from mnemo.search.entities import memory_subjects, mentions, query_names

__all__ = ["BIAS", "FEATURES", "RRF_K", "WEIGHTS", "features", "rank"]

RRF_K = 10.0
FEATURES = (
    "cosine",
    "semantic",
    "keyword",
    "semantic_rr",
    "keyword_rr",
    "about_named",
    "mentions_named",
    "about_other",
)
# Fitted by `python bench/retrieval_eval.py --fit` on the dev splits (see docs/search.md).
WEIGHTS = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
BIAS = 0.0

Ranking = Sequence[tuple[str, float]]


def features(
    query: str,
    keyword: Ranking,
    semantic: Ranking,
    contents: Mapping[str, str],
    *,
    keyword_half: float,
) -> dict[str, tuple[float, ...]]:
    """Each candidate's features (in the order of FEATURES), by memory id."""
    names = query_names(query)
    kw: dict[str, tuple[int, float]] = {}
    for position, (memory_id, score) in enumerate(keyword):
        kw.setdefault(memory_id, (position, abs(score) / (abs(score) + keyword_half)))
    sem: dict[str, tuple[int, float]] = {}
    for position, (memory_id, cosine) in enumerate(semantic):
        sem.setdefault(memory_id, (position, cosine))
    floor = semantic[-1][1] if semantic else 0.0
    out = {}
    for memory_id in sem.keys() | kw.keys():
        s, k = sem.get(memory_id), kw.get(memory_id)
        about = mentioned = other = 0.0
        content = contents.get(memory_id)
        if names and content is not None:
            subjects = memory_subjects(content)
            if subjects & names:
                about = 1.0
            elif mentions(content) & names:
                mentioned = 1.0
            elif subjects:
                other = 1.0
        out[memory_id] = (
            s[1] if s else floor,
            1.0 if s else 0.0,
            k[1] if k else 0.0,
            1.0 / (RRF_K + s[0] + 1) if s else 0.0,
            1.0 / (RRF_K + k[0] + 1) if k else 0.0,
            about,
            mentioned,
            other,
        )
    return out


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))


def rank(
    query: str,
    keyword: Ranking,
    semantic: Ranking,
    contents: Mapping[str, str],
    limit: int,
    *,
    keyword_half: float,
    weights: Sequence[float] = WEIGHTS,
    bias: float = BIAS,
) -> list[tuple[str, float]]:
    """The `limit` most relevant candidates with their relevance in [0, 1], best first."""
    if limit <= 0:
        return []
    big = len(keyword) + len(semantic) + 1
    sem_rank = {m: i for i, (m, _) in reversed(list(enumerate(semantic)))}
    kw_rank = {m: i for i, (m, _) in reversed(list(enumerate(keyword)))}
    scored = []
    for memory_id, x in features(
        query, keyword, semantic, contents, keyword_half=keyword_half
    ).items():
        z = bias + sum(w * v for w, v in zip(weights, x, strict=True))
        p = round(_sigmoid(z), 6)
        key = (-p, -z, sem_rank.get(memory_id, big), kw_rank.get(memory_id, big), memory_id)
        scored.append((key, memory_id, p))
    scored.sort()
    return [(memory_id, p) for _, memory_id, p in scored[:limit]]
