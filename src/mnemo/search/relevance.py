"""The ranking of a search: fused evidence mapped to a calibrated relevance.

`rank(query, keyword, semantic, contents, limit, keyword_half=...)` takes the two
rankings of one user's memories (`(memory_id, raw_score)`, best first: the store's
full-text search and the exact cosine scan) and the contents of the memories in them,
and returns at most `limit` `(memory_id, relevance_score)` pairs, best first.

Each candidate (a memory in either list) gets the features of FEATURES (the table in
docs/search.md, "Ranking"):

- `cosine`, `cosine_part`: its cosine with the query (a memory only the keyword side
  found gets the lowest cosine of the semantic list, an upper bound of its own, and
  `semantic` 0), and that mapped from [0.2, 0.6] onto [0, 1];
- `keyword`: the strength of its full-text match, `|score| / (|score| + keyword_half)`
  (0 if the keyword side did not find it; each store says its own half), and
  `keyword_x_cosine`, that times `cosine_part`;
- `1 / (RRF_K + rank)` on each side (reciprocal-rank evidence: either side alone can
  lift a memory; 0 where it is absent), and `cosine_z`, how far its cosine stands out
  among the semantic list;
- names (`entities.py`), when the query names someone: whether the memory is about a
  person the query names (the speaker of a turn, or a name in a fact), only mentions
  one, is a question by someone else (in a dialogue: most likely asked of the named
  person, the first half of a two-turn answer), or is about someone else.

The ranking score is `z = WEIGHTS · features` (a listwise model fitted on the dev
splits of both evaluation sets: `bench/retrieval_eval.py --fit`), best first; ties by
the semantic rank, the keyword rank, the id: deterministic. `relevance_score` is
`calibrated(z, log_share)`, a logistic map fitted on the dev queries and the same
queries asked of other users to the probability that the memory is relevant: so a
threshold means the same for every query and user (`min_score=0.3`: at least
one-in-three likely). It is monotone in z within a query, so the scores fall along
the list.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from mnemo.search.entities import people, query_names

__all__ = [
    "CALIBRATION",
    "FEATURES",
    "RRF_K",
    "WEIGHTS",
    "calibrated",
    "features",
    "rank",
    "scores",
]

RRF_K = 10.0
FEATURES = (
    "cosine",
    "cosine_part",
    "semantic",
    "keyword",
    "keyword_x_cosine",
    "semantic_rr",
    "keyword_rr",
    "cosine_z",
    "about_named",
    "mentions_named",
    "asks_other",
    "about_other",
)
# Fitted by `python bench/retrieval_eval.py --fit` on the dev splits (see docs/search.md):
# the ranking score is z = WEIGHTS · features; the relevance is
# sigmoid(CALIBRATION[0] * z + CALIBRATION[1] * log_share + CALIBRATION[2]), where
# log_share = z - log(sum(exp(z)) over the query's candidates).
WEIGHTS = (
    0.4014,  # cosine
    2.4029,  # cosine_part
    -1.131,  # semantic
    6.123,  # keyword
    4.1253,  # keyword_x_cosine
    2.7937,  # semantic_rr
    -3.3931,  # keyword_rr
    0.6698,  # cosine_z
    1.654,  # about_named
    -0.8728,  # mentions_named
    5.4629,  # asks_other
    0.5333,  # about_other
)
CALIBRATION = (0.204, 0.7595, -1.777)

Ranking = Sequence[tuple[str, float]]


def features(
    query: str,
    keyword: Ranking,
    semantic: Ranking,
    contents: Mapping[str, str],
    *,
    keyword_half: float,
) -> dict[str, tuple[float, ...]]:
    """Each candidate's features (in the order of FEATURES), by memory id. A memory
    listed twice in one ranking keeps its first (best) entry."""
    kw = _first(keyword)
    sem = _first(semantic)
    cosines = [c for c in sem.values()]
    floor = cosines[-1] if cosines else 0.0
    mean = sum(cosines) / len(cosines) if cosines else 0.0
    spread = math.sqrt(sum((c - mean) ** 2 for c in cosines) / len(cosines)) if cosines else 0.0
    spread = max(spread, 0.01)
    sem_at = {m: i for i, m in enumerate(sem)}
    kw_at = {m: i for i, m in enumerate(kw)}
    names = query_names(query)
    out: dict[str, tuple[float, ...]] = {}
    for memory_id in sem.keys() | kw.keys():
        cosine = sem.get(memory_id, floor)
        strength = (
            abs(kw[memory_id]) / (abs(kw[memory_id]) + keyword_half) if memory_id in kw else 0.0
        )
        part = min(max((cosine - 0.2) / 0.4, 0.0), 1.0)
        out[memory_id] = (
            cosine,
            part,
            1.0 if memory_id in sem else 0.0,
            strength,
            strength * part,
            1.0 / (RRF_K + sem_at[memory_id] + 1) if memory_id in sem else 0.0,
            1.0 / (RRF_K + kw_at[memory_id] + 1) if memory_id in kw else 0.0,
            (cosine - mean) / spread,
            *_who(names, contents.get(memory_id)),
        )
    return out


def _first(ranking: Ranking) -> dict[str, float]:
    """The ranking as a dict in its order, each memory's first score."""
    out: dict[str, float] = {}
    for memory_id, score in ranking:
        out.setdefault(memory_id, score)
    return out


