"""The embedded SQLite backend: the store's SQL on one SQLite file (`SQLiteDatabase`
holds the connections, threads and transactions; see store/sqlite_db.py)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from sqlean import dbapi2 as sqlite3

from mnemo.admission import EmbeddingAdmission
from mnemo.clock import now_us
from mnemo.errors import Conflict
from mnemo.idempotency import EXPIRED_PURGED, IdempotentWrite, answer_again
from mnemo.models import ActionItem, Conversation, Memory
from mnemo.search import rank
from mnemo.search.dedup import keys as dedup_keys
from mnemo.search.embed import vectors_from_blobs
from mnemo.search.keyword import fts5_query
from mnemo.store import vector_blocks, vector_cache
from mnemo.store.action_item_rows import (
    ACTION_ITEM_COLUMNS,
    action_item_from_row,
    action_item_list_sql,
    action_item_values,
)
from mnemo.store.base import (
    ACCOUNT_ROWS,
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
    key_then_memory,
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
from mnemo.store.sqlite_db import SMALL_READ_ROWS
from mnemo.store.sqlite_keys import KEY_BACKLOG_PAGE, key_backlog, put_keys, stored_duplicate
from mnemo.store.sqlite_webhooks import SQLiteWebhooks
from mnemo.store.ui_rows import (
    UI_SESSION_COLUMNS,
    browse_sql,
    session_from_row,
    session_sql,
    session_values,
)
from mnemo.store.vector_cache import UserVectors, VectorCache

_ORDER = "scoring DESC, created_at DESC, id DESC"
T = TypeVar("T")


class SQLiteStore(SQLiteWebhooks):
    """Store on one SQLite file; see store/sqlite_db.py for the concurrency model."""

    keyword_half = rank.FTS5_BM25_HALF

    def __init__(
        self, path: str, *, vector_cache_bytes: int = vector_cache.DEFAULT_BYTES, **options: Any
    ) -> None:
        """`options`: those of `SQLiteDatabase` (busy timeout, synchronous, readers);
        `vector_cache_bytes`: see store/vector_cache.py."""
        super().__init__(path, **options)
        self._embeddings = EmbeddingAdmission(self.bounds)
        self._bookmarks = Bookmarks()
        self._vector_cache = VectorCache(vector_cache_bytes)

    async def open(self) -> None:
        await super().open()
        while await self._write(key_backlog, KEY_BACKLOG_PAGE) == KEY_BACKLOG_PAGE:
            pass

    # -- users and keys ----------------------------------------------------

    async def create_user(self, user: User) -> User:
        def insert(conn: sqlite3.Connection) -> None:
            try:
                conn.execute(
                    "INSERT INTO users (id, name, created_at) VALUES (?, ?, ?)",
                    (user.id, user.name, user.created_at),
                )
            except sqlite3.IntegrityError:
                raise Conflict(f"User '{user.name}' already exists") from None

        await self._write(insert)
        return user

    async def get_user(self, name: str) -> User | None:
        row = await self._read(
            lambda conn: conn.execute(
                f"SELECT {USER_COLUMNS} FROM users WHERE name = ?", (name,)
            ).fetchone()
        )
        return None if row is None else user_from_row(row)

    async def list_users(self, limit: int = 0, offset: int = 0) -> list[tuple[User, int]]:
        rows = await self._read(
            lambda conn: conn.execute(
                "SELECT u.id, u.name, u.created_at,"
                " (SELECT count(*) FROM memories m WHERE m.user_id = u.id)"
                " FROM users u ORDER BY u.name LIMIT ? OFFSET ?",
                (limit or -1, offset),
            ).fetchall()
        )
        return [(user_from_row(row), row[3]) for row in rows]

    async def count_memories(self, user_id: str) -> int:
        row = await self._read(
            _fetch_one, "SELECT count(*) FROM memories WHERE user_id = ?", (user_id,)
        )
        return int(row[0])

    async def delete_user(self, user_id: str) -> int | None:
        def delete(conn: sqlite3.Connection) -> int | None:
            deleted = _delete_memories(conn, user_id)
            for table in ACCOUNT_ROWS:
                conn.execute(f"DELETE FROM {table} WHERE user_id = ?", (user_id,))
            gone = conn.execute("DELETE FROM users WHERE id = ?", (user_id,)).rowcount
            return deleted if gone else None

        deleted = await self._write(delete)
        self._vector_cache.forget(user_id)
        self._purge_soon()
        return deleted

    async def delete_all_memories(self, user_id: str) -> int:
        deleted = await self._write(_delete_memories, user_id)
        if deleted:
            self._purge_soon()
        return deleted

    async def create_key(self, key: ApiKey, key_hash: str) -> None:
        await self._write(
            lambda conn: conn.execute(
                f"INSERT INTO api_keys ({KEY_INSERT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                key_values(key, key_hash),
            ).close()
        )

    async def list_keys(self, user_id: str | None = None) -> list[ApiKey]:
        where, params = ("WHERE k.user_id = ?", (user_id,)) if user_id else ("", ())
        rows = await self._read(
            lambda conn: conn.execute(
                f"SELECT {KEY_COLUMNS} FROM api_keys k JOIN users u ON u.id = k.user_id"
                f" {where} ORDER BY k.created_at, k.id",
                params,
            ).fetchall()
        )
        return [key_from_row(row) for row in rows]

    async def count_active_keys(self) -> int:
        row = await self._read(
            lambda conn: conn.execute(
                "SELECT count(*) FROM api_keys WHERE revoked_at IS NULL"
            ).fetchone()
        )
        return int(row[0])

    async def revoke_key(self, key_id: str, revoked_at: int) -> bool:
        changed = await self._write(
            lambda conn: (
                conn.execute(
                    "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                    (revoked_at, key_id),
                ).rowcount
            )
        )
        return bool(changed)

    async def key_by_hash(self, key_hash: str) -> tuple[ApiKey, str] | None:
        row = await self._read_small(
            lambda conn: conn.execute(
                f"SELECT {KEY_COLUMNS}, k.key_hash FROM api_keys k"
                " JOIN users u ON u.id = k.user_id"
                " WHERE k.key_hash = ? AND k.revoked_at IS NULL",
                (key_hash,),
            ).fetchone()
        )
        return None if row is None else (key_from_row(row), row[9])

    async def key_and_page(self, key_hash: str, limit: int, offset: int) -> KeyAndRead:
        # Both are small reads on the loop's thread: two statements cost no round trip.
        return await key_then_page(self, key_hash, limit, offset)

    async def key_and_memory(self, key_hash: str, memory_id: str) -> KeyAndRead:
        return await key_then_memory(self, key_hash, memory_id)

    async def touch_key(self, key_id: str, used_at: int) -> None:
        await self._write(
            lambda conn: conn.execute(
                "UPDATE api_keys SET last_used_at = ? WHERE id = ?", (used_at, key_id)
            ).close()
        )

    # -- memories ----------------------------------------------------------

    async def list_memories_json(
        self, user_id: str, categories: Sequence[str], limit: int, offset: int
    ) -> bytes:
        in_categories = (
            f" AND category IN ({', '.join('?' * len(categories))})" if categories else ""
        )
        # Reads in index order are small (on the event loop's thread, store/sqlite_db.py)
        # when they step over few rows; two categories or more make SQLite sort all the
        # user's rows in them, so those always go to the pool.
        ordered = len(categories) <= 1
        mark = self._bookmarks.find(user_id, categories, offset)
        if mark is not None:  # the rows after a remembered one, if nothing has moved
            version, after = mark
            sql = (
                "SELECT ?, scoring, created_at, id, json FROM memories"
                f" WHERE user_id = ?{in_categories} AND (scoring, created_at, id) < (?, ?, ?)"
                " AND (SELECT memories_version FROM users WHERE id = ?) = ?"
                f" ORDER BY {_ORDER} LIMIT ?"
            )
            params: tuple[Any, ...] = (
                version,
                user_id,
                *categories,
                *after,
                user_id,
                version,
                limit,
            )
            small = ordered and limit <= SMALL_READ_ROWS
            rows = await (self._read_small if small else self._read)(_fetch_all, sql, params)
            if rows:
                self._bookmarks.remember_page(user_id, categories, offset, rows, None)
                return json_array(",".join(row[4] for row in rows))
        # A page that ends before MIN_OFFSET leaves no bookmark: its stored JSON texts,
        # read from the index memories_user_order alone (it holds the JSON), or by the
        # category index's rowids, joined into the array.
        if offset + limit < MIN_OFFSET:
            sql = page_json_sql(in_categories)
            small = ordered and offset + limit <= SMALL_READ_ROWS
            rows = await (self._read_small if small else self._read)(
                _fetch_all, sql, (user_id, *categories, limit, offset)
            )
            return json_array(",".join([row[0] for row in rows]))
        # A deep page reads the row before it too, to remember where it starts.
        before = int(offset >= MIN_OFFSET)
        params = (user_id, user_id, *categories, limit + before, offset - before)
        rows = await self._read(_fetch_all, deep_page_sql(in_categories), params)
        first, rows = (rows[0], rows[1:]) if before and rows else (None, rows)
        self._bookmarks.remember_page(user_id, categories, offset, rows, first)
        return json_array(",".join(row[4] for row in rows))

    async def get_memory(self, user_id: str, memory_id: str) -> Memory | None:
        row = await self._read(_select_memory, user_id, memory_id)
        return None if row is None else memory_from_row(row)

    async def get_memory_json(self, user_id: str, memory_id: str) -> bytes | None:
        row = await self._read_small(
            _fetch_one,
            "SELECT json FROM memories WHERE user_id = ? AND id = ?",
            (user_id, memory_id),
        )
        return None if row is None else row[0].encode()

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
        def insert(conn: sqlite3.Connection) -> list[Memory | None]:
            # The writer is this process's one thread and BEGIN IMMEDIATE holds SQLite's
            # write lock: no other create of the user can run between look and insert
            # (nor between the idempotency key's check and its answer's insert).
            if idempotent is not None:
                _check_key(conn, user_id, idempotent)
            if conversation is not None:
                _insert_conversation(conn, user_id, conversation)
            found: list[Memory | None] = []
            written: list[tuple[str, bytes]] = []
            padded: Sequence[bytes | None] = list(vectors) or [None] * len(memories)
            if not vectors and memories:
                _admit_embeddings(conn, self._embeddings, user_id)
            queued_at = now_us()
            for memory, vector in zip(memories, padded, strict=True):
                keys = dedup_keys(memory.content)
                repeated = stored_duplicate(conn, user_id, memory.content, keys) if dedup else None
                found.append(repeated)
                if repeated is not None:
                    continue
                conn.execute(_INSERT_MEMORY, (user_id, *memory_values(memory)))
                put_keys(conn, user_id, memory.id, keys)
                if vector is None:
                    _enqueue(conn, user_id, memory.id, queued_at)
                else:
                    written.append((memory.id, vector))
            _put_vectors(conn, user_id, [i for i, _ in written], [v for _, v in written])
            if idempotent is not None:
                _store_answer(conn, user_id, idempotent, memories, found)
            return found

        if not (memories or conversation):
            return []
        return await self._write(_acting(insert), user_id=user_id)

    async def stored_answer(
        self, user_id: str, key: str, now_us: int
    ) -> tuple[str, int, bytes] | None:
        row = await self._read(_fetch_one, _STORED_ANSWER, (user_id, key, now_us))
        return None if row is None else (row[0], int(row[1]), bytes(row[2]))

    async def update_memory(
        self, user_id: str, memory_id: str, change: MemoryChange, vector: bytes | None = None
    ) -> Memory | None:
        def update(conn: sqlite3.Connection) -> Memory | None:
            row = _select_memory(conn, user_id, memory_id)
            if row is None:
                return None
            current = memory_from_row(row)
            new = change(current)
            v = memory_values(new)
            conn.execute(
                "UPDATE memories SET content = ?, category = ?, visibility = ?, tags = ?,"
                " updated_at = ?, manually_added = ?, scoring = ?, reviewed = ?,"
                " user_review = ?, edited = ?, json = ? WHERE user_id = ? AND id = ?",
                (*v[1:5], *v[6:12], v[13], user_id, memory_id),
            )
            changed = new.content != current.content
            if changed:
                conn.execute("DELETE FROM memory_keys WHERE memory_id = ?", (memory_id,))
                put_keys(conn, user_id, memory_id, dedup_keys(new.content))
                if vector is not None:
                    _put_vectors(conn, user_id, [memory_id], [vector])
                else:  # the stale vector goes; the new one is computed from the queue
                    _admit_embeddings(conn, self._embeddings, user_id)
                    _drop_vectors(conn, user_id, [memory_id])
                    _enqueue(conn, user_id, memory_id, now_us())
            return new

        new = await self._write(_acting(update), user_id=user_id)
        if new is None:
            return None
        # Every update rewrites the row and its stored JSON: whatever it replaced (old
        # content, tags, category, visibility) must leave the WAL too, not only content.
        self._purge_soon()
        return new

    async def delete_memory(self, user_id: str, memory_id: str) -> bool:
        def delete(conn: sqlite3.Connection) -> bool:
            row = conn.execute(
                "DELETE FROM memories WHERE user_id = ? AND id = ? RETURNING rowid",
                (user_id, memory_id),
            ).fetchone()
            if row is not None:  # its vector leaves with it (no trigger can edit a block)
                vector_blocks.drop(conn, user_id, [row[0]])
            return row is not None

        deleted = await self._write(_acting(delete), user_id=user_id)
        if deleted:
            self._purge_soon()
        return deleted

    # -- action items ------------------------------------------------------

    async def insert_action_items(self, user_id: str, items: Sequence[ActionItem]) -> None:
        rows = [(user_id, *action_item_values(item)) for item in items]
        if rows:
            await self._write(
                lambda conn: conn.executemany(_INSERT_ACTION_ITEM, rows).close(), user_id=user_id
            )

    async def list_action_items(
        self, user_id: str, where: ActionItemFilter, limit: int, offset: int
    ) -> list[ActionItem]:
        sql, params = action_item_list_sql(user_id, where, lambda _: "?")
        rows = await self._read(_fetch_all, sql, (*params, limit, offset))
        return [action_item_from_row(row) for row in rows]

    async def get_action_item(self, user_id: str, item_id: str) -> ActionItem | None:
        row = await self._read(_fetch_one, _SELECT_ACTION_ITEM, (user_id, item_id))
        return None if row is None else action_item_from_row(row)

    async def update_action_item(
        self, user_id: str, item_id: str, change: ActionItemChange
    ) -> ActionItem | None:
        def update(conn: sqlite3.Connection) -> ActionItem | None:
            row = conn.execute(_SELECT_ACTION_ITEM, (user_id, item_id)).fetchone()
            if row is None:
                return None
            new = change(action_item_from_row(row))
            v = action_item_values(new)
            conn.execute(
                "UPDATE action_items SET description = ?, completed = ?, updated_at = ?,"
                " due_at = ?, completed_at = ? WHERE user_id = ? AND id = ?",
                (v[2], v[3], *v[5:], user_id, item_id),
            )
            return new

        new = await self._write(update, user_id=user_id)
        if new is not None:
            self._purge_soon()  # the old description leaves the WAL too
        return new

    async def delete_action_item(self, user_id: str, item_id: str) -> bool:
        deleted = await self._write(
            lambda conn: (
                conn.execute(
                    "DELETE FROM action_items WHERE user_id = ? AND id = ?", (user_id, item_id)
                ).rowcount
                > 0
            ),
            user_id=user_id,
        )
        if deleted:
            self._purge_soon()
        return bool(deleted)

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
        sql, params = conversation_list_sql(user_id, where, lambda _: "?", transcript=transcript)
        rows = await self._read(_fetch_all, sql, (*params, limit, offset))
        return [conversation_from_row(row) for row in rows]

    async def get_conversation(self, user_id: str, conversation_id: str) -> Conversation | None:
        row = await self._read(_fetch_one, _SELECT_CONVERSATION, (user_id, conversation_id))
        return None if row is None else conversation_from_row(row)

    async def update_conversation(
        self, user_id: str, conversation_id: str, change: ConversationChange
    ) -> Conversation | None:
        def update(conn: sqlite3.Connection) -> Conversation | None:
            row = conn.execute(_SELECT_CONVERSATION, (user_id, conversation_id)).fetchone()
            if row is None:
                return None
            new = change(conversation_from_row(row))
            conn.execute(
                "UPDATE conversations SET title = ?, discarded = ? WHERE user_id = ? AND id = ?",
                (new.title, new.discarded, user_id, conversation_id),
            )
            return new

        new = await self._write(update, user_id=user_id)
        if new is not None:
            self._purge_soon()  # the old title leaves the WAL too
        return new

    async def delete_conversation(
        self, user_id: str, conversation_id: str, *, with_memories: bool = False
    ) -> bool:
        def delete(conn: sqlite3.Connection) -> bool:
            gone = conn.execute(
                "DELETE FROM conversations WHERE user_id = ? AND id = ?",
                (user_id, conversation_id),
            ).rowcount
            if not gone:
                return False
            if with_memories:
                rowids = [
                    row[0]
                    for row in conn.execute(
                        "DELETE FROM memories WHERE user_id = ? AND conversation_id = ?"
                        " RETURNING rowid",
                        (user_id, conversation_id),
                    )
                ]
                vector_blocks.drop(conn, user_id, rowids)
            else:
                rows = conn.execute(_LINKED_MEMORIES, (user_id, conversation_id)).fetchall()
                conn.executemany(
                    "UPDATE memories SET conversation_id = NULL, json = ?"
                    " WHERE user_id = ? AND id = ?",
                    [(text, user_id, memory_id) for memory_id, text in unlinked(rows)],
                )
            conn.execute(
                "UPDATE action_items SET conversation_id = NULL"
                " WHERE user_id = ? AND conversation_id = ?",
                (user_id, conversation_id),
            )
            return True

        deleted = await self._write(_acting(delete), user_id=user_id)
        if deleted:
            self._purge_soon()
        return bool(deleted)

    async def conversation_memories_json(
        self, user_id: str, conversation_id: str, categories: Sequence[str], limit: int, offset: int
    ) -> bytes:
        sql = (
            "SELECT json FROM memories WHERE user_id = ? AND conversation_id = ?"
            f"{_category_filter(categories).replace('m.', '')} ORDER BY {_ORDER} LIMIT ? OFFSET ?"
        )
        rows = await self._read(
            _fetch_all, sql, (user_id, conversation_id, *categories, limit, offset)
        )
        return json_array(",".join(row[0] for row in rows))

    async def memory_history(self, user_id: str, memory_id: str) -> list[HistoryRow]:
        rows = await self._read(_fetch_all, _HISTORY, (user_id, memory_id))
        return [HistoryRow(*row) for row in rows]

    async def prune_history(self, before_us: int, limit: int) -> int:
        pruned = await self._write(
            lambda conn: conn.execute(_PRUNE_HISTORY, (before_us, limit)).rowcount
        )
        if pruned:
            self._purge_soon()
        return int(pruned)

    # -- search --------------------------------------------------------------

    async def keyword_search(
        self, user_id: str, query: str, limit: int, categories: Sequence[str] = ()
    ) -> list[tuple[str, float]]:
        terms = fts5_query(query, column="content")
        if terms is None:
            return []
        # The index names the user by `user_key`, the id without dashes (migration 0009):
        # one token, where the id would be a phrase of five. The full-text index runs
        # first (only this user's rows match), then the join checks the user again.
        user_key = user_id.replace("-", "").replace('"', '""')
        match = f'user_key : "{user_key}" AND {terms}'
        sql = (
            "WITH hits AS MATERIALIZED (SELECT rowid, bm25(memories_fts, 1.0, 0.0) AS score"
            " FROM memories_fts WHERE memories_fts MATCH ? ORDER BY score LIMIT ?)"
            " SELECT m.id, -hits.score FROM hits JOIN memories m ON m.rowid = hits.rowid"
            " WHERE m.user_id = ?"
            + _category_filter(categories)
            + " ORDER BY hits.score, m.id LIMIT ?"
        )
        pool = min(limit * (8 if categories else 1), 4096)
        params = (match, pool, user_id, *categories, limit)
        rows = await self._read(lambda conn: conn.execute(sql, params).fetchall())
        return [(row[0], float(row[1])) for row in rows]

    async def semantic_search(
        self, user_id: str, vector: bytes, limit: int, categories: Sequence[str] = ()
    ) -> list[tuple[str, float]]:
        k = vector_cache.depth(limit, categories)
        query = vectors_from_blobs([vector])[0]

        def search(conn: sqlite3.Connection) -> list[tuple[str, float]]:
            conn.execute("BEGIN")  # one snapshot: the version, the vectors, their ids
            try:
                nearest = dict(rank.nearest(*self._user_vectors(conn, user_id), query, k))
                if not nearest:
                    return []
                found = conn.execute(
                    # `+`: look the rowids up; the user index would walk all the user's rows
                    f"SELECT m.rowid, m.id FROM memories m WHERE +m.user_id = ?"
                    f" AND m.rowid IN ({', '.join('?' * len(nearest))})"
                    + _category_filter(categories),
                    (user_id, *nearest, *categories),
                ).fetchall()
            finally:
                conn.execute("COMMIT")
            ranked = sorted(((-nearest[rowid], memory_id) for rowid, memory_id in found))
            return [(memory_id, -negative) for negative, memory_id in ranked[:limit]]

        return await self._read(search)

    def _user_vectors(self, conn: sqlite3.Connection, user_id: str) -> UserVectors:
        """The user's vectors (inside a read transaction), from this process's cache if
        they have not changed, patched with those that changed if it can tell which."""
        row = conn.execute("SELECT vectors_version FROM users WHERE id = ?", (user_id,)).fetchone()
        version = -1 if row is None else int(row[0])
        vectors = self._vector_cache.get(user_id, version)
        if vectors is not None:
            return vectors
        kept = self._vector_cache.kept(user_id)
        changed = None
        if kept is not None:
            records = conn.execute(
                "SELECT version, keys FROM vectors_changes WHERE user_id = ? AND version > ?",
                (user_id, kept[0]),
            ).fetchall()
            changed = vector_cache.changed_keys(
                [
                    (v, None if k is None else [int(i) for i in k.split(",") if i])
                    for v, k in records
                ],
                kept[0],
                version,
            )
        if kept is None or changed is None:
            vectors = vector_blocks.read_all(conn, user_id)
        else:
            fresh = vector_blocks.read_some(conn, user_id, changed)
            vectors = vector_cache.patched(kept[1], changed, fresh)
        self._vector_cache.put(user_id, version, vectors)
        return vectors

    async def memories_by_ids(self, user_id: str, ids: Sequence[str]) -> dict[str, Memory]:
        if not ids:
            return {}
        sql = (
            f"SELECT {MEMORY_COLUMNS} FROM memories WHERE user_id = ?"
            f" AND id IN ({', '.join('?' * len(ids))})"
        )
        rows = await self._read(lambda conn: conn.execute(sql, (user_id, *ids)).fetchall())
        return {row[0]: memory_from_row(row) for row in rows}

    async def set_vectors(self, user_id: str, vectors: Sequence[tuple[str, bytes]]) -> None:
        ids, blobs = [i for i, _ in vectors], [b for _, b in vectors]
        await self._write(lambda conn: _put_vectors(conn, user_id, ids, blobs))

    async def count_unindexed(self) -> int:
        # Every vector belongs to a memory (deleted with it), so the missing ones are the
        # difference of two counts. (Probing per memory took minutes at 1 M.)
        def count(conn: sqlite3.Connection) -> int:
            (memories,) = conn.execute("SELECT count(*) FROM memories").fetchone()
            return int(memories) - vector_blocks.count(conn)

        return await self._read(count)

    # -- the embedding queue (docs/search.md) --------------------------------

    async def claim_embeddings(
        self, limit: int, lease_us: int, now: int | None = None
    ) -> list[Queued]:
        at = now_us() if now is None else now
        # Which rows, read outside the write lock; the claim re-checks each lease.
        wanted = await self._read(
            lambda conn: [row[0] for row in conn.execute(_CLAIMABLE, (at, limit))]
        )
        if not wanted:
            return []

        def claim(conn: sqlite3.Connection) -> list[Queued]:
            marks = ", ".join("?" * len(wanted))
            rows = conn.execute(
                f"UPDATE embedding_queue SET claimed_until = ? WHERE memory_id IN ({marks})"
                " AND claimed_until < ? RETURNING memory_id",
                (at + lease_us, *wanted, at),
            ).fetchall()
            return _queued(conn, [row[0] for row in rows])

        return await self._write(claim)

    async def pending_embeddings(self, user_id: str | None = None, limit: int = 0) -> list[Queued]:
        where, params = ("WHERE q.user_id = ?", (user_id,)) if user_id else ("", ())
        sql = (
            "SELECT q.user_id, q.memory_id, m.content FROM embedding_queue q"
            f" JOIN memories m ON m.id = q.memory_id {where} ORDER BY q.queued_at, q.memory_id"
            + (f" LIMIT {int(limit)}" if limit else "")
        )
        rows = await self._read(lambda conn: conn.execute(sql, params).fetchall())
        return [Queued(*row) for row in rows]

    async def complete_embeddings(self, done: Sequence[tuple[Queued, bytes]]) -> int:
        def complete(conn: sqlite3.Connection) -> int:
            by_user: dict[str, list[tuple[str, bytes]]] = {}
            for item, vector in done:
                row = conn.execute(
                    "SELECT m.content FROM embedding_queue q JOIN memories m"
                    " ON m.id = q.memory_id WHERE q.memory_id = ? AND q.user_id = ?",
                    (item.memory_id, item.user_id),
                ).fetchone()
                if row is None or row[0] != item.content:
                    continue  # done by another, deleted, or changed (and queued again)
                conn.execute("DELETE FROM embedding_queue WHERE memory_id = ?", (item.memory_id,))
                by_user.setdefault(item.user_id, []).append((item.memory_id, vector))
            for user_id, pairs in by_user.items():
                _put_vectors(conn, user_id, [i for i, _ in pairs], [v for _, v in pairs])
            return sum(len(pairs) for pairs in by_user.values())

        return await self._write(complete) if done else 0

    def admit_early(self, user_id: str) -> None:
        self._embeddings.admit_early(user_id)

    async def count_pending(self) -> int:
        row = await self._read(
            lambda conn: conn.execute("SELECT count(*) FROM embedding_queue").fetchone()
        )
        return int(row[0])

    async def count_all_memories(self) -> int:
        row = await self._read(_fetch_one, "SELECT count(*) FROM memories", ())
        return int(row[0])

    # -- export and import -------------------------------------------------

    async def memories_after(self, user_id: str, after_id: str, limit: int) -> list[Memory]:
        rows = await self._read(_fetch_all, _MEMORIES_AFTER, (user_id, after_id, limit))
        return [memory_from_row(row) for row in rows]

    async def import_memories(
        self, user_id: str, memories: Sequence[Memory], vectors: Sequence[bytes] = ()
    ) -> int:
        rows = [(user_id, *memory_values(m)) for m in memories]

        def insert(conn: sqlite3.Connection) -> int:
            added = []
            padded: Sequence[bytes | None] = list(vectors) if vectors else [None] * len(rows)
            for row, memory, vector in zip(rows, memories, padded, strict=True):
                if conn.execute(
                    _INSERT_MEMORY.replace("INSERT", "INSERT OR IGNORE", 1), row
                ).rowcount:
                    added.append((memory.id, vector))
                    put_keys(conn, user_id, memory.id, dedup_keys(memory.content))
            if vectors:
                _put_vectors(conn, user_id, [i for i, _ in added], [v for _, v in added])
            return len(added)

        return await self._write(_acting(insert)) if rows else 0

    async def conversations_after(
        self, user_id: str, after_id: str, limit: int
    ) -> list[Conversation]:
        rows = await self._read(_fetch_all, _CONVERSATIONS_AFTER, (user_id, after_id, limit))
        return [conversation_from_row(row) for row in rows]

    async def action_items_after(self, user_id: str, after_id: str, limit: int) -> list[ActionItem]:
        rows = await self._read(_fetch_all, _ACTION_ITEMS_AFTER, (user_id, after_id, limit))
        return [action_item_from_row(row) for row in rows]

    async def import_conversations(
        self, user_id: str, conversations: Sequence[Conversation]
    ) -> list[str]:
        insert = _INSERT_CONVERSATION.replace("INSERT", "INSERT OR IGNORE", 1)
        rows = [(user_id, *conversation_values(c)) for c in conversations]

        def run(conn: sqlite3.Connection) -> list[str]:
            return [row[1] for row in rows if conn.execute(insert, row).rowcount]

        return await self._write(run) if rows else []

    async def import_action_items(self, user_id: str, items: Sequence[ActionItem]) -> int:
        insert = _INSERT_ACTION_ITEM.replace("INSERT", "INSERT OR IGNORE", 1)
        rows = [(user_id, *action_item_values(item)) for item in items]

        def run(conn: sqlite3.Connection) -> int:
            return sum(conn.execute(insert, row).rowcount for row in rows)

        return await self._write(run) if rows else 0

    async def analyze(self) -> None:
        # Gathers statistics only where the planner lacks them (cheap when up to date).
        await self._write(lambda conn: conn.execute("PRAGMA optimize").fetchall())

    async def keys_with_hashes(self, user_id: str) -> list[tuple[ApiKey, str]]:
        rows = await self._read(
            lambda conn: conn.execute(
                f"SELECT {KEY_COLUMNS}, k.key_hash FROM api_keys k"
                " JOIN users u ON u.id = k.user_id WHERE k.user_id = ?"
                " ORDER BY k.created_at, k.id",
                (user_id,),
            ).fetchall()
        )
        return [(key_from_row(row), row[9]) for row in rows]

    async def import_key(self, key: ApiKey, key_hash: str) -> bool:
        changed = await self._write(
            lambda conn: (
                conn.execute(
                    f"INSERT OR IGNORE INTO api_keys ({KEY_INSERT_COLUMNS})"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    key_values(key, key_hash),
                ).rowcount
            )
        )
        return bool(changed)

    async def browse_memories(
        self, user_id: str, where: MemoryFilter, limit: int, offset: int
    ) -> tuple[list[Memory], int]:
        page, count, params = browse_sql(
            user_id,
            where,
            lambda _: "?",
            lambda p: f"EXISTS (SELECT 1 FROM json_each(tags) WHERE value = {p})",
            lambda p: f"instr(tags, {p}) > 0",
        )

        def read(conn: sqlite3.Connection) -> tuple[list[Memory], int]:
            rows = conn.execute(page, (*params, limit, offset)).fetchall()
            return [memory_from_row(row) for row in rows], conn.execute(count, params).fetchone()[0]

        return await self._read(read)

    async def create_ui_session(self, session: UiSession) -> None:
        def create(conn: sqlite3.Connection) -> None:
            conn.execute("DELETE FROM ui_sessions WHERE expires_at <= ?", (session.created_at,))
            conn.execute(
                f"INSERT INTO ui_sessions ({UI_SESSION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                session_values(session),
            )

        await self._write(create)

    async def ui_session(self, id_hash: str, now_us: int) -> tuple[UiSession, ApiKey | None] | None:
        row = await self._read_small(
            lambda conn: conn.execute(_UI_SESSION, (id_hash, now_us)).fetchone()
        )
        return None if row is None else session_from_row(row)

    async def end_ui_session(self, id_hash: str) -> None:
        await self._write(
            lambda conn: conn.execute(
                "DELETE FROM ui_sessions WHERE id_hash = ?", (id_hash,)
            ).close()
        )


_INSERT_MEMORY = (
    f"INSERT INTO memories (user_id, {WRITE_COLUMNS})"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


_UI_SESSION = session_sql(lambda _: "?")
_INSERT_ACTION_ITEM = (
    f"INSERT INTO action_items (user_id, {ACTION_ITEM_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_SELECT_ACTION_ITEM = f"SELECT {ACTION_ITEM_COLUMNS} FROM action_items WHERE user_id = ? AND id = ?"

_HISTORY = (
    "SELECT action, actor, at, old_json, new_json FROM memory_history"
    " WHERE user_id = ? AND memory_id = ? ORDER BY id"
)
_INSERT_CONVERSATION = (
    f"INSERT INTO conversations (user_id, {WITH_TRANSCRIPT})"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_SELECT_CONVERSATION = f"SELECT {WITH_TRANSCRIPT} FROM conversations WHERE user_id = ? AND id = ?"
_MEMORIES_AFTER = id_order_sql("memories", MEMORY_COLUMNS, lambda _: "?")
_CONVERSATIONS_AFTER = id_order_sql("conversations", WITH_TRANSCRIPT, lambda _: "?")
_ACTION_ITEMS_AFTER = id_order_sql("action_items", ACTION_ITEM_COLUMNS, lambda _: "?")
_LINKED_MEMORIES = (
    f"SELECT {MEMORY_COLUMNS} FROM memories WHERE user_id = ? AND conversation_id = ?"
)


def _insert_conversation(conn: sqlite3.Connection, user_id: str, new: NewConversation) -> None:
    conn.execute(_INSERT_CONVERSATION, (user_id, *conversation_values(new.conversation)))
    conn.executemany(
        _INSERT_ACTION_ITEM, [(user_id, *action_item_values(item)) for item in new.action_items]
    ).close()


_PRUNE_HISTORY = (
    "DELETE FROM memory_history WHERE id IN"
    " (SELECT id FROM memory_history WHERE at < ? ORDER BY at LIMIT ?)"
)
_SET_ACTOR = "UPDATE change_actor SET actor = ? WHERE only = 1"


def _acting(fn: Callable[[sqlite3.Connection], T]) -> Callable[[sqlite3.Connection], T]:
    """`fn` run with the current actor (mnemo.store.changes) in `change_actor` for the
    history triggers, reset before the transaction commits (a failed one rolls it back)."""
    actor = current_actor()
    if actor is None:
        return fn

    def run(conn: sqlite3.Connection) -> T:
        conn.execute(_SET_ACTOR, (actor,))
        done = fn(conn)
        conn.execute(_SET_ACTOR, (None,))
        return done

    return run


def page_json_sql(in_categories: str = "") -> str:
    """A page's stored JSON texts, a row each, in list order (parameters: user,
    categories, limit, offset). Without a category filter the statement steps the list
    index in its order: joining those rows in Python (~16 µs for 25) costs less than a
    `group_concat(... ORDER BY ...)`, whose ordered aggregate sorts them again (~26 µs)."""
    if not in_categories:
        return f"SELECT json FROM memories WHERE user_id = ? ORDER BY {_ORDER} LIMIT ? OFFSET ?"
    return f"SELECT json FROM ({_page_sql(in_categories)}) ORDER BY {_ORDER}"


def deep_page_sql(in_categories: str = "") -> str:
    """A deep page's rows (version, scoring, created_at, id, json) in list order
    (parameters: user, user, categories, limit, offset)."""
    return (
        "SELECT (SELECT memories_version FROM users WHERE id = ?), scoring, created_at,"
        f" id, json FROM ({_page_sql(in_categories, deep=True)}) ORDER BY {_ORDER}"
    )


def _page_sql(in_categories: str, *, deep: bool = False) -> str:
    """A page's sort keys and JSON (parameters: user, categories, limit, offset), in
    no particular order. A shallow page without a category filter is read from the
    index memories_user_order alone (it holds the JSON). Otherwise a narrow index
    gives the page's rowids first (the category index, or for a `deep` page without
    one memories_user_rank, migration 0010: its OFFSET steps over ~60 bytes an entry,
    not the JSON), then only those rows are read."""
    if not in_categories and not deep:
        return (
            "SELECT scoring, created_at, id, json FROM memories WHERE user_id = ?"
            f" ORDER BY {_ORDER} LIMIT ? OFFSET ?"
        )
    # CROSS JOIN: the rowids first, then each row by its rowid, whatever the statistics.
    index = "" if in_categories else " INDEXED BY memories_user_rank"
    return (
        "SELECT m.scoring, m.created_at, m.id, m.json FROM"
        f" (SELECT rowid AS page_rowid FROM memories{index} WHERE user_id = ?{in_categories}"
        f" ORDER BY {_ORDER} LIMIT ? OFFSET ?) CROSS JOIN memories m"
        " ON m.rowid = page_rowid"
    )


def _fetch_all(conn: sqlite3.Connection, sql: str, params: Sequence[Any]) -> list[Any]:
    return list(conn.execute(sql, params))


def _fetch_one(conn: sqlite3.Connection, sql: str, params: Sequence[Any]) -> Any:
    return conn.execute(sql, params).fetchone()


def _category_filter(categories: Sequence[str]) -> str:
    return f" AND m.category IN ({', '.join('?' * len(categories))})" if categories else ""


def _put_vectors(
    conn: sqlite3.Connection, user_id: str, ids: Sequence[str], vectors: Sequence[Any]
) -> None:
    """Set the embeddings of these memories (replacing any they had); bump the user's
    `vectors_version` and record which vectors changed (migration 0005)."""
    if not vectors:
        return
    written: dict[int, bytes] = {}
    for memory_id, vector in zip(ids, vectors, strict=True):
        row = conn.execute(
            "SELECT rowid FROM memories WHERE user_id = ? AND id = ?", (user_id, memory_id)
        ).fetchone()
        if row is not None and vector is not None:
            written[row[0]] = vector
    vector_blocks.put(conn, user_id, written)
    _record_vector_change(conn, user_id, list(written))


def _delete_memories(conn: sqlite3.Connection, user_id: str) -> int:
    """Delete the user's memories and every row derived from them; how many. Each
    memory's delete fires the triggers that empty its full-text entry and record the
    change of the user's vectors (migration 0005); their blocks go at once."""
    for table in (*MEMORY_ROWS, "memory_vectors"):
        conn.execute(f"DELETE FROM {table} WHERE user_id = ?", (user_id,))
    return int(conn.execute("DELETE FROM memories WHERE user_id = ?", (user_id,)).rowcount)


