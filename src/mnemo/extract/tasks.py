"""Action items: what the user says they must do, and what someone asks of the user.

`to_actions(clause, started_at_us, asked_by_other=...)` answers `ActionItemDraft`s
(each description in the imperative, "Call the dentist", the stated due date resolved
by `mnemo.extract.dates`), none when the clause is not a task. `is_task(clause)` tells
whether a clause reads as a task at all, so that it is never also taken for a fact.
"""

from __future__ import annotations

import re

from mnemo.extract.dates import find_due
from mnemo.extract.grammar import expand_contractions, swap_words, words
from mnemo.extract.types import MAX_ACTION_CHARS, ActionItemDraft

__all__ = ["is_task", "to_actions"]

_OWN = re.compile(
    r"^(?:(?:i|we)\s+(?:really\s+|still\s+|also\s+|definitely\s+|absolutely\s+|seriously\s+"
    r"|just\s+|probably\s+|totally\s+|then\s+)*"
    r"(?:need to|have to|have got to|got to|gotta|must|should|will|am going to|are going to"
    r"|am gonna|are gonna|plan to|am planning to|are planning to|promised to|would better|had better"  # noqa: E501
    r"|ought to)"
    r"|remind me to|remind me that i need to|do not forget to|do not let me forget to"
    r"|note to self:?|todo:?|to-do:?|reminder:|make sure (?:i|we|to)|remember to"
    r"|(?:i|we) (?:must|need to|have to) remember to|i want to remember to)\s+(?P<v>.+)$",
    re.I,
)
_LETS = re.compile(r"^(?:let's|let us)\s+(?P<v>.+)$", re.I)
_ASKED = re.compile(
    r"^(?:(?:can|could|would|will) you(?: please)?|please|you need to|you have to|you have got to"
    r"|you must|do not forget to|remember to|make sure (?:you|to)|you should|you will need to"
    r"|i need you to|i would like you to|we need you to)\s+(?P<v>.+)$",
    re.I,
)
_WE_SHOULD = re.compile(r"^we\s+(?:\w+\s+)?should\b", re.I)  # "we should hang out": a wish
_SOFT = re.compile(r"^(?:you should)\b", re.I)  # advice: a task only with a due date
_VAGUE_VERBS = frozenset(
    words(
        "be see think try wait guess bet love like miss survive talk have keep know hope wish "
        "get leave stay sleep rest relax chill head figure check continue let do go say admit "
        "confess never not breathe hang mention note"
    )
)
_NEEDS_OBJECT = frozenset({"do", "go", "check", "get", "figure", "let"})
_FILLER_TAIL = re.compile(
    r"\s*,?\s*\b(?:please|for me|okay|ok|alright|all right|right|if you can|if possible"
    r"|when you get a chance|thanks|thank you|as well|too)\s*$",
    re.I,
)
_REASON_TAIL = re.compile(
    r"\s*,?\s*\b(?:because|'cause|cause|since|so that|so we|so i|or else|when i am|when i get"
    r"|once i|as soon as)\b.*$|,\s*(?:it|she|he|they|that|this|which)\b.*$",
    re.I,
)
_HEDGE_WORDS = re.compile(r"\b(?:probably|maybe|perhaps|definitely|really|actually)\s+", re.I)


def _match(text: str, asked_by_other: bool) -> re.Match[str] | None:
    if asked_by_other:
        return _ASKED.match(text)
    return _OWN.match(text) or _LETS.match(text)


def is_task(clause: str) -> bool:
    """Whether a clause of the user's reads as something to do."""
    return _match(expand_contractions(clause.strip()), asked_by_other=False) is not None


_REQUESTER = {
    "your": "my",
    "yours": "mine",
    "yourself": "myself",
    "you": "them",
    "me": "them",
    "my": "their",
}


def _shift_requester(text: str) -> str:
    """Someone's request seen from the user: "send me your notes" -> "send them my notes"."""
    return swap_words(text, _REQUESTER)


# "renew the insurance and call mum": two tasks, cut where a common task verb follows "and"
_SECOND_TASK = re.compile(
    r",?\s+and\s+(?:then\s+|also\s+)?(?=(?:call|email|text|send|buy|book|pick|get|pay|renew"
    r"|schedule|finish|cancel|return|clean|fix|write|order|submit|sign|reply|ask|bring|drop"
    r"|grab|print|review|update|check|water|feed|walk|take|make|set|file|read|call)\b)",
    re.I,
)


def to_actions(
    clause: str, started_at_us: int, *, asked_by_other: bool = False
) -> list[ActionItemDraft]:
    """The action items for the user in one clause (none, one, or several joined by "and")."""
    text = expand_contractions(clause.strip()).rstrip(" ?.!,;:")
    match = _match(text, asked_by_other)
    if match is None:
        return []
    soft = (asked_by_other and _SOFT.match(text) is not None) or (
        not asked_by_other and (_LETS.match(text) or _WE_SHOULD.match(text)) is not None
    )
    drafts = (
        _draft(p, started_at_us, soft, asked_by_other) for p in _SECOND_TASK.split(match["v"])
    )
    return [d for d in drafts if d is not None]


def _draft(
    phrase: str, started_at_us: int, soft: bool, asked_by_other: bool
) -> ActionItemDraft | None:
    phrase = _HEDGE_WORDS.sub("", phrase).strip()
    phrase = re.sub(r"^remember to\s+", "", phrase, flags=re.I)
    phrase = re.sub(
        r"^(?:go and|go ahead and|try to|try and|make sure to|make sure i|also)\s+",
        "",
        phrase,
        flags=re.I,
    )
    due = find_due(phrase, started_at_us)
    if due is not None:
        phrase = due.rest
    elif soft:
        return None  # "you should try it", "let's grab coffee": a suggestion, not a task
    phrase = _REASON_TAIL.sub("", phrase)
    phrase = _FILLER_TAIL.sub("", phrase).strip(" ,.;:-")
    if asked_by_other:
        phrase = _shift_requester(phrase)
    words = phrase.split()
    if not words:
        return None
    verb = words[0].lower()
    if verb in _VAGUE_VERBS and (verb not in _NEEDS_OBJECT or len(words) < 3):
        return None
    vague = {"take a look", "have a look", "look into it"}
    if len(words) <= 4 and " ".join(words[:3]).lower() in vague:
        return None
    if len(words) <= 3 and words[-1].lower() in {
        "it",
        "that",
        "this",
        "so",
        "them",
        "there",
        "out",
        "up",
    }:
        return None  # "do it", "think about it", "sort that out"
    if re.search(r"\b(?:speaker[\s_-]*\d+)\b", phrase, re.I):
        return None
    description = phrase[0].upper() + phrase[1:]
    if len(description) > MAX_ACTION_CHARS:
        description = description[:MAX_ACTION_CHARS].rsplit(" ", 1)[0]
    return ActionItemDraft(description, due.at_us if due else None)
