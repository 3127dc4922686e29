"""Text to features for the offline classifier: pure Python, deterministic, no I/O.

`tokens(text)` normalises a memory into lowercase word tokens, without the subject
("User", "The user", "usr", "User mentioned that they") that nearly every memory
starts with. From the tokens:

- `sparse_features(tokens)`: names of the binary features the linear model weighs:
  words (`w:`), adjacent word pairs (`b:`), word endings (`s:`) and a few cues
  (`x:`) such as "mentions a year" or "a past-tense verb".
- `content_words(tokens)`: the tokens that take part in the word-vector average
  (stop words left out).

Training and inference both call these functions, so what the model saw while
learning is exactly what it sees when answering.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["STOPWORDS", "content_words", "sparse_features", "tokens"]

_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_SUBJECT = re.compile(
    r"^\s*(?:the\s+)?(?:user|usr|users)\b"
    # A reporting frame says nothing about the fact: "User mentioned (that) (they) ..."
    r"(?:\s+(?:has\s+|had\s+)?(?:mentioned|mentions|said|says|noted|notes|shared|shares|"
    r"stated|states|reported|reports|explained|explains|indicated|indicates|revealed|reveals|"
    r"told\s+(?:me|us|the\s+assistant))(?:\s+that)?(?:\s+(?:they|he|she)\b)?)?",
    re.IGNORECASE,
)
_YEAR = re.compile(r"^(?:1[89]|20)\d\d$")

# Function words: kept as sparse features (tense and aspect matter: "was", "has"),
# left out of the word-vector average where they would only blur the meaning.
STOPWORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "but",
        "if",
        "of",
        "to",
        "in",
        "on",
        "at",
        "by",
        "for",
        "with",
        "from",
        "into",
        "onto",
        "over",
        "under",
        "about",
        "as",
        "than",
        "then",
        "so",
        "too",
        "very",
        "just",
        "also",
        "only",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "am",
        "do",
        "does",
        "did",
        "doing",
        "has",
        "have",
        "had",
        "having",
        "it",
        "its",
        "it's",
        "this",
        "that",
        "these",
        "those",
        "there",
        "here",
        "they",
        "them",
        "their",
        "theirs",
        "he",
        "him",
        "his",
        "she",
        "her",
        "hers",
        "we",
        "us",
        "our",
        "you",
        "your",
        "i",
        "me",
        "my",
        "mine",
        "who",
        "whom",
        "which",
        "what",
        "when",
        "where",
        "while",
        "how",
        "all",
        "any",
        "both",
        "each",
        "other",
        "some",
        "such",
        "no",
        "nor",
        "not",
        "own",
        "same",
        "can",
        "will",
        "would",
        "should",
        "could",
        "may",
        "might",
        "must",
        "up",
        "down",
        "out",
        "off",
        "again",
        "further",
        "once",
        "more",
        "most",
        "s",
        "t",
        "'d",
        "'ll",
        "'re",
        "'ve",
        "'s",
        "n't",
    ]
)

# Irregular past tenses and participles common in memories ("ran", "swam", "met").
_IRREGULAR_PAST = frozenset(
    [
        "ran",
        "swam",
        "won",
        "met",
        "flew",
        "rode",
        "drove",
        "wrote",
        "sang",
        "became",
        "began",
        "beat",
        "broke",
        "built",
        "bought",
        "caught",
        "climbed",
        "fought",
        "found",
        "gave",
        "got",
        "grew",
        "held",
        "hid",
        "kept",
        "knew",
        "led",
        "left",
        "lost",
        "made",
        "rose",
        "saw",
        "sold",
        "spent",
        "stood",
        "stole",
        "struck",
        "swung",
        "taught",
        "thought",
        "threw",
        "went",
        "woke",
        "wore",
        "bitten",
        "broken",
        "chosen",
        "driven",
        "eaten",
        "flown",
        "given",
        "grown",
        "hidden",
        "known",
        "ridden",
        "risen",
        "seen",
        "shaken",
        "spoken",
        "stolen",
        "sung",
        "swum",
        "taken",
        "thrown",
        "won",
        "written",
        "done",
        "been",
    ]
)
# Words ending in -ed that are not events in the past ("married", "interested").
_NOT_PAST = frozenset(
    [
        "need",
        "needed",
        "red",
        "bed",
        "shed",
        "wed",
        "feed",
        "seed",
        "speed",
        "bleed",
        "breed",
        "weed",
        "based",
        "tired",
        "retired",
        "married",
        "divorced",
        "interested",
        "allergic",
        "related",
        "engaged",
        "involved",
        "concerned",
        "used",
        "supposed",
        "scared",
        "excited",
        "bored",
        "pleased",
        "worried",
        "obsessed",
        "dedicated",
        "experienced",
        "qualified",
        "certified",
        "licensed",
        "talented",
        "skilled",
        "limited",
        "organized",
        "employed",
        "unemployed",
        "detailed",
        "focused",
        "biased",
        "disabled",
    ]
)


def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).replace("\u2019", "'").replace("\u2018", "'")
    return text.strip().lower()


def tokens(text: str) -> list[str]:
    """Lowercase word tokens of `text`, without a leading "User"/"The user" subject
    (nor a reporting frame after it: "User mentioned that they ...").

    A possessive subject ("User's sister ...") leaves the token `'s` in first place,
    which tells the model the memory is about someone close to the user.
    """
    text = _SUBJECT.sub("", _normalise(text), count=1)
    possessive = text.startswith("'s")
    found = _TOKEN.findall(text[2:] if possessive else text)
    if possessive:
        found.insert(0, "'s")
    out: list[str] = []
    for token in found:
        if token.endswith("'s") and len(token) > 2:
            out.append(token[:-2])  # "sarah's" -> "sarah"
        else:
            out.append(token)
    return out


def _is_past(token: str) -> bool:
    if token in _IRREGULAR_PAST:
        return True
    return len(token) > 4 and token.endswith("ed") and token not in _NOT_PAST


def _shape(token: str) -> str:
    """The token as the sparse model sees it: years and other numbers collapsed."""
    if token.isdigit():
        return "<year>" if _YEAR.match(token) else "<num>"
    return token


def sparse_features(toks: list[str]) -> list[str]:
    """Sorted, de-duplicated names of the binary features present in `toks`."""
    shaped = [_shape(t) for t in toks]
    found: set[str] = set()
    for token in shaped:
        found.add("w:" + token)
        if len(token) >= 5 and token.isalpha():
            found.add("s:" + token[-3:])
    for left, right in zip(["^", *shaped], [*shaped, "$"], strict=True):
        found.add(f"b:{left}_{right}")
    if any(_is_past(t) for t in toks):
        found.add("x:past")
    if "<year>" in shaped:
        found.add("x:year")
    if "<num>" in shaped:
        found.add("x:num")
    if len(toks) >= 12:
        found.add("x:long")
    elif len(toks) <= 3:
        found.add("x:short")
    return sorted(found)


def content_words(toks: list[str]) -> list[str]:
    """The tokens that enter the word-vector average: no stop words, no numbers."""
    return [t for t in toks if t not in STOPWORDS and not t.isdigit()]
