"""The memory rules: ownership, validation the schema cannot express, categorisation,
ordering keys and atomic updates. Routes call one function here each."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta

from mnemo.categorize import Categorizer
from mnemo.clock import new_id, now_us, scoring, to_datetime, to_us
from mnemo.errors import BadRequest, NotFound, Unprocessable
from mnemo.idempotency import Idempotency, IdempotentWrite, answer_again, answer_json
from mnemo.models import (
    MAX_LIST_LIMIT,
    MAX_OFFSET,
    FieldChange,
    HistoryEntry,
    Memory,
    MemoryBatchResult,
    MemoryCategory,
    MemoryCreate,
    MemoryCreated,
    MemoryUpdate,
    SearchItem,
)
from mnemo.retrieval import Retrieval
from mnemo.search.dedup import find_duplicate
from mnemo.store import Store
from mnemo.store.base import KeyAndRead, MemoryFilter, NewConversation
from mnemo.store.changes import EXTRACTION, acting_as, changed_fields

_CATEGORY_NAMES = frozenset(c.value for c in MemoryCategory)
MAX_ID_CHARS = 128
CONFIRM_DELETE_ALL = "Deleting every memory needs the parameter confirm=true"


def parse_categories(raw: str | None) -> list[str]:
    """Comma-separated category names, blanks ignored; 400 for an unknown one."""
    names = [item.strip() for item in (raw or "").split(",") if item.strip()]
    for name in names:
        if name not in _CATEGORY_NAMES:
            raise BadRequest(f"Invalid category '{name}' is not a valid MemoryCategory")
    return list(dict.fromkeys(names))


def _batch_repeats(contents: Sequence[str]) -> list[int | None]:
    """For each content, the index of an earlier one of the batch it repeats (by
    `dedup.find_duplicate`), or None."""
    found: list[int | None] = []
    for i, content in enumerate(contents):
        firsts = [(str(j), contents[j], None) for j in range(i) if found[j] is None]
        match = find_duplicate(content, None, firsts)
        found.append(None if match is None else int(match))
    return found


def _not_applied(body: MemoryCreate, content: str, original: Memory) -> list[str]:
    """The fields of a create that repeats `original` whose values were sent and differ
    from the stored memory's (kept as stored, not applied), in the order of the body."""
    sent = body.model_fields_set
    differ = {
        "content": content != original.content,
        "category": body.category is not None and body.category.value != original.category,
        "visibility": "visibility" in sent and body.visibility.value != original.visibility,
        "tags": "tags" in sent and body.tags != original.tags,
    }
    return [name for name, changed in differ.items() if changed]


def plausible_id(memory_id: str) -> bool:
    """Ids are short printable ASCII; anything else cannot exist, so it is a 404."""
    return 0 < len(memory_id) <= MAX_ID_CHARS and memory_id.isascii() and memory_id.isprintable()


def page_bounds(limit: int, offset: int, most: int = MAX_LIST_LIMIT) -> tuple[int, int]:
    """A list's limit and offset brought into their ranges (1-`most`, 0-2^62; docs/api.md)."""
    return min(max(limit, 1), most), min(max(offset, 0), MAX_OFFSET)


def memory_or_404(found: bytes | None) -> bytes:
    """A memory read as JSON, or `NotFound` if there was none."""
    if found is None:
        raise NotFound()
    return found


def batch_json(answers: list[MemoryCreated], stored: int) -> bytes:
    """A batch's answer body (as the route sends it: `mnemo.idempotency.answer_json`)."""
    return answer_json(MemoryBatchResult(memories=answers, created_count=stored))


