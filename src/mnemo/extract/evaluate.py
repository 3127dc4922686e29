"""The labelled conversations of `data/extraction/` and the extractor's scores on them.

Each line of `conversations.jsonl` is one conversation: `id`, `split` (`dev` or
`test`), `kind` (`chat`, `transcript`, `email`), `started_at` (ISO 8601), either
`text` (plain text) or `segments` (`speaker`, `is_user`, `text`), and what a careful
reader extracts: `facts`, `action_items` (`description`, `due`: `YYYY-MM-DD`, an
ISO date-time, or null) and `forbidden` (tasks and events stated in it that must not
come out as facts).

Match rule: two statements match when the Dice coefficient of their content-word
sets is at least `MATCH_THRESHOLD` (lower case, punctuation and `STOPWORDS` dropped,
a crude suffix stem). Matching is one to one, best pairs first. Fact recall: expected
facts matched / expected; precision: extracted facts matched / extracted; forbidden
rate: forbidden statements matched by an extracted fact / forbidden statements;
action-item recall the same for descriptions, and due-date accuracy: matched items
whose due day equals the expected one (null with null) / matched items.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from mnemo.extract.types import Extraction, Turn

__all__ = [
    "DEFAULT_SET",
    "MATCH_THRESHOLD",
    "STOPWORDS",
    "Labelled",
    "Report",
    "content_words",
    "evaluate",
    "long_transcript",
    "matches",
    "read_set",
]

DEFAULT_SET = Path(__file__).resolve().parents[3] / "data" / "extraction" / "conversations.jsonl"
MATCH_THRESHOLD = 0.6
STOPWORDS = frozenset(
    """user user's users a an the is are am be been being was were has have had does do
    did to of in on at for with and or their they them theirs themselves s i my me
    very really also all about as by from it its that this there""".split()  # noqa: SIM905
)


@dataclass(frozen=True)
class Labelled:
    id: str
    split: str
    kind: str
    turns: list[Turn]
    started_at_us: int
    facts: list[str]
    action_items: list[tuple[str, str | None]]
    forbidden: list[str]


def _us(value: str) -> int:
    when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return int(when.timestamp()) * 1_000_000


def read_set(path: Path = DEFAULT_SET) -> list[Labelled]:
    """The labelled conversations in `path` (JSON Lines as described above)."""
    found: list[Labelled] = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if not line.strip():
                continue
            record = json.loads(line)
            if "segments" in record:
                turns = [
                    Turn(s["text"], s.get("speaker", "SPEAKER_00"), s.get("is_user"))
                    for s in record["segments"]
                ]
            else:
                turns = [Turn(record["text"])]
            found.append(
                Labelled(
                    id=record["id"],
                    split=record["split"],
                    kind=record["kind"],
                    turns=turns,
                    started_at_us=_us(record["started_at"]),
                    facts=list(record["facts"]),
                    action_items=[(a["description"], a.get("due")) for a in record["action_items"]],
                    forbidden=list(record.get("forbidden", [])),
                )
            )
    return found


def long_transcript() -> list[Turn]:
    """A transcript of over 5,000 characters in turns of 250 by three speakers: the size
    of the extractor's speed budget (issue #17: well under a second on one core), timed
    by bench/extraction.py."""
    text = (
        "Um, so yeah, I've been vegan since 2019 and I work at a bakery. "
        "We went to the beach yesterday, it was lovely. I need to email Priya by Monday. "
        "My brother Tom lives in Oslo. Honestly I think it might rain. "
    ) * 26
    return [Turn(text[i : i + 250], f"SPEAKER_0{i % 3}", None) for i in range(0, len(text), 250)]


def _stem(word: str) -> str:
    for suffix in ("ing", "ed", "es", "s", "e"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def content_words(text: str) -> frozenset[str]:
    words = re.findall(r"[a-z0-9]+", text.lower().replace("'s", ""))
    return frozenset(_stem(w) for w in words if w not in STOPWORDS)


def similarity(a: str, b: str) -> float:
    left, right = content_words(a), content_words(b)
    if not left or not right:
        return 0.0
    return 2 * len(left & right) / (len(left) + len(right))


def matches(expected: Sequence[str], got: Sequence[str]) -> list[tuple[int, int]]:
    """One-to-one (expected index, got index) pairs at or above the threshold."""
    pairs = sorted(
        (-similarity(e, g), i, j) for i, e in enumerate(expected) for j, g in enumerate(got)
    )
    used_e: set[int] = set()
    used_g: set[int] = set()
    chosen: list[tuple[int, int]] = []
    for negative, i, j in pairs:
        if -negative < MATCH_THRESHOLD:
            break
        if i not in used_e and j not in used_g:
            used_e.add(i)
            used_g.add(j)
            chosen.append((i, j))
    return chosen


@dataclass
class Report:
    conversations: int = 0
    expected_facts: int = 0
    extracted_facts: int = 0
    matched_facts: int = 0
    forbidden: int = 0
    forbidden_extracted: int = 0
    expected_actions: int = 0
    matched_actions: int = 0
    due_correct: int = 0
    empty_conversations: int = 0
    empty_kept_empty: int = 0

    @staticmethod
    def _ratio(part: int, whole: int) -> float:
        return part / whole if whole else 0.0

    @property
    def fact_recall(self) -> float:
        return self._ratio(self.matched_facts, self.expected_facts)

    @property
    def fact_precision(self) -> float:
        return self._ratio(self.matched_facts, self.extracted_facts)

    @property
    def forbidden_rate(self) -> float:
        return self._ratio(self.forbidden_extracted, self.forbidden)

    @property
    def action_recall(self) -> float:
        return self._ratio(self.matched_actions, self.expected_actions)

    @property
    def due_accuracy(self) -> float:
        return self._ratio(self.due_correct, self.matched_actions)

    def __str__(self) -> str:
        return "\n".join(
            [
                f"conversations        {self.conversations}",
                f"fact recall          {self.fact_recall:.3f}  "
                f"({self.matched_facts}/{self.expected_facts})",
                f"fact precision       {self.fact_precision:.3f}  "
                f"({self.matched_facts}/{self.extracted_facts})",
                f"forbidden rate       {self.forbidden_rate:.3f}  "
                f"({self.forbidden_extracted}/{self.forbidden} tasks and events taken as facts)",
                f"action-item recall   {self.action_recall:.3f}  "
                f"({self.matched_actions}/{self.expected_actions})",
                f"due-date accuracy    {self.due_accuracy:.3f}  "
                f"({self.due_correct}/{self.matched_actions} matched items)",
                f"empty kept empty     "
                f"{self._ratio(self.empty_kept_empty, self.empty_conversations):.3f}"
                f"  ({self.empty_kept_empty}/{self.empty_conversations})",
            ]
        )


def _day(us: int | None) -> str | None:
    return None if us is None else datetime.fromtimestamp(us / 1_000_000, UTC).date().isoformat()


def evaluate(
    conversations: Iterable[Labelled], extractor: Callable[[Labelled], Extraction]
) -> Report:
    """Score `extractor` on `conversations` by the match rule above."""
    report = Report()
    for item in conversations:
        got = extractor(item)
        report.conversations += 1
        report.expected_facts += len(item.facts)
        report.extracted_facts += len(got.facts)
        report.matched_facts += len(matches(item.facts, got.facts))
        report.forbidden += len(item.forbidden)
        report.forbidden_extracted += len(matches(item.forbidden, got.facts))
        expected = [d for d, _ in item.action_items]
        pairs = matches(expected, [a.description for a in got.action_items])
        report.expected_actions += len(expected)
        report.matched_actions += len(pairs)
        for i, j in pairs:
            due = item.action_items[i][1]
            report.due_correct += _day(got.action_items[j].due_at) == (due[:10] if due else None)
        if not item.facts and not item.action_items:
            report.empty_conversations += 1
            report.empty_kept_empty += got.empty
    return report
