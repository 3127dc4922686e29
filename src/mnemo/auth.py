"""API keys: their format, hashing and scopes, and authenticating a request (issuing
one is mnemo.accounts's).

A key is `omi_dev_` + 32 hex characters (128 bits from `secrets`). Only its
SHA-256 is stored: with that much entropy a slow hash adds nothing, and the
lookup stays one indexed query. The stored hash is compared in constant time.
Nothing is cached, so a revoked key fails on the next request in every worker.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import re
import secrets
from collections.abc import Awaitable, Callable, Iterable

from mnemo.clock import now_us
from mnemo.errors import BadRequest, Forbidden, MnemoError, Unauthorized
from mnemo.store.base import ALL_SCOPES, ApiKey, FoundKey, Store

log = logging.getLogger(__name__)

KEY_PREFIX = "omi_dev_"
_KEY_PATTERN = re.compile(r"omi_dev_[0-9a-f]{32}")
SHOWN_PREFIX_CHARS = 12  # "omi_dev_" and four hex characters: enough to recognise a key

MISSING_HEADER = "Missing or invalid Authorization header. Must be 'Bearer API_KEY'"
INVALID_KEY = "Invalid API Key"

Lookup = Callable[[str], Awaitable[FoundKey | None]]  # a key's hash -> the key found


def generate_key() -> str:
    return KEY_PREFIX + secrets.token_hex(16)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("ascii")).hexdigest()


def admin_token_matches(expected: str | None, presented: str) -> bool:
    """Whether `presented` is the operator's token (`MNEMO_ADMIN_TOKEN`), compared in
    constant time (of their SHA-256, so not even the length leaks); never with none set."""
    if not expected:
        return False
    return hmac.compare_digest(
        hashlib.sha256(expected.encode()).digest(), hashlib.sha256(presented.encode()).digest()
    )


def parse_scopes(scopes: str | Iterable[str]) -> tuple[str, ...]:
    """Validated scopes in canonical order; `BadRequest` for an unknown one."""
    items = scopes.split(",") if isinstance(scopes, str) else list(scopes)
    wanted = {item.strip() for item in items if item.strip()}
    unknown = wanted.difference(ALL_SCOPES)
    if unknown or not wanted:
        raise BadRequest(
            f"Unknown scope(s) {sorted(unknown)}; choose from {', '.join(ALL_SCOPES)}"
            if unknown
            else "At least one scope is required"
        )
    return tuple(scope for scope in ALL_SCOPES if scope in wanted)


def require_scope(key: ApiKey, scope: str | None) -> None:
    """`Forbidden` unless the key has `scope` (None: any key will do)."""
    if scope is not None and scope not in key.scopes:
        raise Forbidden(f"Insufficient permissions. Required scope: {scope}")


class Authenticator:
    """Turns an `Authorization` header into the key's record, or raises 401/403."""

    def __init__(self, store: Store, touch_interval_s: int = 60) -> None:
        self._store = store
        self._touch_interval_us = touch_interval_s * 1_000_000
        self._touching: dict[str, asyncio.Task[None]] = {}  # key id -> its pending write

    async def authenticate(
        self, authorization: str | None, scope: str | None, lookup: Lookup | None = None
    ) -> ApiKey:
        """`scope`: the one the key needs (None: any). `lookup`: how the key's hash is
        looked up (`Store.key_by_hash` unless a caller reads something with the key in
        the same query: mnemo.api.fast)."""
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized(MISSING_HEADER)
        return await self.authenticate_key(token.strip(), scope, lookup)

    async def authenticate_key(
        self, token: str, scope: str | None, lookup: Lookup | None = None
    ) -> ApiKey:
        """`authenticate` for the key itself (the web page's sign-in form sends it)."""
        if not _KEY_PATTERN.fullmatch(token):
            raise Unauthorized(INVALID_KEY)
        digest = hash_key(token)
        found = await (lookup or self._store.key_by_hash)(digest)
        if found is None or not hmac.compare_digest(found[1], digest):
            raise Unauthorized(INVALID_KEY)
        key = found[0]
        require_scope(key, scope)
        self._touch(key)
        return key

    def _touch(self, key: ApiKey) -> None:
        """Record the key's use, at most once per interval, without making the request
        wait for that write (a durable commit: an fsync, tens of ms on a busy disk)."""
        now = now_us()
        if key.last_used_at is not None and now - key.last_used_at < self._touch_interval_us:
            return
        if key.id not in self._touching:
            task = asyncio.get_running_loop().create_task(self._record_use(key.id, now))
            self._touching[key.id] = task

    async def _record_use(self, key_id: str, used_at: int) -> None:
        try:
            await self._store.touch_key(key_id, used_at)
        except MnemoError:
            log.warning("could not record last use of key %s", key_id)
        finally:
            self._touching.pop(key_id, None)

    async def drain(self) -> None:
        """Wait for the pending `last used` writes (before the store closes)."""
        while self._touching:
            await asyncio.gather(*self._touching.values(), return_exceptions=True)
