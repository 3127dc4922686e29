"""First-person statements to third-person facts about the user.

`to_fact(clause)` answers "User is vegan" for "I've been vegan since 2019", or None
for anything that is not a timeless fact about the user: questions, hedged guesses,
events (a past action, anything dated relative to now), transient states ("I'm
tired"), small talk ("I love that"), other people's lives, statements that name a
speaker label. Each rule is one of the `_RULES` below, tried in order.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from mnemo.extract.dates import has_relative_time
from mnemo.extract.grammar import (
    base_of_gerund,
    base_of_participle,
    expand_contractions,
    is_past,
    third_person,
    to_third_person,
    words,
)
from mnemo.extract.text import is_hedged, mentions_speaker_label
from mnemo.extract.types import MAX_FACT_CHARS

__all__ = ["to_fact"]

_ADVERBS = re.compile(
    r"^(?:also|really|just|still|definitely|absolutely|genuinely|truly|totally|pretty much"
    r"|very much|now|currently|personally)\s+",
    re.I,
)
_HABIT = re.compile(
    r"\b(?:usually|always|never|often|sometimes|normally|generally|rarely|typically|mostly"
    r"|regularly|every|each|daily|weekly|on weekends|on (?:mondays|tuesdays|wednesdays|thursdays"
    r"|fridays|saturdays|sundays)|twice a|once a|three times a|in (?:my|our) (?:free|spare) time"
    r"|(?:most |on )?weekends|weekdays|most (?:days|mornings|nights|evenings)|\w+day (?:mornings|evenings|nights|afternoons)|a lot)\b",  # noqa: E501
    re.I,
)
_DURATION = re.compile(
    r"\s*,?\s*\b(?:since\b.*$|for\s+(?:about\s+|almost\s+|over\s+|nearly\s+|like\s+|the (?:past|last)\s+)?"  # noqa: E501
    r"(?:\d+|a|an|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty"
    r"|thirty|a few|a couple of|several|many|some)\s+(?:years?|months?|weeks?|decades?)\b"
    r"|for (?:ages|a while|a long time|forever|years|decades|my whole life|most of my life|life)\b"
    r"|(?:about |almost |over )?(?:\d+|a|an|one|two|three|four|five|six|seven|eight|nine|ten|a few|a couple of|several|many)\s+(?:years?|months?|weeks?|decades?) ago\b"  # noqa: E501
    r"|(?:back )?in (?:19|20)\d\d\b|when (?:I|we) was\b.*$|when (?:I|we) were\b.*$|as a kid\b|growing up\b)",  # noqa: E501
    re.I,
)
_TAIL = re.compile(
    r"\s*(?:,\s*|\s+)(?:because|'cause|cause|but|so|which|although|though|whereas|and so|and then"
    r"|and that's|and it's|and honestly|haha|lol|who|which)\b.*$|,\s*(?:she|he|they|it)\b.*$|\s*,?\s*(?:right|you know|huh|isn't it"  # noqa: E501
    r"|don't you think|if that makes sense|or something|or whatever|and stuff|and all that)\s*$",
    re.I,
)
_TRANSIENT = frozenset(
    words(
        "tired hungry thirsty sorry glad good fine okay ok great sure excited nervous late here "
        "back done busy free ready off in out so home stuck starving exhausted bored curious "
        "happy sad stressed worried lost confused kidding joking serious listening afraid going "
        "about trying still just also really totally not gonna coming leaving heading almost "
        "there sick full awake up down thinking wondering hoping looking waiting running getting "
        "dying freezing cold hot sweating jealous proud impressed surprised shocked thrilled "
        "honored grateful thankful relieved annoyed upset mad angry frustrated overwhelmed "
        "obsessed ready set all right alright pumped stoked beat wiped slammed swamped new "
        "doing feeling having making taking telling saying calling asking talking trying "
    )
)
_FEELINGS = frozenset(
    words(
        "optimistic pessimistic hopeful confident positive certain convinced keen eager "
        "delighted pleased disappointed sad sorry unsure available unavailable reachable "
        "copied attaching reaching following"
    )
    + ["out-of-office"]
)


def following_word(parts: list[str]) -> str:
    return parts[1].lower() if len(parts) > 1 else ""


_KEEP_WITH = frozenset({"of", "with", "at", "in", "from"})
_INTENSIFIERS = re.compile(
    r"^(?:(?:really|also|still|pretty|quite|super|totally|definitely|so|very|such|a huge|huge|big|kind of|a bit|always)\s+)+",  # noqa: E501
    re.I,
)
_NOT_ON = re.compile(
    r"^on\s+(?:my|the|a)\s+(?:way|phone|call|break|vacation|holiday|train|bus)|^on\s+(?:it|time|call|board)\b",
    re.I,
)
_PROGRESSIVE_FACTS = {
    "learning": None, "studying": None, "training": None, "dating": None, "raising": None,
    "majoring": None, "renting": None, "expecting": None, "saving": None, "restoring": None,
    "renovating": None, "writing": None, "building": None, "practicing": None, "living": "lives",
    "working": "works", "teaching": "teaches", "freelancing": "freelances",
}  # fmt: skip
_SMALL_TALK_OBJECT = re.compile(
    r"^(?:it|that|this|them|those|these|you|him|her|yours|your\b|the idea|how|what|when|where"
    r"|the way|to hear|hearing|seeing|a question|no idea|a feeling|a meeting|an appointment"
    r"|a call|a minute|a second|time|plans|a lot of work|a lot going on|a headache|a cold"
    r"|a date|a deadline|an interview|an exam|a test|class|work\b|to\b|one\b|some\b|any\b"
    r"|no\b|nothing|something|everything|a good one|a point|a lot\b|lots\b|fun|it all|all)",
    re.I,
)
_PREFERENCES = frozenset(words("love loves like enjoy hate prefer adore dislike despise fancy"))
_STATIVE = frozenset(
    words(
        "live work teach own rent speak play drive ride run swim cook bake eat drink practice "
        "study volunteer coach collect knit paint write sing code program manage lead support "
        "follow use wear commute train attend belong shop read watch listen grow brew meditate "
        "do go hike bike climb ski surf sail fish hunt garden sew dance box lift fly skate "
        "freelance compete breed raise foster mentor tutor serve host make build design "
        "volunteer root cheer identify"
    )
)
_NEEDS_HABIT = frozenset({"go", "do", "read", "watch", "make", "listen", "eat", "drink"})
# Verbs of doing that, with a habit stated, make a fact ("I bring my lunch every day").
_HABIT_ACTIONS = frozenset(
    words("bring call send buy pay check start stop keep give find leave look come put ask try")
)
_EVENT_NOUNS = re.compile(
    r"\b(?:appointment|meeting|call|interview|exam|test|deadline|flight|reservation|party"
    r"|surgery|date|class|session|presentation|errand|game|match|concern|question|thought"
    r"|comment|point|update|idea|suggestion|option|issue|problem|favou?r|request)s?\b|\bat \d",
    re.I,
)
_GOAL_VERBS = frozenset(
    words(
        "learn become visit travel move start open write run retire buy build own live study "
        "climb adopt"
    )
)
_RELATIONS = (
    r"wife|husband|partner|spouse|boyfriend|girlfriend|fianc[eé]e?|son|daughter|sons|daughters"
    r"|kids?|children|child|baby|mom|mum|mother|dad|father|parents|brother|sister|brothers"
    r"|sisters|siblings?|twin|grandma|grandmother|grandpa|grandfather|grandparents|aunt|uncle"
    r"|cousin|niece|nephew|family|best friend|roommate|flatmate|stepmom|stepdad|stepson"
    r"|stepdaughter|in-laws|mother-in-law|father-in-law|dog|dogs|cat|cats|puppy|kitten|pet"
    r"|pets|bird|parrot|horse|hamster|rabbit|bunny|turtle|snake|lizard|fish|goldfish|boss|manager"
)
_RELATION_SUBJECT = re.compile(
    rf"^(?:my|our)\s+(?P<rel>(?:(?:little|older|younger|big|baby|twin|eldest|oldest|youngest"
    rf"|middle|two|three|late|whole|entire|extended|immediate)\s+)*(?:{_RELATIONS}))\b(?P<name>(?:,?\s+(?-i:[A-Z][a-z]+)){{0,1}})"
    rf"(?:,)?\s+(?P<rest>.+)$",
    re.I,
)
_ATTRIBUTE_SUBJECT = re.compile(
    r"^my\s+(?P<attr>(?:(?:all-time\s+|absolute\s+)?favou?rite\s+[\w-]+(?:\s+[\w-]+)?)|name|full name"  # noqa: E501
    r"|middle name|nickname|birthday|hometown|blood type|job|job title|title|major|zodiac sign"
    r"|star sign|go-to [\w-]+|dream job|dream|goal|specialty|native language|first language"
    r"|mother tongue|background|degree|profession|occupation|religion|shoe size|height"
    r"|love language|comfort food|guilty pleasure|weakness|pronouns|diet|allergy|allergies"
    r"|commute|day job|side hustle|hobby|hobbies|passion|research|novel|book|business|company|thesis"  # noqa: E501
    r"|podcast|band|blog|family|heritage|house|apartment|office|school|[a-z]+ist|doctor|car|bike)\s+(?P<verb>is|are|was)\s+(?P<rest>.+)$",
    re.I,
)


def _finish(fact: str) -> str | None:
    fact = _TAIL.sub("", fact)
    fact = " ".join(fact.split()).strip(" ,.;:-!")
    fact = re.sub(r"\s+,", ",", fact)
    if re.search(r"\b(?:you|your|yours|yourself)\b", fact, re.I):
        return None  # said to the listener: small talk, not a fact about the user
    if re.search(r"\b(?:he|him|his|she|her|hers|them|it's|this|these|those)\b", fact, re.I):
        return None  # someone unnamed: the fact would not stand on its own
    words = fact.split()
    if fact.lower().endswith(("the one", " one", " ones")):
        return None  # "User is the one (who ...)": the rest was cut
    if len(words) < 3 or len(fact) > MAX_FACT_CHARS:
        return None
    if words[-1].lower() in {"a", "an", "the", "to", "of", "in", "at", "and", "is", "with", "my"}:
        return None  # a cut-off sentence
    return fact


def _object_ok(rest: str) -> bool:
    rest = rest.strip()
    return bool(rest) and _SMALL_TALK_OBJECT.match(rest) is None and not has_relative_time(rest)


def _strip_duration(text: str) -> tuple[str, bool]:
    stripped = _DURATION.sub("", text)
    return stripped.strip(" ,"), stripped != text


def _state(rest: str, subject: str = "User") -> str | None:
    """'<subject> is X' for `rest` = the X of "I am X", or None when X is transient."""
    habitual = _HABIT.search(rest) is not None
    if has_relative_time(rest) and not habitual:
        return None  # "I'm so done with this week": a moment, not a fact
    rest = _INTENSIFIERS.sub("", rest.strip())
    words = rest.split()
    if not words:
        return None
    first = words[0].lower()
    negated = first == "not"
    if negated:
        words = words[1:]
        if not words:
            return None
        first = words[0].lower()
    if first.endswith("ly") and len(words) > 1 and words[1].lower() in _TRANSIENT | _FEELINGS:
        return None  # "I'm cautiously optimistic"
    if first in _FEELINGS:
        return None
    if first in _PROGRESSIVE_FACTS and following_word(words) == "to" and first != "learning":
        return None  # "I'm writing to ask ..."
    if first in _PROGRESSIVE_FACTS:
        verb = _PROGRESSIVE_FACTS[first]
        if verb is None:
            return _finish(
                f"{subject} is {'not ' if negated else ''}{to_third_person(' '.join(words))}"
            )
        if negated:
            return None
        return _finish(f"{subject} {verb} {to_third_person(' '.join(words[1:]))}")
    if first.endswith("ing") and habitual and first not in {"going", "getting", "thinking"}:
        verb3 = third_person(base_of_gerund(first))
        return _finish(f"{subject} {verb3} {to_third_person(' '.join(words[1:]))}")
    if first.endswith("ing") or first in {"going", "gonna", "about", "supposed"}:
        return None
    if _NOT_ON.match(rest):
        return None
    following = words[1].lower() if len(words) > 1 else ""
    place = first in {"in", "at", "from"} and len(words) > 1 and words[1][:1].isupper()
    if first in _TRANSIENT and following not in _KEEP_WITH and not habitual and not place:
        return None
    if first in {"so", "very", "really", "super", "too"}:
        return None
    body = to_third_person(" ".join(words))
    return _finish(f"{subject} is {'not ' if negated else ''}{body}")


def _i_am(rest: str) -> str | None:
    rest, _ = _strip_duration(rest)
    return _state(rest)


def _i_have_been(rest: str) -> str | None:
    if re.match(r"^(?:to|in)\b", rest, re.I):
        return _finish("User has been " + to_third_person(rest))
    core, had_duration = _strip_duration(rest)
    words = core.split()
    if not words:
        return None
    if words[0].lower().endswith("ing"):
        if not had_duration and not _HABIT.search(core):
            return None  # "I've been thinking about it": an ongoing moment
        gerund = words[0].lower()
        if _PROGRESSIVE_FACTS.get(gerund, "x") is None:
            return _finish("User is " + to_third_person(core))
        return _finish(
            f"User {third_person(base_of_gerund(gerund))} {to_third_person(' '.join(words[1:]))}"
        )
    return _state(core)


def _i_have_done(rest: str) -> str | None:
    match = re.match(r"^(never|always|not)\s+(\S+)\s*(.*)$", rest, re.I)
    if match:
        adverb, participle, tail = match.groups()
        if adverb.lower() == "not" or not (is_past(participle) or participle.endswith("en")):
            return None
        return _finish(f"User has {adverb.lower()} {participle} {to_third_person(tail)}")
    words = rest.split()
    if not words:
        return None
    participle = words[0]
    core, had_duration = _strip_duration(" ".join(words[1:]))
    base = base_of_participle(participle)
    if not had_duration or base is None:
        return None  # "I've attached the file": an event
    return _finish(f"User {third_person(base)} {to_third_person(core)}")


def _i_have(rest: str) -> str | None:
    rest = re.sub(r"^got\s+", "", rest, flags=re.I)
    first = rest.split()[0].lower() if rest.split() else ""
    if first in {"to", "been"} or is_past(first) or first.endswith("en"):
        return None
    rest = _TAIL.sub("", rest)
    if not _object_ok(rest) or has_relative_time(rest) or _EVENT_NOUNS.search(rest):
        return None  # "I have a dentist appointment at 4": an event
    return _finish("User has " + to_third_person(rest))


def _i_negative(verb_phrase: str, kind: str) -> str | None:
    parts = verb_phrase.split()
    if not parts:
        return None
    verb = parts[0].lower()
    blocked = {
        "not": words(
            "know think care mind remember get want see worry understand believe feel need "
            "recall agree mean have like love wanna have got even usually really"
        ),
        "cannot": words(
            "wait believe remember make hear find see tell decide stop imagine afford "
            "say thank get do go come talk even help keep"
        ),
    }[kind]
    if verb in blocked and not (
        kind == "not" and verb in {"like", "love"} and _object_ok(" ".join(parts[1:]))
    ):
        return None
    rest = to_third_person(" ".join(parts[1:]))
    if kind == "not":
        return _finish(f"User does not {verb} {rest}")
    return _finish(f"User cannot {verb} {rest}")


def _i_past(verb: str, rest: str) -> str | None:
    lower = verb.lower()
    text = f"{lower} {rest}"
    if re.match(r"^moved\s+(?:back\s+|over\s+|out\s+)?(?:to|here to)\s+", text):
        place, _ = _strip_duration(
            re.sub(r"^moved\s+(?:back\s+|over\s+|out\s+)?(?:here\s+)?to\s+", "", text)
        )
        return _finish("User lives in " + to_third_person(place))
    if lower == "grew" and rest.lower().startswith("up"):
        return _finish("User grew " + to_third_person(rest))
    if lower == "was" and re.match(r"^(?:born|raised)\b", rest, re.I):
        return _finish("User was " + to_third_person(rest))
    if lower == "got" and re.match(r"^(?:married|engaged|divorced)\b", rest, re.I):
        core, _ = _strip_duration(rest)
        return _finish("User is " + to_third_person(core))
    if lower == "used" and rest.lower().startswith("to "):
        return _finish("User used " + to_third_person(rest))
    if lower in {"graduated", "studied"} or (
        lower == "went"
        and re.match(
            r"^to (?:college|university|school|high school|grad school|law school|med school)",
            rest,
            re.I,
        )
    ):
        return _finish(f"User {lower} {to_third_person(rest)}")
    return None


_HABIT_ADVERBS = frozenset(
    words("usually always never often sometimes normally generally rarely typically mostly")
    + ["regularly"]
)
# Present-tense verbs that, after "I", are talk about the conversation, not a fact.
_NOT_FACT_VERBS = frozenset(
    words(
        "mean know think guess see agree hope feel want need wonder remember believe bet "
        "suppose get promise forget understand doubt wish appreciate apologize say tell hear "
        "try figure care swear miss recommend suggest call let put ask check send find give "
        "bring leave start stop keep pay buy owe reckon realize assume imagine expect trust "
        "look come thank mind admit insist notice wanna gotta gonna sound seem ran saw "
        "promise hate guarantee love like prefer enjoy just kinda sorta only still even "
        "totally literally think reckon figure doubt can't cannot gotta got owe heard"
    )
)


def _i_present(verb: str, rest: str) -> str | None:
    lower = verb.lower()
    if lower in {"want", "hope", "plan", "dream"}:
        goal = re.match(r"^(?:to|of)\s+(\w+)\b", rest, re.I)
        if goal and goal.group(1).lower() in _GOAL_VERBS and not has_relative_time(rest):
            return _finish(f"User {third_person(lower)} {to_third_person(rest)}")
        return None
    if lower in _PREFERENCES:
        if not _object_ok(rest):
            return None
        return _finish(f"User {third_person(lower)} {to_third_person(rest)}")
    if lower in _HABIT_ADVERBS:
        parts = rest.split()
        blocked = _NOT_FACT_VERBS - _PREFERENCES - _HABIT_ACTIONS
        if not parts or is_past(parts[0]) or parts[0].lower() in blocked:
            return None
        if parts[0].lower() in {"am", "is", "are"}:
            return _state(f"{lower} {' '.join(parts[1:])}")
        verb3 = third_person(parts[0])
        return _finish(f"User {lower} {verb3} {to_third_person(' '.join(parts[1:]))}")
    if lower == "come" and rest.lower().startswith("from "):
        return _finish("User comes " + to_third_person(rest))
    habitual = _HABIT.search(rest) is not None
    if (
        lower in _NOT_FACT_VERBS and not (habitual and lower in _HABIT_ACTIONS)
    ) or not lower.isalpha():
        return None
    if lower in _NEEDS_HABIT and not _HABIT.search(rest):
        return None
    if not _object_ok(rest) and not _HABIT.search(rest):
        return None
    if has_relative_time(rest) and not _HABIT.search(rest):
        return None
    core, _ = _strip_duration(rest)
    return _finish(f"User {third_person(lower)} {to_third_person(core)}")


def _first_person(text: str) -> str | None:
    match = re.match(r"^(?:I|we)\s+(.*)$", text, re.I)
    if match is None:
        return None
    rest = match.group(1)
    while True:
        stripped = _ADVERBS.sub("", rest)
        if stripped == rest:
            break
        rest = stripped
    we = text[:2].lower() == "we"
    words = rest.split()
    if not words:
        return None
    verb, tail = words[0], " ".join(words[1:])
    lower = verb.lower()
    if we and lower not in {"have", "live", "own", "rent", "are"}:
        return None
    if lower in {"am", "are"}:
        if we:
            return None
        name = re.match(r"^(?-i:([A-Z][a-z]+))(?:\s+(?-i:[A-Z][a-z]+))?$", tail)
        if name:
            return _finish(f"User's name is {tail}")
        return _i_am(tail)
    if lower == "have" and tail.lower().startswith("been "):
        return _i_have_been(tail[5:])
    if lower == "have":
        first = tail.split()[0].lower() if tail.split() else ""
        if (
            first in {"never", "always", "not"}
            or (is_past(first) or first.endswith("en"))
            and first != "got"
        ):
            return _i_have_done(tail)
        return _i_have(tail)
    if lower == "do" and tail.lower().startswith("not "):
        return _i_negative(tail[4:], "not")
    if lower == "cannot":
        if tail.lower().startswith("stand "):
            return _i_present("dislike", tail[6:]) and _finish(
                "User cannot stand " + to_third_person(tail[6:])
            )
        return _i_negative(tail, "cannot")
    if lower in {
        "would",
        "could",
        "should",
        "will",
        "might",
        "must",
        "may",
        "can",
        "did",
        "was",
        "were",
        "had",
    }:
        if lower == "was" and re.match(r"^(?:born|raised)\b", tail, re.I):
            return _i_past(verb, tail)
        return None
    if is_past(lower):
        return _i_past(verb, tail)
    if has_relative_time(text) and not _HABIT.search(text):
        return None
    return _i_present(verb, tail)


def _relation(match: re.Match[str]) -> str | None:
    relation = " ".join(match["rel"].split()).lower()
    name = match["name"].strip(" ,")
    rest = match["rest"].strip()
    subject = f"User's {relation}" + (f" {name}" if name else "")
    words = rest.split()
    if not words:
        return None
    adverb = ""
    skippable = _HABIT_ADVERBS | {"only", "also", "still", "really", "now"}
    while len(words) > 1 and words[0].lower() in skippable:
        if words[0].lower() in _HABIT_ADVERBS | {"only"}:
            adverb = words[0].lower() + " "
        words = words[1:]
        rest = " ".join(words)
    verb = words[0].lower()
    if name and verb == "and":
        return None
    if (
        rest.lower().startswith("'s name is ")
        or rest.lower().startswith("is named ")
        or rest.lower().startswith("is called ")
    ):
        named = re.sub(r"^(?:'s name is|is named|is called)\s+", "", rest, flags=re.I)
        return _finish(f"User's {relation} is named {named}")
    if re.match(r"^(?:just\s+)?turned\s+(\w+)", rest, re.I):
        age = re.match(r"^(?:just\s+)?turned\s+(.+)$", rest, re.I)
        return _finish(f"{subject} is {age.group(1)}" if age else "")
    if re.match(r"^(?:just\s+|recently\s+)?moved\s+(?:back\s+)?to\s+", rest, re.I):
        place, _ = _strip_duration(
            re.sub(r"^(?:just\s+|recently\s+)?moved\s+(?:back\s+)?to\s+", "", rest, flags=re.I)
        )
        return _finish(f"{subject} lives in {to_third_person(place)}")
    if has_relative_time(rest) and not _HABIT.search(rest):
        return None
    if verb in {"is", "are"}:
        state = _state(" ".join(words[1:]), subject)
        return state
    if verb in {"has", "have"}:
        if not _object_ok(" ".join(words[1:])):
            return None
        return _finish(f"{subject} {verb} {to_third_person(' '.join(words[1:]))}")
    if verb in {"got"} and re.match(r"^got (?:married|engaged|divorced)", rest, re.I):
        return _finish(f"{subject} is {to_third_person(' '.join(words[1:]))}")
    if is_past(verb) or verb in {
        "will",
        "would",
        "could",
        "should",
        "might",
        "may",
        "can",
        "just",
        "was",
        "were",
        "said",
        "says",
        "thinks",
        "wants",
        "told",
        "asked",
        "called",
        "texted",
        "needs",
    }:
        return None
    plural = relation.endswith(("s", "children", "family")) and relation != "boss"
    base_ok = verb.isalpha() and verb not in _NOT_FACT_VERBS - _PREFERENCES
    if (verb.endswith("s") and not plural) or (plural and base_ok):
        core, _ = _strip_duration(" ".join(words[1:]))
        return _finish(f"{subject} {adverb}{verb} {to_third_person(core)}")
    return None


def _attribute(match: re.Match[str]) -> str | None:
    if match["verb"].lower() == "was" or has_relative_time(match["rest"]):
        return None
    rest = match["rest"]
    if is_hedged(rest):
        return None
    return _finish(
        f"User's {match['attr'].lower()} {match['verb'].lower()} {to_third_person(rest)}"
    )


_RULES: list[Callable[[str], str | None]] = [
    lambda text: _relation(m) if (m := _RELATION_SUBJECT.match(text)) else None,
    lambda text: _attribute(m) if (m := _ATTRIBUTE_SUBJECT.match(text)) else None,
    _first_person,
]


def to_fact(clause: str) -> str | None:
    """A third-person fact about the user from one first-person clause, or None."""
    text = clause.strip()
    if not text or text.endswith("?") or mentions_speaker_label(text) or is_hedged(text):
        return None
    text = expand_contractions(text.rstrip(" .!,;:"))
    for rule in _RULES:
        fact = rule(text)
        if fact:
            return fact[0].upper() + fact[1:]
    return None
