"""The dedup keys of the PostgreSQL backend (table `memory_keys`, migration 0007):
write a memory's keys, find the stored memories new ones repeat (under advisory locks
of their keys), key the memories stored before the migration. Every call runs inside
the caller's write transaction."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from mnemo.models import Memory
from mnemo.search import dedup
from mnemo.store.postgres_db import Connection
from mnemo.store.rows import MEMORY_COLUMNS, memory_from_row

KEY_BACKLOG_PAGE = 1000  # memories keyed per transaction when a store opens


def _lock_id(user_id: str, key: int) -> int:
    """The advisory lock of a user's dedup key (64 bits, as pg_advisory_xact_lock takes)."""
    digest = hashlib.blake2b(f"{user_id}:{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


async def put_keys(
    conn: Connection, user_id: str, keyed: Sequence[tuple[str, Sequence[int]]]
) -> None:
    pairs = [(memory_id, key) for memory_id, keys in keyed for key in keys]
    if pairs:
        await conn.execute(
            "INSERT INTO memory_keys (user_id, key, memory_id)"
            " SELECT $1, * FROM unnest($2::bigint[], $3::text[]) ON CONFLICT DO NOTHING",
            user_id,
            [key for _, key in pairs],
            [memory_id for memory_id, _ in pairs],
        )


async def stored_duplicates(
    conn: Connection, user_id: str, memories: Sequence[Memory], keys: Sequence[Sequence[int]]
) -> list[Memory | None]:
    """For each memory, the one of the user's it repeats: stored, or earlier in the
    batch (`dedup.find_duplicate` on those sharing a dedup key; no vectors). The keys'
    advisory locks, taken first in one order, make a concurrent create of the same fact
    wait for this transaction, then find its memory."""
    everything = sorted({key for ks in keys for key in ks})
    await conn.execute(
        "SELECT count(pg_advisory_xact_lock(k)) FROM (SELECT k FROM unnest($1::bigint[]) k"
        " ORDER BY k) locks",
        sorted({_lock_id(user_id, key) for key in everything}),
    )
    rows = await conn.fetch(
        f"SELECT k.key, {', '.join('m.' + c for c in MEMORY_COLUMNS.split(', '))}"
        " FROM memory_keys k JOIN memories m ON m.id = k.memory_id"
        " WHERE k.user_id = $1 AND k.key = ANY($2::bigint[]) ORDER BY m.id",
        user_id,
        everything,
    )
    by_key: dict[int, dict[str, Memory]] = {}
    for row in rows:
        by_key.setdefault(row[0], {})[row[1]] = memory_from_row(row[1:])
    found: list[Memory | None] = []
    for memory, own in zip(memories, keys, strict=True):
        candidates = {i: m for key in own for i, m in by_key.get(key, {}).items()}
        match = dedup.find_duplicate(
            memory.content, None, [(i, m.content, None) for i, m in candidates.items()]
        )
        found.append(None if match is None else candidates[match])
        if match is None:  # later items of the batch may repeat this one
            for key in own:
                by_key.setdefault(key, {})[memory.id] = memory
    return found


async def key_backlog(conn: Connection, page: int) -> int:
    """Key up to `page` memories stored before migration 0007; how many."""
    rows = await conn.fetch(
        "DELETE FROM memory_keys_todo WHERE memory_id IN"
        " (SELECT memory_id FROM memory_keys_todo LIMIT $1 FOR UPDATE SKIP LOCKED)"
        " RETURNING memory_id",
        page,
    )
    if not rows:
        return 0
    memories = await conn.fetch(
        "SELECT user_id, id, content FROM memories WHERE id = ANY($1::text[])",
        [row[0] for row in rows],
    )
    by_user: dict[str, list[tuple[str, Sequence[int]]]] = {}
    for user_id, memory_id, content in memories:
        by_user.setdefault(user_id, []).append((memory_id, dedup.keys(content)))
    for user_id, keyed in by_user.items():
        await put_keys(conn, user_id, keyed)
    return len(rows)
