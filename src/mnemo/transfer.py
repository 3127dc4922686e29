"""Export and import: every user, key record, conversation, action item and memory as
JSON Lines.

Each line is one record with a `kind`: `user`, `key`, `conversation`, `action_item` or
`memory`, in that order per user (a conversation before what points to it). Keys
travel as their record and hash (never the key itself), so they keep working on the
new database. Webhook endpoints are not exported (they hold their signing secrets).
Timestamps are RFC 3339 with microseconds, so a round trip is exact. Import is
idempotent: users are matched by name, everything else by id, and whatever is already
there is left as it is. An action item's or a memory's `conversation_id` is kept when
that user has the conversation by the time its line is read (from the file or from
before); otherwise it is imported unlinked (`conversation_id` null).
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
from mnemo.conversations import EARLIEST, FINISHED_BEFORE, LATEST, OUT_OF_RANGE, segment_errors
from mnemo.errors import BadRequest, Unprocessable
from mnemo.models import (
    MAX_TITLE_CHARS,
    ActionItem,
    ActionItemCreate,
    Conversation,
    ConversationCreate,
    Memory,
    MemoryCreate,
    SegmentsCreate,
)
from mnemo.service import MAX_ID_CHARS, plausible_id
from mnemo.store import ApiKey, Store, User
from mnemo.store.changes import IMPORT, acting_as

_PAGE = 500
_CONVERSATION_PAGE = 50  # a conversation's transcript may hold 100,000 characters
KINDS = ("user", "key", "conversation", "action_item", "memory")


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


class ConversationRecord(Conversation):
    model_config = ConfigDict(extra="forbid", frozen=True)
    kind: Literal["conversation"]
    user: str


class ActionItemRecord(ActionItem):
    model_config = ConfigDict(extra="forbid", frozen=True)
    kind: Literal["action_item"]
    user: str


Record = UserRecord | KeyRecord | ConversationRecord | ActionItemRecord | MemoryRecord


def _us(value: datetime | None) -> int | None:
    return None if value is None else to_us(value)


def _at(value: int | None) -> datetime | None:
    return None if value is None else to_datetime(value)


async def export_lines(
    store: Store, user_name: str | None = None, *, keys: bool = True
) -> AsyncIterator[str]:
    """JSON Lines for every user (or one), their keys (unless `keys` is False: the web
    page's export, docs/ui.md), conversations, action items and memories."""
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
        pages: tuple[tuple[str, Callable[[str, str, int], Awaitable[Sequence[Any]]], int], ...]
        pages = (
            ("conversation", store.conversations_after, _CONVERSATION_PAGE),
            ("action_item", store.action_items_after, _PAGE),
            ("memory", store.memories_after, _PAGE),
        )
        for kind, read, size in pages:
            after = ""
            while page := await read(user.id, after, size):
                for record in page:
                    yield _line(kind, user.name, record)
                after = page[-1].id


def _line(kind: str, user_name: str, record: BaseModel) -> str:
    return json.dumps(
        {"kind": kind, "user": user_name, **record.model_dump(mode="json")},
        ensure_ascii=False,
        separators=(",", ":"),
    )


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

    added: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    existing: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))

    def summary(self) -> str:
        plurals = {
            "user": "users",
            "key": "keys",
            "conversation": "conversations",
            "action_item": "action items",
            "memory": "memories",
        }
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


def _issues(number: int, error: ValidationError) -> BadRequest:
    """A validation error as the line's `BadRequest`: each field and what is wrong."""
    issues = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
    return BadRequest(f"line {number}: {issues}")


def _check_conversation(number: int, record: ConversationRecord) -> None:
    """The rules the API applies to a new conversation (text or segments, their
    limits, times), and a title of at most 200 characters."""
    fields = {"language", "geolocation"}
    try:
        if record.text_source is None:
            if record.text is not None or record.transcript_segments is None:
                raise BadRequest("a conversation without text_source has transcript_segments")
            body = record.model_dump(include={*fields, "transcript_segments", "source"})
            problem = segment_errors(SegmentsCreate.model_validate(body))
            if problem is not None:
                raise BadRequest(problem)
        else:
            if record.text is None or record.transcript_segments is not None:
                raise BadRequest("a conversation with text_source has text")
            body = record.model_dump(include={*fields, "text", "text_source", "text_source_spec"})
            ConversationCreate.model_validate(body)
            if not record.text.strip():
                raise BadRequest("text cannot be empty")
    except ValidationError as error:
        raise _issues(number, error) from None
    if not record.title.strip() or len(record.title) > MAX_TITLE_CHARS:
        raise BadRequest(f"title: 1-{MAX_TITLE_CHARS} characters, not only white space")
    started, finished = to_us(record.started_at), to_us(record.finished_at)
    if not (to_us(EARLIEST) <= started and finished < to_us(LATEST)):
        raise BadRequest(OUT_OF_RANGE)
    if finished <= started:
        raise BadRequest(FINISHED_BEFORE)


