"""Near-duplicate memories: is a new memory the same fact as one already stored?

`find_duplicate(text, vector, candidates)` returns the id of the candidate that
states the same fact as `text`, or None. Two rules, in order, each also requiring the
same roles (who does what to whom, whose, with which symbols and digit groups; see
`_Roles` below: "Anna is Bob's mother" is not "Bob is Anna's mother"):

1. **Exact**: `normalise(a) == normalise(b)`: the same words once case, Unicode
   form, punctuation and white space are set aside ("user is vegetarian." ==
   "User is vegetarian"; apostrophes vanish: "User's" == "Users"). A text with no
   letter or digit normalises to "" and only repeats the same characters ("😀" is
   not "❤️").
2. **Same content words**: the two texts reduce to the same content words, in the
   same order but for one word or one end phrase that moved ("Sarah, User's sister,
   lives in Portland" == "User's sister Sarah lives in Portland"; "Every morning User
   drinks coffee" == "User drinks coffee every morning"), and their vectors' cosine
   is at least `MIN_COSINE` (a guard, skipped when a vector is missing). Reducing
   a text: contractions expanded ("doesn't" -> "does not"), number words as digits
   ("two" -> "2"), British spellings and family words made one ("favourite",
   "mom" -> "favorite", "mother"), word endings cut ("lives", "living" -> "liv"),
   and words that state no fact dropped: articles, "is", reporting frames ("User
   mentioned that they ..."), fillers ("really", "actually").

Everything that changes a fact is a content word and so blocks a match: another
relation (sister/brother), a negation ("not", "never", "no"), any other number or
date, name, place or object, a comparison or direction ("than", "from", "to" ...),
and any added or removed detail ("cats" / "cats and dogs", "used to smoke" /
"smokes"). Embedding similarity alone is never enough: "User likes cats" and "User
dislikes cats" are 0.9 apart in cosine terms but different facts. The price is
recall on real paraphrases ("works from home" / "works remotely"): those are kept
as two memories. Measured on `data/dedup/pairs.jsonl`, see `docs/search.md`.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Sequence
from typing import Any

import numpy as np

from mnemo.search.keyword import CALENDAR_WORDS

__all__ = [
    "MIN_COSINE",
    "content_words",
    "find_duplicate",
    "is_duplicate",
    "keys",
    "normalise",
]

MIN_COSINE = 0.8

_PUNCT_OR_SPACE = re.compile(r"[\W_]+")
_TOKEN = re.compile(r"\d+(?:[.,]\d+)*|[^\W\d_]+")
_DIGIT_LETTER = re.compile(r"(?<=\d)(?=[^\W\d_])|(?<=[^\W\d_])(?=\d)")

_CONTRACTIONS = [
    (re.compile(r"\bcan['’]?t\b|\bcannot\b"), "can not"),
    (re.compile(r"\bwon['’]t\b"), "will not"),
    (re.compile(r"\b(\w+)n['’]t\b"), r"\1 not"),
    (re.compile(r"['’](?:re|ve|ll|d|m|s)\b"), ""),
    (re.compile(r"\be-mail\b"), "email"),
]

_NUMBERS = {
    w: str(i)
    for i, w in enumerate(
        [
            "zero",
            "one",
            "two",
            "three",
            "four",
            "five",
            "six",
            "seven",
            "eight",
            "nine",
            "ten",
            "eleven",
            "twelve",
            "thirteen",
            "fourteen",
            "fifteen",
            "sixteen",
            "seventeen",
            "eighteen",
            "nineteen",
            "twenty",
        ]
    )
}
_NUMBERS.update({"thirty": "30", "forty": "40", "fifty": "50", "hundred": "100", "a": "a"})

_SAME = {
    "favourite": "favorite",
    "colour": "color",
    "grey": "gray",
    "mom": "mother",
    "mum": "mother",
    "mommy": "mother",
    "mama": "mother",
    "dad": "father",
    "daddy": "father",
    "papa": "father",
    "tv": "television",
    "kid": "child",
    "kids": "child",
    "children": "child",
    "called": "named",
    "cellphone": "phone",
    "theatre": "theater",
    "centre": "center",
}

# Words that state no fact of their own in a memory. Past forms ("worked", "did",
# "had", "used") are not here: "User worked at X" is not "User works at X".
_SOFT = frozenset(
    [
        "a",
        "an",
        "the",
        "is",
        "are",
        "be",
        "been",
        "being",
        "it",
        "this",
        "that",
        "these",
        "those",
        "they",
        "them",
        "their",
        "theirs",
        "he",
        "she",
        "his",
        "her",
        "him",
        "hers",
        "user",
        "users",
        "s",
        "of",
        "in",
        "on",
        "at",
        "for",
        "as",
        "with",
        "by",
        "and",
        "also",
        "too",
        "really",
        "very",
        "actually",
        "definitely",
        "currently",
        "quite",
        "just",
        "truly",
        "pretty",
        "so",
        "indeed",
        "basically",
        "mentioned",
        "mention",
        "mentions",
        "said",
        "say",
        "says",
        "stated",
        "states",
        "told",
        "tells",
        "explained",
        "explains",
        "noted",
        "notes",
        "shared",
        "shares",
        "indicated",
        "indicates",
        "revealed",
        "reveals",
        "assistant",
        "me",
        "us",
        "we",
        "i",
        "name",
        "named",
        "do",
        "does",
        "has",
        "have",
        "having",
        "work",
        "works",
        "working",
        "job",
        "go",
        "going",
        "goes",
    ]
)


def normalise(text: str) -> str:
    """The exact-duplicate key of a memory: case-folded words separated by one space."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    folded = folded.replace("'", "").replace("\u2019", "")  # "user's" -> "users"
    return " ".join(_PUNCT_OR_SPACE.sub(" ", folded).split())


