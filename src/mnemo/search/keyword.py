"""A natural-language query as a full-text query, for SQLite FTS5 and PostgreSQL.

Pure functions: the stores put the result in a bound parameter, never in the SQL text.

- `query_terms(query)`: the searchable words of a query: Unicode letters and digits,
  case-folded, question and function words dropped ("what", "does", "my", "user"),
  duplicates dropped, at most `MAX_TERMS`.
- `fts5_query(query)`: those words as an FTS5 `MATCH` expression, each word a quoted
  string joined by `OR`, or None when there is no word to search for. A quoted FTS5
  string is a literal whatever it holds, and a term holds only letters and digits,
  so no input can produce an FTS5 syntax error or an operator (`AND`, `NEAR`, `*`,
  `^`, column filters, parentheses).
- `pg_tsquery_text(query)`: the same words joined by `|`, for
  `to_tsquery('english', $1)` (or None). Letters and digits only, so `to_tsquery`
  sees no operator it did not get from us.

OR, not AND: a question shares few words with its answer ("where does my sister
live" / "User's sister Sarah lives in Portland"), and BM25 / `ts_rank_cd` already rank
memories that match more and rarer words first.

The FTS5 table is meant to use `tokenize = 'porter unicode61 remove_diacritics 2'`
(and PostgreSQL the `english` configuration) so that "cooking" finds "cooks".
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["MAX_TERMS", "QUERY_STOPWORDS", "fts5_query", "pg_tsquery_text", "query_terms"]

MAX_TERMS = 32
MAX_TERM_CHARS = 64

# Letters and digits of any script; "_" and punctuation separate words, as in
# FTS5's unicode61 tokenizer and PostgreSQL's default parser.
_WORD = re.compile(r"[^\W_]+")
_COLUMN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

# Words that say what kind of question is asked, not what it is about. "user" is in
# nearly every memory ("User is vegetarian"), so it ranks nothing.
# The months and the days of the week (lower case): dates, never names or facts' keys.
CALENDAR_WORDS = frozenset(
    [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ]
)

QUERY_STOPWORDS = frozenset(
    [
        "a",
        "about",
        "above",
        "after",
        "again",
        "against",
        "all",
        "also",
        "am",
        "an",
        "and",
        "any",
        "anything",
        "are",
        "aren",
        "as",
        "at",
        "be",
        "because",
        "been",
        "before",
        "being",
        "below",
        "between",
        "both",
        "but",
        "by",
        "can",
        "could",
        "did",
        "didn",
        "do",
        "does",
        "doesn",
        "doing",
        "don",
        "down",
        "during",
        "each",
        "else",
        "ever",
        "few",
        "for",
        "from",
        "further",
        "get",
        "gets",
        "got",
        "had",
        "has",
        "have",
        "having",
        "he",
        "her",
        "here",
        "hers",
        "herself",
        "him",
        "himself",
        "his",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "isn",
        "it",
        "its",
        "itself",
        "just",
        "know",
        "let",
        "like",
        "ll",
        "me",
        "might",
        "mine",
        "more",
        "most",
        "much",
        "must",
        "my",
        "myself",
        "need",
        "no",
        "nor",
        "not",
        "now",
        "of",
        "off",
        "on",
        "once",
        "only",
        "or",
        "other",
        "our",
        "ours",
        "ourselves",
        "out",
        "over",
        "own",
        "please",
        "re",
        "really",
        "remind",
        "remember",
        "s",
        "same",
        "shall",
        "she",
        "should",
        "so",
        "some",
        "something",
        "such",
        "t",
        "tell",
        "than",
        "that",
        "the",
        "their",
        "theirs",
        "them",
        "themselves",
        "then",
        "there",
        "these",
        "they",
        "thing",
        "things",
        "this",
        "those",
        "through",
        "to",
        "too",
        "under",
        "until",
        "up",
        "us",
        "user",
        "users",
        "ve",
        "very",
        "was",
        "wasn",
        "we",
        "were",
        "weren",
        "what",
        "whats",
        "when",
        "where",
        "whether",
        "which",
        "while",
        "who",
        "whom",
        "whose",
        "why",
        "will",
        "with",
        "won",
        "would",
        "you",
        "your",
        "yours",
        "yourself",
        "yourselves",
    ]
)


def query_terms(query: str) -> list[str]:
    """The words of `query` worth searching for, in order, without duplicates."""
    text = unicodedata.normalize("NFKC", query).casefold()
    terms: list[str] = []
    seen: set[str] = set()
    for match in _WORD.finditer(text):
        word = match.group()
        if word in QUERY_STOPWORDS or word in seen or len(word) > MAX_TERM_CHARS:
            continue
        seen.add(word)
        terms.append(word)
        if len(terms) == MAX_TERMS:
            break
    return terms


def fts5_query(query: str, column: str | None = None) -> str | None:
    """An FTS5 MATCH expression for `query`, or None if it has no searchable word.

    Use as `... WHERE memories_fts MATCH ? ORDER BY bm25(memories_fts)`. With
    `column` (a name of our own, never user input), only that column is searched:
    `content : ("sister" OR "live")`, so other indexed columns (a user id) never match.
    """
    if column is not None and not _COLUMN.fullmatch(column):
        raise ValueError(f"not a column name: {column!r}")
    terms = query_terms(query)
    if not terms:
        return None
    expression = " OR ".join(f'"{term}"' for term in terms)
    return expression if column is None else f"{column} : ({expression})"


def pg_tsquery_text(query: str) -> str | None:
    """Text for `to_tsquery('english', $1)` matching any word of `query`, or None.

    Words that PostgreSQL treats as stop words are dropped by `to_tsquery` itself
    (with a NOTICE, never an error); if all are, the tsquery is empty and matches
    nothing.
    """
    terms = query_terms(query)
    if not terms:
        return None
    return " | ".join(terms)
