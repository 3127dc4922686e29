-- Idempotency-Key (mnemo.idempotency, docs/api.md "Idempotency"): a keyed create's answer
-- (status and body bytes), stored in the transaction that writes its memories, per user
-- and key, until expires_at (microseconds since the epoch). Expired rows are deleted by
-- later keyed writes (up to 100 each) and never answered.
CREATE TABLE idempotency_keys (
    user_id TEXT NOT NULL,
    key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    status INTEGER NOT NULL,
    body BLOB NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, key)
);
CREATE INDEX idempotency_keys_expiry ON idempotency_keys(expires_at);

-- The memories each stored answer shows (its body holds their text): deleting a memory,
-- or changing it (its stored JSON, migration 0007, changes with any visible
-- field), deletes the answers that show it (the triggers below), so
-- no copy of a deleted text stays behind (secure_delete zeroes the freed pages).
CREATE TABLE idempotency_memories (
    memory_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    key TEXT NOT NULL,
    PRIMARY KEY (memory_id, user_id, key),
    FOREIGN KEY (user_id, key) REFERENCES idempotency_keys(user_id, key) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX idempotency_memories_key ON idempotency_memories(user_id, key);

CREATE TRIGGER idempotency_forget_deleted AFTER DELETE ON memories BEGIN
    DELETE FROM idempotency_keys WHERE (user_id, key) IN
        (SELECT user_id, key FROM idempotency_memories WHERE memory_id = old.id);
END;
CREATE TRIGGER idempotency_forget_edited AFTER UPDATE OF json ON memories
    WHEN new.json IS NOT old.json BEGIN
    DELETE FROM idempotency_keys WHERE (user_id, key) IN
        (SELECT user_id, key FROM idempotency_memories WHERE memory_id = old.id);
END;