def _stem(word: str) -> str:
    if len(word) <= 3 or word[0].isdigit():
        return word
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            break
    if word.endswith("e") and len(word) > 3:
        word = word[:-1]
    if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "aeiouls":
        word = word[:-1]  # "shopping" -> "shopp" -> "shop"
    return word


def content_words(text: str) -> list[str]:
    """The words of `text` that carry its fact, reduced to a canonical form, in order."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    for pattern, replacement in _CONTRACTIONS:
        folded = pattern.sub(replacement, folded)
    folded = _DIGIT_LETTER.sub(" ", folded)  # "5am" -> "5 am"
    words: list[str] = []
    for token in _TOKEN.findall(folded):
        token = _NUMBERS.get(token, token)
        token = _SAME.get(token, token)
        if token in _SOFT:
            continue
        words.append(_stem(token))
    return words


def _key(kind: str, text: str) -> int:
    digest = hashlib.blake2b(f"{kind}:{text}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)  # fits SQLite's and PG's int64


def keys(text: str) -> list[int]:
    """The memory's dedup keys, stored beside it so that its possible duplicates are
    found by an index: a hash of `normalise(text)` (rule 1), and, when it has content
    words, one of them sorted (rule 2 needs the same words, in any order). Every
    duplicate of `text` shares a key with it; a shared key alone proves nothing (the
    candidates are then judged by `find_duplicate`)."""
    found = [_key("text", normalise(text))]
    words = content_words(text)
    if words:
        found.append(_key("words", " ".join(sorted(words))))
    return found


def _lcs(a: Sequence[str], b: Sequence[str]) -> int:
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b):
            cur.append(prev[j] + 1 if x == y else max(prev[j + 1], cur[j]))
        prev = cur
    return prev[-1]


def _vector(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, bytes | bytearray | memoryview):
        return np.frombuffer(bytes(value), dtype="<f4")
    return np.asarray(value, dtype=np.float32)


def _cosine(a: Any, b: Any) -> float | None:
    if a is None or b is None or a.shape != b.shape:
        return None
    na, nb = float(np.linalg.norm(a)), float(np.linalg.norm(b))
    if na == 0 or nb == 0:
        return None
    return float(a @ b) / (na * nb)


def _same_words(a: Sequence[str], b: Sequence[str]) -> bool:
    if not a or sorted(a) != sorted(b):
        return False
    if a == b or _lcs(a, b) >= len(a) - 1:
        return True
    # A phrase moved to the other end: "every morning User drinks coffee".
    return any(list(a[k:]) + list(a[:k]) == list(b) for k in range(1, len(a)))


# -- roles: who does what to whom ------------------------------------------------
#
# `content_words` sets aside what roles depend on: "user" and pronouns (who), the
# relation words "with", "by", "for", "in", "on", "at" (how), the possessive "'s"
# (whose), symbols ("$" / "€", "😀" / "😢") and how digits are grouped ("3/4" /
# "4/3"). `_Roles` keeps them, so two texts with the same content words can still be
# told apart: "Anna is Bob's mother" / "Bob is Anna's mother", "Alice owes User $50" /
# "User owes Alice $50", "lives with" / "lives by". It only ever refuses a match that
# the content words allow, so the dedup keys (of content words) still find every
# candidate.

_FRAME = re.compile(
    r"\b(?:mention(?:ed|s)?|sa(?:id|ys)|stat(?:ed|es)|t(?:old|ells)|explain(?:ed|s)|"
    r"not(?:ed|es)|shar(?:ed|es)|indicat(?:ed|es)|reveal(?:ed|s))"
    r"(?:\s+(?:the\s+)?(?:assistant|me|us|him|her|them))?(?:\s+that)?\s+(?:they|he|she)\b"
)
_POSSESSIVE = re.compile(r"(?<=[^\W_])['’]s\b|(?<=s)['’](?=\s|$)")
_MINUS = re.compile(r"(?<![\w.])-(?=\d)")  # "-18°C", not "ex-wife" or "3-1"
_ROLE_TOKEN = re.compile(r"\x00|\d+(?:[./:,-]\d+)*|[^\W\d_]+|[^\w\s]")
_IS_AFTER = frozenset(["he", "she", "it", "that", "what", "there", "here", "who", "where"])
_WHO = {
    "users": "user",
    "i": "user",
    "me": "user",
    "my": "user",
    "mine": "user",
    "myself": "user",
    "he": "he",
    "him": "he",
    "his": "he",
    "himself": "he",
    "she": "she",
    "her": "she",
    "hers": "she",
    "herself": "she",
    "they": "they",
    "them": "they",
    "their": "they",
    "theirs": "they",
    "we": "we",
    "us": "we",
    "our": "we",
    "you": "you",
    "your": "you",
}
_OWNING = frozenset(["his", "her", "their", "my", "our", "your"])
_RELATION = frozenset(["with", "by", "for", "in", "on", "at"])
_ARTICLES = frozenset(["a", "an", "the"])
_ROLE_SOFT = _SOFT - _RELATION - frozenset(_WHO) - {"user"}


def _symbol(token: str) -> bool:
    """A sign that carries meaning ("$", "€", "+", "−", "°", "😀", "%", "#", "@")."""
    return token in "%#@‰‱" or unicodedata.category(token)[0] == "S"


class _Roles:
    """A text's role-bearing words in order, and what belongs to whom in it."""

    def __init__(self, text: str) -> None:
        folded = _FRAME.sub(" ", unicodedata.normalize("NFKC", text).casefold())
        folded = _POSSESSIVE.sub(" \x00 ", folded)  # "bob's" -> "bob <possessive>"
        folded = _MINUS.sub("\u2212", folded)  # a minus sign is a symbol, a hyphen is not
        for pattern, replacement in _CONTRACTIONS:
            folded = pattern.sub(replacement, folded)
        raw = _ROLE_TOKEN.findall(_DIGIT_LETTER.sub(" ", folded))
        self.words: list[str] = []
        self.owned: set[tuple[str, str]] = set()
        owner: str | None = None  # the word whose possessive came last
        last: str | None = None  # the last word kept, directly before this one
        of: str | None = None  # the word before "of", owned by the next word
        for i, token in enumerate(raw):
            if token == "\x00":
                if last is not None and self.words and raw[i - 1] not in _IS_AFTER:
                    owner = last
                continue
            if not token[0].isalnum() and not _symbol(token):
                continue  # punctuation
            token = _NUMBERS.get(token, token)
            token = _SAME.get(token, token)
            if token == "of":
                of, owner = last, None
                continue
            if token in _RELATION and i + 1 < len(raw):
                after = raw[i + 1] if raw[i + 1] not in _ARTICLES else raw[min(i + 2, len(raw) - 1)]
                if after[0].isdigit() or after in CALENDAR_WORDS:
                    continue  # "on March 14" is "March 14"
            if token in _ROLE_SOFT or (token in _ARTICLES):
                if token not in _ARTICLES:
                    owner = None
                continue
            word = _WHO.get(token) or _stem(token)
            if owner is not None:
                self.owned.add((owner, word))
            if of is not None:
                self.owned.add((word, of))
                of = None
            owner = word if token in _OWNING else None
            self.words.append(word)
            last = word

    def agree(self, other: _Roles) -> bool:
        """Whether the roles can be the same: the words in the same order but for one
        that moved, nothing owned by another owner, no ownership reversed."""
        mine, theirs = _subject(self.words, other.words), _subject(other.words, self.words)
        if not _same_words(mine, theirs) and mine != theirs:
            return False
        if any((what, who) in other.owned for who, what in self.owned):
            return False  # reversed: "Anna's boss is Bob" / "Bob's boss is Anna"
        mine_by, theirs_by = self._owners(), other._owners()
        return all(mine_by[what] == theirs_by[what] for what in mine_by.keys() & theirs_by)

    def _owners(self) -> dict[str, set[str]]:
        found: dict[str, set[str]] = {}
        for who, what in self.owned:
            found.setdefault(what, set()).add(who)
        return found


