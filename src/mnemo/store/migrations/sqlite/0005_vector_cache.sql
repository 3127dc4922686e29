-- What a process that keeps a user's vectors for searches (mnemo.store.vector_cache)
-- needs to know what changed:
-- - users.vectors_version, a per-user counter of changes to the user's vectors: the
--   kept vectors are used only while it is unchanged;
-- - vectors_changes, which vectors each change touched (each user's last 100
--   changes; `keys`: the vectors' rowids, comma-separated, at most 64; NULL: more),
--   so that after a change only those are read again.
-- Vectors are written by the store's `_put_vectors`, which bumps the counter and
-- records the change in the same transaction; they are removed with their memory
-- (trigger memories_fts_delete, migration 0003), and this trigger does both then.
ALTER TABLE users ADD COLUMN vectors_version INTEGER NOT NULL DEFAULT 0;

CREATE TABLE vectors_changes (
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    version INTEGER NOT NULL,
    keys TEXT,
    PRIMARY KEY (user_id, version)
) WITHOUT ROWID;

CREATE TRIGGER vectors_version_delete AFTER DELETE ON memories BEGIN
    UPDATE users SET vectors_version = vectors_version + 1 WHERE id = OLD.user_id;
    INSERT INTO vectors_changes (user_id, version, keys)
        SELECT id, vectors_version, CAST(OLD.rowid AS TEXT) FROM users WHERE id = OLD.user_id;
    DELETE FROM vectors_changes WHERE user_id = OLD.user_id
        AND version <= (SELECT vectors_version - 100 FROM users WHERE id = OLD.user_id);
END;
