"""Time, identifiers and the ordering key of memories."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import uuid6

# Categories that get no boost in `scoring` (see docs/api.md, "Ordering").
_UNBOOSTED = frozenset({"system", "habits", "other", "auto"})


def now_us() -> int:
    """Microseconds since the Unix epoch, UTC."""
    return time.time_ns() // 1000


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def to_datetime(us: int) -> datetime:
    """The aware UTC datetime of microseconds since the epoch (exact)."""
    return _EPOCH + timedelta(microseconds=us)


def to_datetime_or_none(us: int | None) -> datetime | None:
    """`to_datetime`, or None for None (a time not set)."""
    return None if us is None else to_datetime(us)


def to_us(value: datetime) -> int:
    """Microseconds since the epoch of an aware datetime (naive is taken as UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    delta = value - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def new_id() -> str:
    """A unique, time-ordered id (UUIDv7): later ids sort higher within a process."""
    return str(uuid6.uuid7())


def scoring(*, manually_added: bool, category: str, created_us: int) -> str:
    """Omi's ordering key: manual flag, inverted boost, creation epoch seconds."""
    boost = 0 if category in _UNBOOSTED else 1
    return f"{int(manually_added):02d}_{999 - boost:03d}_{created_us // 1_000_000:010d}"
