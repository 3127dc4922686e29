"""Row <-> record conversion shared by the SQL backends (same columns on each)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from mnemo.clock import to_datetime, to_us
from mnemo.models import Memory
from mnemo.store.base import ApiKey, User
from mnemo.store.render import memory_json

MEMORY_COLUMNS = (
    "id, content, category, visibility, tags, created_at, updated_at, "
    "manually_added, scoring, reviewed, user_review, edited, conversation_id"
)
# What a write stores: the columns and the memory's public JSON (mnemo.store.render).
WRITE_COLUMNS = f"{MEMORY_COLUMNS}, json"
KEY_COLUMNS = (
    "k.id, k.user_id, u.name, k.name, k.prefix, k.scopes, k.created_at, "
    "k.last_used_at, k.revoked_at"
)
USER_COLUMNS = "id, name, created_at"
KEY_INSERT_COLUMNS = (
    "id, user_id, name, prefix, key_hash, scopes, created_at, last_used_at, revoked_at"
)


def memory_from_row(row: Sequence[Any]) -> Memory:
    user_review = row[10]
    return Memory.model_construct(
        id=row[0],
        content=row[1],
        category=row[2],
        visibility=row[3],
        tags=json.loads(row[4]),
        created_at=to_datetime(row[5]),
        updated_at=to_datetime(row[6]),
        manually_added=bool(row[7]),
        scoring=row[8],
        reviewed=bool(row[9]),
        user_review=None if user_review is None else bool(user_review),
        edited=bool(row[11]),
        conversation_id=row[12],
    )


def memory_values(m: Memory) -> tuple[Any, ...]:
    """Values in WRITE_COLUMNS order (booleans as Python bools): every write of a
    memory stores its JSON with it."""
    return (
        m.id,
        m.content,
        m.category,
        m.visibility,
        json.dumps(m.tags, ensure_ascii=False),
        to_us(m.created_at),
        to_us(m.updated_at),
        m.manually_added,
        m.scoring,
        m.reviewed,
        m.user_review,
        m.edited,
        m.conversation_id,
        memory_json(m),
    )


def key_from_row(row: Sequence[Any]) -> ApiKey:
    return ApiKey(
        id=row[0],
        user_id=row[1],
        user_name=row[2],
        name=row[3],
        prefix=row[4],
        scopes=tuple(row[5].split()),
        created_at=row[6],
        last_used_at=row[7],
        revoked_at=row[8],
    )


def key_values(key: ApiKey, key_hash: str) -> tuple[Any, ...]:
    """Values in KEY_INSERT_COLUMNS order."""
    return (
        key.id,
        key.user_id,
        key.name,
        key.prefix,
        key_hash,
        " ".join(key.scopes),
        key.created_at,
        key.last_used_at,
        key.revoked_at,
    )


def user_from_row(row: Sequence[Any]) -> User:
    return User(id=row[0], name=row[1], created_at=row[2])


def newest_first_sql(
    table: str,
    columns: str,
    user_id: str,
    tests: Sequence[tuple[str, str, Any]],
    mark: Callable[[int], str],
) -> tuple[str, list[Any]]:
    """A page of the user's rows of `table`, newest first (`created_at`, then `id`,
    descending), where each (column, operator, value) of `tests` whose value is not None
    holds; the statement, but for the limit and offset that follow the returned
    parameters (`mark(n)` spells the n-th parameter: `?` or `$n`)."""
    params: list[Any] = [user_id]
    sql = f"SELECT {columns} FROM {table} WHERE user_id = {mark(1)}"
    for column, test, value in tests:
        if value is not None:
            params.append(value)
            sql += f" AND {column} {test} {mark(len(params))}"
    sql += (
        f" ORDER BY created_at DESC, id DESC"
        f" LIMIT {mark(len(params) + 1)} OFFSET {mark(len(params) + 2)}"
    )
    return sql, params


def id_order_sql(table: str, columns: str, mark: Callable[[int], str]) -> str:
    """An export's page of a user's rows of `table` (parameters: the user's id, the id
    the page starts after, the limit), in id order."""
    return (
        f"SELECT {columns} FROM {table} WHERE user_id = {mark(1)} AND id > {mark(2)}"
        f" ORDER BY user_id, id LIMIT {mark(3)}"
    )
