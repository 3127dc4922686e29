"""Examples of request and response bodies for the OpenAPI document (and so for `/docs`
and generated clients): real answers of mnemo, recorded from a running server.
tests/api/test_openapi.py sends every request example and checks each answer against
the documented examples' shape, and every error example against a real error."""

from __future__ import annotations

from typing import Any

from mnemo.auth import INVALID_KEY, MISSING_HEADER
from mnemo.service import CONFIRM_DELETE_ALL

Content = dict[str, Any]  # an OpenAPI response or request body object

MEMORY: dict[str, Any] = {
    "id": "01a23376-dea8-7c43-b3af-1b1ee35fdd30",
    "content": "User is vegetarian",
    "category": "system",
    "visibility": "private",
    "tags": ["food"],
    "created_at": "2026-12-01T21:15:57.992628Z",
    "updated_at": "2026-12-01T21:15:57.992628Z",
    "manually_added": True,
    "scoring": "01_999_1796159757",
    "reviewed": True,
    "user_review": True,
    "edited": False,
}
_WORK: dict[str, Any] = {
    **MEMORY,
    "id": "01a23376-df06-7f7f-8738-e9e2799e543b",
    "content": "User works at Acme",
    "category": "work",
    "tags": [],
    "created_at": "2026-12-01T21:15:58.085869Z",
    "updated_at": "2026-12-01T21:15:58.085869Z",
    "scoring": "01_998_1796159758",
}


def named(**examples: tuple[str, Any]) -> Content:
    """A JSON body with named examples: name -> (summary, value)."""
    values = {
        name: {"summary": summary, "value": value} for name, (summary, value) in examples.items()
    }
    return {"content": {"application/json": {"examples": values}}}


def errors(*details: str | list[dict[str, Any]]) -> Content:
    """Error answers `{"detail": ...}`, one example per detail: a sentence, or FastAPI's
    list of validation issues."""
    return named(
        **{
            f"example{i}": (
                detail if isinstance(detail, str) else "Validation body",
                {"detail": detail},
            )
            for i, detail in enumerate(details, 1)
        }
    )


def issue(kind: str, loc: list[str | int], msg: str, given: Any, **ctx: Any) -> dict[str, Any]:
    """One item of FastAPI's validation body."""
    return {"type": kind, "loc": loc, "msg": msg, "input": given, **({"ctx": ctx} if ctx else {})}


_CATEGORY_NAMES = (
    "'system', 'interesting', 'manual', 'workflow', 'core', 'hobbies', 'lifestyle', "
    "'interests', 'habits', 'work', 'skills', 'learnings', 'other' or 'auto'"
)

# Requests
CREATE_BODY = named(
    minimal=("Only the content: the server picks the category", {"content": "User is vegetarian"}),
    full=(
        "Every field",
        {
            "content": "User works at Acme",
            "category": "work",
            "visibility": "public",
            "tags": ["job"],
        },
    ),
)
BATCH_BODY = named(
    two=(
        "Two memories",
        {
            "memories": [
                {"content": "User ran the Boston Marathon in 2019"},
                {"content": "User works at Acme", "category": "work"},
            ]
        },
    )
)
UPDATE_BODY = named(
    visibility=("Make it public", {"visibility": "public"}),
    several=(
        "Several fields at once (tags replace the list)",
        {"content": "User is vegan", "category": "interesting", "tags": ["food", "diet"]},
    ),
)

# Answers
LISTED = named(page=("A page, most important first", [MEMORY, _WORK]))
FOUND = named(memory=("The memory", MEMORY))
CREATED = named(
    created=("A new memory", MEMORY),
    duplicate=(
        "It repeats a memory the user has: nothing is stored, nothing is changed",
        {**MEMORY, "duplicate_of": MEMORY["id"], "not_applied": ["visibility"]},
    ),
)
BATCH_CREATED = named(
    repeat=(
        "The second item repeats the first: one is stored",
        {
            "memories": [_WORK, {**_WORK, "duplicate_of": _WORK["id"], "not_applied": []}],
            "created_count": 1,
        },
    )
)
SEARCHED = named(
    found=(
        "Best first",
        {
            "items": [
                {**MEMORY, "relevance_score": 0.61455},
                {**_WORK, "relevance_score": 0.145434},
            ],
            "returned_count": 2,
        },
    )
)
UPDATED = named(
    updated=(
        "The memory as it is now",
        {**MEMORY, "visibility": "public", "updated_at": "2026-12-01T21:15:58.129602Z"},
    )
)
DELETED = named(deleted=("Deleted", {"success": True}))
ALL_DELETED = named(deleted=("Every memory deleted", {"success": True, "deleted_count": 42}))

