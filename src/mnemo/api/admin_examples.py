"""Examples of the admin API's and `GET /v1/dev/key`'s bodies and answers for the OpenAPI
document (see mnemo.api.examples): real answers of mnemo, recorded from a running
server."""

from __future__ import annotations

from typing import Any

from mnemo.api.admin_route import INVALID_TOKEN, MISSING_TOKEN
from mnemo.api.examples import errors, issue, named

_KEY: dict[str, Any] = {
    "id": "5d0c2f9a41b7",
    "user": "alice",
    "name": "phone",
    "key_prefix": "omi_dev_3f1c",
    "scopes": ["memories:read", "memories:write"],
    "created_at": "2026-12-02T11:40:12.310542Z",
    "last_used_at": "2026-12-02T11:52:03.118270Z",
    "revoked_at": None,
}
_USER: dict[str, Any] = {
    "id": "01a2392c-4f1e-7b9d-a3c2-5e8f0d6b7a14",
    "name": "alice",
    "created_at": "2026-12-02T11:40:12.308911Z",
    "memory_count": 42,
}

KEY = named(key=("The calling key's record", _KEY))
KEYS = named(keys=("A user's keys, oldest first", [_KEY, {**_KEY, "id": "9e41aa0c7d22"}]))
KEY_CREATED = named(
    created=(
        "The new key, shown only in this answer",
        {
            **_KEY,
            "last_used_at": None,
            "key": "omi_dev_3f1c9a0e5b7d4e1f8a2c6b9d0e3f7a41",
        },
    )
)
KEY_BODY = named(
    labelled=("A key with both scopes", {"name": "phone"}),
    read_only=("A read-only key", {"name": "dashboard", "scopes": ["memories:read"]}),
)
USER = named(user=("A user and their memory count", _USER))
USERS = named(users=("A page of users, by name", [_USER, {**_USER, "name": "bob"}]))
USER_BODY = named(user=("A user named alice", {"name": "alice"}))
USER_DELETED = named(deleted=("Erased", {"success": True, "deleted_memories": 42}))
KEY_REVOKED = named(revoked=("Revoked", {"success": True}))
IMPORTED = named(
    imported=(
        "What was added, and what was there already",
        {
            "added": {"user": 1, "key": 2, "conversation": 3, "action_item": 5, "memory": 40},
            "existing": {"user": 0, "key": 0, "conversation": 0, "action_item": 0, "memory": 2},
        },
    )
)

ADMIN_UNAUTHORIZED = errors(MISSING_TOKEN, INVALID_TOKEN)
NO_USER = errors("no user named 'carol'")
NO_KEY = errors("no active key with id '5d0c2f9a41b7'")
USER_TAKEN = errors("User 'alice' already exists")
BAD_NAME = errors(
    "A user name is 1-64 characters: ASCII letters, digits and _ . @ - "
    "(starting with a letter or digit)"
)
BAD_SCOPE = errors(
    "Unknown scope(s) ['admin']; choose from memories:read, memories:write,"
    " conversations:read, conversations:write, action_items:read, action_items:write,"
    " webhooks:read, webhooks:write"
)
BAD_USER_BODY = errors(
    [
        issue(
            "string_too_long",
            ["body", "name"],
            "String should have at most 64 characters",
            "a" * 65,
            max_length=64,
        )
    ]
)
BAD_KEY_BODY = errors(
    [issue("extra_forbidden", ["body", "key"], "Extra inputs are not permitted", "omi_dev_...")]
)
BAD_PAGE = errors(
    [
        issue(
            "int_parsing",
            ["query", "limit"],
            "Input should be a valid integer, unable to parse string as an integer",
            "ten",
        )
    ]
)
BAD_IMPORT = errors(
    "line 3: not a valid record: Expecting value: line 1 column 1 (char 0)",
    "line 2: user 'bob' appears before its user record; stored before it: users: 1 added,"
    " 0 already there, keys: 0 added, 0 already there, conversations: 0 added, 0 already"
    " there, action items: 0 added, 0 already there, memories: 0 added, 0 already there",
)
IMPORT_TOO_LARGE = errors("Request body too large: the limit is 67108864 bytes")
_LINES = (
    '{"kind":"user","id":"01a2392c-4f1e-7b9d-a3c2-5e8f0d6b7a14","name":"alice",'
    '"created_at":"2026-12-02T11:40:12.308911Z"}\n'
)
EXPORT = {
    "content": {
        "application/x-ndjson": {
            "schema": {"type": "string"},
            "examples": {"lines": {"summary": "One line a record", "value": _LINES}},
        }
    }
}
IMPORT_BODY = {
    "required": True,
    "content": {
        "application/x-ndjson": {
            "schema": {"type": "string", "format": "binary"},
            "examples": {"lines": {"summary": "What `exportData` wrote", "value": _LINES}},
        }
    },
}
ONLY_USER = {
    "name": "user",
    "in": "query",
    "required": False,
    "description": "Only this user (default: every user).",
    "schema": {"type": "string"},
}
