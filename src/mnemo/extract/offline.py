"""The offline extractor: rules on text, deterministic, no network, no model.

A turn whose speaker may be the user (`is_user` True or None) gives facts from its
first-person statements and action items from its tasks. A turn of someone else's
(`is_user` False) gives a fact about the user only when it speaks of the user in the
second person ("your sister Sarah moved to Portland, right?") and the next turn, the
user's, agrees ("Yeah, ..."); and an action item when it asks something of the user
("can you send me the slides by Friday?") that the user does not decline.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence

from mnemo.extract.facts import to_fact
from mnemo.extract.grammar import expand_contractions, swap_words
from mnemo.extract.tasks import is_task, to_actions
from mnemo.extract.text import agrees, clauses, clean, declines, sentences, strip_opener
from mnemo.extract.types import ActionItemDraft, Extraction, Turn

__all__ = ["extract_offline", "fact_key"]

_QUESTION_TO_STATEMENT = [
    (re.compile(r"^(?:so\s+)?(?:are|were) you\s+", re.I), "I am "),
    (re.compile(r"^(?:so\s+)?do you\s+", re.I), "I "),
    (re.compile(r"^(?:so\s+)?have you (?=been|got|never|always)", re.I), "I have "),
    (re.compile(r"^(?:so\s+)?is your\s+", re.I), "my \x00"),
]
_TAG_QUESTION = re.compile(
    r"\s*,?\s*(?:right|correct|yeah|no|huh|isn't it|aren't you|don't you|didn't you|didn't she"
    r"|didn't he|doesn't she|doesn't he|isn't she|isn't he|haven't you|or not|true)\s*\?*$",
    re.I,
)


def fact_key(fact: str) -> str:
    """A fact's identity for duplicate detection: lower case, letters and digits only."""
    return " ".join(re.findall(r"[a-z0-9]+", fact.lower()))


def _second_to_first(sentence: str) -> str:
    """Someone's words about the user, as the user would say them."""
    text = _TAG_QUESTION.sub("", strip_opener(sentence)).rstrip(" ?")
    text = expand_contractions(text)
    text = re.sub(r"\byou're\b", "you are", text, flags=re.I)
    text = re.sub(r"\byou've\b", "you have", text, flags=re.I)
    for pattern, replacement in _QUESTION_TO_STATEMENT:
        if pattern.match(text):
            text = pattern.sub(replacement, text, count=1)
            if "\x00" in text:  # "is your X Y" -> "my X is Y"
                head, _, tail = text.partition("\x00")
                words = tail.split()
                text = head + (f"{words[0]} is {' '.join(words[1:])}" if words else "")
            break
    text = re.sub(r"^you are\b", "I am", text, flags=re.I)
    text = re.sub(r"^you have\b", "I have", text, flags=re.I)
    text = re.sub(r"^you\b", "I", text, flags=re.I)
    return swap_words(text, {"your": "my", "yours": "mine", "yourself": "myself", "you": "me"})


_PREPOSITION = re.compile(r"^(?:in|at|on|near|for|with|by|from|outside|around|downtown)\b", re.I)
# A question to the user and how its short answer reads as the user's own statement.
_QUESTIONS: list[tuple[re.Pattern[str], Callable[[re.Match[str], str], str]]] = [
    (
        re.compile(r"^where do you (live|work|teach|study)\b(.*)$", re.I),
        lambda m, a: (
            f"I {m[1]}{m[2]} "
            + (a if _PREPOSITION.match(a) else ("in " if m[1].lower() == "live" else "at ") + a)
        ),
    ),
    (re.compile(r"^where are you from$", re.I), lambda m, a: f"I am from {a}"),
    (
        re.compile(r"^what are you (allergic to|afraid of|scared of|into)$", re.I),
        lambda m, a: f"I am {m[1]} {a}",
    ),
    (
        re.compile(r"^what (?:kind of |sort of |type of )?\w+ are you into$", re.I),
        lambda m, a: f"I am into {a}",
    ),
    (
        re.compile(r"^what(?: is|'s) your (favou?rite [\w ]+|name|job|major)$", re.I),
        lambda m, a: f"my {m[1]} is {a}",
    ),
    (re.compile(r"^how old are you$", re.I), lambda m, a: f"I am {a}"),
    (
        re.compile(r"^what do you do(?: for (?:work|a living))?$", re.I),
        lambda m, a: f"I am {a}" if re.match(r"^(?:a|an)\b", a, re.I) else "",
    ),
]
_HEDGED_ANSWER = re.compile(r"^(?:mostly|mainly|usually|probably|just|only|um|uh)\s+", re.I)


def _answered(question: str, reply: str) -> str | None:
    """The user's short answer to a question about them, as a first-person statement."""
    asked = re.sub(r"\s+(?:again|exactly|then|now)$", "", strip_opener(question).rstrip(" ?"))
    first = next(iter(sentences(reply)), "")
    if declines(first) or re.match(r"^(?:no idea|dunno|who knows|not sure)\b", first, re.I):
        return None
    answer = _HEDGED_ANSWER.sub("", strip_opener(first)).rstrip(" .!")
    if not answer or answer.endswith("?") or len(answer.split()) > 8:
        return None
    if re.match(r"^(?:i|i'm|my|we|no|not|nope|never)\b", answer, re.I):
        return None  # a whole statement (read as one) or a refusal
    for pattern, statement in _QUESTIONS:
        if match := pattern.match(asked):
            return statement(match, answer) or None
    return None


def _user_clauses(text: str) -> Iterable[str]:
    for sentence in sentences(text):
        if sentence.rstrip().endswith("?"):
            continue  # a question states nothing
        yield from clauses(sentence)


def extract_offline(turns: Sequence[Turn], started_at_us: int) -> Extraction:
    """Facts and action items from `turns` by the rules above; deterministic."""
    facts: list[str] = []
    actions: list[ActionItemDraft] = []
    seen_facts: set[str] = set()
    seen_actions: set[str] = set()

    def add_fact(fact: str | None) -> None:
        if fact and (key := fact_key(fact)) not in seen_facts:
            seen_facts.add(key)
            facts.append(fact)

    def add_actions(items: list[ActionItemDraft]) -> None:
        for item in items:
            if (key := fact_key(item.description)) not in seen_actions:
                seen_actions.add(key)
                actions.append(item)

    cleaned = [clean(turn.text) for turn in turns]
    for index, turn in enumerate(turns):
        text = cleaned[index]
        if turn.is_user is not False:
            for clause in _user_clauses(text):
                if is_task(clause):
                    add_actions(to_actions(clause, started_at_us))
                else:
                    add_fact(to_fact(clause))
            continue
        reply = next(
            (
                (cleaned[j], turns[j])
                for j in range(index + 1, len(turns))
                if turns[j].speaker != turn.speaker or turns[j].is_user is True
            ),
            None,
        )
        user_reply = reply[0] if reply and reply[1].is_user is not False else None
        for sentence in sentences(text):
            body = strip_opener(sentence)
            if user_reply is not None and sentence.rstrip().endswith("?"):
                statement = _answered(sentence, user_reply)
                if statement:
                    add_fact(to_fact(statement))
            if user_reply is None or not declines(user_reply):
                add_actions(to_actions(body, started_at_us, asked_by_other=True))
            if (
                user_reply is not None
                and agrees(user_reply)
                and re.search(r"\byou|your\b", body, re.I)
            ):
                statement = _second_to_first(body)
                if not is_task(statement):
                    add_fact(to_fact(statement))
    return Extraction(facts, actions)
