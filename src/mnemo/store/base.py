"""The storage protocol every backend implements, and the records it deals in.

Every memory method takes the owning user's id as its first argument: no query
can forget whose memory it touches. Another user's memory behaves exactly like
one that does not exist. Backends raise only `mnemo.errors` exceptions.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from mnemo.idempotency import IdempotentWrite
from mnemo.models import SCOPES, ActionItem, Conversation, Memory
from mnemo.store.changes import HistoryRow
from mnemo.store.webhook_rows import Attempt, Claimed, Delivery, Endpoint, EndpointChange

READ_SCOPE = "memories:read"
WRITE_SCOPE = "memories:write"
CONVERSATIONS_READ_SCOPE = "conversations:read"
CONVERSATIONS_WRITE_SCOPE = "conversations:write"
ACTION_ITEMS_READ_SCOPE = "action_items:read"
ACTION_ITEMS_WRITE_SCOPE = "action_items:write"
WEBHOOKS_READ_SCOPE = "webhooks:read"
WEBHOOKS_WRITE_SCOPE = "webhooks:write"
# In canonical order (how a key's scopes are stored and shown); defined once, with the
# API's schemas (the admin API's key body documents them).
ALL_SCOPES = SCOPES

# Erasure (`Store.delete_all_memories`, `Store.delete_user`): the tables, each with a
# `user_id` column, that hold rows of a user's memories (emptied before `memories`) and
# those that hold the rest of their account (emptied after it, before `users`). A
# migration's new table of a user's rows is one more name in one of them; the SQLite
# store adds its own (`memory_vectors`).
MEMORY_ROWS = ("idempotency_keys", "embedding_queue", "memory_keys")
ACCOUNT_ROWS = (
    "vectors_changes",
    "action_items",
    "conversations",
    "memory_history",
    "webhook_deliveries",  # of the user's endpoints, and of the admin's about this user
    "webhook_endpoints",
    "ui_sessions",
    "api_keys",
)
# `count_all_memories` on PostgreSQL: an exact count while the planner estimates fewer.
EXACT_COUNT_BELOW = 100_000

# Told of each failure of the database, as it is translated to a `StoreError`: the
# operation (`connect`, `read` or `write`) and whether it was `StoreUnavailable` (the
# database lost or refused). Stores take one (`store_for`'s `on_error`; the metrics
# count them), from any thread; by default nobody is told.
OnError = Callable[[str, bool], None]


def ignore_error(operation: str, unavailable: bool) -> None:
    """The default `OnError`: nobody is told."""


@dataclass(frozen=True)
class User:
    id: str
    name: str
    created_at: int  # microseconds since the epoch


@dataclass(frozen=True)
class ApiKey:
    """A key's record; the key itself is never stored, only its hash."""

    id: str
    user_id: str
    user_name: str
    name: str
    prefix: str  # the first characters of the key, safe to show in listings
    scopes: tuple[str, ...]
    created_at: int
    last_used_at: int | None
    revoked_at: int | None


@dataclass(frozen=True)
class Queued:
    """A memory whose embedding is queued (docs/search.md, "The embedding queue")."""

    user_id: str
    memory_id: str
    content: str


@dataclass(frozen=True)
class ActionItemFilter:
    """Which of a user's action items a list shows: each field None means any. Dates
    bound `created_at`, inclusive (microseconds since the epoch)."""

    conversation_id: str | None = None
    completed: bool | None = None
    start_us: int | None = None
    end_us: int | None = None


@dataclass(frozen=True)
class ConversationFilter:
    """Which of a user's conversations a list shows: dates bound `created_at`,
    inclusive (microseconds since the epoch); None means unbounded."""

    start_us: int | None = None
    end_us: int | None = None


@dataclass(frozen=True)
class NewConversation:
    """A conversation written with the memories extracted from it (`insert_memories`),
    and its action items, in the same transaction."""

    conversation: Conversation
    action_items: Sequence[ActionItem] = ()


