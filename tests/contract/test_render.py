"""Every memory's stored JSON is pydantic's JSON of `Memory` for it, byte for byte
(mnemo.store.render): written by every write, filled in by the upgrade for memories
stored before, and answered as is by a page and by a get by id, on both backends,
whatever the memories hold."""

from __future__ import annotations

import tempfile
from contextlib import closing
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter
from sqlean import dbapi2 as sqlite3

from mnemo import Settings
from mnemo.clock import new_id, now_us
from mnemo.models import Memory
from mnemo.store import Store, User, store_for
from mnemo.store.migrations import load
from mnemo.store.render import memory_json
from mnemo.store.rows import MEMORY_COLUMNS, memory_values
from mnemo.store.sqlite import deep_page_sql, page_json_sql
from mnemo.store.sqlite_db import _statements
from tests import pg

# Any text either database can hold: PostgreSQL text has no NUL, and no encoding holds
# a lone surrogate (the API refuses both).
_TEXT = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"))
_TIME = st.datetimes(
    min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
)
_MEMORIES = st.builds(
    Memory,
    id=st.builds(new_id),
    content=_TEXT,
    category=st.sampled_from(["system", "interesting", "manual", "work"]),
    visibility=st.sampled_from(["public", "private"]),
    tags=st.lists(_TEXT, max_size=4),
    created_at=_TIME,
    updated_at=_TIME,
    manually_added=st.booleans(),
    scoring=_TEXT,
    reviewed=st.booleans(),
    user_review=st.none() | st.booleans(),
    edited=st.booleans(),
)
# The columns of a memory before the migration that added `conversation_id`.
_OLD_COLUMNS = MEMORY_COLUMNS.removesuffix(", conversation_id")
_PAGE = TypeAdapter(list[Memory])
_ONE = TypeAdapter(Memory)
_SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _awkward() -> list[Memory]:
    """Content that JSON must escape or that renders unusually."""
    texts = [
        "quotes \" and \\ backslash \\\" and 'single'",
        "control \x01\x08\x0c\n\r\t\x1f\x7f and U+2028 \u2028 U+2029 \u2029",
        "emoji 🇧🇷 👩‍👩‍👧 and CJK 記憶 and RTL עברית",
        "</script><b>&amp;</b>",
        "é (NFC) and e\u0301 (NFD)",
    ]
    whole = datetime(2023, 11, 14, 22, 15, tzinfo=UTC)  # no microseconds
    return [
        Memory(
            id=new_id(),
            content=text,
            category="work",
            visibility="private",
            tags=[text[:8], "t\u00e9"],
            created_at=whole - timedelta(days=20_000 * i),  # before 1970 too
            updated_at=whole + timedelta(microseconds=i),
            manually_added=i % 2 == 0,
            scoring=f"01_998_{i}\"'",
            reviewed=True,
            user_review=(None, True, False)[i % 3],
            edited=i % 2 == 1,
        )
        for i, text in enumerate(texts)
    ]


async def _user(store: Store) -> User:
    return await store.create_user(User(id=new_id(), name=new_id(), created_at=now_us()))


async def _assert_answers(store: Store, user_id: str, memories: list[Memory]) -> None:
    """A page of them and each get by id are pydantic's JSON of them, byte for byte."""
    page = await store.list_memories_json(user_id, [], 1000, 0)
    # The page's order is the store's to choose (and tested elsewhere): compare in it.
    order = [m.id for m in _PAGE.validate_json(page)]
    by_id = {m.id: m for m in memories}
    assert sorted(order) == sorted(by_id)
    assert page == _PAGE.dump_json([by_id[i] for i in order])
    for memory in memories:
        one = await store.get_memory_json(user_id, memory.id)
        assert one == _ONE.dump_json(memory) == memory_json(memory).encode()
        assert one in page  # the same bytes in the list as by id


@_SETTINGS
@given(memories=st.lists(_MEMORIES, min_size=1, max_size=5))
async def test_a_page_and_a_get_answer_pydantic_json(store: Store, memories: list[Memory]) -> None:
    user = await _user(store)
    await store.insert_memories(user.id, memories)
    await _assert_answers(store, user.id, memories)


