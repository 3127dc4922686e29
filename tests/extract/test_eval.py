"""The labelled set is as docs/extraction.md describes it, the match rule behaves as
documented, and the offline extractor stays at or above the published floors (computed
by the real extractor on the committed set; the test split was never tuned on)."""

from __future__ import annotations

from collections import Counter

import pytest

from mnemo.extract import extract_offline
from mnemo.extract.evaluate import MATCH_THRESHOLD, Report, evaluate, matches, read_set, similarity

# split: (fact recall >=, fact precision >=, forbidden rate <=, action-item recall >=)
FLOORS = {"dev": (0.73, 0.94, 0.05, 0.70), "test": (0.63, 0.80, 0.05, 0.60)}


def test_the_set_is_as_described() -> None:
    data = read_set()
    assert len(data) >= 60
    assert sum(len(c.facts) for c in data) >= 200
    assert len({c.id for c in data}) == len(data)
    assert Counter(c.split for c in data).keys() == {"dev", "test"}
    assert {"chat", "transcript", "email"} <= {c.kind for c in data}
    assert sum(1 for c in data if not c.facts and not c.action_items) >= 10
    assert sum(len(c.action_items) for c in data) >= 20
    for item in data:
        assert item.turns and all(t.text.strip() for t in item.turns)
        assert all(f.startswith("User") and len(f) <= 500 for f in item.facts)


def test_the_match_rule() -> None:
    assert similarity("User is vegan", "User has been vegan") == 1.0
    assert (
        similarity("User's sister Sarah lives in Portland", "User's sister Sarah moved to Portland")
        >= MATCH_THRESHOLD
    )
    assert similarity("User is vegan", "User owns a cat") == 0.0
    # one to one: a second copy of a fact matches nothing
    assert matches(["User is vegan"], ["User is vegan", "User is vegan"]) == [(0, 0)]


@pytest.mark.parametrize("split", ["dev", "test"])
def test_scores_stay_at_or_above_the_floors(split: str) -> None:
    items = [c for c in read_set() if c.split == split]
    report: Report = evaluate(items, lambda c: extract_offline(c.turns, c.started_at_us))
    recall, precision, forbidden, actions = FLOORS[split]
    assert report.fact_recall >= recall, str(report)
    assert report.fact_precision >= precision, str(report)
    assert report.forbidden_rate <= forbidden, str(report)
    assert report.action_recall >= actions, str(report)
