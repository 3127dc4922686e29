"""Near-duplicate detection: the committed labelled pairs, and the facts it must keep apart."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mnemo.search.dedup import content_words, find_duplicate, is_duplicate, keys, normalise
from mnemo.search.embed import MiniLMEmbedder, to_blob

DATA = Path(__file__).resolve().parents[2] / "data" / "dedup"
PAIRS = DATA / "pairs.jsonl"
ADVERSARIAL = DATA / "adversarial.jsonl"


def load_pairs(path: Path = PAIRS) -> list[dict[str, object]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def _scores(judged: list[tuple[dict[str, object], bool]]) -> tuple[float, float, list[object]]:
    """(precision, recall, the pairs wrongly merged)."""
    tp = sum(1 for p, f in judged if f and p["duplicate"])
    fp = sum(1 for p, f in judged if f and not p["duplicate"])
    fn = sum(1 for p, f in judged if not f and p["duplicate"])
    wrong = [(p["a"], p["b"]) for p, f in judged if f and not p["duplicate"]]
    return tp / (tp + fp) if tp + fp else 1.0, tp / (tp + fn), wrong


def test_normalise_ignores_case_space_and_punctuation() -> None:
    assert normalise("  User is   VEGETARIAN. ") == "user is vegetarian"
    assert normalise("User's sister, Sarah!") == normalise("users sister sarah")
    assert normalise("Ｕｓｅｒ　ｉｓ") == "user is"  # full-width forms
    assert normalise("...") == ""


def test_content_words() -> None:
    assert content_words("User mentioned that they really love hiking") == ["lov", "hik"]
    assert content_words("User doesn't have two kids") == ["not", "2", "child"]
    assert content_words("User wakes up at 5am") == ["wak", "up", "5", "am"]


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("User's sister lives in Portland", "User's brother lives in Portland"),
        ("User likes cats", "User dislikes cats"),
        ("User likes cats", "User does not like cats"),
        ("User has 2 kids", "User has 3 kids"),
        ("User was born on March 14, 1990", "User was born on March 14, 1991"),
        ("User's sister Sarah lives in Portland", "User's sister Emma lives in Portland"),
        ("User moved from Boston to Denver", "User moved from Denver to Boston"),
        ("User likes cats", "User likes cats and dogs"),
        ("User used to smoke", "User smokes"),
    ],
)
def test_different_facts_that_look_alike_are_kept_apart(
    embedder: MiniLMEmbedder, a: str, b: str
) -> None:
    va, vb = embedder.embed([a, b])
    assert find_duplicate(b, va, [("m1", a, vb)]) is None
    assert find_duplicate(a, vb, [("m1", b, va)]) is None


def test_find_duplicate_returns_the_matching_id(embedder: MiniLMEmbedder) -> None:
    stored = [
        "User's brother Tom lives in Denver",
        "User is vegetarian",
        "User's sister Sarah lives in Portland",
    ]
    vectors = embedder.embed(stored)
    pairs = zip(stored, vectors, strict=True)
    candidates = [(f"m{i}", text, to_blob(v)) for i, (text, v) in enumerate(pairs)]
    new = "Sarah, User's sister, lives in Portland."
    assert find_duplicate(new, embedder.embed([new])[0], candidates) == "m2"
    assert find_duplicate("user is VEGETARIAN", None, candidates) == "m1"  # exact, no vectors
    assert find_duplicate("User mentioned that they are vegetarian", None, candidates) == "m1"
    assert find_duplicate("User is vegan", None, candidates) is None
    assert find_duplicate("User is vegetarian", None, []) is None
    assert find_duplicate("!!!", None, [("m9", "???", None)]) is None  # no letters: only itself
    assert find_duplicate("!!!", None, [("m9", "!!!", None)]) == "m9"


def test_a_low_cosine_vetoes_a_word_match() -> None:
    assert not is_duplicate("User plays tennis", "User tennis plays", cosine=0.1)


@pytest.fixture(scope="module")
def judged(embedder: MiniLMEmbedder) -> list[tuple[dict[str, object], bool]]:
    pairs = load_pairs()
    a = embedder.embed_array([str(p["a"]) for p in pairs])
    b = embedder.embed_array([str(p["b"]) for p in pairs])
    out = []
    for p, va, vb in zip(pairs, a, b, strict=True):
        found = find_duplicate(str(p["b"]), vb, [("a", str(p["a"]), va)]) == "a"
        out.append((p, found))
    return out


def test_the_labelled_pairs_are_enough_and_balanced() -> None:
    pairs = load_pairs()
    assert len(pairs) >= 150
    assert sum(bool(p["duplicate"]) for p in pairs) >= 50
    assert {p["split"] for p in pairs} == {"dev", "test"}


@pytest.mark.parametrize("split", ["test", None])
def test_precision_and_recall_on_the_labelled_pairs(
    judged: list[tuple[dict[str, object], bool]], split: str | None
) -> None:
    rows = [(p, f) for p, f in judged if split is None or p["split"] == split]
    precision, recall, wrong = _scores(rows)
    # measured: precision 1.00 on both; recall 0.963 on test, 0.927 on all
    assert precision >= 0.97, wrong
    assert recall >= 0.9


def _as_the_store_judges(pair: dict[str, object]) -> bool:
    """As a create does: a candidate only when it shares a dedup key, no vectors."""
    a, b = str(pair["a"]), str(pair["b"])
    return bool(set(keys(a)) & set(keys(b))) and find_duplicate(b, None, [("a", a, None)]) == "a"


def test_the_adversarial_pairs_are_enough_and_of_every_kind() -> None:
    pairs = load_pairs(ADVERSARIAL)
    different = [p for p in pairs if not p["duplicate"]]
    assert len(different) >= 150 and sum(bool(p["duplicate"]) for p in pairs) >= 20
    kinds = {str(p["kind"]) for p in different}
    assert {"possessive", "object", "relation word", "opposite", "negation"} <= kinds
    assert {"number", "unit", "person", "symbols"} <= kinds
    for kind in kinds:  # every kind on both sides of the split
        assert {p["split"] for p in different if p["kind"] == kind} == {"dev", "test"}


@pytest.mark.parametrize("split", ["dev", "test"])
def test_precision_on_the_adversarial_pairs(split: str) -> None:
    rows = [(p, _as_the_store_judges(p)) for p in load_pairs(ADVERSARIAL) if p["split"] == split]
    precision, recall, wrong = _scores(rows)
    different = sum(1 for p, _ in rows if not p["duplicate"])
    # measured on both splits: 0 of 78 different facts merged, 12 of 12 duplicates found
    assert len(wrong) <= different // 50, wrong
    assert recall >= 0.9


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Anna is Bob's mother", "Bob is Anna's mother"),
        ("Alice owes User $50", "User owes Alice $50"),
        ("User lives with Anna", "User lives by Anna"),
        ("😀", "❤️"),
        ("!!!", "???"),
        ("Alice owes User $50", "Alice owes User €50"),
        ("User's flight is on 3/4/2026", "User's flight is on 4/3/2026"),
        ("He is her father", "She is his father"),
        ("User feels 😀 about the move", "User feels 😢 about the move"),
    ],
)
def test_the_issue_s_merges_are_kept_apart(a: str, b: str) -> None:
    assert not is_duplicate(a, b) and not is_duplicate(b, a)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Anna is Bob's mother", "Anna is the mother of Bob"),
        ("Bob's mother is Anna", "Anna is Bob's mother"),
        ("User owes Alice $50", "User mentioned that they owe Alice $50"),
        ("❤️", " ❤️ "),
        ("ｶ", "カ"),  # NFKC makes them one character
    ],
)
def test_the_same_roles_in_other_words_are_one_fact(a: str, b: str) -> None:
    assert is_duplicate(a, b) and is_duplicate(b, a)


_PIECES = [*"ab 's'’-09./:,$€😀❤\ufe0f", "of ", "with ", "User", "his ", "her ", "Anna", " Bob"]
_PIECES += ["mother", " is ", " not", " 50", "'s "]
_TEXTS = st.text(max_size=60) | st.lists(st.sampled_from(_PIECES), max_size=14).map("".join)


@settings(max_examples=600, deadline=None)
@given(_TEXTS, _TEXTS)
def test_the_rule_is_symmetric_reflexive_and_found_by_the_keys(a: str, b: str) -> None:
    found = is_duplicate(a, b)
    assert found == is_duplicate(b, a)
    assert is_duplicate(a, a)
    if found:  # the store finds candidates by key only: a match must share one
        assert set(keys(a)) & set(keys(b))
