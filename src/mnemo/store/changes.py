"""The record of every change of a memory (docs/history.md).

Triggers on the memories table (SQLite migration `*_changes.sql`, PostgreSQL's of the
same name) write a history row in the transaction of every create, update and delete,
whichever write path made it. The actor of a write (a key id, or "admin", "import",
"extraction") is this module's context variable, set where a request or command starts
(`acting_as`), read by the store when it opens a write transaction and handed to the
triggers there (SQLite: the row of `change_actor`; PostgreSQL: the transaction's
setting `mnemo.actor`). Unset, the actor is "system".
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

ADMIN = "admin"
IMPORT = "import"
EXTRACTION = "extraction"
SYSTEM = "system"  # a write with no actor set (the triggers' default)
MAX_ACTOR_CHARS = 128

_actor: ContextVar[str | None] = ContextVar("mnemo_actor", default=None)


def current_actor() -> str | None:
    """The actor of the writes made now, or None (recorded as "system")."""
    return _actor.get()


@contextlib.contextmanager
def acting_as(actor: str) -> Iterator[None]:
    """The writes made inside are recorded as `actor`'s."""
    token = _actor.set(actor[:MAX_ACTOR_CHARS])
    try:
        yield
    finally:
        _actor.reset(token)


@dataclass(frozen=True)
class HistoryRow:
    """A stored history row: the memory's stored JSON before and after (None after the
    memory's deletion erased them)."""

    action: str  # created, updated, deleted
    actor: str
    at: int  # microseconds since the epoch
    old_json: str | None
    new_json: str | None


def changed_fields(row: HistoryRow) -> dict[str, dict[str, Any]]:
    """The fields of the memory's API JSON that the change set, with their old and new
    values ({} for a deletion, and for every row of a deleted memory)."""
    old: dict[str, Any] = json.loads(row.old_json) if row.old_json else {}
    new: dict[str, Any] = json.loads(row.new_json) if row.new_json else {}
    return {
        name: {"old": old.get(name), "new": new[name]}
        for name in new
        if name not in old or old[name] != new[name]
    }
