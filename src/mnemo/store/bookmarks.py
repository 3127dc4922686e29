"""Remembered page positions: deep pages without walking the index from the start.

OFFSET has no index support: a list at offset 99,975 steps over 99,975 index entries.
But clients that go deep page through in order (the `omi` CLI walks every page to
find one memory), so the row just before each page they ask for is usually the last
row of a page served a moment ago. Each store remembers, per process, where pages
ended (the sort key `(scoring, created_at, id)` of the row before offset N, for the
user and category filter) together with the user's `memories_version` read in the
same statement. A request for offset N with a bookmark then reads the rows after that
key (`WHERE (scoring, created_at, id) < bookmark`, an index range), on the condition,
checked in the same statement, that the version is unchanged: any insert, delete, or
change of a memory's place in the order bumps it (triggers, migration 0004), and a
stale bookmark is never used. Without a bookmark, or when it is stale, the OFFSET
query runs as before; it also records where its page starts and ends.

Only offsets of at least `MIN_OFFSET` are remembered (shallower ones are cheap), at
most `CAPACITY` of them per process, least recently used first out.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

MIN_OFFSET = 200
CAPACITY = 10_000

SortKey = tuple[Any, Any, Any]  # (scoring, created_at, id) of one memory
_Where = tuple[str, tuple[str, ...], int]


class Bookmarks:
    def __init__(self, capacity: int = CAPACITY) -> None:
        self._capacity = capacity
        self._marks: OrderedDict[_Where, tuple[int, SortKey]] = OrderedDict()

    def find(
        self, user_id: str, categories: Sequence[str], offset: int
    ) -> tuple[int, SortKey] | None:
        """(version, key of the row before `offset`), if remembered."""
        if offset < MIN_OFFSET:
            return None
        where = (user_id, tuple(sorted(categories)), offset)
        mark = self._marks.get(where)
        if mark is not None:
            self._marks.move_to_end(where)
        return mark

    def remember(
        self, user_id: str, categories: Sequence[str], offset: int, version: int, key: SortKey
    ) -> None:
        """The row with sort key `key` is the one before `offset` at `version`."""
        if offset < MIN_OFFSET:
            return
        where = (user_id, tuple(sorted(categories)), offset)
        self._marks[where] = (version, key)
        self._marks.move_to_end(where)
        while len(self._marks) > self._capacity:
            self._marks.popitem(last=False)

    def remember_page(
        self,
        user_id: str,
        categories: Sequence[str],
        offset: int,
        rows: Sequence[Sequence[Any]],
        before: Sequence[Any] | None,
    ) -> None:
        """Record where a page served at `offset` starts (`before`: the row before it,
        if read) and ends. Rows are (version, scoring, created_at, id, ...)."""
        if before is not None:
            self.remember(user_id, categories, offset, before[0], tuple(before[1:4]))
        if rows:
            last = rows[-1]
            self.remember(user_id, categories, offset + len(rows), last[0], tuple(last[1:4]))
