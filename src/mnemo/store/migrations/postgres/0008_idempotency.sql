-- Idempotency-Key (mnemo.idempotency, docs/api.md "Idempotency"): a keyed create's answer
-- (status and body bytes), stored in the transaction that writes its memories, per user
-- and key, until expires_at (microseconds since the epoch). The row is inserted first in
-- that transaction, so a concurrent create with the same key waits on it, then answers
-- it. Expired rows are deleted by later keyed writes (up to 100 each) and never answered.
CREATE TABLE idempotency_keys (
    user_id TEXT NOT NULL,
    key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    status INTEGER NOT NULL,
    body BYTEA NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, key)
);
CREATE INDEX idempotency_keys_expiry ON idempotency_keys(expires_at);

-- The memories each stored answer shows (its body holds their text): deleting a memory,
-- or changing it (its stored JSON, migration 0006, changes with any visible
-- field), deletes the answers that show it (the triggers below).
CREATE TABLE idempotency_memories (
    memory_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    key TEXT NOT NULL,
    PRIMARY KEY (memory_id, user_id, key),
    FOREIGN KEY (user_id, key) REFERENCES idempotency_keys(user_id, key) ON DELETE CASCADE
);
CREATE INDEX idempotency_memories_key ON idempotency_memories(user_id, key);

CREATE FUNCTION idempotency_forget() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM idempotency_keys WHERE (user_id, key) IN
        (SELECT user_id, key FROM idempotency_memories WHERE memory_id = OLD.id);
    RETURN NULL;
END;
$$;
CREATE TRIGGER idempotency_forget_deleted AFTER DELETE ON memories
    FOR EACH ROW EXECUTE FUNCTION idempotency_forget();
CREATE TRIGGER idempotency_forget_edited AFTER UPDATE OF json ON memories
    FOR EACH ROW WHEN (NEW.json IS DISTINCT FROM OLD.json)
    EXECUTE FUNCTION idempotency_forget();
