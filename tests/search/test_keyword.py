"""Query text to full-text queries: useful terms, and no input can break the SQL."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator

import asyncpg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mnemo.search.keyword import MAX_TERMS, fts5_query, pg_tsquery_text, query_terms
from tests import pg

HOSTILE = [
    '"',
    '""',
    "'",
    "''; DROP TABLE memories; --",
    'sister" OR "1"="1',
    "sister AND brother",
    "NOT sister",
    "sister NEAR(brother, 2)",
    "NEAR",
    "content:sister",
    "{content}: sister",
    "sis*",
    "^sister",
    "(sister",
    "sister)",
    "sister - brother",
    "sister + brother",
    "a:b:c",
    "- * ^ : ( ) { } [ ] \" ' , .",
    "\x00sister\x00",
    "sis\u0000ter",
    "\u200b\u200b",
    "ﬁsh café naïve Straße",
    "東京に住んでいる",
    "🙂🙂 pizza 🍕",
    "x" * 1000,
    "sister " * 200,
    "   ",
    "",
    "what is it?",
    "\\",
    "%_",
    "!&|<->:*",
    "sister & brother | !parents <-> (cousin)",
    "'sister':* & brother:A",
]


@pytest.fixture(scope="module")
def fts() -> Iterator[sqlite3.Connection]:
    db = sqlite3.connect(":memory:")
    db.execute(
        "CREATE VIRTUAL TABLE memories_fts USING fts5(content, "
        "tokenize = 'porter unicode61 remove_diacritics 2')"
    )
    db.executemany(
        "INSERT INTO memories_fts (content) VALUES (?)",
        [
            ("User's sister Sarah lives in Portland",),
            ("User is cooking dinner for their brother",),
            ("User loves fish and chips at the café",),
            ("User's parents live near the NEAR building",),
            ("User's locker number is 4471",),
        ],
    )
    yield db
    db.close()


def search(db: sqlite3.Connection, query: str) -> list[str]:
    match = fts5_query(query)
    if match is None:
        return []
    rows = db.execute(
        "SELECT content FROM memories_fts WHERE memories_fts MATCH ? ORDER BY bm25(memories_fts)",
        (match,),
    ).fetchall()
    return [r[0] for r in rows]


def test_terms_drop_question_words_and_duplicates() -> None:
    assert query_terms("Where does my SISTER live? Sister!") == ["sister", "live"]
    assert query_terms("what is it?") == []
    assert query_terms("WH-1000XM4 headphones") == ["wh", "1000xm4", "headphones"]
    assert len(query_terms(" ".join(f"w{i}" for i in range(100)))) == MAX_TERMS


def test_fts5_query_quotes_every_term() -> None:
    assert fts5_query("where does my sister live?") == '"sister" OR "live"'
    assert fts5_query("what is it?") is None
    assert fts5_query("") is None
    assert fts5_query("NOT near AND or") == '"near"'


def test_fts5_query_can_search_one_column_only() -> None:
    assert fts5_query("sister?", column="content") == 'content : ("sister")'
    assert fts5_query("what?", column="content") is None
    with pytest.raises(ValueError):
        fts5_query("sister", column="content) OR (x")
    db = sqlite3.connect(":memory:")
    try:
        db.execute("CREATE VIRTUAL TABLE t USING fts5(content, user_id)")
        db.executemany(
            "INSERT INTO t VALUES (?, ?)", [("sister lives here", "alice"), ("a friend", "bob")]
        )
        for query in HOSTILE + ["alice", "bob sister"]:
            match = fts5_query(query, column="content")
            rows = (
                []
                if match is None
                else db.execute("SELECT content FROM t WHERE t MATCH ?", (match,)).fetchall()
            )
            assert ("a friend",) not in rows or "friend" in query
        assert db.execute(
            "SELECT count(*) FROM t WHERE t MATCH ?", (fts5_query("alice", "content"),)
        ).fetchone() == (0,)
    finally:
        db.close()


def test_fts5_finds_by_any_word_and_by_stem(fts: sqlite3.Connection) -> None:
    assert search(fts, "where does my sister live?")[0] == "User's sister Sarah lives in Portland"
    assert search(fts, "who cooks?") == ["User is cooking dinner for their brother"]
    assert search(fts, "cafe") == ["User loves fish and chips at the café"]
    assert search(fts, "4471") == ["User's locker number is 4471"]
    assert search(fts, "NEAR") == ["User's parents live near the NEAR building"]


@pytest.mark.parametrize("query", HOSTILE)
def test_hostile_queries_never_break_fts5(fts: sqlite3.Connection, query: str) -> None:
    search(fts, query)  # no sqlite3.OperationalError


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_any_text_is_a_valid_fts5_query(query: str) -> None:
    db = sqlite3.connect(":memory:")
    try:
        db.execute("CREATE VIRTUAL TABLE t USING fts5(content, tokenize = 'porter unicode61')")
        db.execute("INSERT INTO t (content) VALUES ('user likes cats')")
        match = fts5_query(query)
        if match is not None:
            db.execute("SELECT rowid FROM t WHERE t MATCH ?", (match,)).fetchall()
    finally:
        db.close()


def test_pg_tsquery_text_joins_terms_with_or() -> None:
    assert pg_tsquery_text("where does my sister live?") == "sister | live"
    assert pg_tsquery_text("what is it?") is None


def test_hostile_queries_never_break_postgres() -> None:
    async def check() -> list[object]:
        conn = await asyncpg.connect(pg.SERVER, timeout=10)
        try:
            results = []
            for query in HOSTILE + ["where does my sister live?", "the and or not"]:
                text = pg_tsquery_text(query)
                if text is not None:
                    results.append(
                        await conn.fetchval(
                            "SELECT to_tsvector('english', 'User''s sister lives in Portland')"
                            " @@ to_tsquery('english', $1)",
                            text,
                        )
                    )
            return results
        finally:
            await conn.close()

    results = asyncio.run(check())
    assert True in results  # "sister | live" matched