@dataclass(frozen=True)
class MemoryFilter:
    """Which of a user's memories the web page lists, in which order: `categories`
    (any of them; none: all), `tag` (memories carrying it; None: all), `newest` (by
    creation time, newest first; else most important first, the API's list order)."""

    categories: tuple[str, ...] = ()
    tag: str | None = None
    newest: bool = False


@dataclass(frozen=True)
class UiSession:
    """A signed-in browser of the web page (docs/ui.md). `id_hash`: the SHA-256 of the
    id in its cookie. A user's session names its key (`key_id`, `user_id`); the
    operator's names none and holds the SHA-256 of the admin token (`admin_hash`).
    Times are microseconds since the epoch."""

    id_hash: str
    user_id: str | None
    key_id: str | None
    admin_hash: str | None
    csrf: str
    created_at: int
    expires_at: int


MemoryChange = Callable[[Memory], Memory]
ConversationChange = Callable[[Conversation], Conversation]
ActionItemChange = Callable[[ActionItem], ActionItem]
FoundKey = tuple[ApiKey, str]  # a key's record and its stored hash
KeyAndRead = tuple[FoundKey | None, bytes | None]  # a key and what was read with it


async def key_then_page(store: Store, key_hash: str, limit: int, offset: int) -> KeyAndRead:
    """`Store.key_and_page` as two calls: the key, then its user's page."""
    found = await store.key_by_hash(key_hash)
    if found is None:
        return None, None
    return found, await store.list_memories_json(found[0].user_id, (), limit, offset)


async def key_then_memory(store: Store, key_hash: str, memory_id: str) -> KeyAndRead:
    """`Store.key_and_memory` as two calls: the key, then its user's memory."""
    found = await store.key_by_hash(key_hash)
    if found is None:
        return None, None
    return found, await store.get_memory_json(found[0].user_id, memory_id)


