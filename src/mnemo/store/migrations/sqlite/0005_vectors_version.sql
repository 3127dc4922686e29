-- A per-user counter of changes to the user's vectors: a process keeps the vectors it
-- read for a search (mnemo.store.vector_cache) only while the counter is unchanged.
-- Vectors are written by the store's `_put_vectors`, which bumps the counter in the
-- same transaction; they are removed with their memory (trigger memories_fts_delete,
-- migration 0003), and this trigger bumps it then.
ALTER TABLE users ADD COLUMN vectors_version INTEGER NOT NULL DEFAULT 0;

CREATE TRIGGER vectors_version_delete AFTER DELETE ON memories BEGIN
    UPDATE users SET vectors_version = vectors_version + 1 WHERE id = OLD.user_id;
END;