def _subject(words: list[str], other: list[str]) -> list[str]:
    """`words` without a leading "user" that `other` leaves unsaid: a memory is about
    the user, so "Enjoys hiking" is "User enjoys hiking"."""
    if words[:1] == ["user"] and "user" not in other and words.count("user") == 1:
        return words[1:]
    return words


def _same_text(a: str, b: str, key: str) -> bool:
    """Rule 1, given `key == normalise(a)`: the same text once case, Unicode form,
    spacing and punctuation are set aside, with the same symbols and digit groups; a
    text of no letters or digits is only the same as itself (after NFKC)."""
    if key != normalise(b):
        return False
    if not key:
        return unicodedata.normalize("NFKC", a).strip() == unicodedata.normalize("NFKC", b).strip()
    return _Roles(a).words == _Roles(b).words


def is_duplicate(a: str, b: str, cosine: float | None = None) -> bool:
    """Whether `a` and `b` state the same fact (`cosine` of their vectors, if known)."""
    if _same_text(a, b, normalise(a)):
        return True
    if cosine is not None and cosine < MIN_COSINE:
        return False
    return _same_words(content_words(a), content_words(b)) and _Roles(a).agree(_Roles(b))


def find_duplicate(
    text: str,
    vector: Sequence[float] | bytes | Any | None,
    candidates: Sequence[tuple[str, str, Sequence[float] | bytes | Any | None]],
) -> str | None:
    """The id of the candidate that states the same fact as `text`, or None.

    `candidates` are `(memory_id, content, vector)`; vectors may be lists of floats,
    numpy arrays, `embed.to_blob` bytes or None. An exact match (rule 1) wins;
    otherwise the matching candidate with the highest cosine, then the first.
    """
    key = normalise(text)
    for memory_id, content, _ in candidates:
        if _same_text(text, content, key):
            return memory_id
    words = content_words(text)
    if not words:
        return None
    roles: _Roles | None = None  # read only when a candidate has the same words
    query = _vector(vector)
    best: tuple[float, str] | None = None
    for memory_id, content, candidate_vector in candidates:
        cosine = _cosine(query, _vector(candidate_vector))
        if cosine is not None and cosine < MIN_COSINE:
            continue
        if not _same_words(words, content_words(content)):
            continue
        roles = roles or _Roles(text)
        if roles.agree(_Roles(content)):
            rank = cosine if cosine is not None else MIN_COSINE
            if best is None or rank > best[0]:
                best = (rank, memory_id)
    return best[1] if best else None