class Store(Protocol):
    """What the service needs from a database."""

    # The magnitude of a `keyword_search` score that counts as half a match when the
    # rankings are fused (`rank.fuse`): each full-text engine scores on its own scale.
    keyword_half: float

    async def open(self) -> None:
        """Connect and bring the schema up to date (safe if several processes race)."""

    async def close(self) -> None:
        """Release every connection."""

    async def ping(self) -> None:
        """Return if the database answers a query; raise `StoreUnavailable` if not."""

    async def schema_version(self) -> int:
        """The highest migration applied."""

    # users
    async def create_user(self, user: User) -> User:
        """Insert a user; `Conflict` if the name is taken."""

    async def get_user(self, name: str) -> User | None:
        """The user with this name, or None."""

    async def list_users(self, limit: int = 0, offset: int = 0) -> list[tuple[User, int]]:
        """Every user with their memory count, by name (`limit` of them after `offset`;
        all with `limit` 0)."""

    async def count_memories(self, user_id: str) -> int:
        """How many memories the user has."""

    async def delete_user(self, user_id: str) -> int | None:
        """Erase the user and every row of theirs (`MEMORY_ROWS`, memories with their
        full-text entries and vectors, `ACCOUNT_ROWS`, the user) in one transaction; how
        many memories went, None if no such user. SQLite then purges the WAL soon."""

    async def delete_all_memories(self, user_id: str) -> int:
        """Delete every memory of the user (and `MEMORY_ROWS`, their vectors and
        full-text entries) in one transaction; how many."""

    # keys
    async def create_key(self, key: ApiKey, key_hash: str) -> None:
        """Store a key's record and its hash."""

    async def list_keys(self, user_id: str | None = None) -> list[ApiKey]:
        """Keys (revoked ones too), oldest first, optionally of one user."""

    async def count_active_keys(self) -> int:
        """How many keys are not revoked."""

    async def revoke_key(self, key_id: str, revoked_at: int) -> bool:
        """Revoke a key; False if no active key has that id."""

    async def key_by_hash(self, key_hash: str) -> FoundKey | None:
        """The active (not revoked) key with this hash, with the stored hash."""

    async def touch_key(self, key_id: str, used_at: int) -> None:
        """Record when a key was last used."""

    async def key_and_page(self, key_hash: str, limit: int, offset: int) -> KeyAndRead:
        """`key_by_hash`, and if a key was found, its user's page (`list_memories_json`
        with no category filter) read with it: one query on PostgreSQL for a page that
        ends before the bookmarks' first offset (the hot path's one round trip)."""

    async def key_and_memory(self, key_hash: str, memory_id: str) -> KeyAndRead:
        """`key_by_hash`, and if a key was found, its user's memory `get_memory_json`
        (None if the user has none with this id), read in one query on PostgreSQL."""

    # memories
    async def list_memories_json(
        self, user_id: str, categories: Sequence[str], limit: int, offset: int
    ) -> bytes:
        """A page of the user's memories in `scoring`, `created_at`, `id` descending
        order, filtered to `categories` (all when empty) before paging, as the API's
        JSON array (of the stored JSON of each: `mnemo.store.render`)."""

    async def get_memory(self, user_id: str, memory_id: str) -> Memory | None:
        """One of the user's memories, or None."""

    async def get_memory_json(self, user_id: str, memory_id: str) -> bytes | None:
        """One of the user's memories as the API's JSON (stored: `mnemo.store.render`),
        or None."""

    async def insert_memories(
        self,
        user_id: str,
        memories: Sequence[Memory],
        vectors: Sequence[bytes] = (),
        *,
        dedup: bool = False,
        idempotent: IdempotentWrite | None = None,
        conversation: NewConversation | None = None,
    ) -> list[Memory | None]:
        """Insert them in one transaction (with `conversation`: its row and its action
        items too, even when no memory is given), each with its dedup keys and either its
        embedding (if `vectors` are given) or a row in the embedding queue. With `dedup`,
        one that repeats a memory of the user's stored before it (earlier ones of the
        same call too: `dedup.find_duplicate` on those sharing a dedup key) is not
        inserted; found and inserted in the same transaction, so that concurrent
        identical creates store one. For each memory: the one it repeats, or None.
        With `idempotent`, first (in the transaction) `idempotency.answer_again` on the
        key's live stored answer (raising `Replay` or 422, writing nothing); else the
        answer `idempotent.render(found)` is stored with the key, with the ids it shows,
        and up to `EXPIRED_PURGED` expired answers are deleted."""

    async def stored_answer(
        self, user_id: str, key: str, now_us: int
    ) -> tuple[str, int, bytes] | None:
        """The user's live (unexpired at `now_us`) stored answer for an idempotency key:
        (fingerprint, status, body), or None."""

    async def update_memory(
        self, user_id: str, memory_id: str, change: MemoryChange, vector: bytes | None = None
    ) -> Memory | None:
        """Atomically replace the memory with `change(current)`; None if not found. If the
        content changed: new dedup keys, and the embedding replaced by `vector`, or (None)
        removed and the memory queued for a new one, in the same transaction."""

    async def delete_memory(self, user_id: str, memory_id: str) -> bool:
        """Delete permanently; False if not found."""

    # action items (docs/api.md "Action items")
    async def insert_action_items(self, user_id: str, items: Sequence[ActionItem]) -> None:
        """Insert them in one transaction."""

    async def list_action_items(
        self, user_id: str, where: ActionItemFilter, limit: int, offset: int
    ) -> list[ActionItem]:
        """A page of the user's action items matching `where`, newest first
        (`created_at`, then `id`, descending)."""

    async def get_action_item(self, user_id: str, item_id: str) -> ActionItem | None:
        """One of the user's action items, or None."""

    async def update_action_item(
        self, user_id: str, item_id: str, change: ActionItemChange
    ) -> ActionItem | None:
        """Atomically replace the item with `change(current)`; None if not found."""

    async def delete_action_item(self, user_id: str, item_id: str) -> bool:
        """Delete permanently; False if not found."""

    # conversations (docs/api.md "Conversations"; written by `insert_memories`)
    async def list_conversations(
        self,
        user_id: str,
        where: ConversationFilter,
        limit: int,
        offset: int,
        *,
        transcript: bool = False,
    ) -> list[Conversation]:
        """A page of the user's conversations, newest first (`created_at`, then `id`,
        descending); with `transcript`, each with its text or segments."""

    async def get_conversation(self, user_id: str, conversation_id: str) -> Conversation | None:
        """One of the user's conversations, with its transcript, or None."""

    async def update_conversation(
        self, user_id: str, conversation_id: str, change: ConversationChange
    ) -> Conversation | None:
        """Atomically replace the title and discarded flag with `change(current)`'s;
        None if not found."""

    async def delete_conversation(
        self, user_id: str, conversation_id: str, *, with_memories: bool = False
    ) -> bool:
        """Delete permanently, in one transaction: the conversation, and either the
        memories extracted from it (`with_memories`, as `delete_memory` deletes one) or
        their link to it (their `conversation_id` and stored JSON); its action items
        stay, unlinked. False if not found."""

    async def conversation_memories_json(
        self, user_id: str, conversation_id: str, categories: Sequence[str], limit: int, offset: int
    ) -> bytes:
        """`list_memories_json` of the memories extracted from this conversation."""

    # history (mnemo.store.changes, docs/history.md)
    async def memory_history(self, user_id: str, memory_id: str) -> list[HistoryRow]:
        """The user's history rows of this memory, oldest first ([] if none)."""

    async def prune_history(self, before_us: int, limit: int) -> int:
        """Delete up to `limit` history rows recorded before `before_us`, oldest first;
        how many."""

    # webhooks (mnemo.store.webhook_rows, docs/webhooks.md): `owner` is a user's id, or
    # None for the admin's endpoints
    async def insert_endpoint(self, endpoint: Endpoint, most: int) -> bool:
        """Insert it unless its owner has `most` endpoints already (checked in the same
        transaction); whether it was."""

    async def list_endpoints(self, owner: str | None) -> list[Endpoint]:
        """The owner's endpoints, oldest first."""

    async def get_endpoint(self, owner: str | None, endpoint_id: str) -> Endpoint | None:
        """One of the owner's endpoints, or None."""

    async def update_endpoint(
        self, owner: str | None, endpoint_id: str, change: EndpointChange
    ) -> Endpoint | None:
        """Atomically replace its url, events, enabled, description and updated_at with
        those of `change(current)`; None if not found."""

    async def delete_endpoint(self, owner: str | None, endpoint_id: str) -> bool:
        """Delete it and its deliveries; False if not found."""

    async def list_deliveries(self, endpoint_id: str, limit: int, offset: int) -> list[Delivery]:
        """A page of the endpoint's deliveries, newest first (the caller checked the
        endpoint's owner)."""

    async def replay_delivery(
        self, endpoint_id: str, delivery_id: str, now: int
    ) -> Delivery | None:
        """Make the endpoint's delivery pending and due at `now`, its retry window starting
        then; the delivery after it, or None if the endpoint has none with this id."""

    async def claim_deliveries(self, limit: int, lease_us: int, now: int) -> list[Claimed]:
        """Lease up to `limit` due deliveries (pending, next attempt <= `now`, not leased,
        of an enabled endpoint), oldest due first, until `now` + `lease_us`; a row is
        leased to one caller at a time, whichever process calls."""

    async def prune_deliveries(self, before_us: int, limit: int) -> int:
        """Delete up to `limit` delivered or failed deliveries last tried before
        `before_us`, oldest first; how many."""

    async def finish_deliveries(self, done: Sequence[tuple[Delivery, Attempt]]) -> int:
        """Record each attempt (attempts + 1, status, next attempt, error) and release its
        lease, where the lease is still the one claimed; how many were recorded."""

    # search
    async def keyword_search(
        self, user_id: str, query: str, limit: int, categories: Sequence[str] = ()
    ) -> list[tuple[str, float]]:
        """Full-text matches of a natural-language query: (id, score), best first; the
        score's magnitude grows with the match (see `keyword_half`)."""

    async def semantic_search(
        self, user_id: str, vector: bytes, limit: int, categories: Sequence[str] = ()
    ) -> list[tuple[str, float]]:
        """Memories nearest to an embedding: (id, cosine similarity), best first."""

    async def memories_by_ids(self, user_id: str, ids: Sequence[str]) -> dict[str, Memory]:
        """The user's memories among `ids`, by id."""

    async def set_vectors(self, user_id: str, vectors: Sequence[tuple[str, bytes]]) -> None:
        """Set (replace) the embeddings of these memories."""

    # the embedding queue
    async def claim_embeddings(
        self, limit: int, lease_us: int, now: int | None = None
    ) -> list[Queued]:
        """Lease up to `limit` queued rows whose lease has expired (until `now` +
        `lease_us`, in microseconds), round robin between users (each user's oldest row,
        then each one's second, ...), with the memories' current content."""

    async def pending_embeddings(self, user_id: str | None = None, limit: int = 0) -> list[Queued]:
        """The queued rows (of one user, if given; at most `limit`, if not 0), leased or
        not, oldest first."""

    async def complete_embeddings(self, done: Sequence[tuple[Queued, bytes]]) -> int:
        """In one transaction: store each embedding and remove its queue row, if the row
        is still queued and the memory's content is still the one embedded; how many."""

    async def count_pending(self) -> int:
        """How many memories wait in the embedding queue."""

    async def count_all_memories(self) -> int:
        """How many memories all users have: exact on SQLite; on PostgreSQL exact while
        the planner estimates fewer than `EXACT_COUNT_BELOW` rows, that estimate past it
        (a count would read every row at each metrics scrape)."""

    def admit_early(self, user_id: str) -> None:
        """Raise `Backlogged` (429) or `Saturated` (503) at once if a write of this user
        (of anyone) that queues embeddings was refused for the queue's bounds less than
        its `Retry-After` ago (mnemo.admission); no database work."""

    async def count_unindexed(self) -> int:
        """How many memories have no embedding (made before search, or imported bare)."""

    # export and import
    async def memories_after(self, user_id: str, after_id: str, limit: int) -> list[Memory]:
        """Up to `limit` of the user's memories with id > `after_id`, in id order."""

    async def import_memories(
        self, user_id: str, memories: Sequence[Memory], vectors: Sequence[bytes] = ()
    ) -> int:
        """Insert those whose id is not stored yet (with their embeddings, if given), in
        one transaction; how many."""

    async def conversations_after(
        self, user_id: str, after_id: str, limit: int
    ) -> list[Conversation]:
        """Up to `limit` of the user's conversations (with their transcripts) with id >
        `after_id`, in id order."""

    async def action_items_after(self, user_id: str, after_id: str, limit: int) -> list[ActionItem]:
        """Up to `limit` of the user's action items with id > `after_id`, in id order."""

    async def import_conversations(
        self, user_id: str, conversations: Sequence[Conversation]
    ) -> list[str]:
        """Insert those whose id is not stored yet (for anyone), in one transaction; the
        ids of those inserted."""

    async def import_action_items(self, user_id: str, items: Sequence[ActionItem]) -> int:
        """Insert those whose id is not stored yet (for anyone), in one transaction; how
        many."""

    async def analyze(self) -> None:
        """Bring the query planner's statistics up to date after a bulk load (PostgreSQL
        also reclaims dead rows: `VACUUM (ANALYZE)`)."""

    async def keys_with_hashes(self, user_id: str) -> list[tuple[ApiKey, str]]:
        """The user's keys (revoked ones too) with their stored hashes, oldest first."""

    async def import_key(self, key: ApiKey, key_hash: str) -> bool:
        """Insert the key unless its id or hash is stored already; whether it was."""

    # the web page (mnemo.ui)
    async def browse_memories(
        self, user_id: str, where: MemoryFilter, limit: int, offset: int
    ) -> tuple[list[Memory], int]:
        """A page of the user's memories that match `where`, in its order, and how many
        match in all."""

    async def create_ui_session(self, session: UiSession) -> None:
        """Store a new session, and delete every session past its `expires_at`."""

    async def ui_session(self, id_hash: str, now_us: int) -> tuple[UiSession, ApiKey | None] | None:
        """The live session with this id hash (None if there is none or it expired at
        `now_us`) and, for a user's session, its key if still active (None once revoked
        or deleted)."""

    async def end_ui_session(self, id_hash: str) -> None:
        """Delete the session (nothing if there is none)."""
