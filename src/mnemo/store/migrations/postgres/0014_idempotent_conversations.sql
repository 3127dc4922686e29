-- Idempotency-Key on the conversation creates (docs/api.md "Idempotency"): their stored
-- answer shows the conversation and its action items as well as its memories, so
-- idempotency_memories.memory_id (migration 0008) now holds any id an answer shows: a
-- memory's, a conversation's or an action item's. Changing or deleting a conversation
-- or an action item deletes the answers that show it, as for memories.
CREATE TRIGGER idempotency_forget_deleted AFTER DELETE ON conversations
    FOR EACH ROW EXECUTE FUNCTION idempotency_forget();
CREATE TRIGGER idempotency_forget_edited AFTER UPDATE ON conversations
    FOR EACH ROW EXECUTE FUNCTION idempotency_forget();
CREATE TRIGGER idempotency_forget_deleted AFTER DELETE ON action_items
    FOR EACH ROW EXECUTE FUNCTION idempotency_forget();
CREATE TRIGGER idempotency_forget_edited AFTER UPDATE ON action_items
    FOR EACH ROW EXECUTE FUNCTION idempotency_forget();
