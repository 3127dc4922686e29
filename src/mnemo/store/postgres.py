"""The PostgreSQL backend: the store's SQL, as parameterised statements (asyncpg
prepares and caches them), one transaction per write. `PostgresDatabase`
(store/postgres_db.py) holds the pool, the error translation and the migrations."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import asyncpg
import numpy as np

from mnemo.admission import EmbeddingAdmission, QueueBounds
from mnemo.clock import now_us
from mnemo.errors import Conflict
from mnemo.idempotency import EXPIRED_PURGED, IdempotentWrite, answer_again
from mnemo.models import ActionItem, Conversation, Memory
from mnemo.search import rank
from mnemo.search.dedup import keys as dedup_keys
from mnemo.search.embed import vectors_from_blobs
from mnemo.search.keyword import pg_tsquery_text
from mnemo.store import vector_cache
from mnemo.store.action_item_rows import (
    ACTION_ITEM_COLUMNS,
    action_item_from_row,
    action_item_list_sql,
    action_item_values,
)
from mnemo.store.base import (
    ACCOUNT_ROWS,
    EXACT_COUNT_BELOW,
    MEMORY_ROWS,
    ActionItemChange,
    ActionItemFilter,
    ApiKey,
    ConversationChange,
    ConversationFilter,
    KeyAndRead,
    MemoryChange,
    MemoryFilter,
    NewConversation,
    Queued,
    UiSession,
    User,
    key_then_page,
)
from mnemo.store.bookmarks import MIN_OFFSET, Bookmarks
from mnemo.store.changes import HistoryRow, current_actor
from mnemo.store.conversation_rows import (
    WITH_TRANSCRIPT,
    conversation_from_row,
    conversation_list_sql,
    conversation_values,
    unlinked,
)
from mnemo.store.postgres_db import Connection, T
from mnemo.store.postgres_keys import KEY_BACKLOG_PAGE, key_backlog, put_keys, stored_duplicates
from mnemo.store.postgres_webhooks import PostgresWebhooks
from mnemo.store.render import json_array
from mnemo.store.rows import (
    KEY_COLUMNS,
    KEY_INSERT_COLUMNS,
    MEMORY_COLUMNS,
    USER_COLUMNS,
    WRITE_COLUMNS,
    id_order_sql,
    key_from_row,
    key_values,
    memory_from_row,
    memory_values,
    user_from_row,
)
from mnemo.store.ui_rows import (
    UI_SESSION_COLUMNS,
    browse_sql,
    session_from_row,
    session_sql,
    session_values,
)
from mnemo.store.vector_cache import UserVectors, VectorCache

# The hot statements, as constants so bench/explain_postgres.py can show their plans.
# A page's rows are the stored JSON of each memory (mnemo.store.render), joined by
# the database into one string when no bookmark needs the page's sort keys.
_ORDER = "scoring DESC, created_at DESC, id DESC"
_VERSION = "(SELECT memories_version FROM users WHERE id = $1)"


def _in_categories(param: int | None) -> str:
    # A statement with the filter and one without: each gets its own plan.
    return f" AND category = ANY(${param}::text[])" if param else ""


def _page_sql(categories: int | None) -> str:
    """The JSON of a page that ends before MIN_OFFSET, as one string: $2 rows, $3
    skipped (index scan of memories_user_order, a row fetched per entry)."""
    return (
        f"SELECT string_agg(json, ',' ORDER BY {_ORDER}) FROM (SELECT scoring, created_at,"
        f" id, json FROM memories WHERE user_id = $1{_in_categories(categories)}"
        f" ORDER BY {_ORDER} LIMIT $2 OFFSET $3) page"
    )


def _list_sql(categories: int | None) -> str:
    """(user's version, sort key, JSON) of a deep page's rows: $2 rows, $3 skipped. The
    ids come from an index-only scan of memories_user_order, then only those rows are
    fetched: a deep OFFSET skips index entries, not table rows."""
    return (
        f"SELECT {_VERSION}, scoring, created_at, id, json FROM memories"
        f" JOIN (SELECT id FROM memories WHERE user_id = $1{_in_categories(categories)}"
        f" ORDER BY {_ORDER} LIMIT $2 OFFSET $3) page USING (id) ORDER BY {_ORDER}"
    )


def _list_after_sql(categories: int | None) -> str:
    """The same for the $2 rows after the one whose sort key is ($4, $5, $6), if the
    user's version is still $3 (else none)."""
    return (
        "SELECT $3::bigint, scoring, created_at, id, json FROM memories"
        f" WHERE user_id = $1{_in_categories(categories)}"
        f" AND (scoring, created_at, id) < ($4, $5, $6) AND {_VERSION} = $3"
        f" ORDER BY {_ORDER} LIMIT $2"
    )


# $1 user, $2 limit, $3 offset, $4 categories
PAGE_SQL, PAGE_BY_CATEGORY_SQL = _page_sql(None), _page_sql(4)
LIST_SQL, LIST_BY_CATEGORY_SQL = _list_sql(None), _list_sql(4)
# $1 user, $2 limit, $3 version, $4-$6 sort key, $7 categories
LIST_AFTER_SQL, LIST_AFTER_BY_CATEGORY_SQL = _list_after_sql(None), _list_after_sql(7)
GET_SQL = f"SELECT {MEMORY_COLUMNS} FROM memories WHERE user_id = $1 AND id = $2"
GET_JSON_SQL = "SELECT json FROM memories WHERE user_id = $1 AND id = $2"
DELETE_SQL = "DELETE FROM memories WHERE user_id = $1 AND id = $2"
# ORDER BY user_id, id matches the index memories_user_id exactly.
# Every user's memories: the planner's estimate (pg_class.reltuples, kept by autovacuum
# and ANALYZE; -1 before the first) once it reaches $1 rows, below that an exact count.
_COUNT_MEMORIES = (
    "SELECT CASE WHEN c.reltuples >= $1 THEN c.reltuples::bigint"
    " ELSE (SELECT count(*) FROM memories) END"
    " FROM pg_class c WHERE c.oid = 'memories'::regclass"
)
EXPORT_SQL = id_order_sql("memories", MEMORY_COLUMNS, lambda n: f"${n}")
KEY_BY_HASH_SQL = (
    f"SELECT {KEY_COLUMNS}, k.key_hash FROM api_keys k JOIN users u ON u.id = k.user_id"
    " WHERE k.key_hash = $1 AND k.revoked_at IS NULL"
)
# The key and its user's first page (or memory) in one statement, one round trip:
# $1 key hash, then the page's $2 limit, $3 offset (or the memory's $2 id). No row:
# no such active key; a NULL read: no rows (no such memory).
KEY_AND_PAGE_SQL = (
    f"SELECT {KEY_COLUMNS}, k.key_hash, (SELECT string_agg(page.json, ',' ORDER BY"
    f" page.scoring DESC, page.created_at DESC, page.id DESC) FROM (SELECT m.scoring,"
    " m.created_at, m.id, m.json FROM memories m WHERE m.user_id = k.user_id"
    " ORDER BY m.scoring DESC, m.created_at DESC, m.id DESC LIMIT $2 OFFSET $3) page)"
    f" FROM api_keys k JOIN users u ON u.id = k.user_id"
    " WHERE k.key_hash = $1 AND k.revoked_at IS NULL"
)
KEY_AND_MEMORY_SQL = (
    f"SELECT {KEY_COLUMNS}, k.key_hash, (SELECT m.json FROM memories m"
    " WHERE m.user_id = k.user_id AND m.id = $2) FROM api_keys k"
    " JOIN users u ON u.id = k.user_id WHERE k.key_hash = $1 AND k.revoked_at IS NULL"
)
_INSERT_ACTION_ITEM = (
    f"INSERT INTO action_items (user_id, {ACTION_ITEM_COLUMNS})"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
)
_SELECT_ACTION_ITEM = (
    f"SELECT {ACTION_ITEM_COLUMNS} FROM action_items WHERE user_id = $1 AND id = $2"
)
_KEY_PLACEHOLDERS = ", ".join(f"${i}" for i in range(1, 10))
_INSERT_CONVERSATION = (
    f"INSERT INTO conversations (user_id, {WITH_TRANSCRIPT})"
    f" VALUES ({', '.join(f'${i}' for i in range(1, 14))})"
)
_SELECT_CONVERSATION = f"SELECT {WITH_TRANSCRIPT} FROM conversations WHERE user_id = $1 AND id = $2"
_CONVERSATIONS_AFTER = id_order_sql("conversations", WITH_TRANSCRIPT, lambda n: f"${n}")
_ACTION_ITEMS_AFTER = id_order_sql("action_items", ACTION_ITEM_COLUMNS, lambda n: f"${n}")


async def _insert_conversation(conn: Connection, user_id: str, new: NewConversation) -> None:
    await conn.execute(_INSERT_CONVERSATION, user_id, *conversation_values(new.conversation))
    if new.action_items:
        await conn.executemany(
            _INSERT_ACTION_ITEM,
            [(user_id, *action_item_values(item)) for item in new.action_items],
        )


class PostgresStore(PostgresWebhooks):
    """Store on a PostgreSQL database; see store/postgres_db.py for connections and
    errors."""

    keyword_half = rank.TS_RANK_CD_HALF

    def __init__(
        self,
        dsn: str,
        *,
        vector_cache_bytes: int = vector_cache.DEFAULT_BYTES,
        bounds: QueueBounds = QueueBounds(),  # noqa: B008 (frozen)
        **options: Any,
    ) -> None:
        """`options`: those of `PostgresDatabase` (pool sizes); `vector_cache_bytes`:
        see store/vector_cache.py; `bounds`: the embedding queue's (mnemo.admission)."""
        super().__init__(dsn, **options)
        self._embeddings = EmbeddingAdmission(bounds)
        self._bookmarks = Bookmarks()
        self._vector_cache = VectorCache(vector_cache_bytes)

    async def open(self) -> None:
        await super().open()
        while await self._write(lambda conn: key_backlog(conn, KEY_BACKLOG_PAGE)) > 0:
            pass

    # -- users and keys ----------------------------------------------------

    async def create_user(self, user: User) -> User:
        async def insert(conn: Connection) -> None:
            try:
                await conn.execute(
                    "INSERT INTO users (id, name, created_at) VALUES ($1, $2, $3)",
                    user.id,
                    user.name,
                    user.created_at,
                )
            except asyncpg.UniqueViolationError:
                raise Conflict(f"User '{user.name}' already exists") from None

        await self._write(insert)
        return user

    async def get_user(self, name: str) -> User | None:
        row = await self._read(
            lambda conn: conn.fetchrow(f"SELECT {USER_COLUMNS} FROM users WHERE name = $1", name)
        )
        return None if row is None else user_from_row(row)

    async def list_users(self, limit: int = 0, offset: int = 0) -> list[tuple[User, int]]:
        rows = await self._read(
            lambda conn: conn.fetch(
                "SELECT u.id, u.name, u.created_at,"
                " (SELECT count(*) FROM memories m WHERE m.user_id = u.id)"
                " FROM users u ORDER BY u.name LIMIT $1 OFFSET $2",
                limit or None,
                offset,
            )
        )
        return [(user_from_row(row), row[3]) for row in rows]

    async def count_memories(self, user_id: str) -> int:
        return int(
            await self._read(
                lambda conn: conn.fetchval(
                    "SELECT count(*) FROM memories WHERE user_id = $1", user_id
                )
            )
        )

    async def delete_user(self, user_id: str) -> int | None:
        async def delete(conn: Connection) -> int | None:
            # The user's row first: a write of theirs racing this one waits for it (its
            # foreign key check), then finds no user.
            if await conn.fetchval("SELECT 1 FROM users WHERE id = $1 FOR UPDATE", user_id):
                deleted = await _delete_memories(conn, user_id)
                for table in ACCOUNT_ROWS:
                    await conn.execute(f"DELETE FROM {table} WHERE user_id = $1", user_id)
                await conn.execute("DELETE FROM users WHERE id = $1", user_id)
                return deleted
            return None

        deleted = await self._write(delete)
        self._vector_cache.forget(user_id)
        return deleted

    async def delete_all_memories(self, user_id: str) -> int:
        return await self._write(lambda conn: _delete_memories(conn, user_id))

    async def create_key(self, key: ApiKey, key_hash: str) -> None:
        await self._write(
            lambda conn: conn.execute(
                f"INSERT INTO api_keys ({KEY_INSERT_COLUMNS}) VALUES ({_KEY_PLACEHOLDERS})",
                *key_values(key, key_hash),
            )
        )

    async def list_keys(self, user_id: str | None = None) -> list[ApiKey]:
        rows = await self._read(
            lambda conn: conn.fetch(
                f"SELECT {KEY_COLUMNS} FROM api_keys k JOIN users u ON u.id = k.user_id"
                " WHERE $1::text IS NULL OR k.user_id = $1 ORDER BY k.created_at, k.id",
                user_id,
            )
        )
        return [key_from_row(row) for row in rows]

    async def count_active_keys(self) -> int:
        return int(
            await self._read(
                lambda conn: conn.fetchval("SELECT count(*) FROM api_keys WHERE revoked_at IS NULL")
            )
        )

    async def revoke_key(self, key_id: str, revoked_at: int) -> bool:
        status = await self._write(
            lambda conn: conn.execute(
                "UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
                revoked_at,
                key_id,
            )
        )
        return _affected(status) > 0

    async def key_by_hash(self, key_hash: str) -> tuple[ApiKey, str] | None:
        row = await self._read(lambda conn: conn.fetchrow(KEY_BY_HASH_SQL, key_hash))
        return None if row is None else (key_from_row(row), row[9])

    async def key_and_page(self, key_hash: str, limit: int, offset: int) -> KeyAndRead:
        if offset + limit >= MIN_OFFSET:  # a deep page: bookmarks (list_memories_json)
            return await key_then_page(self, key_hash, limit, offset)
        row = await self._read(
            lambda conn: conn.fetchrow(KEY_AND_PAGE_SQL, key_hash, limit, offset)
        )
        return (None, None) if row is None else ((key_from_row(row), row[9]), json_array(row[10]))

    async def key_and_memory(self, key_hash: str, memory_id: str) -> KeyAndRead:
        row = await self._read(lambda conn: conn.fetchrow(KEY_AND_MEMORY_SQL, key_hash, memory_id))
        if row is None:
            return None, None
        return (key_from_row(row), row[9]), None if row[10] is None else str(row[10]).encode()

    async def touch_key(self, key_id: str, used_at: int) -> None:
        await self._write(
            lambda conn: conn.execute(
                "UPDATE api_keys SET last_used_at = $1 WHERE id = $2", used_at, key_id
            )
        )

    # -- memories ----------------------------------------------------------

    async def list_memories_json(
        self, user_id: str, categories: Sequence[str], limit: int, offset: int
    ) -> bytes:
        names = (list(categories),) if categories else ()
        mark = self._bookmarks.find(user_id, categories, offset)
        if mark is not None:  # the rows after a remembered one, if nothing has moved
            version, after = mark
            sql = LIST_AFTER_BY_CATEGORY_SQL if names else LIST_AFTER_SQL
            args = (user_id, limit, version, *after, *names)
            rows = await self._read(lambda conn: conn.fetch(sql, *args))
            if rows:
                self._bookmarks.remember_page(user_id, categories, offset, rows, None)
                return json_array(",".join(row[4] for row in rows))
        if offset + limit < MIN_OFFSET:  # no bookmark to leave: one string
            sql = PAGE_BY_CATEGORY_SQL if names else PAGE_SQL
            page_args = (user_id, limit, offset, *names)
            return json_array(await self._read(lambda conn: conn.fetchval(sql, *page_args)))
        # A deep page reads the row before it too, to remember where it starts.
        before = int(offset >= MIN_OFFSET)
        sql = LIST_BY_CATEGORY_SQL if names else LIST_SQL
        page_args = (user_id, limit + before, offset - before, *names)
        rows = await self._read(lambda conn: conn.fetch(sql, *page_args))
        first, page = (rows[0], rows[1:]) if before and rows else (None, rows)
        self._bookmarks.remember_page(user_id, categories, offset, page, first)
        return json_array(",".join(row[4] for row in page))

    async def get_memory(self, user_id: str, memory_id: str) -> Memory | None:
        row = await self._read(lambda conn: _select_memory(conn, user_id, memory_id))
        return None if row is None else memory_from_row(row)

    async def get_memory_json(self, user_id: str, memory_id: str) -> bytes | None:
        found = await self._read(lambda conn: conn.fetchval(GET_JSON_SQL, user_id, memory_id))
        return None if found is None else str(found).encode()

    async def insert_memories(
        self,
        user_id: str,
        memories: Sequence[Memory],
        vectors: Sequence[bytes] = (),
        *,
        dedup: bool = False,
        idempotent: IdempotentWrite | None = None,
        conversation: NewConversation | None = None,
    ) -> list[Memory | None]:
        async def insert(conn: Connection) -> list[Memory | None]:
            if idempotent is not None:  # first: a concurrent create of the key waits here
                await _claim_key(conn, user_id, idempotent)
            if conversation is not None:
                await _insert_conversation(conn, user_id, conversation)
            keys = [dedup_keys(m.content) for m in memories]
            found: list[Memory | None] = [None] * len(memories)
            if dedup:
                found = await stored_duplicates(conn, user_id, memories, keys)
            new = [i for i, repeated in enumerate(found) if repeated is None]
            rows = [memories[i] for i in new]
            if vectors:
                await _insert_rows(conn, user_id, rows, [vectors[i] for i in new])
            else:  # and queued for their embeddings, in the same statement
                await _insert_queued(conn, self._embeddings, user_id, rows)
            await put_keys(conn, user_id, [(memories[i].id, keys[i]) for i in new])
            if idempotent is not None:
                await _store_answer(conn, user_id, idempotent, memories, found)
            return found

        if not (memories or conversation):
            return []
        return await self._write(_acting(insert))

    async def stored_answer(
        self, user_id: str, key: str, now_us: int
    ) -> tuple[str, int, bytes] | None:
        row = await self._read(lambda conn: conn.fetchrow(_STORED_ANSWER, user_id, key, now_us))
        return None if row is None else (row[0], int(row[1]), bytes(row[2]))

    async def update_memory(
        self, user_id: str, memory_id: str, change: MemoryChange, vector: bytes | None = None
    ) -> Memory | None:
        async def update(conn: Connection) -> Memory | None:
            row = await _select_memory(conn, user_id, memory_id, lock=True)
            if row is None:
                return None
            new = change(memory_from_row(row))
            v = memory_values(new)
            await conn.execute(
                "UPDATE memories SET content = $1, category = $2, visibility = $3, tags = $4,"
                " updated_at = $5, manually_added = $6, scoring = $7, reviewed = $8,"
                " user_review = $9, edited = $10, json = $11,"
                # a changed content's vector is stale: it goes in the same row version
                " embedding = CASE WHEN content = $1 THEN embedding END"
                " WHERE user_id = $12 AND id = $13",
                *v[1:5],
                *v[6:12],
                v[13],
                user_id,
                memory_id,
            )
            if new.content != memory_from_row(row).content:
                await conn.execute("DELETE FROM memory_keys WHERE memory_id = $1", memory_id)
                await put_keys(conn, user_id, [(memory_id, dedup_keys(new.content))])
                if vector is not None:
                    await _put_vectors(conn, user_id, [memory_id], [vector])
                else:  # the new vector is computed from the queue
                    await _enqueue(conn, self._embeddings, user_id, [memory_id])
            return new

        return await self._write(_acting(update))

    async def delete_memory(self, user_id: str, memory_id: str) -> bool:
        status = await self._write(
            _acting(lambda conn: conn.execute(DELETE_SQL, user_id, memory_id))
        )
        return _affected(status) > 0

    # -- action items ------------------------------------------------------

    async def insert_action_items(self, user_id: str, items: Sequence[ActionItem]) -> None:
        rows = [(user_id, *action_item_values(item)) for item in items]
        if rows:
            await self._write(lambda conn: conn.executemany(_INSERT_ACTION_ITEM, rows))

    async def list_action_items(
        self, user_id: str, where: ActionItemFilter, limit: int, offset: int
    ) -> list[ActionItem]:
        sql, params = action_item_list_sql(user_id, where, lambda n: f"${n}")
        rows = await self._read(lambda conn: conn.fetch(sql, *params, limit, offset))
        return [action_item_from_row(row) for row in rows]

    async def get_action_item(self, user_id: str, item_id: str) -> ActionItem | None:
        row = await self._read(lambda conn: conn.fetchrow(_SELECT_ACTION_ITEM, user_id, item_id))
        return None if row is None else action_item_from_row(row)

    async def update_action_item(
        self, user_id: str, item_id: str, change: ActionItemChange
    ) -> ActionItem | None:
        async def update(conn: Connection) -> ActionItem | None:
            row = await conn.fetchrow(_SELECT_ACTION_ITEM + " FOR UPDATE", user_id, item_id)
            if row is None:
                return None
            new = change(action_item_from_row(row))
            v = action_item_values(new)
            await conn.execute(
                "UPDATE action_items SET description = $1, completed = $2, updated_at = $3,"
                " due_at = $4, completed_at = $5 WHERE user_id = $6 AND id = $7",
                v[2],
                v[3],
                *v[5:],
                user_id,
                item_id,
            )
            return new

        return await self._write(update)

    async def delete_action_item(self, user_id: str, item_id: str) -> bool:
        status = await self._write(
            lambda conn: conn.execute(
                "DELETE FROM action_items WHERE user_id = $1 AND id = $2", user_id, item_id
            )
        )
        return _affected(status) > 0

    # -- conversations -----------------------------------------------------

    async def list_conversations(
        self,
        user_id: str,
        where: ConversationFilter,
        limit: int,
        offset: int,
        *,
        transcript: bool = False,
    ) -> list[Conversation]:
        sql, params = conversation_list_sql(
            user_id, where, lambda n: f"${n}", transcript=transcript
        )
        rows = await self._read(lambda conn: conn.fetch(sql, *params, limit, offset))
        return [conversation_from_row(row) for row in rows]

    async def get_conversation(self, user_id: str, conversation_id: str) -> Conversation | None:
        row = await self._read(
            lambda conn: conn.fetchrow(_SELECT_CONVERSATION, user_id, conversation_id)
        )
        return None if row is None else conversation_from_row(row)

    async def update_conversation(
        self, user_id: str, conversation_id: str, change: ConversationChange
    ) -> Conversation | None:
        async def update(conn: Connection) -> Conversation | None:
            row = await conn.fetchrow(
                _SELECT_CONVERSATION + " FOR UPDATE", user_id, conversation_id
            )
            if row is None:
                return None
            new = change(conversation_from_row(row))
            await conn.execute(
                "UPDATE conversations SET title = $1, discarded = $2"
                " WHERE user_id = $3 AND id = $4",
                new.title,
                new.discarded,
                user_id,
                conversation_id,
            )
            return new

        return await self._write(update)

    async def delete_conversation(
        self, user_id: str, conversation_id: str, *, with_memories: bool = False
    ) -> bool:
        async def delete(conn: Connection) -> bool:
            gone = await conn.execute(
                "DELETE FROM conversations WHERE user_id = $1 AND id = $2",
                user_id,
                conversation_id,
            )
            if not _affected(gone):
                return False
            if with_memories:
                await conn.execute(
                    "DELETE FROM memories WHERE user_id = $1 AND conversation_id = $2",
                    user_id,
                    conversation_id,
                )
            else:
                rows = await conn.fetch(
                    f"SELECT {MEMORY_COLUMNS} FROM memories WHERE user_id = $1"
                    " AND conversation_id = $2 FOR UPDATE",
                    user_id,
                    conversation_id,
                )
                await conn.executemany(
                    "UPDATE memories SET conversation_id = NULL, json = $1"
                    " WHERE user_id = $2 AND id = $3",
                    [(text, user_id, memory_id) for memory_id, text in unlinked(rows)],
                )
            await conn.execute(
                "UPDATE action_items SET conversation_id = NULL"
                " WHERE user_id = $1 AND conversation_id = $2",
                user_id,
                conversation_id,
            )
            return True

        return await self._write(_acting(delete))

    async def conversation_memories_json(
        self, user_id: str, conversation_id: str, categories: Sequence[str], limit: int, offset: int
    ) -> bytes:
        in_categories = " AND category = ANY($5::text[])" if categories else ""
        sql = (
            f"SELECT string_agg(json, ',' ORDER BY {_ORDER}) FROM (SELECT scoring, created_at,"
            " id, json FROM memories WHERE user_id = $1 AND conversation_id = $2"
            f"{in_categories} ORDER BY {_ORDER} LIMIT $3 OFFSET $4) page"
        )
        args: list[Any] = [user_id, conversation_id, limit, offset]
        if categories:
            args.append(list(categories))
        return json_array(await self._read(lambda conn: conn.fetchval(sql, *args)))

    async def memory_history(self, user_id: str, memory_id: str) -> list[HistoryRow]:
        rows = await self._read(lambda conn: conn.fetch(_HISTORY, user_id, memory_id))
        return [HistoryRow(*row) for row in rows]

    async def prune_history(self, before_us: int, limit: int) -> int:
        status = await self._write(lambda conn: conn.execute(_PRUNE_HISTORY, before_us, limit))
        return _affected(status)

    # -- search --------------------------------------------------------------

    async def keyword_search(
        self, user_id: str, query: str, limit: int, categories: Sequence[str] = ()
    ) -> list[tuple[str, float]]:
        terms = pg_tsquery_text(query)
        if terms is None:
            return []
        rows = await self._read(
            lambda conn: conn.fetch(
                "SELECT id, ts_rank_cd(search_tsv, q) FROM memories,"
                " to_tsquery('english', $2) AS q"
                " WHERE user_id = $1 AND search_tsv @@ q"
                " AND (cardinality($4::text[]) = 0 OR category = ANY($4::text[]))"
                " ORDER BY 2 DESC, id LIMIT $3",
                user_id,
                terms,
                limit,
                list(categories),
            )
        )
        return [(row[0], float(row[1])) for row in rows]

    async def semantic_search(
        self, user_id: str, vector: bytes, limit: int, categories: Sequence[str] = ()
    ) -> list[tuple[str, float]]:
        """Exact scan of the user's embeddings (the pgvector extension is not required),
        kept by this process between searches (store/vector_cache.py): one statement
        when they are kept (a version read in one statement labels exactly the vectors
        of that version); read again, with their version in one snapshot, when not."""
        query = vectors_from_blobs([vector])[0]

        async def search(conn: Connection) -> list[tuple[str, float]]:
            vectors = self._vector_cache.get(user_id, await _vectors_version(conn, user_id))
            if vectors is None:
                async with conn.transaction(isolation="repeatable_read", readonly=True):
                    version = await _vectors_version(conn, user_id)  # of these vectors
                    vectors = await self._changed_vectors(conn, user_id, version)
                self._vector_cache.put(user_id, version, vectors)
            nearest = rank.nearest(*vectors, query, vector_cache.depth(limit, categories))
            if not categories:
                return nearest[:limit]
            kept = {
                row[0]
                for row in await conn.fetch(
                    "SELECT id FROM memories WHERE user_id = $1 AND id = ANY($2::text[])"
                    " AND category = ANY($3::text[])",
                    user_id,
                    [memory_id for memory_id, _ in nearest],
                    list(categories),
                )
            }
            return [(memory_id, score) for memory_id, score in nearest if memory_id in kept][:limit]

        return await self._read(search)

    async def _changed_vectors(self, conn: Connection, user_id: str, version: int) -> UserVectors:
        """The user's vectors at `version` (inside a transaction): those kept, patched
        with those that changed if the change records say which, else all read again."""
        kept = self._vector_cache.kept(user_id)
        if kept is not None:
            records = await conn.fetch(
                "SELECT version, keys FROM vectors_changes WHERE user_id = $1 AND version > $2",
                user_id,
                kept[0],
            )
            changed = vector_cache.changed_keys([(int(v), k) for v, k in records], kept[0], version)
            if changed is not None:
                fresh = await _vectors_of(conn, user_id, sorted(changed))
                return vector_cache.patched(kept[1], changed, fresh)
        return await _vectors_of(conn, user_id)

    async def memories_by_ids(self, user_id: str, ids: Sequence[str]) -> dict[str, Memory]:
        rows = await self._read(
            lambda conn: conn.fetch(
                f"SELECT {MEMORY_COLUMNS} FROM memories WHERE user_id = $1"
                " AND id = ANY($2::text[])",
                user_id,
                list(ids),
            )
        )
        return {row[0]: memory_from_row(row) for row in rows}

    async def set_vectors(self, user_id: str, vectors: Sequence[tuple[str, bytes]]) -> None:
        ids, blobs = [i for i, _ in vectors], [b for _, b in vectors]
        await self._write(lambda conn: _put_vectors(conn, user_id, ids, blobs))

    async def count_unindexed(self) -> int:
        return int(
            await self._read(
                lambda conn: conn.fetchval("SELECT count(*) FROM memories WHERE embedding IS NULL")
            )
        )

    # -- the embedding queue (docs/search.md) --------------------------------

    async def claim_embeddings(
        self, limit: int, lease_us: int, now: int | None = None
    ) -> list[Queued]:
        at = now_us() if now is None else now
        # A worker that waited on another's claim of a row re-checks its lease and skips it.
        rows = await self._write(lambda conn: conn.fetch(_CLAIM_SQL, limit, at, at + lease_us))
        return sorted((Queued(*row) for row in rows), key=lambda q: q.memory_id)

    async def pending_embeddings(self, user_id: str | None = None, limit: int = 0) -> list[Queued]:
        rows = await self._read(
            lambda conn: conn.fetch(
                "SELECT q.user_id, q.memory_id, m.content FROM embedding_queue q"
                " JOIN memories m ON m.id = q.memory_id"
                " WHERE $1::text IS NULL OR q.user_id = $1"
                " ORDER BY q.queued_at, q.memory_id LIMIT nullif($2, 0)",
                user_id,
                limit,
            )
        )
        return [Queued(*row) for row in rows]

    async def complete_embeddings(self, done: Sequence[tuple[Queued, bytes]]) -> int:
        async def complete(conn: Connection) -> int:
            # The memories first, locked in id order, as an update or a delete locks them
            # (before their queue rows): no deadlock with those, nor between workers.
            current = {
                row[0]: row[1]
                for row in await conn.fetch(
                    "SELECT m.id, m.content FROM memories m JOIN embedding_queue q"
                    " ON q.memory_id = m.id WHERE m.id = ANY($1::text[])"
                    " ORDER BY m.id FOR UPDATE OF m",
                    [item.memory_id for item, _ in done],
                )
            }
            fresh = [(item, v) for item, v in done if current.get(item.memory_id) == item.content]
            if not fresh:
                return 0
            ids = [item.memory_id for item, _ in fresh]
            await conn.execute("DELETE FROM embedding_queue WHERE memory_id = ANY($1::text[])", ids)
            await conn.execute(
                "UPDATE memories SET embedding = v.embedding"
                " FROM unnest($1::text[], $2::bytea[]) AS v(id, embedding)"
                " WHERE memories.id = v.id",
                ids,
                [v for _, v in fresh],
            )
            return len(fresh)

        return await self._write(complete) if done else 0

    def admit_early(self, user_id: str) -> None:
        self._embeddings.admit_early(user_id)

    async def count_pending(self) -> int:
        return int(
            await self._read(lambda conn: conn.fetchval("SELECT count(*) FROM embedding_queue"))
        )

    async def count_all_memories(self) -> int:
        return int(await self._read(lambda conn: conn.fetchval(_COUNT_MEMORIES, EXACT_COUNT_BELOW)))

    # -- export and import -------------------------------------------------

    async def memories_after(self, user_id: str, after_id: str, limit: int) -> list[Memory]:
        rows = await self._read(lambda conn: conn.fetch(EXPORT_SQL, user_id, after_id, limit))
        return [memory_from_row(row) for row in rows]

    async def import_memories(
        self, user_id: str, memories: Sequence[Memory], vectors: Sequence[bytes] = ()
    ) -> int:
        if not memories:
            return 0

        async def insert(conn: Connection) -> int:
            added = await _insert_rows(conn, user_id, memories, vectors, skip_existing=True)
            await put_keys(conn, user_id, [(i, dedup_keys(c)) for i, c in added])
            return len(added)

        return await self._write(_acting(insert))

    async def conversations_after(
        self, user_id: str, after_id: str, limit: int
    ) -> list[Conversation]:
        rows = await self._read(
            lambda conn: conn.fetch(_CONVERSATIONS_AFTER, user_id, after_id, limit)
        )
        return [conversation_from_row(row) for row in rows]

    async def action_items_after(self, user_id: str, after_id: str, limit: int) -> list[ActionItem]:
        rows = await self._read(
            lambda conn: conn.fetch(_ACTION_ITEMS_AFTER, user_id, after_id, limit)
        )
        return [action_item_from_row(row) for row in rows]

    async def import_conversations(
        self, user_id: str, conversations: Sequence[Conversation]
    ) -> list[str]:
        insert = f"{_INSERT_CONVERSATION} ON CONFLICT DO NOTHING"
        rows = [(user_id, *conversation_values(c)) for c in conversations]

        async def run(conn: Connection) -> list[str]:
            return [row[1] for row in rows if _affected(await conn.execute(insert, *row))]

        return await self._write(run) if rows else []

    async def import_action_items(self, user_id: str, items: Sequence[ActionItem]) -> int:
        insert = f"{_INSERT_ACTION_ITEM} ON CONFLICT DO NOTHING"
        rows = [(user_id, *action_item_values(item)) for item in items]

        async def run(conn: Connection) -> int:
            return sum([_affected(await conn.execute(insert, *row)) for row in rows])

        return await self._write(run) if rows else 0

    async def analyze(self) -> None:
        # VACUUM cannot run in a transaction: on a pooled connection of its own.
        await self._read(lambda conn: conn.execute("VACUUM (ANALYZE) memories"))

    async def keys_with_hashes(self, user_id: str) -> list[tuple[ApiKey, str]]:
        rows = await self._read(
            lambda conn: conn.fetch(
                f"SELECT {KEY_COLUMNS}, k.key_hash FROM api_keys k"
                " JOIN users u ON u.id = k.user_id WHERE k.user_id = $1"
                " ORDER BY k.created_at, k.id",
                user_id,
            )
        )
        return [(key_from_row(row), row[9]) for row in rows]

    async def import_key(self, key: ApiKey, key_hash: str) -> bool:
        status = await self._write(
            lambda conn: conn.execute(
                f"INSERT INTO api_keys ({KEY_INSERT_COLUMNS}) VALUES ({_KEY_PLACEHOLDERS})"
                " ON CONFLICT DO NOTHING",
                *key_values(key, key_hash),
            )
        )
        return _affected(status) > 0

    async def browse_memories(
        self, user_id: str, where: MemoryFilter, limit: int, offset: int
    ) -> tuple[list[Memory], int]:
        page, count, params = browse_sql(
            user_id,
            where,
            lambda n: f"${n}",
            lambda p: f"tags::jsonb ? {p}",
            lambda p: f"strpos(tags, {p}) > 0",
        )

        async def read(conn: Connection) -> tuple[list[Memory], int]:
            rows = await conn.fetch(page, *params, limit, offset)
            return [memory_from_row(row) for row in rows], int(await conn.fetchval(count, *params))

        return await self._read(read)

    async def create_ui_session(self, session: UiSession) -> None:
        async def create(conn: Connection) -> None:
            await conn.execute("DELETE FROM ui_sessions WHERE expires_at <= $1", session.created_at)
            await conn.execute(
                f"INSERT INTO ui_sessions ({UI_SESSION_COLUMNS})"
                " VALUES ($1, $2, $3, $4, $5, $6, $7)",
                *session_values(session),
            )

        await self._write(create)

    async def ui_session(self, id_hash: str, now_us: int) -> tuple[UiSession, ApiKey | None] | None:
        row = await self._read(lambda conn: conn.fetchrow(_UI_SESSION, id_hash, now_us))
        return None if row is None else session_from_row(row)

    async def end_ui_session(self, id_hash: str) -> None:
        await self._write(
            lambda conn: conn.execute("DELETE FROM ui_sessions WHERE id_hash = $1", id_hash)
        )


async def _delete_memories(conn: Connection, user_id: str) -> int:
    """Delete the user's memories (their vectors and full-text entries are columns of
    theirs) and every row derived from them; how many."""
    for table in MEMORY_ROWS:
        await conn.execute(f"DELETE FROM {table} WHERE user_id = $1", user_id)
    return _affected(await conn.execute("DELETE FROM memories WHERE user_id = $1", user_id))


_UI_SESSION = session_sql(lambda n: f"${n}")
_HISTORY = (
    "SELECT action, actor, at, old_json, new_json FROM memory_history"
    " WHERE user_id = $1 AND memory_id = $2 ORDER BY id"
)
_PRUNE_HISTORY = (
    "DELETE FROM memory_history WHERE id IN"
    " (SELECT id FROM memory_history WHERE at < $1 ORDER BY at LIMIT $2)"
)


def _acting(work: Callable[[Connection], Awaitable[T]]) -> Callable[[Connection], Awaitable[T]]:
    """`work` run with the current actor (mnemo.store.changes) as the transaction's
    setting `mnemo.actor`, read by the history triggers (gone when it ends)."""
    actor = current_actor()
    if actor is None:
        return work

    async def run(conn: Connection) -> T:
        await conn.execute("SELECT set_config('mnemo.actor', $1, true)", actor)
        return await work(conn)

    return run


def _affected(status: str) -> int:
    """Rows affected, from a command tag such as 'DELETE 1'."""
    return int(status.rsplit(" ", 1)[-1])


async def _insert_rows(
    conn: Connection,
    user_id: str,
    memories: Sequence[Memory],
    vectors: Sequence[bytes],
    *,
    skip_existing: bool = False,
) -> list[tuple[str, str]]:
    """Insert the memories with their embeddings in one statement (each row written
    once: no UPDATE after, no dead tuple); (id, content) of those inserted."""
    if not memories:
        return []
    rows = await conn.fetch(
        _INSERT_MEMORIES
        + (" ON CONFLICT (id) DO NOTHING" if skip_existing else "")
        + " RETURNING id, content",
        user_id,
        *_memory_columns(memories, vectors),
    )
    return [(row[0], row[1]) for row in rows]


async def _insert_queued(
    conn: Connection, admission: EmbeddingAdmission, user_id: str, memories: Sequence[Memory]
) -> None:
    """Insert the memories without embeddings and queue them, in one statement that also
    counts the queue for `admission` (see `_enqueue`): one round trip for the three."""
    if not memories:
        return
    recount = admission.recount()
    row = await conn.fetchrow(
        f"WITH inserted AS ({_INSERT_MEMORIES} RETURNING id), queued AS (INSERT INTO"
        " embedding_queue (memory_id, user_id, queued_at) SELECT id, $1, $17 FROM inserted)"
        + _queue_counts(18),
        user_id,
        *_memory_columns(memories, ()),
        now_us(),
        *_count_limits(admission, recount),
    )
    _admit(admission, user_id, row, recount)


_INSERT_MEMORIES = (
    f"INSERT INTO memories (user_id, {WRITE_COLUMNS}, embedding)"
    " SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[],"
    " $6::text[], $7::bigint[], $8::bigint[], $9::bool[], $10::text[], $11::bool[],"
    " $12::bool[], $13::bool[], $14::text[], $15::text[], $16::bytea[])"
)


def _memory_columns(memories: Sequence[Memory], vectors: Sequence[bytes]) -> list[list[Any]]:
    """Parameters $2-$16 of `_INSERT_MEMORIES`: one array per column."""
    columns = [list(col) for col in zip(*(memory_values(m) for m in memories), strict=True)]
    embeddings: list[bytes | None] = list(vectors) if vectors else [None] * len(memories)
    return [*columns, embeddings]


# -- the embedding queue (migration 0007; its dedup keys: store/postgres_keys.py)

# Round robin between users: every user's oldest claimable row, then every user's
# second, ...: a user's backlog delays another's rows by one batch at most.
# $1 how many, $2 now, $3 the lease's end (microseconds).
_CLAIM_SQL = (
    "UPDATE embedding_queue q SET claimed_until = $3 FROM memories m"
    " WHERE m.id = q.memory_id AND q.claimed_until < $2 AND q.memory_id IN ("
    "SELECT memory_id FROM (SELECT memory_id, queued_at, row_number() OVER"
    " (PARTITION BY user_id ORDER BY queued_at, memory_id) AS turn FROM embedding_queue"
    " WHERE claimed_until < $2) r ORDER BY turn, queued_at, memory_id LIMIT $1)"
    " RETURNING q.user_id, q.memory_id, m.content"
)


async def _enqueue(
    conn: Connection, admission: EmbeddingAdmission, user_id: str, ids: Sequence[str]
) -> None:
    """Queue the memories' embeddings; refuse the write (its transaction rolls back)
    past a bound of the queue (mnemo.admission), counted by the same statement, as it
    was before this write: no round trip of its own."""
    if not ids:
        return
    recount = admission.recount()
    row = await conn.fetchrow(
        "WITH queued AS (INSERT INTO embedding_queue (memory_id, user_id, queued_at)"
        " SELECT id, $1, $3 FROM unnest($2::text[]) id"
        " ON CONFLICT (memory_id) DO UPDATE SET queued_at = excluded.queued_at,"
        " claimed_until = 0 RETURNING 1)" + _queue_counts(4),
        user_id,
        list(ids),
        now_us(),
        *_count_limits(admission, recount),
    )
    _admit(admission, user_id, row, recount)


def _queue_counts(first: int) -> str:
    """The queue's size as it was before the statement: the user's ($1), counted up to
    parameter `first`, and everyone's, up to parameter `first + 1` (0: not counted)."""
    return (
        " SELECT (SELECT count(*) FROM (SELECT 1 FROM embedding_queue WHERE user_id = $1"
        f" LIMIT ${first}) u), (SELECT count(*) FROM (SELECT 1 FROM embedding_queue"
        f" LIMIT ${first + 1}) a)"
    )


def _count_limits(admission: EmbeddingAdmission, recount: bool) -> tuple[int, int]:
    bounds = admission.bounds
    return bounds.embed_user, bounds.embed_total if recount else 0


def _admit(admission: EmbeddingAdmission, user_id: str, row: Any, recount: bool) -> None:
    assert row is not None
    admission.admit(user_id, int(row[0]), int(row[1]) if recount else None)


async def _put_vectors(
    conn: Connection, user_id: str, ids: Sequence[str], vectors: Sequence[bytes]
) -> None:
    if vectors:
        await conn.execute(
            "UPDATE memories SET embedding = v.embedding"
            " FROM unnest($2::text[], $3::bytea[]) AS v(id, embedding)"
            " WHERE memories.user_id = $1 AND memories.id = v.id",
            user_id,
            list(ids),
            list(vectors),
        )


async def _select_memory(
    conn: Connection, user_id: str, memory_id: str, *, lock: bool = False
) -> Any:
    return await conn.fetchrow(GET_SQL + (" FOR UPDATE" if lock else ""), user_id, memory_id)


async def _vectors_version(conn: Connection, user_id: str) -> int:
    """The user's `vectors_version` (-1 for a user that does not exist)."""
    version = await conn.fetchval("SELECT vectors_version FROM users WHERE id = $1", user_id)
    return -1 if version is None else int(version)


async def _vectors_of(
    conn: Connection, user_id: str, ids: Sequence[str] | None = None
) -> UserVectors:
    """The user's memories' vectors (of those `ids` only, if given)."""
    rows = await conn.fetch(
        "SELECT id, embedding FROM memories WHERE user_id = $1 AND embedding IS NOT NULL"
        + ("" if ids is None else " AND id = ANY($2::text[])"),
        user_id,
        *(() if ids is None else (list(ids),)),
    )
    return UserVectors(
        np.array([row[0] for row in rows], dtype=str),
        vectors_from_blobs([row[1] for row in rows]),
    )


# -- idempotency keys (migration 0008, mnemo.idempotency) --

_STORED_ANSWER = (
    "SELECT fingerprint, status, body FROM idempotency_keys"
    " WHERE user_id = $1 AND key = $2 AND expires_at > $3"
)


async def _claim_key(conn: Connection, user_id: str, idempotent: IdempotentWrite) -> None:
    """Delete some expired answers, then take the key's row (a placeholder, replaced by
    the answer before the commit), waiting for a concurrent transaction that holds it;
    raise `Replay` or 422 if the key has a live answer."""
    request = idempotent.request
    await conn.execute(
        "DELETE FROM idempotency_keys WHERE (user_id, key) IN (SELECT user_id, key"
        " FROM idempotency_keys WHERE expires_at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED)",
        request.now_us,
        EXPIRED_PURGED,
    )
    taken = await conn.fetchval(
        "INSERT INTO idempotency_keys (user_id, key, fingerprint, status, body, expires_at)"
        " VALUES ($1, $2, $3, 0, '', $4) ON CONFLICT (user_id, key) DO UPDATE SET"
        " fingerprint = excluded.fingerprint, status = 0, body = '',"
        " expires_at = excluded.expires_at WHERE idempotency_keys.expires_at <= $5"
        " RETURNING 1",
        user_id,
        request.key,
        request.fingerprint,
        request.expires_us,
        request.now_us,
    )
    if taken is None:
        row = await conn.fetchrow(_STORED_ANSWER, user_id, request.key, request.now_us)
        answer_again(request, None if row is None else (row[0], int(row[1]), bytes(row[2])))


async def _store_answer(
    conn: Connection,
    user_id: str,
    idempotent: IdempotentWrite,
    memories: Sequence[Memory],
    found: list[Memory | None],
) -> None:
    """Store the answer rendered from what the insert found, with the ids it shows."""
    request = idempotent.request
    await conn.execute(
        "INSERT INTO idempotency_keys (user_id, key, fingerprint, status, body, expires_at)"
        " VALUES ($1, $2, $3, 200, $4, $5) ON CONFLICT (user_id, key) DO UPDATE SET"
        " fingerprint = excluded.fingerprint, status = excluded.status,"
        " body = excluded.body, expires_at = excluded.expires_at",
        user_id,
        request.key,
        request.fingerprint,
        idempotent.render(found),
        request.expires_us,
    )
    await conn.execute(
        "DELETE FROM idempotency_memories WHERE user_id = $1 AND key = $2", user_id, request.key
    )
    await conn.executemany(
        "INSERT INTO idempotency_memories (memory_id, user_id, key) VALUES ($1, $2, $3)",
        [(memory_id, user_id, request.key) for memory_id in idempotent.shown_ids(memories, found)],
    )