class MemoryService:
    def __init__(
        self,
        store: Store,
        categorizer: Categorizer,
        retrieval: Retrieval | None = None,
        *,
        dedup: bool = True,
        on_queued: Callable[[], None] | None = None,
    ) -> None:
        """`on_queued()`: told when a write queued an embedding (the embedder's wake-up)."""
        self.store = store
        self.categorizer = categorizer
        self.retrieval = retrieval or Retrieval(store)
        self.dedup = dedup
        self._on_queued = on_queued or (lambda: None)

    async def list_memories(
        self,
        user_id: str,
        categories: str | None,
        limit: int,
        offset: int,
        conversation_id: str | None = None,
    ) -> bytes:
        """A page as the API's JSON array (see `Store.list_memories_json`); with
        `conversation_id`, of the memories extracted from it only."""
        names = parse_categories(categories)
        bounds = page_bounds(limit, offset)
        if conversation_id is None:
            return await self.store.list_memories_json(user_id, names, *bounds)
        if not plausible_id(conversation_id):
            return b"[]"
        return await self.store.conversation_memories_json(user_id, conversation_id, names, *bounds)

    async def browse(
        self,
        user_id: str,
        categories: str | None,
        tag: str | None,
        newest: bool,
        limit: int,
        offset: int,
    ) -> tuple[list[Memory], int]:
        """The web page's list: a page of the user's memories in `categories` (as
        `list_memories` takes them) carrying `tag` (None: any), newest first or most
        important first, and how many match in all (`Store.browse_memories`)."""
        where = MemoryFilter(tuple(parse_categories(categories)), tag or None, newest)
        return await self.store.browse_memories(user_id, where, *page_bounds(limit, offset))

    async def key_and_page(self, key_hash: str, limit: int, offset: int) -> KeyAndRead:
        """The key with this hash and, if found, its user's page of `list_memories` with
        no category filter, in one store call (`Store.key_and_page`)."""
        return await self.store.key_and_page(key_hash, *page_bounds(limit, offset))

    async def get_memory_json(self, user_id: str, memory_id: str) -> bytes:
        """The memory as the API's JSON (see `Store.get_memory_json`); 404 if the user
        has no such memory."""
        found = (
            await self.store.get_memory_json(user_id, memory_id)
            if plausible_id(memory_id)
            else None
        )
        return memory_or_404(found)

    async def key_and_memory(self, key_hash: str, memory_id: str) -> KeyAndRead:
        """The key with this hash and, if found, its user's memory as `get_memory_json`
        reads it (None: no such memory; `memory_or_404`), in one store call."""
        if not plausible_id(memory_id):
            return await self.store.key_by_hash(key_hash), None
        return await self.store.key_and_memory(key_hash, memory_id)

    async def replay(self, user_id: str, idempotency: Idempotency | None) -> None:
        """Raise `Replay` (or 422) if the request's idempotency key has a live stored
        answer; no write, no categorisation (mnemo.idempotency)."""
        if idempotency is not None:
            found = await self.store.stored_answer(user_id, idempotency.key, idempotency.now_us)
            answer_again(idempotency, found)

    async def create_memory(
        self, user_id: str, body: MemoryCreate, idempotency: Idempotency | None = None
    ) -> MemoryCreated:
        """With `idempotency`, the answer is stored with its key (see `replay`)."""
        if not body.content.strip():
            raise Unprocessable("content cannot be empty")
        (memory,), _ = await self._insert(
            user_id, [body], idempotency, lambda answers, _: answer_json(answers[0])
        )
        return memory

    async def create_memories(
        self,
        user_id: str,
        bodies: Sequence[MemoryCreate],
        idempotency: Idempotency | None = None,
    ) -> tuple[list[MemoryCreated], int]:
        """The answers in request order, and how many were stored."""
        if any(not body.content.strip() for body in bodies):
            raise Unprocessable("All memories must have non-empty content")
        return await self._insert(user_id, bodies, idempotency, batch_json)

    async def store_extracted(
        self,
        user_id: str,
        facts: Sequence[str],
        source: NewConversation,
        idempotency: Idempotency | None = None,
        render: Callable[[list[MemoryCreated], int], bytes] = batch_json,
    ) -> list[MemoryCreated]:
        """Store facts extracted from `source`'s conversation, with it and its action
        items, in one transaction, as `create_memories` stores a batch: categorised and
        deduplicated (a repeat is answered with the stored memory, `duplicate_of`), the
        history's actor `extraction`. The answers in the order of `facts`. With
        `idempotency`, the request's answer, `render(answers, stored)`, is stored with
        its key (see `replay`)."""
        bodies = [MemoryCreate(content=fact) for fact in facts]
        with acting_as(EXTRACTION):
            answers, _ = await self._insert(user_id, bodies, idempotency, render, source)
        return answers

    async def _insert(
        self,
        user_id: str,
        bodies: Sequence[MemoryCreate],
        idempotency: Idempotency | None,
        render: Callable[[list[MemoryCreated], int], bytes],
        source: NewConversation | None = None,
    ) -> tuple[list[MemoryCreated], int]:
        """Categorise, deduplicate and store `bodies`. With `source`, they were extracted
        from its conversation (`manually_added` false, its `conversation_id`), which is
        written in the same transaction, even with no bodies."""
        if not bodies and source is None:
            return [], 0
        self.store.admit_early(user_id)  # before the costly work (mnemo.admission)
        contents = [body.content.strip() for body in bodies]
        # Repeats within the batch are known before the store is asked (and cost no
        # categorisation); repeats of stored memories are found by the store, in the
        # transaction that inserts the others (`Store.insert_memories`).
        earlier = _batch_repeats(contents) if self.dedup else [None] * len(bodies)
        new = [i for i, repeat in enumerate(earlier) if repeat is None]
        missing = [i for i in new if bodies[i].category is None]
        chosen = (
            await self.categorizer.categorize([contents[i] for i in missing]) if missing else []
        )
        categories = {i: str(c.value) for i in new if (c := bodies[i].category) is not None}
        categories.update((i, result.category) for i, result in zip(missing, chosen, strict=True))
        created_us = now_us()
        created = to_datetime(created_us)
        manual = source is None
        made = {
            i: MemoryCreated(
                id=new_id(),
                content=contents[i],
                category=categories[i],
                visibility=bodies[i].visibility.value,
                tags=bodies[i].tags,
                created_at=created,
                updated_at=created,
                manually_added=manual,
                scoring=scoring(
                    manually_added=manual, category=categories[i], created_us=created_us
                ),
                reviewed=manual,
                user_review=True if manual else None,
                edited=False,
                conversation_id=None if source is None else source.conversation.id,
            )
            for i in new
        }

        def answer(stored: Sequence[Memory | None]) -> tuple[list[MemoryCreated], int]:
            repeats: dict[int, Memory] = {
                i: found for i, found in zip(new, stored, strict=True) if found is not None
            }
            for i, repeat in enumerate(earlier):
                if repeat is not None:
                    repeats[i] = repeats.get(repeat, made[repeat])
            answers = []
            for i in range(len(bodies)):
                original = repeats.get(i)
                if original is None:
                    answers.append(made[i])
                else:
                    answers.append(
                        MemoryCreated(
                            **original.model_dump(exclude={"duplicate_of", "not_applied"}),
                            duplicate_of=original.id,
                            not_applied=_not_applied(bodies[i], contents[i], original),
                        )
                    )
            return answers, len(bodies) - len(repeats)

        # What a stored answer shows besides its memories: the conversation and its items.
        shows = [source.conversation.id, *(i.id for i in source.action_items)] if source else []
        keyed = (
            None
            if idempotency is None
            else IdempotentWrite(idempotency, lambda found: render(*answer(found)), shows)
        )
        stored = await self.store.insert_memories(
            user_id, [made[i] for i in new], dedup=self.dedup, idempotent=keyed, conversation=source
        )
        if new:
            self._on_queued()
        return answer(stored)

    async def search(
        self,
        user_id: str,
        query: str,
        limit: int,
        categories: str | None,
        min_score: float = 0.0,
    ) -> list[SearchItem]:
        """The user's memories most relevant to `query`, best first: at most `limit`,
        with a `relevance_score` of at least `min_score`."""
        names = parse_categories(categories)
        found = await self.retrieval.search(user_id, query, limit, names, min_score)
        return [SearchItem(**memory.model_dump(), relevance_score=score) for memory, score in found]

    async def update_memory(self, user_id: str, memory_id: str, patch: MemoryUpdate) -> Memory:
        """Apply a validated patch atomically; 404 if the user has no such memory."""
        requested_us = now_us()

        def change(current: Memory) -> Memory:
            fields: dict[str, object] = {
                # updated_at always moves forward, even within one microsecond.
                "updated_at": max(
                    to_datetime(requested_us), current.updated_at + timedelta(microseconds=1)
                )
            }
            if patch.content is not None:
                fields["content"] = patch.content.strip()
                fields["edited"] = True
            if patch.visibility is not None:
                fields["visibility"] = patch.visibility.value
            if patch.tags is not None:
                fields["tags"] = patch.tags
            if patch.category is not None:
                fields["category"] = patch.category.value
                fields["scoring"] = scoring(
                    manually_added=current.manually_added,
                    category=patch.category.value,
                    created_us=to_us(current.created_at),
                )
            return current.model_copy(update=fields)

        if not plausible_id(memory_id):
            raise NotFound()
        if patch.content is not None:
            self.store.admit_early(user_id)
        # A new content's embedding is queued by the store, in the same transaction.
        updated = await self.store.update_memory(user_id, memory_id, change)
        if updated is None:
            raise NotFound()
        if patch.content is not None:
            self._on_queued()
        return updated

    async def memory_history(self, user_id: str, memory_id: str) -> list[HistoryEntry]:
        """The memory's changes, oldest first (docs/history.md); a deleted memory's are
        its tombstone (no values). 404 if the user has no such memory and no history
        of one."""
        if not plausible_id(memory_id):
            raise NotFound()
        rows = await self.store.memory_history(user_id, memory_id)
        if not rows:
            memory_or_404(await self.store.get_memory_json(user_id, memory_id))
        return [
            HistoryEntry(
                action=row.action,
                actor=row.actor,
                at=to_datetime(row.at),
                changes={
                    name: FieldChange(**change) for name, change in changed_fields(row).items()
                },
            )
            for row in rows
        ]

    async def delete_memory(self, user_id: str, memory_id: str) -> None:
        if not (plausible_id(memory_id) and await self.store.delete_memory(user_id, memory_id)):
            raise NotFound()

    async def delete_all_memories(self, user_id: str, confirm: str | None) -> int:
        """Delete every memory of the user, if `confirm` is `true`; how many."""
        if confirm != "true":
            raise Unprocessable(CONFIRM_DELETE_ALL)
        return await self.store.delete_all_memories(user_id)
