"""Word lists and inflection the fact and task rules share: contractions, verb forms,
pronoun shifts from the first person to the third."""

from __future__ import annotations

import re

__all__ = [
    "words",
    "base_of_gerund",
    "base_of_participle",
    "expand_contractions",
    "is_past",
    "swap_words",
    "third_person",
    "to_third_person",
]


def words(text: str) -> list[str]:
    """The white-space separated words of `text` (word lists are written as one string)."""
    return text.split()


_CONTRACTIONS = [
    (r"\bi'm\b", "I am"), (r"\bim\b(?=\s+(?:a|an|the|from|not|into|allergic|vegan|vegetarian))", "I am"),  # noqa: E501
    (r"\bi've\b", "I have"), (r"\bi'd\b", "I would"), (r"\bi'll\b", "I will"),
    (r"\bwe're\b", "we are"), (r"\bwe've\b", "we have"), (r"\bwe'll\b", "we will"),
    (r"\bwe'd\b", "we would"),
    (r"\bdon't\b", "do not"), (r"\bdoesn't\b", "does not"), (r"\bdidn't\b", "did not"),
    (r"\bcan't\b", "cannot"), (r"\bcan not\b", "cannot"), (r"\bwon't\b", "will not"),
    (r"\bisn't\b", "is not"), (r"\baren't\b", "are not"), (r"\bwasn't\b", "was not"),
    (r"\bhaven't\b", "have not"), (r"\bhasn't\b", "has not"), (r"\bwouldn't\b", "would not"),
    (r"\bshouldn't\b", "should not"), (r"\bcouldn't\b", "could not"),
    (r"\b(she|he|it|that)'s\b", r"\1 is"),
    (r"\b(\w+)'s\s+(?=(?:a|an|the|from|in|into|allergic|still|also|not|very|really)\b)", r"\1 is "),
]  # fmt: skip
_COMPILED = [(re.compile(p, re.I), r) for p, r in _CONTRACTIONS]

_IRREGULAR_PAST = frozenset(
    words(
        "went saw had got made took came ate ran met bought found told said was were did left "
        "thought felt heard gave won lost spent wrote drove flew sat paid sent brought caught "
        "began broke chose fell forgot kept knew led rode sang slept spoke stole swam threw "
        "woke wore became grew drew drank hung hid held meant sold shot shut stood struck "
        "taught understood upset wound quit split spun sprang fought fed forgave froze dug "
        "hurt bit built burnt lent overslept"
    )
)
_NOT_PAST_ED = frozenset(words("need feed breed seed speed proceed succeed exceed bleed shed wed"))

_THIRD_IRREGULAR = {"have": "has", "do": "does", "go": "goes", "be": "is", "am": "is"}
_GERUND_BASE = {
    "living": "live", "making": "make", "writing": "write", "driving": "drive",
    "riding": "ride", "baking": "bake", "dancing": "dance", "hiking": "hike",
    "biking": "bike", "skating": "skate", "using": "use", "coding": "code",
    "managing": "manage", "practicing": "practice", "practising": "practise",
    "serving": "serve", "dating": "date", "having": "have", "taking": "take",
    "giving": "give", "raising": "raise", "sharing": "share", "saving": "save",
    "diving": "dive", "skiing": "ski", "racing": "race", "caring": "care",
    "composing": "compose", "exercising": "exercise", "freelancing": "freelance",
}  # fmt: skip
_PARTICIPLE_BASE = {
    "lived": "live", "worked": "work", "played": "play", "taught": "teach", "owned": "own",
    "had": "have", "used": "use", "studied": "study", "practiced": "practice",
    "volunteered": "volunteer", "coached": "coach", "run": "run", "driven": "drive",
    "ridden": "ride", "collected": "collect", "raised": "raise", "rented": "rent",
    "managed": "manage", "trained": "train", "danced": "dance", "sung": "sing",
    "written": "write", "cooked": "cook", "baked": "bake", "been": "be", "done": "do",
    "dated": "date", "followed": "follow", "attended": "attend", "taken": "take",
    "eaten": "eat", "drunk": "drink", "swum": "swim", "led": "lead", "known": "know",
}  # fmt: skip

# First person (after the subject) to the third: "my job" -> "their job".
_PRONOUNS = [
    (r"\bI am\b", "they are"), (r"\bI was\b", "they were"), (r"\bI\b", "they"),
    (r"\bme\b", "User"), (r"\bmy\b", "their"), (r"\bmine\b", "theirs"),
    (r"\bmyself\b", "themselves"), (r"\bwe\b", "they"), (r"\bour\b", "their"),
    (r"\bus\b", "User"), (r"\bours\b", "theirs"), (r"\bourselves\b", "themselves"),
]  # fmt: skip
_PRONOUNS_COMPILED = [(re.compile(p, re.I if p != r"\bI\b" else 0), r) for p, r in _PRONOUNS]
_US_COUNTRY = re.compile(r"\bthe US\b|\bUS\b(?=\s|$|[.,])")


def swap_words(text: str, mapping: dict[str, str]) -> str:
    """Each whole word (any case) that is a key of `mapping` (lower case) replaced by its
    value, all at once: {"me": "you", "you": "me"} swaps them."""
    pattern = (
        r"\b(?:" + "|".join(re.escape(k) for k in sorted(mapping, key=len, reverse=True)) + r")\b"
    )
    return re.sub(pattern, lambda m: mapping[m.group(0).lower()], text, flags=re.I)


def expand_contractions(text: str) -> str:
    for pattern, replacement in _COMPILED:
        text = pattern.sub(replacement, text)
    return text


def is_past(word: str) -> bool:
    word = word.lower()
    if word in _IRREGULAR_PAST:
        return True
    return word.endswith("ed") and word not in _NOT_PAST_ED and len(word) > 3


def third_person(verb: str) -> str:
    """`play` -> `plays`, `teach` -> `teaches`, `study` -> `studies`, `have` -> `has`."""
    lower = verb.lower()
    if lower in _THIRD_IRREGULAR:
        return _THIRD_IRREGULAR[lower]
    if lower.endswith(("s", "sh", "ch", "x", "z", "o")):
        return verb + "es"
    if lower.endswith("y") and len(lower) > 1 and lower[-2] not in "aeiou":
        return verb[:-1] + "ies"
    return verb + "s"


def base_of_gerund(word: str) -> str:
    lower = word.lower()
    if lower in _GERUND_BASE:
        return _GERUND_BASE[lower]
    stem = lower[:-3]
    if len(stem) > 2 and stem[-1] == stem[-2] and stem[-1] not in "lsz":
        stem = stem[:-1]  # running -> run, swimming -> swim
    return stem


def base_of_participle(word: str) -> str | None:
    return _PARTICIPLE_BASE.get(word.lower())


def to_third_person(rest: str) -> str:
    """The words after the subject with first-person pronouns made third-person."""
    protected = _US_COUNTRY.sub("\x01", rest)
    for pattern, replacement in _PRONOUNS_COMPILED:
        protected = pattern.sub(replacement, protected)
    return protected.replace("\x01", "the US" if "the US" in rest else "US")
