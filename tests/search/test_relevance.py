"""The shipped ranking (`relevance.rank`) and the names it reads (`entities`)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mnemo.search import relevance
from mnemo.search.entities import content_query, memory_subjects, mentions, query_names
from mnemo.search.rank import FTS5_BM25_HALF
from tests.search.test_keyword import HOSTILE

HALF = FTS5_BM25_HALF


def test_query_names_are_the_capitalised_words_that_are_not_common_words() -> None:
    assert query_names("Where does Caroline's sister live?") == {"caroline"}
    assert query_names("What did Ruth say about pets on 14 January 2023?") == {"ruth"}
    assert query_names("what should I cook for dinner") == frozenset()
    assert query_names("Who is Okonkwo?") == {"okonkwo"}
    assert query_names("What does User like? Tell me, Hey") == frozenset()


def test_a_turn_is_about_its_speaker_and_a_fact_about_the_names_in_it() -> None:
    turn = "Hugo (6 January 2023): That's a good point, Ruth."
    assert memory_subjects(turn) == {"hugo"}
    assert mentions(turn) == {"hugo", "ruth"}
    assert memory_subjects("Ruth: I planted tomatoes") == {"ruth"}
    assert memory_subjects("User's sister Sarah lives in Portland") == {"sarah", "portland"}
    assert memory_subjects("User is vegetarian") == frozenset()
    assert memory_subjects("What: a question, not a speaker") == frozenset()


def test_the_keyword_side_searches_the_words_without_the_names() -> None:
    assert content_query("What is Ruth studying?") == "What is   studying?"
    assert content_query("who is Okonkwo?") == "who is Okonkwo?"  # nothing else to search
    assert content_query("what should I cook") == "what should I cook"


def _ranking(ids: list[str], top: float, step: float) -> list[tuple[str, float]]:
    return [(m, top - step * i) for i, m in enumerate(ids)]


def test_either_side_alone_can_put_a_memory_first() -> None:
    """A strong keyword-only match outranks weak semantic-only ones (the old `fuse`
    capped it at 0.333), and a close semantic match outranks weak keyword ones."""
    contents = {m: m for m in ("k", "s1", "s2", "s3")}
    ranked = relevance.rank(
        "q",
        [("k", -40.0)],
        _ranking(["s1", "s2", "s3"], 0.35, 0.01),
        contents,
        3,
        keyword_half=HALF,
    )
    assert ranked[0][0] == "k"
    ranked = relevance.rank(
        "q", [("k", -2.0)], _ranking(["s1", "s2", "s3"], 0.8, 0.2), contents, 3, keyword_half=HALF
    )
    assert ranked[0][0] == "s1"


def test_the_named_persons_memory_wins_over_the_same_fact_about_someone_else() -> None:
    contents = {
        "a": "Melanie (8 May 2023): I finally adopted a beagle last weekend!",
        "b": "Caroline (8 May 2023): I finally adopted a beagle last weekend!",
    }
    for first, query in (("a", "What pet did Melanie adopt?"), ("b", "What did Caroline adopt?")):
        # the other one is ahead on both sides: the name still decides
        other = "b" if first == "a" else "a"
        semantic = [(other, 0.62), (first, 0.61)]
        keyword = [(other, -5.0), (first, -4.9)]
        ranked = relevance.rank(query, keyword, semantic, contents, 2, keyword_half=HALF)
        assert [m for m, _ in ranked] == [first, other]


def test_scores_are_probabilities_best_first_and_deterministic() -> None:
    contents = {f"m{i}": f"memory {i}" for i in range(60)}
    semantic = _ranking([f"m{i}" for i in range(50)], 0.7, 0.01)
    keyword = _ranking([f"m{i}" for i in range(59, 19, -1)], -30.0, -0.5)
    ranked = relevance.rank("memory", keyword, semantic, contents, 100, keyword_half=HALF)
    assert len(ranked) == 60 and len({m for m, _ in ranked}) == 60
    scores = [s for _, s in ranked]
    assert scores == sorted(scores, reverse=True)
    assert all(0.0 <= s <= 1.0 for s in scores)
    again = relevance.rank(
        "memory", keyword, semantic, dict(reversed(contents.items())), 100, keyword_half=HALF
    )
    assert again == ranked
    assert relevance.rank("memory", keyword, semantic, contents, 0, keyword_half=HALF) == []
    assert relevance.rank("memory", [], [], {}, 10, keyword_half=HALF) == []
    assert relevance.rank("memory", keyword, semantic, contents, 5, keyword_half=HALF) == ranked[:5]


def test_a_memory_listed_twice_keeps_its_best_entry() -> None:
    contents = {"a": "a", "b": "b"}
    once = relevance.rank("q", [], [("a", 0.6), ("b", 0.5)], contents, 2, keyword_half=HALF)
    twice = relevance.rank(
        "q", [], [("a", 0.6), ("b", 0.5), ("a", 0.1)], contents, 2, keyword_half=HALF
    )
    assert once == twice


def test_the_calibration_is_monotone_in_the_score_within_a_query() -> None:
    a, b, _ = relevance.CALIBRATION
    assert a >= 0 and b >= 0
    values = [relevance.calibrated(z, z - 3.0) for z in (-5.0, 0.0, 2.0, 5.0, 10.0)]
    assert values == sorted(values) and all(0 < v < 1 for v in values)
    assert math.isclose(relevance.calibrated(-1e6, -1e6), 0.0, abs_tol=1e-12)
    assert relevance.calibrated(1e6, 0.0) == pytest.approx(1.0)


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_text_as_query_or_memory_never_fails(text: str) -> None:
    contents = {"a": text, "b": f"{text}: {text}", "c": "User is vegetarian"}
    ranked = relevance.rank(
        text, [("a", -3.0)], [("b", 0.4), ("c", 0.3)], contents, 3, keyword_half=HALF
    )
    assert {m for m, _ in ranked} == {"a", "b", "c"}
    content_query(text)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300), st.text(max_size=300))
def test_any_text_gives_names_without_failing(query: str, memory: str) -> None:
    assert all(n == n.casefold() for n in query_names(query))
    assert memory_subjects(memory) <= mentions(memory)
    assert isinstance(content_query(query), str)
