"""The store's conversations, on every backend: written with their memories and action
items in one call (and none of them when it fails), read, listed, updated, and deleted
with or without their memories, another user's always unknown."""

from __future__ import annotations

import pytest

from mnemo.clock import new_id, now_us, to_datetime
from mnemo.errors import MnemoError
from mnemo.models import ActionItem, Conversation, Geolocation, TranscriptSegment
from mnemo.store import Store, User
from mnemo.store.base import ActionItemFilter, ConversationFilter, NewConversation
from tests.contract.support import listed
from tests.contract.support import memory as _memory


async def _user(store: Store, name: str) -> User:
    return await store.create_user(User(id=new_id(), name=name, created_at=now_us()))


def _conversation(created_us: int, *, segments: bool = False) -> Conversation:
    at = to_datetime(created_us)
    return Conversation(
        id=new_id(),
        title="Lunch",
        text_source=None if segments else "message",
        text_source_spec=None if segments else "slack",
        source="omi" if segments else None,
        language="en",
        geolocation=Geolocation(latitude=45.5, longitude=-122.6, address="Portland ✓"),
        started_at=at,
        finished_at=to_datetime(created_us + 300_000_000),
        created_at=at,
        discarded=False,
        text=None if segments else "I am vegan. 漢字",
        transcript_segments=(
            [TranscriptSegment(text="I am vegan", is_user=True, start=0, end=1.5)]
            if segments
            else None
        ),
    )


def _item(conversation: Conversation) -> ActionItem:
    return ActionItem(
        id=new_id(),
        description="Call the dentist",
        completed=False,
        created_at=conversation.created_at,
        updated_at=conversation.created_at,
        conversation_id=conversation.id,
    )


async def test_written_read_listed_updated(store: Store) -> None:
    alice, bob = await _user(store, "alice"), await _user(store, "bob")
    start = now_us()
    text = _conversation(start)
    spoken = _conversation(start + 1, segments=True)
    memory = _memory("User is vegan").model_copy(update={"conversation_id": text.id})
    await store.insert_memories(
        alice.id, [memory], conversation=NewConversation(text, [_item(text)])
    )
    await store.insert_memories(alice.id, [], conversation=NewConversation(spoken))
    assert await store.get_conversation(alice.id, text.id) == text
    assert await store.get_conversation(alice.id, spoken.id) == spoken
    assert await store.get_conversation(bob.id, text.id) is None
    (stored,) = await listed(store, alice.id, (), 10, 0)
    assert stored.conversation_id == text.id
    items = await store.list_action_items(alice.id, ActionItemFilter(text.id), 10, 0)
    assert [i.conversation_id for i in items] == [text.id]

    everything = await store.list_conversations(alice.id, ConversationFilter(), 10, 0)
    assert [c.id for c in everything] == [spoken.id, text.id]
    assert all(c.text is None and c.transcript_segments is None for c in everything)
    full = await store.list_conversations(alice.id, ConversationFilter(), 10, 0, transcript=True)
    assert full == [spoken, text]
    assert await store.list_conversations(alice.id, ConversationFilter(start + 1), 10, 0) == [
        everything[0]
    ]
    assert await store.list_conversations(alice.id, ConversationFilter(end_us=start), 1, 0) == [
        everything[1]
    ]
    assert await store.list_conversations(bob.id, ConversationFilter(), 10, 0) == []

    def rename(current: Conversation) -> Conversation:
        return current.model_copy(update={"title": "Renamed", "discarded": True})

    assert await store.update_conversation(bob.id, text.id, rename) is None
    renamed = await store.update_conversation(alice.id, text.id, rename)
    assert renamed is not None and renamed.title == "Renamed" and renamed.discarded
    assert await store.get_conversation(alice.id, text.id) == renamed
    page = await store.conversation_memories_json(alice.id, text.id, (), 10, 0)
    assert memory.id.encode() in page
    assert await store.conversation_memories_json(bob.id, text.id, (), 10, 0) == b"[]"


@pytest.mark.parametrize("with_memories", [False, True])
async def test_deleted_with_or_without_memories(store: Store, with_memories: bool) -> None:
    alice, bob = await _user(store, "alice"), await _user(store, "bob")
    conversation = _conversation(now_us())
    linked = [
        _memory(f"User fact {i}").model_copy(update={"conversation_id": conversation.id})
        for i in range(3)
    ]
    other = _memory("User plays chess")
    await store.insert_memories(alice.id, [other])
    await store.insert_memories(
        alice.id, linked, conversation=NewConversation(conversation, [_item(conversation)])
    )
    assert not await store.delete_conversation(bob.id, conversation.id, with_memories=True)
    assert len(await listed(store, alice.id, (), 10, 0)) == 4
    assert await store.delete_conversation(alice.id, conversation.id, with_memories=with_memories)
    assert await store.get_conversation(alice.id, conversation.id) is None
    assert not await store.delete_conversation(alice.id, conversation.id)
    left = await listed(store, alice.id, (), 10, 0)
    if with_memories:
        assert [m.id for m in left] == [other.id]
    else:
        assert sorted(m.id for m in left) == sorted([other.id, *(m.id for m in linked)])
        assert all(m.conversation_id is None for m in left)
        for memory in linked:  # the stored JSON too
            found = await store.get_memory_json(alice.id, memory.id)
            assert found is not None and b"conversation_id" not in found
    (item,) = await store.list_action_items(alice.id, ActionItemFilter(), 10, 0)
    assert item.conversation_id is None


async def test_a_failed_write_stores_no_part(store: Store) -> None:
    """A conversation whose insert fails (its id taken) leaves no memory or item."""
    alice = await _user(store, "alice")
    first = _conversation(now_us())
    await store.insert_memories(alice.id, [], conversation=NewConversation(first))
    again = first.model_copy(update={"title": "Again"})
    memory = _memory("User is vegan").model_copy(update={"conversation_id": first.id})
    with pytest.raises(MnemoError):
        await store.insert_memories(
            alice.id, [memory], conversation=NewConversation(again, [_item(again)])
        )
    assert await listed(store, alice.id, (), 10, 0) == []
    assert await store.list_action_items(alice.id, ActionItemFilter(), 10, 0) == []
    assert (await store.get_conversation(alice.id, first.id)) == first
