-- Which vectors each change of a user's vectors_version touched: a process that keeps
-- the user's vectors (mnemo.store.vector_cache) then reads only those again. Each
-- user's last 100 changes are kept; `keys` lists the vectors' rowids, comma-separated
-- (at most 64; NULL: more, read them all). `_put_vectors` writes the records of the
-- vectors it sets, this trigger those of deleted memories.
CREATE TABLE vectors_changes (
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    version INTEGER NOT NULL,
    keys TEXT,
    PRIMARY KEY (user_id, version)
) WITHOUT ROWID;

DROP TRIGGER vectors_version_delete;

CREATE TRIGGER vectors_version_delete AFTER DELETE ON memories BEGIN
    UPDATE users SET vectors_version = vectors_version + 1 WHERE id = OLD.user_id;
    INSERT INTO vectors_changes (user_id, version, keys)
        SELECT id, vectors_version, CAST(OLD.rowid AS TEXT) FROM users WHERE id = OLD.user_id;
    DELETE FROM vectors_changes WHERE user_id = OLD.user_id
        AND version <= (SELECT vectors_version - 100 FROM users WHERE id = OLD.user_id);
END;
