"""Fill a scratch PostgreSQL schema with millions of memories and print the query plans
of every hot statement (EXPLAIN ANALYZE). Usage:

    .venv/bin/python bench/explain_postgres.py [--users 2000] [--per-user 1000]

The schema is created by mnemo's own migrations and dropped at the end."""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import time

import asyncpg

from mnemo import Settings
from mnemo.store import postgres as sql
from mnemo.store import store_for

SERVER = "postgresql://postgres@127.0.0.1:5432/test"
SCHEMA = "mnemo_explain"

# The store's own statements, with the arguments each takes (see main()); a name in
# quotes is looked up in main()'s `values`. PAGE_SQL (a page that leaves no bookmark, as
# one string) and LIST_SQL take ($1 user, $2 limit, $3 offset)
# and the category one ($4 categories) too; a page at an offset of 200 or more (where
# bookmarks start: mnemo.store.bookmarks) reads one row more, the one before it, to
# remember where the page starts. LIST_AFTER_SQL, the page after a remembered row, takes
# ($1 user, $2 limit, $3 the user's memories_version, $4-$6 that row's scoring,
# created_at and id) and the category one ($7 categories) too.
QUERIES = {
    "list, first page (one string)": (sql.PAGE_SQL, ("big", 25, 0)),
    "list, deep page without a bookmark (offset 90,000 of the 100,000-memory user)": (
        sql.LIST_SQL,
        ("big", 26, 89_999),
    ),
    "list, deep page from a bookmark (the page after the row at offset 60,000 of the"
    " 100,000-memory user)": (
        sql.LIST_AFTER_SQL,
        ("big", 25, "version", "after_scoring", "after_created_at", "after_id"),
    ),
    "list, first page of a 1,000-memory user": (sql.PAGE_SQL, ("small", 25, 0)),
    "list, category filter": (sql.PAGE_BY_CATEGORY_SQL, ("big", 25, 0, ["work", "skills"])),
    "list, category filter, deep page from a bookmark (after the row at offset 30,000 of"
    " the filtered list)": (
        sql.LIST_AFTER_BY_CATEGORY_SQL,
        (
            "big",
            25,
            "version",
            "category_after_scoring",
            "category_after_created_at",
            "category_after_id",
            ["work", "skills"],
        ),
    ),
    "get by id": (sql.GET_JSON_SQL, ("big", "id")),
    "update (row lock, then UPDATE by the same key)": (
        sql.GET_SQL + " FOR UPDATE",
        ("big", "id"),
    ),
    "delete": (sql.DELETE_SQL, ("big", "id")),
    "key lookup (every request)": (sql.KEY_BY_HASH_SQL, ("hash",)),
    "export, first page of a 1,000-memory user": (sql.EXPORT_SQL, ("small", "", 500)),
    "export, first page of the 100,000-memory user": (sql.EXPORT_SQL, ("big", "", 500)),
}


async def main(users: int, per_user: int) -> None:
    conn = await asyncpg.connect(SERVER)
    await conn.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE; CREATE SCHEMA {SCHEMA}")
    store = store_for(Settings(database_url=f"{SERVER}?search_path={SCHEMA}"))
    await store.open()
    await store.close()
    await conn.execute(f"SET search_path TO {SCHEMA}")
    started = time.perf_counter()
    await conn.execute(
        "INSERT INTO users SELECT 'u' || g, 'user' || g, 0 FROM generate_series(0, $1) g",
        users,
    )
    await conn.execute(
        "INSERT INTO api_keys SELECT 'k' || g, 'u' || g, '', 'omi_dev_0000', md5(g::text),"
        " 'memories:read memories:write', 0, NULL, NULL FROM generate_series(0, $1) g",
        users,
    )
    # `users` users with `per_user` memories each, and user `u{users}` with 100,000.
    await conn.execute(
        """
        INSERT INTO memories (id, user_id, content, category, visibility, tags, created_at,
            updated_at, manually_added, scoring, reviewed, user_review, edited, json)
        SELECT m.*, json_build_object('id', m.id, 'content', m.content,
            'category', m.category, 'visibility', m.visibility, 'tags', '[]'::json,
            'created_at', m.created_at, 'updated_at', m.updated_at, 'manually_added', true,
            'scoring', m.scoring, 'reviewed', true, 'user_review', true, 'edited', false)::text
        FROM (SELECT
               lpad(to_hex(g), 12, '0') || '-7000-8000-' || lpad(to_hex(g % 4096), 12, '0'),
               'u' || CASE WHEN g < $1::int * $2::int THEN g % $1::int ELSE $1::int END,
               'User fact number ' || g,
               (ARRAY['system','interesting','work','skills'])[1 + g % 4],
               'private', '[]', 1700000000000000 + g * 1000, 1700000000000000 + g * 1000,
               true,
               '01_' || (999 - (g % 2)) || '_' || lpad((1700000000 + g / 1000)::text, 10, '0'),
               true, true, false
        FROM generate_series(0, $1::int * $2::int + 100000 - 1) g)
            AS m(id, user_id, content, category, visibility, tags, created_at, updated_at,
                manually_added, scoring, reviewed, user_review, edited)
        """,
        users,
        per_user,
    )
    for table in ("memories", "users", "api_keys"):
        await conn.execute(f"VACUUM ANALYZE {table}")
    total = await conn.fetchval("SELECT count(*) FROM memories")
    took = time.perf_counter() - started
    print(f"# {total:,} memories, {users + 1:,} users, filled in {took:.0f} s\n")
    big = f"u{users}"
    values = {
        "big": big,
        "small": "u7",
        "id": await conn.fetchval("SELECT id FROM memories WHERE user_id = $1 LIMIT 1", big),
        "hash": hashlib.md5(b"7").hexdigest(),
        # What a bookmark holds: the user's version and a row's sort key, read now.
        "version": await conn.fetchval("SELECT memories_version FROM users WHERE id = $1", big),
    }
    order = "ORDER BY scoring DESC, created_at DESC, id DESC"
    for prefix, where, skip in (
        ("after", "", 60_000 - 1),
        ("category_after", " AND category = ANY($2::text[])", 30_000 - 1),
    ):
        args = (big, ["work", "skills"]) if where else (big,)
        row = await conn.fetchrow(
            f"SELECT scoring, created_at, id FROM memories WHERE user_id = $1{where}"
            f" {order} OFFSET {skip} LIMIT 1",
            *args,
        )
        for name, value in zip(("scoring", "created_at", "id"), row, strict=True):
            values[f"{prefix}_{name}"] = value
    for title, (statement, names) in QUERIES.items():
        args = [values.get(n, n) if isinstance(n, str) else n for n in names]
        transaction = conn.transaction()  # rolled back: EXPLAIN ANALYZE runs the DELETE
        await transaction.start()
        plan = await conn.fetch(f"EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) {statement}", *args)
        await transaction.rollback()
        print(f"## {title}\n\n```sql\n{statement}\n```\n\n```")
        print("\n".join(row[0] for row in plan))
        print("```\n")
    await conn.execute(f"DROP SCHEMA {SCHEMA} CASCADE")
    await conn.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--per-user", type=int, default=1000)
    options = parser.parse_args()
    asyncio.run(main(options.users, options.per_user))
