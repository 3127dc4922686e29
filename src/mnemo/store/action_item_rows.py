"""Action item rows <-> records, shared by the SQL backends (same columns on each)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from mnemo.clock import to_datetime, to_datetime_or_none, to_us
from mnemo.models import ActionItem
from mnemo.store.base import ActionItemFilter
from mnemo.store.rows import newest_first_sql

ACTION_ITEM_COLUMNS = (
    "id, conversation_id, description, completed, created_at, updated_at, due_at, completed_at"
)


def _us(value: datetime | None) -> int | None:
    return None if value is None else to_us(value)


def action_item_from_row(row: Sequence[Any]) -> ActionItem:
    return ActionItem.model_construct(
        id=row[0],
        conversation_id=row[1],
        description=row[2],
        completed=bool(row[3]),
        created_at=to_datetime(row[4]),
        updated_at=to_datetime(row[5]),
        due_at=to_datetime_or_none(row[6]),
        completed_at=to_datetime_or_none(row[7]),
    )


def action_item_values(item: ActionItem) -> tuple[Any, ...]:
    """Values in ACTION_ITEM_COLUMNS order (the completed flag as a Python bool)."""
    return (
        item.id,
        item.conversation_id,
        item.description,
        item.completed,
        to_us(item.created_at),
        to_us(item.updated_at),
        _us(item.due_at),
        _us(item.completed_at),
    )


def action_item_list_sql(
    user_id: str, where: ActionItemFilter, mark: Callable[[int], str]
) -> tuple[str, list[Any]]:
    """A list's statement, but for the limit and offset that follow the returned
    parameters (`mark(n)` spells the n-th parameter: `?` or `$n`)."""
    tests = (
        ("conversation_id", "=", where.conversation_id),
        ("completed", "=", where.completed),
        ("created_at", ">=", where.start_us),
        ("created_at", "<=", where.end_us),
    )
    return newest_first_sql("action_items", ACTION_ITEM_COLUMNS, user_id, tests, mark)