def _check_fields(record: BaseModel) -> None:
    """Every id of the record one the API can look up (`plausible_id`: 1-64 printable
    ASCII characters), every time one that reads back (years 1-9999 once in UTC)."""
    for name in type(record).model_fields:
        value = getattr(record, name)
        if name in ("id", "conversation_id") and value is not None and not plausible_id(value):
            raise BadRequest(f"{name}: 1-{MAX_ID_CHARS} printable ASCII characters")
        if isinstance(value, datetime):
            try:
                to_datetime(to_us(value))
            except OverflowError:
                raise BadRequest(f"{name}: out of range (years 1-9999 in UTC)") from None


def _check_action_item(number: int, record: ActionItemRecord) -> None:
    """The rules the API applies to a new action item's description and due time."""
    try:
        ActionItemCreate.model_validate(record.model_dump(include={"description", "due_at"}))
    except ValidationError as error:
        raise _issues(number, error) from None
    if not record.description.strip():
        raise BadRequest("description cannot be empty")


def _parse(number: int, line: str) -> Record:
    """One record; `BadRequest` naming the line if it is not JSON, not a record, holds
    a NUL character (no database takes it in text), names a user or scope that
    `mnemo users create` and `mnemo keys create` would refuse, or is a conversation or
    action item the API would refuse to create."""
    try:
        data: Any = json.loads(line)
        kind = data.get("kind") if isinstance(data, dict) else None
        if _holds_nul(data):
            raise BadRequest(f"line {number}: a NUL character (\\u0000) is not allowed")
        record: Record
        if kind == "user":
            record = UserRecord.model_validate(data)
            check_user_name(record.name)
        elif kind == "key":
            record = KeyRecord.model_validate(data)
            check_user_name(record.user)
            parse_scopes(record.scopes)
        elif kind == "conversation":
            record = ConversationRecord.model_validate(data)
            check_user_name(record.user)
            _check_conversation(number, record)
        elif kind == "action_item":
            record = ActionItemRecord.model_validate(data)
            check_user_name(record.user)
            _check_action_item(number, record)
        elif kind == "memory":
            record = MemoryRecord.model_validate(data)
            check_user_name(record.user)
        else:
            raise BadRequest(
                f"line {number}: `kind` must be user, key, conversation, action_item or memory"
            )
        _check_fields(record)
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
    key, conversation and action item records are checked and skipped. `BadRequest`
    naming the first bad line."""
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
            raise _issues(number, error) from None
        memories.append(Memory.model_validate(record.model_dump(exclude={"kind", "user"})))
    return memories


class _Links:
    """Which conversation ids are a user's: a link is kept only to one of theirs."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.theirs: dict[str, set[str]] = {}
        self.not_theirs: dict[str, set[str]] = {}

    def add(self, user_id: str, ids: Iterable[str]) -> None:
        self.theirs.setdefault(user_id, set()).update(ids)
        self.not_theirs.get(user_id, set()).difference_update(ids)

    async def kept(self, user_id: str, conversation_id: str | None) -> str | None:
        """`conversation_id` if the user has that conversation stored, else None."""
        if conversation_id is None:
            return None
        theirs = self.theirs.setdefault(user_id, set())
        not_theirs = self.not_theirs.setdefault(user_id, set())
        if conversation_id not in theirs and conversation_id not in not_theirs:
            found = await self.store.get_conversation(user_id, conversation_id)
            (theirs if found is not None else not_theirs).add(conversation_id)
        return conversation_id if conversation_id in theirs else None


