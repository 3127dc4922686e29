-- Idempotency-Key on the conversation creates (docs/api.md "Idempotency"): their stored
-- answer shows the conversation and its action items as well as its memories, so
-- idempotency_memories.memory_id (migration 0011) now holds any id an answer shows: a
-- memory's, a conversation's or an action item's. Changing or deleting a conversation
-- or an action item deletes the answers that show it, as for memories (its text must not
-- outlive it in a stored answer; secure_delete zeroes the freed pages).
CREATE TRIGGER idempotency_forget_deleted_conversation AFTER DELETE ON conversations BEGIN
    DELETE FROM idempotency_keys WHERE (user_id, key) IN
        (SELECT user_id, key FROM idempotency_memories WHERE memory_id = old.id);
END;
CREATE TRIGGER idempotency_forget_edited_conversation AFTER UPDATE ON conversations BEGIN
    DELETE FROM idempotency_keys WHERE (user_id, key) IN
        (SELECT user_id, key FROM idempotency_memories WHERE memory_id = old.id);
END;
CREATE TRIGGER idempotency_forget_deleted_action_item AFTER DELETE ON action_items BEGIN
    DELETE FROM idempotency_keys WHERE (user_id, key) IN
        (SELECT user_id, key FROM idempotency_memories WHERE memory_id = old.id);
END;
CREATE TRIGGER idempotency_forget_edited_action_item AFTER UPDATE ON action_items BEGIN
    DELETE FROM idempotency_keys WHERE (user_id, key) IN
        (SELECT user_id, key FROM idempotency_memories WHERE memory_id = old.id);
END;
