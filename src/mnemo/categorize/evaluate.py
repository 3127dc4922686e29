"""Reading labelled memories and scoring predictions against them.

`read_labelled` parses JSON Lines `{"content": ..., "category": "system"|"interesting"}`
and raises `DataError` (with the line number) on anything else. `Report` holds
accuracy, per-class precision/recall/F1 and the confusion matrix; `str(report)` is
the plain-text table `mnemo categorize --eval` prints.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from mnemo.categorize.base import AutoCategory

__all__ = ["LABELS", "DataError", "Report", "parse_labelled", "read_labelled", "score"]

LABELS: tuple[AutoCategory, AutoCategory] = ("system", "interesting")


class DataError(ValueError):
    """A line of input that is not a valid (labelled) memory."""


def parse_labelled(lines: Iterable[str], source: str = "<input>") -> list[tuple[str, AutoCategory]]:
    """(content, category) pairs from JSON Lines; blank lines are skipped."""
    examples: list[tuple[str, AutoCategory]] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise DataError(f"{source}:{number}: invalid JSON ({error.msg})") from None
        if not isinstance(record, dict):
            raise DataError(f"{source}:{number}: expected a JSON object")
        content = record.get("content")
        if not isinstance(content, str) or not content.strip():
            raise DataError(f"{source}:{number}: missing or empty 'content'")
        category = record.get("category")
        if category not in LABELS:
            raise DataError(
                f"{source}:{number}: 'category' must be 'system' or 'interesting', got {category!r}"
            )
        examples.append((content.strip(), category))
    return examples


def read_labelled(path: Path) -> list[tuple[str, AutoCategory]]:
    """`parse_labelled` on a UTF-8 file."""
    with path.open(encoding="utf-8") as handle:
        return parse_labelled(handle, source=str(path))


@dataclass(frozen=True)
class ClassScores:
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class Report:
    """Scores of predictions against true labels, for the two auto categories."""

    total: int
    correct: int
    # confusion[true][predicted] = count
    confusion: dict[str, dict[str, int]]

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0

    def per_class(self, label: str) -> ClassScores:
        tp = self.confusion[label][label]
        predicted = sum(self.confusion[t][label] for t in LABELS)
        actual = sum(self.confusion[label].values())
        precision = tp / predicted if predicted else 0.0
        recall = tp / actual if actual else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return ClassScores(precision, recall, f1, actual)

    def __str__(self) -> str:
        lines = [f"accuracy   {self.accuracy:.4f}  ({self.correct}/{self.total})", ""]
        lines.append(f"{'class':<12} {'precision':>9} {'recall':>7} {'f1':>7} {'support':>8}")
        for label in LABELS:
            s = self.per_class(label)
            lines.append(
                f"{label:<12} {s.precision:>9.4f} {s.recall:>7.4f} {s.f1:>7.4f} {s.support:>8}"
            )
        lines += ["", "confusion matrix (rows: true, columns: predicted)"]
        lines.append(f"{'':<12} " + " ".join(f"{p:>11}" for p in LABELS))
        for t in LABELS:
            lines.append(f"{t:<12} " + " ".join(f"{self.confusion[t][p]:>11}" for p in LABELS))
        return "\n".join(lines)


def score(truth: Sequence[str], predicted: Sequence[str]) -> Report:
    """Compare two equally long label sequences."""
    if len(truth) != len(predicted):
        raise ValueError("truth and predictions differ in length")
    confusion: dict[str, dict[str, int]] = {t: {p: 0 for p in LABELS} for t in LABELS}
    for t, p in zip(truth, predicted, strict=True):
        confusion[t][p] += 1
    correct = sum(confusion[label][label] for label in LABELS)
    return Report(total=len(truth), correct=correct, confusion=confusion)