async def _linked(links: _Links, user_id: str, memory: Memory) -> Memory:
    conversation_id = await links.kept(user_id, memory.conversation_id)
    if conversation_id == memory.conversation_id:
        return memory
    return memory.model_copy(update={"conversation_id": conversation_id})


async def import_user_memories(
    store: Store,
    user_id: str,
    memories: Sequence[Memory],
    embed: Callable[[Sequence[str]], Awaitable[list[bytes]]] | None = None,
) -> ImportCounts:
    """Store `user_memories`' memories as the user's (those whose id is taken are left
    as they are, counted as already there), in pages of 500, each in one transaction;
    a memory's link to a conversation the user does not have is dropped."""
    counts = ImportCounts()
    links = _Links(store)
    for start in range(0, len(memories), _PAGE):
        batch = [await _linked(links, user_id, m) for m in memories[start : start + _PAGE]]
        await _store_memories(store, user_id, batch, embed, counts)
    return counts


async def _store_memories(
    store: Store,
    user_id: str,
    batch: Sequence[Memory],
    embed: Callable[[Sequence[str]], Awaitable[list[bytes]]] | None,
    counts: ImportCounts,
) -> None:
    vectors = await embed([m.content for m in batch]) if embed else []
    with acting_as(IMPORT):
        added = await store.import_memories(user_id, batch, vectors)
    counts.added["memory"] += added
    counts.existing["memory"] += len(batch) - added


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
    to count (so that a caller knows what was stored before a failure). Each record is
    stored as the user its line names; an action item's or a memory's conversation_id
    is kept if that user has the conversation by then, else dropped (`_Links`)."""
    counts = ImportCounts() if counts is None else counts
    user_ids: dict[str, str] = {}
    links = _Links(store)
    conversations: dict[str, list[Conversation]] = {}
    items: dict[str, list[ActionItem]] = {}
    memories: dict[str, list[Memory]] = {}

    async def flush_conversations(name: str) -> None:
        batch = conversations.pop(name, [])
        if batch:
            added = await store.import_conversations(user_ids[name], batch)
            links.add(user_ids[name], added)
            counts.added["conversation"] += len(added)
            counts.existing["conversation"] += len(batch) - len(added)

    async def flush_items(name: str) -> None:
        batch = items.pop(name, [])
        if batch:
            added = await store.import_action_items(user_ids[name], batch)
            counts.added["action_item"] += added
            counts.existing["action_item"] += len(batch) - added

    async def flush_memories(name: str) -> None:
        batch = memories.pop(name, [])
        if batch:
            await _store_memories(store, user_ids[name], batch, embed, counts)

    async def user_id(name: str, number: int) -> str:
        if name not in user_ids:
            existing = await store.get_user(name)
            if existing is None:
                raise BadRequest(f"line {number}: user '{name}' appears before its user record")
            user_ids[name] = existing.id
        return user_ids[name]

    async def link(name: str, conversation_id: str | None) -> str | None:
        if conversation_id is not None:
            await flush_conversations(name)  # the conversation may wait in a batch
        return await links.kept(user_ids[name], conversation_id)

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
        elif isinstance(record, ConversationRecord):
            await user_id(record.user, number)
            conversation = Conversation.model_validate(record.model_dump(exclude={"kind", "user"}))
            conversations.setdefault(record.user, []).append(conversation)
            if len(conversations[record.user]) >= _CONVERSATION_PAGE:
                await flush_conversations(record.user)
        elif isinstance(record, ActionItemRecord):
            await user_id(record.user, number)
            item = ActionItem.model_validate(
                record.model_dump(exclude={"kind", "user"})
                | {"conversation_id": await link(record.user, record.conversation_id)}
            )
            items.setdefault(record.user, []).append(item)
            if len(items[record.user]) >= _PAGE:
                await flush_items(record.user)
        else:
            await user_id(record.user, number)
            memory = Memory.model_validate(
                record.model_dump(exclude={"kind", "user"})
                | {"conversation_id": await link(record.user, record.conversation_id)}
            )
            memories.setdefault(record.user, []).append(memory)
            if len(memories[record.user]) >= _PAGE:
                await flush_memories(record.user)
    for name in list(user_ids):
        await flush_conversations(name)
        await flush_items(name)
        await flush_memories(name)
    if counts.added["memory"]:
        await store.analyze()  # the planner's statistics predate the import
    return counts