def _record_vector_change(conn: sqlite3.Connection, user_id: str, rowids: Sequence[int]) -> None:
    """Bump the user's `vectors_version` and record which vectors changed (0005)."""
    bumped = conn.execute(
        "UPDATE users SET vectors_version = vectors_version + 1 WHERE id = ?"
        " RETURNING vectors_version",
        (user_id,),
    ).fetchone()
    if bumped is None:
        return  # no such user, so no memory of theirs was written
    version = bumped[0]
    keys = ",".join(map(str, rowids)) if len(rowids) <= vector_cache.KEYS_LISTED else None
    conn.execute(
        "INSERT INTO vectors_changes (user_id, version, keys) VALUES (?, ?, ?)",
        (user_id, version, keys),
    )
    conn.execute(
        "DELETE FROM vectors_changes WHERE user_id = ? AND version <= ?",
        (user_id, version - vector_cache.CHANGES_KEPT),
    )


def _drop_vectors(conn: sqlite3.Connection, user_id: str, ids: Sequence[str]) -> None:
    """Remove the embeddings of these memories (their content changed)."""
    marks = ", ".join("?" * len(ids))
    rowids = [
        row[0]
        for row in conn.execute(
            f"SELECT rowid FROM memories WHERE user_id = ? AND id IN ({marks})", (user_id, *ids)
        )
    ]
    if rowids:
        vector_blocks.drop(conn, user_id, rowids)
        _record_vector_change(conn, user_id, rowids)


