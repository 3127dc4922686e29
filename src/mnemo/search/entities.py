"""Who a query and a memory are about: names, cheaply, offline.

- `query_names(query)`: the capitalised words of a query that are not question or
  function words, months or days ("Where does Caroline's sister live?" -> {"caroline"};
  "what should I cook?" -> none). Casefolded; a possessive "'s" is dropped.
- `memory_subjects(content)`: who a memory is about. A conversation turn stored as
  `"<Speaker> (<date>): <words>"` or `"<Speaker>: <words>"` is about its speaker; any
  other memory about the names it contains ("User's sister Sarah lives in Portland" ->
  {"sarah", "portland"}; "User" is everyone's and not a name).
- `mentions(content)`: every name a memory contains, the speaker's too.

No model, no list of names: a name is a word written with a capital that is not
first-word capitalisation of a common word (a fixed list below). Ranking uses these
as evidence (`relevance.py`), never as a filter. Nothing is cached: no text of a
memory (or a query) stays in the process after the search that read it.
"""

from __future__ import annotations

import re

from mnemo.search.keyword import CALENDAR_WORDS, QUERY_STOPWORDS, query_terms

__all__ = ["content_query", "memory_subjects", "mentions", "people", "query_names"]

_WORD = re.compile(r"[^\W\d_][\w'’.-]*", re.UNICODE)
_SPEAKER = re.compile(r"^\s*([^\W\d_][\w'’.-]*(?: [^\W\d_][\w'’.-]*)?)\s*(?:\([^)]{0,40}\))?\s*:")
# Not names when capitalised: the keyword side's question and function words, and
# titles, greetings, months and days.
_COMMON = (
    QUERY_STOPWORDS
    | CALENDAR_WORDS
    | frozenset(
        [
            "anyway",
            "big",
            "done",
            "dr",
            "every",
            "everything",
            "find",
            "give",
            "good",
            "great",
            "ha",
            "haha",
            "hello",
            "hey",
            "hi",
            "list",
            "mr",
            "mrs",
            "ms",
            "oh",
            "ok",
            "okay",
            "said",
            "say",
            "show",
            "well",
            "wow",
            "yeah",
            "yep",
            "yes",
            "today",
            "tomorrow",
            "yesterday",
        ]
    )
)


def _name(word: str) -> str | None:
    """The casefolded name this word is, or None."""
    word = word.rstrip(".-'’")
    if word.endswith(("'s", "’s")):
        word = word[:-2]
    if not word or not word[0].isupper():
        return None
    folded = word.casefold()
    return folded if folded not in _COMMON and len(folded) > 1 else None


def _names(text: str) -> frozenset[str]:
    # `_name` only for the capitalised words: most words are not
    words = _WORD.findall(text)
    return frozenset(n for w in words if w[0].isupper() and (n := _name(w)) is not None)


def content_query(query: str) -> str:
    """The query without its names, for the keyword side ("What is Ruth studying?" ->
    "What is studying?"), when any other searchable word is left; else the query
    ("who is Okonkwo?"). A name matches every memory of that person, so the keyword
    side would mostly rank who is named; the names count through `relevance` instead."""
    stripped = _WORD.sub(lambda m: " " if _name(m.group()) else m.group(), query)
    return stripped if query_terms(stripped) else query


def query_names(query: str) -> frozenset[str]:
    """The names a query mentions (casefolded)."""
    return _names(query)


def _speaker(content: str) -> str | None:
    match = _SPEAKER.match(content)
    if match is None:
        return None
    speaker = match.group(1).casefold()
    return speaker if speaker not in _COMMON else None


def people(content: str) -> tuple[frozenset[str], frozenset[str]]:
    """`(memory_subjects(content), mentions(content))`, read in one pass."""
    speaker = _speaker(content)
    names = _names(content)
    if speaker is None:
        return names, names
    return frozenset((speaker,)), names | {speaker}


def memory_subjects(content: str) -> frozenset[str]:
    """Who a memory is about: a turn's speaker, or the names in it."""
    return people(content)[0]


def mentions(content: str) -> frozenset[str]:
    """Every name in the memory, its speaker's included."""
    return people(content)[1]
