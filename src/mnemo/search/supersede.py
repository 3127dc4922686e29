"""Does a new fact update or contradict a stored one? (the `supersedes` link of a memory
extracted from a conversation, docs/api.md "Conversations").

`superseded(text, candidates)` returns the id of the first candidate that `text`
updates or contradicts, or None. It compares the facts' content words
(`dedup.content_words`: the same reduction deduplication uses) and links only:

1. **A negation flipped**: the same content words once "not", "never" and "no" are set
   aside, one of the two negated and the other not ("User eats meat" / "User does not
   eat meat").
2. **One value replaced**: the same number of words (at least two), all equal but one,
   where the two differing words are both numbers ("User is 34 years old" / "User is 35
   years old") or the fact names a relation that holds one value at a time: where the
   user lives, their favourite thing, their spouse, their age, their name, where they
   moved ("User lives in Portland" / "User lives in Seattle").

Anything else is not linked: "User likes cats" and "User likes dogs" are two facts.
A repeat (the same fact) is deduplication's (`dedup.find_duplicate`), never a link.
"""

from __future__ import annotations

from collections.abc import Sequence

from mnemo.search.dedup import content_words

__all__ = ["superseded"]

_NEGATIONS = frozenset({"not", "never", "no"})
# Stems (`content_words`) of relations that hold one value at a time.
_SINGLE_VALUED = frozenset(
    {"liv", "favorit", "marri", "wif", "husband", "ag", "old", "birthday", "mov", "bas"}
)


def _contradicts(a: Sequence[str], b: Sequence[str]) -> bool:
    negated_a = any(w in _NEGATIONS for w in a)
    negated_b = any(w in _NEGATIONS for w in b)
    if negated_a == negated_b:
        return False
    plain_a = [w for w in a if w not in _NEGATIONS]
    plain_b = [w for w in b if w not in _NEGATIONS]
    return bool(plain_a) and plain_a == plain_b


def _replaces(a: Sequence[str], b: Sequence[str]) -> bool:
    if len(a) != len(b) or len(a) < 2:
        return False
    differ = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
    if len(differ) != 1:
        return False
    x, y = a[differ[0]], b[differ[0]]
    if x.isdigit() and y.isdigit():
        return True
    shared = {w for i, w in enumerate(a) if i != differ[0]}
    return bool(shared & _SINGLE_VALUED)


def superseded(text: str, candidates: Sequence[tuple[str, str]]) -> str | None:
    """The id of the first of `candidates` ((id, content) pairs) that `text` updates or
    contradicts, or None."""
    words = content_words(text)
    if not words:
        return None
    for candidate_id, content in candidates:
        other = content_words(content)
        if words == other:
            continue
        if _contradicts(words, other) or _replaces(words, other):
            return candidate_id
    return None