# -- idempotency keys (migration 0011, mnemo.idempotency) --

_STORED_ANSWER = (
    "SELECT fingerprint, status, body FROM idempotency_keys"
    " WHERE user_id = ? AND key = ? AND expires_at > ?"
)


def _check_key(conn: sqlite3.Connection, user_id: str, idempotent: IdempotentWrite) -> None:
    """Delete some expired answers; raise `Replay` or 422 if the key has a live one."""
    request = idempotent.request
    conn.execute(
        "DELETE FROM idempotency_keys WHERE rowid IN (SELECT rowid FROM idempotency_keys"
        " WHERE expires_at <= ? LIMIT ?)",
        (request.now_us, EXPIRED_PURGED),
    )
    row = conn.execute(_STORED_ANSWER, (user_id, request.key, request.now_us)).fetchone()
    answer_again(request, None if row is None else (row[0], int(row[1]), row[2]))


def _store_answer(
    conn: sqlite3.Connection,
    user_id: str,
    idempotent: IdempotentWrite,
    memories: Sequence[Memory],
    found: list[Memory | None],
) -> None:
    """Store the answer rendered from what the insert found, with the ids it shows (an
    expired answer of the same key not purged yet is replaced)."""
    request = idempotent.request
    conn.execute(
        "DELETE FROM idempotency_keys WHERE user_id = ? AND key = ?", (user_id, request.key)
    )
    conn.execute(
        "INSERT INTO idempotency_keys (user_id, key, fingerprint, status, body, expires_at)"
        " VALUES (?, ?, ?, 200, ?, ?)",
        (user_id, request.key, request.fingerprint, idempotent.render(found), request.expires_us),
    )
    conn.executemany(
        "INSERT INTO idempotency_memories (memory_id, user_id, key) VALUES (?, ?, ?)",
        [(memory_id, user_id, request.key) for memory_id in idempotent.shown_ids(memories, found)],
    )


