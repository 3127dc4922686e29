"""A memory as the API's JSON, rendered once, when it is written.

Every route answers a memory as these bytes: pydantic's JSON of `Memory` (compact
separators, UTF-8, RFC 3339 times in UTC with microseconds only when not zero, then
`Z`) of the memory as the database holds it (times in UTC to the microsecond, tags as
stored). `memory_json` is the only function that renders one; every write stores its
result beside the memory (the `json` column, SQLite migration 0007, PostgreSQL 0006),
so a page is the stored texts joined with commas (`json_array`) and a get by id is
one stored text. The migrations filled the column for memories written
before it with a frozen copy of the SQL renderer that served lists until then; a
property test (tests/contract/test_render.py) holds the backfill, the list and the get
to `memory_json` byte for byte, on arbitrary memories.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import TypeAdapter

from mnemo.clock import to_datetime, to_us
from mnemo.models import Memory

_MEMORY = TypeAdapter(Memory)
_ZERO = timedelta(0)


def memory_json(memory: Memory) -> str:
    """The memory's public JSON as stored: the fields of `Memory` only (a subclass's
    extra fields are not public), its times as the database keeps them (UTC, whole
    microseconds: a time given in another zone, or none, is converted first)."""
    if not (_is_utc(memory.created_at) and _is_utc(memory.updated_at)):
        memory = memory.model_copy(
            update={
                "created_at": to_datetime(to_us(memory.created_at)),
                "updated_at": to_datetime(to_us(memory.updated_at)),
            }
        )
    return _MEMORY.dump_json(memory).decode()


def _is_utc(value: datetime) -> bool:
    return value.tzinfo is not None and value.utcoffset() == _ZERO


def json_array(items: str | None) -> bytes:
    """The JSON array of a page whose items the database joined with commas (None: no
    items)."""
    return f"[{items or ''}]".encode()
