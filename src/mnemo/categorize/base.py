"""The one interface every categoriser implements."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

AutoCategory = Literal["system", "interesting"]


@dataclass(frozen=True)
class Categorization:
    category: AutoCategory
    confidence: float  # 0.5 .. 1.0, how sure the categoriser is


class Categorizer(Protocol):
    async def categorize(self, contents: Sequence[str]) -> list[Categorization]:
        """One answer per content, in order; deterministic for the same text."""
