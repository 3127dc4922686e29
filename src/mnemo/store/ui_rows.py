"""The web page's statements (its list and its sessions), shared by the SQL backends:
`mark(n)` spells the n-th parameter (`?` or `$n`), `has_tag(p)` tests that the row's
`tags` (a JSON array as text) holds the parameter `p`, `contains(p)` that its text holds
`p` (a cheap test first: a tag that JSON writes as itself is in the text of every row
that holds it)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from mnemo.store.base import ApiKey, MemoryFilter, UiSession
from mnemo.store.rows import KEY_COLUMNS, MEMORY_COLUMNS, key_from_row

IMPORTANT_FIRST = "scoring DESC, created_at DESC, id DESC"  # the API's list order
NEWEST_FIRST = "created_at DESC, id DESC"

UI_SESSION_COLUMNS = "id_hash, user_id, key_id, admin_hash, csrf, created_at, expires_at"


def browse_sql(
    user_id: str,
    where: MemoryFilter,
    mark: Callable[[int], str],
    has_tag: Callable[[str], str],
    contains: Callable[[str], str],
) -> tuple[str, str, list[Any]]:
    """The page's statement (its limit and offset are the two parameters after the
    returned ones), the count's statement, and their parameters."""
    params: list[Any] = [user_id]
    test = f"user_id = {mark(1)}"
    if where.categories:
        first = len(params) + 1
        params.extend(where.categories)
        places = ", ".join(mark(n) for n in range(first, len(params) + 1))
        test += f" AND category IN ({places})"
    if where.tag is not None:
        if json.dumps(where.tag, ensure_ascii=False)[1:-1] == where.tag:
            params.append(where.tag)
            test += f" AND {contains(mark(len(params)))}"
        params.append(where.tag)
        test += f" AND {has_tag(mark(len(params)))}"
    order = NEWEST_FIRST if where.newest else IMPORTANT_FIRST
    page = (
        f"SELECT {MEMORY_COLUMNS} FROM memories WHERE {test} ORDER BY {order}"
        f" LIMIT {mark(len(params) + 1)} OFFSET {mark(len(params) + 2)}"
    )
    return page, f"SELECT count(*) FROM memories WHERE {test}", params


def session_sql(mark: Callable[[int], str]) -> str:
    """A live session with its active key: parameters the id hash and the time now."""
    columns = ", ".join(f"s.{name.strip()}" for name in UI_SESSION_COLUMNS.split(","))
    return (
        f"SELECT {columns}, {KEY_COLUMNS} FROM ui_sessions s"
        " LEFT JOIN api_keys k ON k.id = s.key_id AND k.revoked_at IS NULL"
        " LEFT JOIN users u ON u.id = k.user_id"
        f" WHERE s.id_hash = {mark(1)} AND s.expires_at > {mark(2)}"
    )


def session_from_row(row: Sequence[Any]) -> tuple[UiSession, ApiKey | None]:
    session = UiSession(*row[:7])
    key = key_from_row(row[7:]) if row[7] is not None and row[9] is not None else None
    return session, key


def session_values(session: UiSession) -> tuple[Any, ...]:
    """Values in UI_SESSION_COLUMNS order."""
    return (
        session.id_hash,
        session.user_id,
        session.key_id,
        session.admin_hash,
        session.csrf,
        session.created_at,
        session.expires_at,
    )
