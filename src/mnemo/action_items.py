"""The action item rules (Omi's): ownership, blank descriptions, paging bounds, and
`completed_at` following `completed`. Routes call one function here each."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from mnemo.clock import new_id, now_us, to_datetime, to_us
from mnemo.errors import NotFound, Unprocessable
from mnemo.models import (
    MAX_ACTION_ITEM_LIMIT,
    ActionItem,
    ActionItemCreate,
    ActionItemUpdate,
)
from mnemo.service import page_bounds, plausible_id
from mnemo.store import Store
from mnemo.store.base import ActionItemFilter

NOT_FOUND = "Action item not found"


def _utc(value: datetime | None) -> datetime | None:
    """A sent time as the store keeps it: UTC, whole microseconds (naive: UTC)."""
    return None if value is None else to_datetime(to_us(value))


class ActionItemService:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def create(self, user_id: str, bodies: Sequence[ActionItemCreate]) -> list[ActionItem]:
        """Store them in one transaction; 422 (nothing stored) if a description is blank."""
        if any(not body.description.strip() for body in bodies):
            raise Unprocessable(
                "description cannot be empty"
                if len(bodies) == 1
                else "All action items must have non-empty descriptions"
            )
        at = to_datetime(now_us())
        items = [
            ActionItem(
                id=new_id(),
                description=body.description.strip(),
                completed=body.completed,
                created_at=at,
                updated_at=at,
                due_at=_utc(body.due_at),
                completed_at=at if body.completed else None,
                conversation_id=None,
            )
            for body in bodies
        ]
        await self.store.insert_action_items(user_id, items)
        return items

    async def list(
        self,
        user_id: str,
        where: ActionItemFilter,
        limit: int,
        offset: int,
    ) -> list[ActionItem]:
        """`limit` clamped to 1-1000, `offset` to 0-2^62 (docs/api.md)."""
        bounds = page_bounds(limit, offset, MAX_ACTION_ITEM_LIMIT)
        return await self.store.list_action_items(user_id, where, *bounds)

    async def update(self, user_id: str, item_id: str, patch: ActionItemUpdate) -> ActionItem:
        """Apply the fields given (not null) atomically; 422 if none, 404 if unknown."""
        if patch.description is None and patch.completed is None and patch.due_at is None:
            raise Unprocessable("At least one field must be provided")
        if patch.description is not None and not patch.description.strip():
            raise Unprocessable("description cannot be empty")
        requested = to_datetime(now_us())

        def change(current: ActionItem) -> ActionItem:
            fields: dict[str, object] = {
                "updated_at": max(requested, current.updated_at + timedelta(microseconds=1))
            }
            if patch.description is not None:
                fields["description"] = patch.description.strip()
            if patch.completed is not None:
                fields["completed"] = patch.completed
                fields["completed_at"] = requested if patch.completed else None
            if patch.due_at is not None:
                fields["due_at"] = _utc(patch.due_at)
            return current.model_copy(update=fields)

        updated = (
            await self.store.update_action_item(user_id, item_id, change)
            if plausible_id(item_id)
            else None
        )
        if updated is None:
            raise NotFound(NOT_FOUND)
        return updated

    async def delete(self, user_id: str, item_id: str) -> None:
        if not (plausible_id(item_id) and await self.store.delete_action_item(user_id, item_id)):
            raise NotFound(NOT_FOUND)
