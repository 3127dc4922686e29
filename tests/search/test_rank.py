"""Hybrid fusion and the exact cosine scan."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from mnemo.search.embed import to_blob
from mnemo.search.rank import (
    FTS5_BM25_HALF,
    KEYWORD_WEIGHT,
    SEMANTIC_WEIGHT,
    TS_RANK_CD_HALF,
    fuse,
    nearest,
    rrf,
    semantic_ranking,
)

HALF = FTS5_BM25_HALF

ids = st.sampled_from([f"m{i}" for i in range(12)])
keyword_lists = st.lists(st.tuples(ids, st.floats(-30, 0)), max_size=10)
semantic_lists = st.lists(st.tuples(ids, st.floats(-1, 1)), max_size=10)


@given(keyword_lists, semantic_lists, st.integers(0, 15))
def test_fuse_gives_unique_ids_best_first_with_scores_in_0_1(
    keyword: list[tuple[str, float]], semantic: list[tuple[str, float]], limit: int
) -> None:
    keyword.sort(key=lambda r: r[1])  # bm25: most negative first
    semantic.sort(key=lambda r: -r[1])
    fused = fuse(keyword, semantic, limit, keyword_half=HALF)
    assert len(fused) == min(limit, len({m for m, _ in keyword} | {m for m, _ in semantic}))
    assert len({m for m, _ in fused}) == len(fused)
    assert all(0.0 <= s <= 1.0 for _, s in fused)
    assert [s for _, s in fused] == sorted((s for _, s in fused), reverse=True)
    assert fused == fuse(keyword, semantic, limit, keyword_half=HALF)
    assert {m for m, _ in fused} <= {m for m, _ in keyword} | {m for m, _ in semantic}


def test_fuse_edge_cases() -> None:
    assert fuse([], [], 10, keyword_half=HALF) == []
    assert fuse([("a", -3.0)], [("b", 0.5)], 0, keyword_half=HALF) == []
    assert [m for m, _ in fuse([("a", -3.0)], [], 10, keyword_half=HALF)] == ["a"]
    assert [m for m, _ in fuse([], [("b", 0.5), ("c", 0.1)], 10, keyword_half=HALF)] == [
        "b",
        "c",
    ]


def test_sqlite_and_postgres_keyword_scales_give_the_same_result() -> None:
    semantic = [("a", 0.45), ("b", 0.44), ("c", 0.2)]
    # the same strength of match on each engine's scale: a multiple of its half
    sqlite_bm25 = [("b", -1.5 * FTS5_BM25_HALF), ("c", -0.5 * FTS5_BM25_HALF)]  # negative
    pg_rank = [("b", 1.5 * TS_RANK_CD_HALF), ("c", 0.5 * TS_RANK_CD_HALF)]  # positive
    assert fuse(sqlite_bm25, semantic, 3, keyword_half=FTS5_BM25_HALF) == fuse(
        pg_rank, semantic, 3, keyword_half=TS_RANK_CD_HALF
    )


def test_a_keyword_match_breaks_a_near_tie_of_meaning() -> None:
    semantic = [("job_of_other", 0.46), ("job_of_maren", 0.455), ("unrelated", 0.1)]
    keyword = [("job_of_maren", -4.9), ("wedding_of_maren", -4.9)]
    assert fuse(keyword, semantic, 3, keyword_half=HALF)[0][0] == "job_of_maren"


def test_a_weak_keyword_match_adds_little_even_when_it_is_the_best_one() -> None:
    # "Where does Maren work?": only a memory that merely names Maren matches the words,
    # weakly; the one about her job matches the meaning better and stays first.
    semantic = [("job_of_maren", 0.50), ("birthday_of_maren", 0.46)]
    weak = [("birthday_of_maren", -0.1 * HALF)]
    assert fuse(weak, semantic, 2, keyword_half=HALF)[0][0] == "job_of_maren"
    strong = [("birthday_of_maren", -3 * HALF)]  # a strong match of the words does count
    assert fuse(strong, semantic, 2, keyword_half=HALF)[0][0] == "birthday_of_maren"


def test_a_weak_meaning_match_scores_low() -> None:
    strong = fuse([], [("a", 0.8)], 1, keyword_half=HALF)[0][1]
    weak = fuse([], [("a", 0.15)], 1, keyword_half=HALF)[0][1]
    assert strong == round(SEMANTIC_WEIGHT / (SEMANTIC_WEIGHT + KEYWORD_WEIGHT), 6)
    assert weak == 0.0


def test_rrf_scales_to_one_when_first_in_both() -> None:
    fused = rrf([("a", -5.0), ("b", -1.0)], [("a", 0.9), ("c", 0.5)], 10)
    assert fused[0] == ("a", 1.0)
    assert all(0 < s <= 1 for _, s in fused)


def test_semantic_ranking_is_exact_cosine_top_k() -> None:
    rng = np.random.default_rng(1)
    matrix = rng.standard_normal((300, 384)).astype(np.float32)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    query = matrix[7] + 0.1 * matrix[8]
    query /= np.linalg.norm(query)
    rows = [(f"m{i}", to_blob(v)) for i, v in enumerate(matrix)]
    top = semantic_ranking(query, rows, 5)
    expected = np.argsort(-(matrix @ query))[:5]
    assert [m for m, _ in top] == [f"m{i}" for i in expected]
    assert top[0][0] == "m7"
    assert np.isclose(top[0][1], float(matrix[7] @ query), atol=1e-5)
    assert len(semantic_ranking(query, rows, 1000)) == 300
    assert semantic_ranking(query, [], 5) == []
    assert semantic_ranking(query, rows, 0) == []


def test_nearest_is_exact_cosine_top_k_with_ties_by_key() -> None:
    rng = np.random.default_rng(2)
    matrix = rng.standard_normal((50, 384)).astype(np.float32)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    matrix[10] = matrix[3]  # the same vector twice: the smaller key goes first
    keys = np.array([f"k{i:02d}" for i in range(50)][::-1])  # keys not in row order
    top = nearest(keys, matrix, matrix[3], 3)
    assert [k for k, _ in top[:2]] == sorted([keys[3], keys[10]])
    assert np.isclose(top[0][1], 1.0, atol=1e-5)
    assert [k for k, _ in nearest(keys, matrix, matrix[3], 100)] == [
        keys[i] for i in np.lexsort((keys, -(matrix @ matrix[3])))
    ]
    assert nearest(keys[:0], matrix[:0], matrix[3], 5) == []
    assert nearest(keys, matrix, matrix[3], 0) == []
