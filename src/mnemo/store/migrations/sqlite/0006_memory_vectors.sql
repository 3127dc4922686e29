-- Each memory's embedding, owned by mnemo: 384 little-endian float32 (1,536 bytes), the
-- format of PostgreSQL's `embedding` column. Keyed by the memory's rowid (the keys of
-- vectors_changes, migration 0005); the index on user_id lists a user's vectors in rowid
-- order, so reading them all walks the table forwards. (A WITHOUT ROWID table keyed
-- (user_id, rowid) was measured too: a 1.5 KB row overflows its 4 KB page there, which
-- made the file 2.2 times larger and the read no faster.)
-- Written by the store's `_put_vectors`; a memory's vector leaves with it (trigger
-- below; secure_delete zeroes it in the file).
CREATE TABLE memory_vectors (
    memory_rowid INTEGER PRIMARY KEY,
    user_id TEXT NOT NULL,
    embedding BLOB NOT NULL CHECK (length(embedding) = 1536)
);
CREATE INDEX memory_vectors_user ON memory_vectors(user_id);

CREATE TRIGGER memory_vectors_delete AFTER DELETE ON memories BEGIN
    DELETE FROM memory_vectors WHERE memory_rowid = old.rowid;
END;

-- Before this migration, memories_fts_delete (0003) also deleted from memories_vec; made
-- again as 0003 makes it now. (Upgrading, mnemo.store.vec0_upgrade then copies the
-- vectors out of memories_vec and drops it.)
DROP TRIGGER memories_fts_delete;
CREATE TRIGGER memories_fts_delete AFTER DELETE ON memories BEGIN
    INSERT INTO memories_fts(memories_fts, rowid, content, user_id)
        VALUES ('delete', old.rowid, old.content, old.user_id);
END;
