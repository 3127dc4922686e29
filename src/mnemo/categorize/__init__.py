"""Auto-categorisation: decide `system` or `interesting` for a memory without one.

Every categoriser implements `Categorizer`; the service uses only that.
"""

from __future__ import annotations

from mnemo.categorize.base import Categorization, Categorizer
from mnemo.config import Settings
from mnemo.categorize.rules import RuleCategorizer

__all__ = ["Categorization", "Categorizer", "RuleCategorizer", "default_categorizer"]


def default_categorizer(settings: Settings) -> Categorizer:
    """The categoriser the service uses unless a test injects another."""
    return RuleCategorizer()