@_SETTINGS
@given(
    memories=st.lists(_MEMORIES, min_size=1, max_size=3),
    content=_TEXT,
    tags=st.lists(_TEXT, max_size=3),
    category=st.sampled_from(["system", "work"]),
    at=_TIME,
)
async def test_an_update_writes_the_new_json(
    store: Store, memories: list[Memory], content: str, tags: list[str], category: str, at
) -> None:
    user = await _user(store)
    await store.insert_memories(user.id, memories)
    fields = {"content": content, "tags": tags, "category": category, "updated_at": at}
    new = await store.update_memory(user.id, memories[0].id, lambda m: m.model_copy(update=fields))
    assert new is not None
    await _assert_answers(store, user.id, [new, *memories[1:]])


async def test_an_import_writes_the_json(store: Store) -> None:
    user = await _user(store)
    memories = _awkward()
    assert await store.import_memories(user.id, memories) == len(memories)
    # A time in another zone is stored (and answered) in UTC, as it always was.
    east = memories[0].model_copy(
        update={
            "id": new_id(),
            "created_at": datetime(2024, 1, 1, 12, tzinfo=timezone(timedelta(hours=2))),
        }
    )
    assert await store.import_memories(user.id, [east]) == 1
    utc = east.model_copy(update={"created_at": datetime(2024, 1, 1, 10, tzinfo=UTC)})
    await _assert_answers(store, user.id, [*memories, utc])


async def test_an_empty_page_is_an_empty_array(store: Store) -> None:
    user = await _user(store)
    assert await store.list_memories_json(user.id, [], 10, 0) == b"[]"
    assert await store.list_memories_json(user.id, ["work"], 10, 5) == b"[]"
    assert await store.list_memories_json(user.id, [], 10, 500) == b"[]"


async def test_a_write_without_the_json_fails(store: Store, database_url: str) -> None:
    """Any future writer that forgets the column fails instead of listing stale JSON."""
    user = await _user(store)
    (memory,) = _awkward()[:1]
    await store.insert_memories(user.id, [memory])
    other = memory.model_copy(update={"id": new_id()})
    if database_url.startswith("sqlite:///"):
        with closing(sqlite3.connect(database_url.removeprefix("sqlite:///"))) as conn:
            with pytest.raises(sqlite3.IntegrityError, match="memories.json"):
                conn.execute(
                    f"INSERT INTO memories (user_id, {MEMORY_COLUMNS})"
                    f" VALUES ({', '.join('?' * 14)})",
                    (user.id, *memory_values(other)[:13]),
                )
            with pytest.raises(sqlite3.IntegrityError, match="memories.json"):
                conn.execute("UPDATE memories SET content = 'changed' WHERE id = ?", (memory.id,))
    else:
        conn = await asyncpg.connect(database_url)
        try:
            with pytest.raises(asyncpg.NotNullViolationError):
                await conn.execute(
                    f"INSERT INTO memories (user_id, {MEMORY_COLUMNS})"
                    f" VALUES ({', '.join(f'${i}' for i in range(1, 15))})",
                    user.id,
                    *memory_values(other)[:13],
                )
            with pytest.raises(asyncpg.CheckViolationError, match="memories.json"):
                await conn.execute(
                    "UPDATE memories SET content = 'changed' WHERE id = $1", memory.id
                )
        finally:
            await conn.close()
    assert await store.get_memory_json(user.id, memory.id) == memory_json(memory).encode()


# -- the upgrade: memories stored before the column get theirs --------------------


def _before_json(backend: str) -> list:
    """The backend's migrations before the one that adds the stored JSON."""
    known = load(backend)
    version = next(m.version for m in known if m.name == "stored_json")
    return [m for m in known if m.version < version]


