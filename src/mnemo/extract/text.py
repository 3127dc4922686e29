"""Plain-text helpers of the offline extractor: cleaning speech, splitting sentences
and clauses, recognising questions, hedges, agreement and speaker labels."""

from __future__ import annotations

import re

__all__ = [
    "agrees",
    "clauses",
    "clean",
    "declines",
    "is_hedged",
    "mentions_speaker_label",
    "sentences",
]

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"'})
_FILLERS = re.compile(
    r",?\s*\b(?:u+m+|u+h+|e+r+m*|hm+|mhm|uh-huh|you know|i mean|like,|sort of|kind of|kinda"
    r"|basically|actually|honestly|literally|totally|seriously)\b,?",
    re.I,
)
_STUTTER = re.compile(r"\b(\w+)(?:[\s,-]+\1\b)+", re.I)
_OPENERS = re.compile(
    r"^(?:(?:so|well|oh|ah|yeah|yes|yep|yup|no|nah|okay|ok|right|anyway|anyways|and|but|also"
    r"|plus|btw|by the way|fun fact|funny enough|haha|lol|wow|hey|hi|hello|sure|honestly"
    r"|exactly|true|cool|great|nice|oh man|man|dude|listen|look|see|then|now|wait|oh wait|aw|ha|ugh"
    r"|hmm|mostly|fine|thanks|thank you|sorry|ok so|anyhow|also|anyway)\b[\s,:!.-]*)+",
    re.I,
)
_SENTENCE_END = re.compile(
    r"(?<=[.!?])[\"')\]]*\s+|\n+|\s+-\s+|;\s*|(?<!self)(?<!todo)(?<!to-do)(?<!TODO):\s+"
)
_CLAUSE_JOIN = re.compile(
    r",?\s+(?:and|but|so|plus|though)\s+(?:also\s+)?(?=(?:i|i'm|i've|i'd|i'll|my|we|we're|our)\b)"
    r"|,\s+(?=(?:i|i'm|i've|my)\b)",
    re.I,
)
_HEDGES = re.compile(
    r"\b(?:i think|i guess|i suppose|i believe|i feel like|i'm not sure|i am not sure|not sure"
    r"|maybe|probably|perhaps|possibly|might|i bet|i doubt|i wonder|pretty sure|could be"
    r"|i reckon|apparently|supposedly|if i remember|i'm thinking|i am thinking|considering)\b",
    re.I,
)
_SPEAKER_LABEL = re.compile(r"\bspeaker[\s_-]*\d+\b|\bspeaker [a-z]\b", re.I)
_AGREE = re.compile(
    r"^(?:yes|yeah|yep|yup|ya|right|exactly|correct|true|totally|definitely|absolutely|uh-huh"
    r"|mm-hmm|mhm|that's right|that's true|that's me|guilty|indeed|sure|of course|for sure"
    r"|she does|he does|they do|i do|i am|i have|she is|he is|she did|he did|it is|still)\b",
    re.I,
)
_DECLINE = re.compile(
    r"^(?:no|nope|nah|not really|not anymore|not exactly|actually no|i can't|i cannot|sorry"
    r"|i won't|can't)\b",
    re.I,
)


def clean(text: str) -> str:
    """`text` with typographic quotes made plain, fillers and stutters removed and white
    space collapsed."""
    text = text.translate(_APOSTROPHES).replace("\x00", " ")
    text = _FILLERS.sub(" ", text)
    text = _STUTTER.sub(r"\1", text)
    text = re.sub(r"[ \t]+([,.!?])", r"\1", text)
    text = re.sub(r"([,.!?])(?:[ \t]*[,.])+", r"\1", text)
    return "\n".join(" ".join(line.split()) for line in text.split("\n"))


def sentences(text: str) -> list[str]:
    """The sentences of `text` (split at . ! ? ; dashes and line breaks), stripped."""
    return [s.strip() for s in _SENTENCE_END.split(text) if s and s.strip(" .,!?")]


def strip_opener(sentence: str) -> str:
    """Without leading discourse words ("So, well, yeah, ...")."""
    return _OPENERS.sub("", sentence).strip()


_SUBJECTLESS_JOIN = re.compile(
    r",?\s+(?:and|but)\s+(?=(?:grew|moved|live|work|speak|play|teach|have|love|own|go|still)\b)",
    re.I,
)


def clauses(sentence: str) -> list[str]:
    """A sentence cut where a new first-person clause starts ("..., and I work nights");
    a first-person clause continued without its subject ("I was born in Nairobi but
    grew up in Toronto") gets it back."""
    parts: list[str] = []
    for part in _CLAUSE_JOIN.split(sentence):
        part = strip_opener(part)
        pieces = _SUBJECTLESS_JOIN.split(part)
        if len(pieces) > 1 and re.match(r"^(?:i|i'm|i've)\b", part, re.I):
            parts += [pieces[0], *("I " + piece for piece in pieces[1:])]
        elif part:
            parts.append(part)
    return parts


def is_hedged(text: str) -> bool:
    return _HEDGES.search(text) is not None


def mentions_speaker_label(text: str) -> bool:
    return _SPEAKER_LABEL.search(text) is not None


def agrees(text: str) -> bool:
    """Whether a reply starts by agreeing ("Yeah, ...", "That's right")."""
    start = strip_leading_fillers(text)
    if _AGREE.match(start):
        return True
    head = " ".join(start.split()[:3]).lower()
    return re.search(r"\b(?:yes|yeah|yep|yup)\b", head) is not None


def declines(text: str) -> bool:
    return _DECLINE.match(strip_leading_fillers(text)) is not None


def strip_leading_fillers(text: str) -> str:
    return re.sub(r"^(?:oh|ah|well|haha|lol|um|uh|hmm)\b[\s,!.]*", "", clean(text), flags=re.I)