# -- the embedding queue (migration 0008; its dedup keys: store/sqlite_keys.py) --

_CLAIMABLE = (
    # Round robin between users: every user's oldest claimable row, then every user's
    # second, ...: a user's backlog delays another's rows by one batch at most.
    "SELECT memory_id FROM (SELECT memory_id, queued_at, row_number() OVER"
    " (PARTITION BY user_id ORDER BY queued_at, memory_id) AS turn FROM embedding_queue"
    " WHERE claimed_until < ?) ORDER BY turn, queued_at, memory_id LIMIT ?"
)


def _admit_embeddings(
    conn: sqlite3.Connection, admission: EmbeddingAdmission, user_id: str
) -> None:
    """Refuse a write that would queue embeddings past a bound (mnemo.admission)."""
    bounds = admission.bounds
    user = conn.execute(_USER_QUEUED, (user_id, bounds.embed_user)).fetchone()[0]
    total = (
        conn.execute(_ALL_QUEUED, (bounds.embed_total,)).fetchone()[0]
        if admission.recount()
        else None
    )
    admission.admit(user_id, user, total)


# Counted up to a bound: no more rows are read than the bound needs.
_USER_QUEUED = "SELECT count(*) FROM (SELECT 1 FROM embedding_queue WHERE user_id = ? LIMIT ?)"
_ALL_QUEUED = "SELECT count(*) FROM (SELECT 1 FROM embedding_queue LIMIT ?)"


def _enqueue(conn: sqlite3.Connection, user_id: str, memory_id: str, queued_at: int) -> None:
    conn.execute(
        "INSERT INTO embedding_queue (memory_id, user_id, queued_at) VALUES (?, ?, ?)"
        " ON CONFLICT (memory_id) DO UPDATE SET queued_at = excluded.queued_at,"
        " claimed_until = 0",
        (memory_id, user_id, queued_at),
    )


def _queued(conn: sqlite3.Connection, ids: Sequence[str]) -> list[Queued]:
    if not ids:
        return []
    rows = conn.execute(
        "SELECT q.user_id, q.memory_id, m.content FROM embedding_queue q JOIN memories m"
        f" ON m.id = q.memory_id WHERE q.memory_id IN ({', '.join('?' * len(ids))})"
        " ORDER BY q.queued_at, q.memory_id",
        tuple(ids),
    ).fetchall()
    return [Queued(*row) for row in rows]


def _select_memory(conn: sqlite3.Connection, user_id: str, memory_id: str) -> Any:
    return conn.execute(
        f"SELECT {MEMORY_COLUMNS} FROM memories WHERE user_id = ? AND id = ?",
        (user_id, memory_id),
    ).fetchone()
