"""`supersede.superseded`: which stored fact a new one updates or contradicts, and the
pairs it must not link (different facts, repeats)."""

from __future__ import annotations

import pytest

from mnemo.search.supersede import superseded


@pytest.mark.parametrize(
    "new,old",
    [
        ("User lives in Seattle", "User lives in Portland"),
        ("User is 35 years old", "User is 34 years old"),
        ("User does not eat meat", "User eats meat"),
        ("User eats meat", "User doesn't eat meat"),
        ("User's favorite color is green", "User's favourite color is blue"),
        ("User is married to Sam", "User is married to Alex"),
        ("User has 3 cats", "User has 2 cats"),
    ],
)
def test_an_update_or_a_contradiction_is_linked(new: str, old: str) -> None:
    assert superseded(new, [("other", "User plays chess"), ("old", old)]) == "old"


@pytest.mark.parametrize(
    "new,old",
    [
        ("User likes dogs", "User likes cats"),
        ("User speaks French", "User speaks Spanish"),
        ("User lives in Seattle", "User lives in Seattle"),  # a repeat: dedup's
        ("User is vegan", "User is vegetarian"),
        ("User's sister Sarah lives in Portland", "User lives in Portland"),
        ("User plays the cello", "User does not play golf"),
        ("😀", "😢"),
        ("", "User lives in Portland"),
    ],
)
def test_other_facts_are_not_linked(new: str, old: str) -> None:
    assert superseded(new, [("old", old)]) is None


def test_the_first_candidate_wins_and_none_is_none() -> None:
    candidates = [("a", "User lives in Oslo"), ("b", "User lives in Rome")]
    assert superseded("User lives in Paris", candidates) == "a"
    assert superseded("User lives in Paris", []) is None