def _sqlite_before(path: str, user_id: str, memories: list[Memory]) -> None:
    with closing(sqlite3.connect(path, isolation_level=None)) as conn:
        conn.execute(
            "CREATE TABLE schema_migrations ("
            " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )
        for migration in _before_json("sqlite"):
            for statement in _statements(migration.sql):
                conn.execute(statement)
            conn.execute(
                "INSERT INTO schema_migrations VALUES (?, ?, datetime('now'))",
                (migration.version, migration.name),
            )
        conn.execute("INSERT INTO users (id, name, created_at) VALUES (?, 'u', 0)", (user_id,))
        for m in memories:
            conn.execute(
                f"INSERT INTO memories (user_id, {_OLD_COLUMNS}) VALUES ({', '.join('?' * 13)})",
                (user_id, *memory_values(m)[:12]),
            )


async def _postgres_before(url: str, user_id: str, memories: list[Memory]) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(
            "CREATE TABLE schema_migrations ("
            " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )
        for migration in _before_json("postgres"):
            await conn.execute(migration.sql)
            await conn.execute(
                "INSERT INTO schema_migrations VALUES ($1, $2, now()::text)",
                migration.version,
                migration.name,
            )
        await conn.execute("INSERT INTO users (id, name, created_at) VALUES ($1, 'u', 0)", user_id)
        await conn.executemany(
            f"INSERT INTO memories (user_id, {_OLD_COLUMNS})"
            f" VALUES ({', '.join(f'${i}' for i in range(1, 14))})",
            [(user_id, *memory_values(m)[:12]) for m in memories],
        )
    finally:
        await conn.close()


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(memories=st.lists(_MEMORIES, max_size=5))
async def test_the_upgrade_fills_in_the_json_of_stored_memories(
    database_url: str, memories: list[Memory]
) -> None:
    memories = _awkward() + memories
    user_id = new_id()
    with tempfile.TemporaryDirectory() as work:
        if database_url.startswith("sqlite:///"):
            url = f"sqlite:///{Path(work) / 'old.db'}"
            _sqlite_before(url.removeprefix("sqlite:///"), user_id, memories)
            schema = None
        else:
            schema, url = pg.create_schema()
            await _postgres_before(url, user_id, memories)
        try:
            store = store_for(Settings(database_url=url))
            await store.open()
            try:
                stored = dict(pg.fetch(url, "SELECT id, json FROM memories"))
                assert stored == {m.id: memory_json(m) for m in memories}
                await _assert_answers(store, user_id, memories)
            finally:
                await store.close()
        finally:
            if schema is not None:
                pg.drop_schema(schema)


async def _reads(store: Store, database_url: str, sql: str, *params: object) -> list[str]:
    """The table and index reads of SQLite's plan for `sql` (params after the user's id)
    over a user's memories, after ANALYZE."""
    user = await _user(store)
    await store.insert_memories(user.id, _awkward())
    with closing(sqlite3.connect(database_url.removeprefix("sqlite:///"))) as conn:
        conn.execute("ANALYZE")
        plan = [
            row[3]
            for row in conn.execute(
                f"EXPLAIN QUERY PLAN {sql}", tuple(user.id if p is _USER else p for p in params)
            ).fetchall()
        ]
    return [step for step in plan if step.startswith(("SEARCH", "SCAN memories"))]


_USER = object()  # where the user's id goes in `_reads`' parameters


async def test_a_first_page_is_read_from_the_list_index_alone(
    store: Store, database_url: str
) -> None:
    """SQLite: the list index holds the JSON, so a page never reads the table."""
    if not database_url.startswith("sqlite:///"):
        pytest.skip("PostgreSQL's list index does not hold the JSON (docs/architecture.md)")
    reads = await _reads(store, database_url, page_json_sql(), _USER, 25, 0)
    assert reads == ["SEARCH memories USING COVERING INDEX memories_user_order (user_id=?)"]


async def test_a_deep_page_steps_over_the_narrow_list_index(
    store: Store, database_url: str
) -> None:
    """SQLite: a deep OFFSET steps over memories_user_rank (no JSON in it, migration
    0010), then reads the page's rows by rowid; never over the index holding the JSON."""
    if not database_url.startswith("sqlite:///"):
        pytest.skip("SQLite's indexes")
    reads = await _reads(store, database_url, deep_page_sql(), _USER, _USER, 26, 5000)
    assert "SEARCH memories USING COVERING INDEX memories_user_rank (user_id=?)" in reads
    assert "SEARCH m USING INTEGER PRIMARY KEY (rowid=?)" in reads
    assert not any("memories_user_order" in step for step in reads)
