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

import bisect
import math
from collections.abc import Mapping, Sequence

from mnemo.search.entities import memory_subjects, mentions, query_names

__all__ = ["CALIBRATION", "FEATURES", "RRF_K", "WEIGHTS", "calibrated", "features", "rank"]

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
    "about_other",
)
# Fitted by `python bench/retrieval_eval.py --fit` on the dev splits (see docs/search.md):
# the ranking score is WEIGHTS · features; CALIBRATION maps it to P(relevant), linearly
# between its (score, probability) points, clipped at both ends.
WEIGHTS = (0.7041, 2.846, -2.2591, 4.8761, 3.7206, 0.7257, -0.196, 0.6801, 1.2328, -0.8508, 1.1709)
CALIBRATION = (
    (-4.841, 0.0),
    (-3.593, 0.0),
    (-3.579, 0.0025),
    (-2.565, 0.0025),
    (-2.564, 0.0056),
    (-2.038, 0.0056),
    (-2.036, 0.0083),
    (-1.927, 0.0083),
    (-1.927, 0.0102),
    (1.863, 0.0102),
    (1.863, 0.0107),
    (2.418, 0.0107),
    (2.419, 0.0132),
    (2.487, 0.0132),
    (2.487, 0.0164),
    (2.735, 0.0164),
    (2.735, 0.0289),
    (2.828, 0.0289),
    (2.828, 0.03),
    (2.888, 0.03),
    (2.888, 0.0378),
    (3.136, 0.0378),
    (3.137, 0.0563),
    (3.745, 0.0563),
    (3.745, 0.0777),
    (4.374, 0.0777),
    (4.378, 0.1043),
    (4.996, 0.1043),
    (4.996, 0.1081),
    (5.095, 0.1081),
    (5.096, 0.1111),
    (5.505, 0.1111),
    (5.507, 0.1164),
    (5.812, 0.1164),
    (5.813, 0.125),
    (5.833, 0.125),
    (5.834, 0.1279),
    (6.088, 0.1279),
    (6.089, 0.1667),
    (6.127, 0.1667),
    (6.127, 0.1818),
    (6.191, 0.1818),
    (6.216, 0.3235),
    (6.415, 0.3235),
    (6.418, 0.3333),
    (6.556, 0.3333),
    (6.558, 0.4),
    (6.658, 0.4),
    (6.666, 0.5263),
    (6.96, 0.5263),
    (7.056, 0.5385),
    (7.393, 0.5385),
    (7.453, 0.6667),
    (7.507, 0.6667),
    (7.522, 0.7),
    (7.775, 0.7),
    (7.781, 0.75),
    (7.883, 0.75),
    (7.953, 0.8571),
    (8.336, 0.8571),
    (8.342, 0.8947),
    (10.684, 0.8947),
)

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
    cosines = [c for _, c in semantic]
    mean = sum(cosines) / len(cosines) if cosines else 0.0
    spread = math.sqrt(sum((c - mean) ** 2 for c in cosines) / len(cosines)) if cosines else 0.0
    spread = max(spread, 0.01)
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
            min(max(((s[1] if s else floor) - 0.2) / 0.4, 0.0), 1.0),
            1.0 if s else 0.0,
            k[1] if k else 0.0,
            (k[1] if k else 0.0) * min(max(((s[1] if s else floor) - 0.2) / 0.4, 0.0), 1.0),
            1.0 / (RRF_K + s[0] + 1) if s else 0.0,
            1.0 / (RRF_K + k[0] + 1) if k else 0.0,
            ((s[1] if s else floor) - mean) / spread,
            about,
            mentioned,
            other,
        )
    return out


_STEPS = [z for z, _ in CALIBRATION]


def calibrated(score: float) -> float:
    """P(relevant) of a ranking score, by CALIBRATION (monotone, in [0, 1])."""
    i = bisect.bisect_right(_STEPS, score)
    if i == 0:
        return CALIBRATION[0][1]
    if i == len(CALIBRATION):
        return CALIBRATION[-1][1]
    (z0, p0), (z1, p1) = CALIBRATION[i - 1], CALIBRATION[i]
    return p0 if z1 == z0 else p0 + (p1 - p0) * (score - z0) / (z1 - z0)


def rank(
    query: str,
    keyword: Ranking,
    semantic: Ranking,
    contents: Mapping[str, str],
    limit: int,
    *,
    keyword_half: float,
    weights: Sequence[float] = WEIGHTS,
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
        z = sum(w * v for w, v in zip(weights, x, strict=True))
        key = (-z, sem_rank.get(memory_id, big), kw_rank.get(memory_id, big), memory_id)
        scored.append((key, memory_id, z))
    scored.sort()
    return [(memory_id, round(calibrated(z), 6)) for _, memory_id, z in scored[:limit]]
