"""Each user's vectors kept in memory between searches (per process, both backends).

A search's vector stage is an exact scan of all the user's vectors. Multiplying them
by the query is fast (10,000 vectors: ~0.5 ms); reading them out of SQLite is not
(15 MB: ~5 ms from SQLite's blobs, ~20 ms from PostgreSQL). So each process keeps
the matrix it read, labelled with the user's `vectors_version`, which every change to
the user's vectors bumps in the same transaction (migration 0005: SQLite's
`_put_vectors` and a delete trigger, PostgreSQL's triggers). A search reads the
version and uses the kept matrix only if the labels match; vectors it reads are
labelled with the version read in the same snapshot. So a search never ranks vectors
other than those of the version it read.

After a change, the next search reads again only the vectors that changed: each
change also records which vectors it touched (`vectors_changes`, migration 0005: the
user's last `CHANGES_KEPT` changes, each listing at most `KEYS_LISTED` keys, more
listed as "too many"), and `changed_keys` turns the records since the kept version
into the set to read again, or None when a record is missing (pruned) or unlisted,
or more than `MAX_PATCHED` vectors changed: then the search reads them all.
`patched` puts the kept matrix and the re-read vectors together.

At most `max_bytes` of vectors are kept per process (the least recently searched
user goes first); a user whose vectors alone exceed it is never kept. 0 keeps none.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np


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
CHANGES_KEPT = 100  # as migration 0005 prunes
KEYS_LISTED = 64  # as migration 0005 lists
MAX_PATCHED = 256


def changed_keys(records: Sequence[tuple[int, Any]], since: int, version: int) -> set[Any] | None:
    """The keys of the vectors changed after version `since` up to `version`, from the
    `(version, keys or None)` change records read after `since`; None when they do not
    say (a record missing or unlisted, or more than `MAX_PATCHED` keys)."""
    listed = [keys for v, keys in records if since < v <= version]  # one record a version
    if not 0 < version - since <= CHANGES_KEPT or len(listed) != version - since:
        return None
    if any(keys is None for keys in listed):
        return None
    changed: set[Any] = set().union(*listed)
    return changed if len(changed) <= MAX_PATCHED else None


def patched(kept: UserVectors, changed: set[Any], fresh: UserVectors) -> UserVectors:
    """`kept` without the rows of the `changed` keys, plus `fresh`: the current vectors of
    those of them that still have one. New arrays (`kept` may be in use elsewhere),
    filled by copying the runs of rows between the stale ones (one copy, ~1 ms for
    10,000 vectors; a boolean mask and a concatenation took 3.4)."""
    stale: Any = np.flatnonzero(np.isin(kept.keys, np.array(sorted(changed)))) if changed else []
    size = len(kept.keys) - len(stale) + len(fresh.keys)
    keys = np.empty(size, np.result_type(kept.keys, fresh.keys))
    matrix = np.empty((size, kept.matrix.shape[1]), np.float32)
    start = filled = 0
    for end in [*stale, len(kept.keys)]:
        keys[filled : filled + end - start] = kept.keys[start:end]
        matrix[filled : filled + end - start] = kept.matrix[start:end]
        filled += end - start
        start = end + 1
    keys[filled:] = fresh.keys
    matrix[filled:] = fresh.matrix
    return UserVectors(keys, matrix)


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

    def kept(self, user_id: str) -> tuple[int, UserVectors] | None:
        """The user's vectors kept, of whichever version, with that version."""
        with self._lock:
            return self._entries.get(user_id)

    def put(self, user_id: str, version: int, vectors: UserVectors) -> None:
        """Keep the user's vectors as of `version` (replacing older ones), if they fit."""
        with self._lock:
            current = self._entries.get(user_id)
            if current is not None and current[0] > version:
                return  # a search of an older snapshot: keep the newer vectors
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

    def forget(self, user_id: str) -> None:
        """Drop the user's vectors (the user was deleted)."""
        with self._lock:
            old = self._entries.pop(user_id, None)
            if old is not None:
                self._bytes -= old[1].nbytes

    @property
    def nbytes(self) -> int:
        """Bytes of vectors kept now."""
        return self._bytes
