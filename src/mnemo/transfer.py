"""Export and import: every user, key record and memory as JSON Lines.

Each line is one record with a `kind`: `user`, `key` or `memory`, in that order per
user. Keys travel as their record and hash (never the key itself), so they keep
working on the new database. Timestamps are RFC 3339 with microseconds, so a
round trip is exact. Import is idempotent: users are matched by name, keys and
memories by id, and whatever is already there is left as it is.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from mnemo.accounts import check_user_name
from mnemo.auth import parse_scopes
from mnemo.clock import to_datetime, to_us
from mnemo.errors import BadRequest, Unprocessable
from mnemo.models import Memory, MemoryCreate
from mnemo.store import ApiKey, Store, User
from mnemo.store.changes import IMPORT, acting_as

_PAGE = 500


class UserRecord(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["user"]
    id: str
    name: str
    created_at: datetime


class KeyRecord(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["key"]
    id: str
    user: str
    name: str
    prefix: str
    key_hash: str
    scopes: list[str]
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class MemoryRecord(Memory):
    model_config = ConfigDict(extra="forbid", frozen=True)
    kind: Literal["memory"]
    user: str


def _us(value: datetime | None) -> int | None:
    return None if value is None else to_us(value)


def _at(value: int | None) -> datetime | None:
    return None if value is None else to_datetime(value)


async def export_lines(
    store: Store, user_name: str | None = None, *, keys: bool = True
) -> AsyncIterator[str]:
    """JSON Lines for every user (or one), their keys (unless `keys` is False: the web
    page's export, docs/ui.md) and their memories."""
    users = [user for user, _ in await store.list_users()]
    if user_name is not None:
        users = [user for user in users if user.name == user_name]
        if not users:
            raise BadRequest(f"no user named '{user_name}'")
    for user in users:
        yield UserRecord(
            kind="user", id=user.id, name=user.name, created_at=to_datetime(user.created_at)
        ).model_dump_json()
        for key, key_hash in await store.keys_with_hashes(user.id) if keys else ():
            yield _key_line(key, key_hash)
        after = ""
        while page := await store.memories_after(user.id, after, _PAGE):
            for memory in page:
                yield json.dumps(
                    {"kind": "memory", "user": user.name, **memory.model_dump(mode="json")},
                    ensure_ascii=False,
                    separators=(",", ":"),
                )
            after = page[-1].id


def _key_line(key: ApiKey, key_hash: str) -> str:
    return KeyRecord(
        kind="key",
        id=key.id,
        user=key.user_name,
        name=key.name,
        prefix=key.prefix,
        key_hash=key_hash,
        scopes=list(key.scopes),
        created_at=to_datetime(key.created_at),
        last_used_at=_at(key.last_used_at),
        revoked_at=_at(key.revoked_at),
    ).model_dump_json()


@dataclass
class ImportCounts:
    """What an import added, and what it found already there."""

    added: dict[str, int] = field(default_factory=lambda: {"user": 0, "key": 0, "memory": 0})
    existing: dict[str, int] = field(default_factory=lambda: {"user": 0, "key": 0, "memory": 0})

    def summary(self) -> str:
        plurals = {"user": "users", "key": "keys", "memory": "memories"}
        return ", ".join(
            f"{plural}: {self.added[kind]} added, {self.existing[kind]} already there"
            for kind, plural in plurals.items()
        )


def _holds_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    return isinstance(value, list) and any(_holds_nul(item) for item in value)


def _parse(number: int, line: str) -> UserRecord | KeyRecord | MemoryRecord:
    """One record; `BadRequest` naming the line if it is not JSON, not a record, holds
    a NUL character (no database takes it in text), or names a user or scope that
    `mnemo users create` and `mnemo keys create` would refuse."""
    try:
        data: Any = json.loads(line)
        kind = data.get("kind") if isinstance(data, dict) else None
        if _holds_nul(data):
            raise BadRequest(f"line {number}: a NUL character (\\u0000) is not allowed")
        record: UserRecord | KeyRecord | MemoryRecord
        if kind == "user":
            record = UserRecord.model_validate(data)
            check_user_name(record.name)
        elif kind == "key":
            record = KeyRecord.model_validate(data)
            check_user_name(record.user)
            parse_scopes(record.scopes)
        elif kind == "memory":
            record = MemoryRecord.model_validate(data)
            check_user_name(record.user)
        else:
            raise BadRequest(f"line {number}: `kind` must be user, key or memory")
        return record
    except BadRequest as error:
        if error.detail.startswith(f"line {number}:"):
            raise
        raise BadRequest(f"line {number}: {error.detail}") from None
    except (ValueError, ValidationError) as error:
        raise BadRequest(f"line {number}: not a valid record: {error}") from None


def decode_lines(body: bytes) -> list[str]:
    """An import's body as its lines (a leading byte order mark dropped); `Unprocessable`
    naming the first line that is not UTF-8."""
    try:
        return body.decode("utf-8").removeprefix("\ufeff").split("\n")
    except UnicodeDecodeError as error:
        line = body.count(b"\n", 0, error.start) + 1
        raise Unprocessable(f"line {line} is not UTF-8 text") from None


def user_memories(lines: Iterable[str]) -> list[Memory]:
    """The memory records of an export, for the web page's import into the signed-in
    user (docs/ui.md): every line checked as `check_lines` does, and each memory's
    content, category, visibility and tags as the API checks a new memory's; user and
    key records are checked and skipped. `BadRequest` naming the first bad line."""
    memories = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        record = _parse(number, line)
        if not isinstance(record, MemoryRecord):
            continue
        fields = ("content", "category", "visibility", "tags")
        try:
            MemoryCreate.model_validate(record.model_dump(include=set(fields)))
        except ValidationError as error:
            issues = "; ".join(
                f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors()
            )
            raise BadRequest(f"line {number}: {issues}") from None
        memories.append(Memory.model_validate(record.model_dump(exclude={"kind", "user"})))
    return memories


async def import_user_memories(
    store: Store,
    user_id: str,
    memories: Sequence[Memory],
    embed: Callable[[Sequence[str]], Awaitable[list[bytes]]] | None = None,
) -> ImportCounts:
    """Store `user_memories`' memories as the user's (those whose id is taken are left
    as they are, counted as already there), in pages of 500, each in one transaction."""
    counts = ImportCounts()
    for start in range(0, len(memories), _PAGE):
        batch = memories[start : start + _PAGE]
        vectors = await embed([m.content for m in batch]) if embed else []
        with acting_as(IMPORT):
            added = await store.import_memories(user_id, batch, vectors)
        counts.added["memory"] += added
        counts.existing["memory"] += len(batch) - added
    return counts


def check_lines(lines: Iterable[str]) -> int:
    """Raise `BadRequest` at the first malformed line, as `import_lines` would, without
    storing anything; how many records there are."""
    records = 0
    for number, line in enumerate(lines, start=1):
        if line.strip():
            _parse(number, line)
            records += 1
    return records


async def import_lines(
    store: Store,
    lines: Iterable[str],
    embed: Callable[[Sequence[str]], Awaitable[list[bytes]]] | None = None,
    counts: ImportCounts | None = None,
) -> ImportCounts:
    """Import an export; safe to repeat. Stops with `BadRequest` at a malformed line
    (what came before it stays imported; importing the fixed file again completes it).
    With `embed`, imported memories get their search embeddings at once. `counts`: where
    to count (so that a caller knows what was stored before a failure)."""
    counts = ImportCounts() if counts is None else counts
    user_ids: dict[str, str] = {}
    pending: dict[str, list[Memory]] = {}

    async def flush(name: str) -> None:
        batch = pending.pop(name, [])
        if batch:
            vectors = await embed([m.content for m in batch]) if embed else []
            with acting_as(IMPORT):
                added = await store.import_memories(user_ids[name], batch, vectors)
            counts.added["memory"] += added
            counts.existing["memory"] += len(batch) - added

    async def user_id(name: str, number: int) -> str:
        if name not in user_ids:
            existing = await store.get_user(name)
            if existing is None:
                raise BadRequest(f"line {number}: user '{name}' appears before its user record")
            user_ids[name] = existing.id
        return user_ids[name]

    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        record = _parse(number, line)
        if isinstance(record, UserRecord):
            existing = await store.get_user(record.name)
            if existing is None:
                created = await store.create_user(
                    User(id=record.id, name=record.name, created_at=to_us(record.created_at))
                )
                user_ids[record.name] = created.id
                counts.added["user"] += 1
            else:
                user_ids[record.name] = existing.id
                counts.existing["user"] += 1
        elif isinstance(record, KeyRecord):
            key = ApiKey(
                id=record.id,
                user_id=await user_id(record.user, number),
                user_name=record.user,
                name=record.name,
                prefix=record.prefix,
                scopes=parse_scopes(record.scopes),
                created_at=to_us(record.created_at),
                last_used_at=_us(record.last_used_at),
                revoked_at=_us(record.revoked_at),
            )
            added = await store.import_key(key, record.key_hash)
            counts.added["key"] += int(added)
            counts.existing["key"] += int(not added)
        else:
            await user_id(record.user, number)
            memory = Memory.model_validate(record.model_dump(exclude={"kind", "user"}))
            pending.setdefault(record.user, []).append(memory)
            if len(pending[record.user]) >= _PAGE:
                await flush(record.user)
    for name in list(pending):
        await flush(name)
    if counts.added["memory"]:
        await store.analyze()  # the planner's statistics predate the import
    return counts
