"""A memory as the API's JSON, rendered by the database itself.

The list route is the hottest read: building 25 `Memory` objects in Python and
dumping them cost more than the query. Each backend instead selects one expression
per row that is already that memory's JSON, byte for byte what pydantic writes for a
`Memory` (compact separators, UTF-8, RFC 3339 times in UTC with microseconds only
when not zero, then `Z`); the route joins the rows into the array. A property test
(tests/contract/test_render.py) holds both renderings to pydantic's on arbitrary
memories.
"""

from __future__ import annotations

from collections.abc import Iterable

_US = 1_000_000


def _seconds(col: str) -> str:
    """Whole seconds of a microsecond stamp, rounded down (also before 1970)."""
    return f"(({col} - ((({col} % {_US}) + {_US}) % {_US})) / {_US})"


def _micros(col: str) -> str:
    return f"((({col} % {_US}) + {_US}) % {_US})"


def _sqlite_stamp(col: str) -> str:
    return (
        f"strftime('%Y-%m-%dT%H:%M:%S', {_seconds(col)}, 'unixepoch') || CASE WHEN"
        f" {_micros(col)} = 0 THEN 'Z' ELSE printf('.%06dZ', {_micros(col)}) END"
    )


def _sqlite_bool(col: str) -> str:
    return f"CASE WHEN {col} IS NULL THEN NULL WHEN {col} THEN json('true') ELSE json('false') END"


SQLITE_MEMORY_JSON = (
    "json_object('id', id, 'content', content, 'category', category,"
    " 'visibility', visibility, 'tags', json(tags),"
    f" 'created_at', {_sqlite_stamp('created_at')},"
    f" 'updated_at', {_sqlite_stamp('updated_at')},"
    f" 'manually_added', {_sqlite_bool('manually_added')}, 'scoring', scoring,"
    f" 'reviewed', {_sqlite_bool('reviewed')}, 'user_review', {_sqlite_bool('user_review')},"
    f" 'edited', {_sqlite_bool('edited')})"
)


def _pg_stamp(col: str) -> str:
    return (
        "'\"' || to_char(to_timestamp("
        f"{_seconds(col)}) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS') || CASE WHEN"
        f" {_micros(col)} = 0 THEN 'Z\"' ELSE '.' || lpad({_micros(col)}::text, 6, '0') || 'Z\"'"
        " END"
    )


def _pg_bool(col: str) -> str:
    return f"CASE WHEN {col} IS NULL THEN 'null' WHEN {col} THEN 'true' ELSE 'false' END"


# json_build_object would add spaces; concatenation gives pydantic's compact form.
# Tags are stored as JSON text with spaces, so their array is rebuilt compactly.
POSTGRES_MEMORY_JSON = (
    "'{\"id\":' || to_json(id)::text || ',\"content\":' || to_json(content)::text"
    " || ',\"category\":' || to_json(category)::text"
    " || ',\"visibility\":' || to_json(visibility)::text"
    " || ',\"tags\":[' || (SELECT coalesce(string_agg(to_json(t.tag)::text, ',' ORDER BY t.n),"
    " '') FROM json_array_elements_text(tags::json) WITH ORDINALITY AS t(tag, n)) || ']'"
    f" || ',\"created_at\":' || {_pg_stamp('created_at')}"
    f" || ',\"updated_at\":' || {_pg_stamp('updated_at')}"
    f" || ',\"manually_added\":' || {_pg_bool('manually_added')}"
    " || ',\"scoring\":' || to_json(scoring)::text"
    f" || ',\"reviewed\":' || {_pg_bool('reviewed')}"
    f" || ',\"user_review\":' || {_pg_bool('user_review')}"
    f" || ',\"edited\":' || {_pg_bool('edited')} || '}}'"
)


def json_array(items: Iterable[str]) -> bytes:
    """The rendered memories as one JSON array."""
    return ("[" + ",".join(items) + "]").encode()
