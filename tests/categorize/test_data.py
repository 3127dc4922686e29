"""The labelled data set: large enough, balanced, valid, and no test item in training."""

from __future__ import annotations

import re
from collections import Counter

from mnemo.categorize.evaluate import read_labelled
from tests.categorize.conftest import DATA


def _key(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9']+", text.lower()))


def test_data_set_is_large_balanced_and_disjoint() -> None:
    train = read_labelled(DATA / "train.jsonl")  # raises on an invalid line or label
    test = read_labelled(DATA / "test.jsonl")
    assert len(train) + len(test) >= 400
    assert len(test) >= 200
    for part in (train, test):
        counts = Counter(label for _, label in part)
        assert set(counts) == {"system", "interesting"}
        assert abs(counts["system"] - counts["interesting"]) <= 0.05 * len(part)
    train_keys = {_key(t) for t, _ in train}
    assert len(train_keys) == len(train), "duplicates in train.jsonl"
    assert not train_keys & {_key(t) for t, _ in test}, "a held-out memory is also in training"
    lengths = [len(t.split()) for t, _ in train + test]
    assert min(lengths) <= 3 and max(lengths) >= 25


def test_labelling_guide_exists() -> None:
    guide = (DATA / "GUIDE.md").read_text(encoding="utf-8")
    assert "system" in guide and "interesting" in guide
