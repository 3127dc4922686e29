"""Accounts: users and their API keys, the one service layer of the `mnemo users` and
`mnemo keys` commands and of the admin API (`/v1/admin/...`, mnemo.api.admin).

Each function takes the store and names a user by name, raising `BadRequest` for a
malformed name or scope, `NotFound` for an unknown user or key, `Conflict` for a name
that is taken.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from collections.abc import Iterable

from mnemo.auth import SHOWN_PREFIX_CHARS, generate_key, hash_key, parse_scopes
from mnemo.clock import new_id, now_us
from mnemo.errors import BadRequest, Conflict, NotFound
from mnemo.store.base import ALL_SCOPES, ApiKey, Store, User

_USER_NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}")
MAX_KEY_NAME_CHARS = 200  # a key's label


def check_user_name(name: str) -> str:
    if not _USER_NAME_PATTERN.fullmatch(name):
        raise BadRequest(
            "A user name is 1-64 characters: ASCII letters, digits and _ . @ - "
            "(starting with a letter or digit)"
        )
    return name


def check_key_name(name: str) -> str:
    """A key's label: up to `MAX_KEY_NAME_CHARS` characters, none of them a control
    character or a lone surrogate (or none at all)."""
    if len(name) > MAX_KEY_NAME_CHARS or any(unicodedata.category(c) in ("Cc", "Cs") for c in name):
        raise BadRequest(f"A key's name is at most {MAX_KEY_NAME_CHARS} printable characters")
    return name


async def find_user(store: Store, name: str) -> User:
    """The user with this name; `NotFound` if there is none (a malformed name included)."""
    found = await store.get_user(name) if _USER_NAME_PATTERN.fullmatch(name) else None
    if found is None:
        raise NotFound(f"no user named '{name}'")
    return found


async def create_user(store: Store, name: str) -> User:
    """A new user (without a key); `Conflict` if the name is taken."""
    return await store.create_user(
        User(id=new_id(), name=check_user_name(name), created_at=now_us())
    )


async def ensure_user(store: Store, name: str) -> User:
    """The user with this name, created if missing."""
    user = await store.get_user(check_user_name(name))
    if user is None:
        try:
            user = await create_user(store, name)
        except Conflict:  # another process created it in the meantime
            user = await store.get_user(name)
            if user is None:
                raise
    return user


async def list_users(store: Store, limit: int = 0, offset: int = 0) -> list[tuple[User, int]]:
    """Users with their memory counts, by name (at most `limit` of them after `offset`;
    all with `limit` 0)."""
    return await store.list_users(limit, offset)


async def user_with_count(store: Store, name: str) -> tuple[User, int]:
    """One user and their memory count."""
    user = await find_user(store, name)
    return user, await store.count_memories(user.id)


async def delete_user(store: Store, name: str) -> int:
    """Erase the user and everything of theirs (`Store.delete_user`); how many memories
    went with them."""
    user = await find_user(store, name)
    deleted = await store.delete_user(user.id)
    if deleted is None:  # deleted by someone else since it was found
        raise NotFound(f"no user named '{name}'")
    return deleted


async def issue_key(
    store: Store,
    user_name: str,
    *,
    name: str = "",
    scopes: Iterable[str] = ALL_SCOPES,
    create_missing: bool = True,
) -> tuple[ApiKey, str]:
    """Create a key for the user (creating the user if missing, unless `create_missing`
    is False: then `NotFound`): its record and the secret, which nothing stores."""
    checked_scopes = parse_scopes(scopes)
    check_key_name(name)
    user = await (ensure_user if create_missing else find_user)(store, user_name)
    secret = generate_key()
    record = ApiKey(
        id=secrets.token_hex(6),
        user_id=user.id,
        user_name=user.name,
        name=name,
        prefix=secret[:SHOWN_PREFIX_CHARS],
        scopes=checked_scopes,
        created_at=now_us(),
        last_used_at=None,
        revoked_at=None,
    )
    await store.create_key(record, hash_key(secret))
    return record, secret


async def list_keys(store: Store, user_name: str | None = None) -> list[ApiKey]:
    """Keys, revoked ones too, oldest first: every user's, or one's."""
    user_id = None if user_name is None else (await find_user(store, user_name)).id
    return await store.list_keys(user_id)


async def revoke_key(store: Store, key_id: str, user_name: str | None = None) -> None:
    """Revoke an active key (of this user, if named); it stops working at once in every
    worker. `NotFound` if no active key has this id (or it is another user's)."""
    if user_name is not None:
        owned = {key.id for key in await list_keys(store, user_name)}
        if key_id not in owned:
            raise NotFound(f"no active key with id '{key_id}'")
    if not await store.revoke_key(key_id, now_us()):
        raise NotFound(f"no active key with id '{key_id}'")