# Omi's MCP routes (mnemo.api.omi_mcp): memories as Omi's MCP server reads them
MCP_LISTED = named(
    page=(
        "A page, most important first",
        [{key: m[key] for key in ("id", "content", "category")} for m in (MEMORY, _WORK)],
    )
)
MCP_SEARCHED = named(
    found=(
        "Best first",
        [
            {
                "id": MEMORY["id"],
                "content": MEMORY["content"],
                "category": "system",
                "relevance_score": 0.61455,
            },
        ],
    )
)
MCP_DONE = named(done=("Done", {"status": "ok"}))
MCP_CREATE_BODY = named(
    fact=("The category is always chosen by the server", {"content": "User is vegetarian"})
)

_CREATED_AT = MEMORY["created_at"]
HISTORY = named(
    edited=(
        "Created by a key, then its content edited by another",
        [
            {
                "action": "created",
                "actor": "4f1c2a9b7d3e",
                "at": _CREATED_AT,
                "changes": {name: {"old": None, "new": value} for name, value in MEMORY.items()},
            },
            {
                "action": "updated",
                "actor": "9a8b7c6d5e4f",
                "at": "2026-12-02T08:00:00.000000Z",
                "changes": {
                    "content": {"old": MEMORY["content"], "new": "User is vegan"},
                    "edited": {"old": False, "new": True},
                    "updated_at": {"old": _CREATED_AT, "new": "2026-12-02T08:00:00.000000Z"},
                },
            },
        ],
    ),
    deleted=(
        "A deleted memory: only the facts remain",
        [
            {"action": "created", "actor": "4f1c2a9b7d3e", "at": _CREATED_AT, "changes": {}},
            {"action": "deleted", "actor": "admin", "at": _CREATED_AT, "changes": {}},
        ],
    ),
)

UNAUTHORIZED = errors(MISSING_HEADER, INVALID_KEY)
FORBIDDEN = errors(
    "Insufficient permissions. Required scope: memories:read",
    "Insufficient permissions. Required scope: memories:write",
)
RATE_LIMITED = errors("Rate limit exceeded. Try again in 42s.")
UNAVAILABLE = errors(
    "Database unavailable, try again shortly", "Rate limiter busy, try again shortly"
)
NOT_FOUND = errors("Memory not found")
NOT_CONFIRMED = errors(CONFIRM_DELETE_ALL)
BAD_FILTER = errors("Invalid category 'nope' is not a valid MemoryCategory")
TOO_LARGE = errors("Request body too large: the limit is 1048576 bytes")
BAD_QUERY = errors(
    [
        issue(
            "int_parsing",
            ["query", "limit"],
            "Input should be a valid integer, unable to parse string as an integer",
            "abc",
        )
    ]
)
BAD_SEARCH = errors([issue("missing", ["query", "query"], "Field required", None)])
BAD_CREATE = errors(
    "content cannot be empty",
    [
        issue(
            "enum",
            ["body", "category"],
            f"Input should be {_CATEGORY_NAMES}",
            "zz",
            expected=_CATEGORY_NAMES,
        )
    ],
)
BAD_BATCH = errors(
    "All memories must have non-empty content",
    [
        issue(
            "too_long",
            ["body", "memories"],
            "List should have at most 25 items after validation, not 26",
            [{"content": f"m{i}"} for i in range(26)],
            field_type="List",
            max_length=25,
            actual_length=26,
        )
    ],
)
BAD_UPDATE = errors(
    "At least one field (content, visibility, tags, or category) must be provided",
    "visibility must be 'public' or 'private'",
    "content cannot be empty",
    [
        issue(
            "enum",
            ["body", "category"],
            f"Input should be {_CATEGORY_NAMES}",
            "zz",
            expected=_CATEGORY_NAMES,
        )
    ],
)
