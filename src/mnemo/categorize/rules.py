"""A deterministic keyword rule: `interesting` for notable experiences, else `system`."""

from __future__ import annotations

import re
from collections.abc import Sequence

from mnemo.categorize.base import Categorization

# Words that mark something the user would tell at dinner: achievements,
# adventures, unusual skills and experiences.
_INTERESTING = re.compile(
    r"\b(won|win|wins|award\w*|champion\w*|record|climbed|summit\w*|marathon\w*|"
    r"traveled|travelled|visited|backpack\w*|skydiv\w*|scuba|dived|met|famous|"
    r"published|invented|founded|built|once|survived|competed|medal\w*|"
    r"black belt|fluent|speaks? \w+ languages|first place|finished|completed|"
    r"played|performed|appeared|featured|learned to|taught himself|taught herself|"
    r"hiked|sailed|rode|ran a)\b",
    re.IGNORECASE,
)


class RuleCategorizer:
    """Keyword rule; used until a trained model replaces it."""

    async def categorize(self, contents: Sequence[str]) -> list[Categorization]:
        return [self.categorize_one(text) for text in contents]

    @staticmethod
    def categorize_one(text: str) -> Categorization:
        hits = len(_INTERESTING.findall(text))
        if hits:
            return Categorization("interesting", min(0.55 + 0.15 * hits, 0.9))
        return Categorization("system", 0.6)