def _who(names: frozenset[str], content: str | None) -> tuple[float, float, float, float]:
    """The name features: about a person the query names, only mentions one, a question
    by someone else (in a dialogue, most likely asked of the named person), about
    someone else. All 0 when the query names nobody."""
    if not names or content is None:
        return (0.0, 0.0, 0.0, 0.0)
    subjects, mentioned = people(content)
    if subjects & names:
        return (1.0, 0.0, 0.0, 0.0)
    if mentioned & names:
        return (0.0, 1.0, 0.0, 0.0)
    if not subjects:
        return (0.0, 0.0, 0.0, 0.0)
    if content.rstrip().endswith("?"):
        return (0.0, 0.0, 1.0, 0.0)
    return (0.0, 0.0, 0.0, 1.0)


def calibrated(z: float, log_share: float, calibration: Sequence[float] = CALIBRATION) -> float:
    """P(relevant) of a candidate with ranking score `z` and softmax share `log_share`
    among its query's candidates (monotone in z for one query: both weights >= 0)."""
    t = calibration[0] * z + calibration[1] * log_share + calibration[2]
    return 1.0 / (1.0 + math.exp(-t)) if t >= 0 else math.exp(t) / (1.0 + math.exp(t))


def scores(
    query: str,
    keyword: Ranking,
    semantic: Ranking,
    contents: Mapping[str, str],
    *,
    keyword_half: float,
    weights: Sequence[float] = WEIGHTS,
) -> dict[str, tuple[float, float]]:
    """Each candidate's ranking score z and its log softmax share, by memory id."""
    found = features(query, keyword, semantic, contents, keyword_half=keyword_half)
    z = {m: sum(w * v for w, v in zip(weights, x, strict=True)) for m, x in found.items()}
    if not z:
        return {}
    top = max(z.values())
    lse = top + math.log(sum(math.exp(v - top) for v in z.values()))
    return {m: (v, v - lse) for m, v in z.items()}


def rank(
    query: str,
    keyword: Ranking,
    semantic: Ranking,
    contents: Mapping[str, str],
    limit: int,
    *,
    keyword_half: float,
    weights: Sequence[float] = WEIGHTS,
    calibration: Sequence[float] = CALIBRATION,
) -> list[tuple[str, float]]:
    """The `limit` most relevant candidates with their relevance in [0, 1], best first."""
    if limit <= 0:
        return []
    big = len(keyword) + len(semantic) + 1
    sem_rank = {m: i for i, (m, _) in reversed(list(enumerate(semantic)))}
    kw_rank = {m: i for i, (m, _) in reversed(list(enumerate(keyword)))}
    found = scores(query, keyword, semantic, contents, keyword_half=keyword_half, weights=weights)
    ordered = sorted(
        found,
        key=lambda m: (-found[m][0], sem_rank.get(m, big), kw_rank.get(m, big), m),
    )
    return [(m, round(calibrated(*found[m], calibration), 6)) for m in ordered[:limit]]
