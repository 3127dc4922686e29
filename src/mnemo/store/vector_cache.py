"""Each user's vectors kept in memory between searches (per process, both backends).

A search's vector stage is an exact scan of all the user's vectors. Multiplying them
by the query is fast (10,000 vectors: ~0.5 ms); reading them out of SQLite is not
(15 MB: ~5 ms from SQLite's blobs, ~20 ms from PostgreSQL). So each process keeps
the matrix it read, labelled with the user's `vectors_version`, which every change to
the user's vectors bumps in the same transaction (migration 0005: SQLite's
`_put_vectors` and a delete trigger, PostgreSQL's triggers). A search reads the
version and uses the kept matrix only if the labels match; vectors it reads are
labelled with the version read in the same snapshot. So a search never ranks vectors
other than those of the version it read; after any change, the next search reads
the vectors again.

At most `max_bytes` of vectors are kept per process (the least recently searched
user goes first); a user whose vectors alone exceed it is never kept. 0 keeps none.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any, NamedTuple


class UserVectors(NamedTuple):
    keys: Any  # numpy array, one key per row of `matrix` (SQLite rowids, PostgreSQL ids)
    matrix: Any  # float32 array (n, dim)

    @property
    def nbytes(self) -> int:
        return int(self.keys.nbytes + self.matrix.nbytes)


def depth(limit: int, categories: Sequence[str]) -> int:
    """How many nearest vectors a search takes before the category filter: a filter
    looks 8 times further (the vectors do not know their memory's category)."""
    return min(limit * (8 if categories else 1), MAX_DEPTH)


MAX_DEPTH = 4096
DEFAULT_BYTES = 256 << 20  # MNEMO_VECTOR_CACHE_MB


class VectorCache:
    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[str, tuple[int, UserVectors]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()  # searches run on several reader threads

    def get(self, user_id: str, version: int) -> UserVectors | None:
        """The user's vectors as of `version`, if kept."""
        with self._lock:
            entry = self._entries.get(user_id)
            if entry is None or entry[0] != version:
                return None
            self._entries.move_to_end(user_id)
            return entry[1]

    def put(self, user_id: str, version: int, vectors: UserVectors) -> None:
        """Keep the user's vectors as of `version` (replacing older ones), if they fit."""
        with self._lock:
            old = self._entries.pop(user_id, None)
            if old is not None:
                self._bytes -= old[1].nbytes
            if vectors.nbytes > self.max_bytes:
                return
            self._entries[user_id] = (version, vectors)
            self._bytes += vectors.nbytes
            while self._bytes > self.max_bytes:
                _, (_, evicted) = self._entries.popitem(last=False)
                self._bytes -= evicted.nbytes

    @property
    def nbytes(self) -> int:
        """Bytes of vectors kept now."""
        return self._bytes
