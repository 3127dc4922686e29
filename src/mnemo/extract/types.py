"""What the extractor reads (`Turn`) and answers (`Extraction`, `ActionItemDraft`)."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["MAX_ACTION_CHARS", "MAX_FACT_CHARS", "ActionItemDraft", "Extraction", "Turn"]

MAX_FACT_CHARS = 500  # a memory's longest content, as the API allows
MAX_ACTION_CHARS = 500  # an action item's longest description


@dataclass(frozen=True)
class Turn:
    """One speaker's words. `is_user`: True the user, False someone else, None unknown
    (a plain-text conversation is one such turn: its first-person statements are the
    user's)."""

    text: str
    speaker: str = "SPEAKER_00"
    is_user: bool | None = None


@dataclass(frozen=True)
class ActionItemDraft:
    """A task for the user; `due_at` in microseconds since the epoch, or None."""

    description: str
    due_at: int | None = None


@dataclass(frozen=True)
class Extraction:
    """Third-person facts about the user ("User is vegan") and the user's action items."""

    facts: list[str] = field(default_factory=list)
    action_items: list[ActionItemDraft] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.facts and not self.action_items
