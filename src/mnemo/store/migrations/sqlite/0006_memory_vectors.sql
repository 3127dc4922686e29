-- The memories' embeddings in mnemo's own format (mnemo.store.vector_blocks): one row per
-- user and block of memory rowids (block = rowid // 32), `keys` the rowids (int64,
-- little-endian, ascending; the keys of vectors_changes, migration 0005) and `vectors`
-- their embeddings in the same order, 384 little-endian float32 each (1,536 bytes:
-- 192 per key byte), as PostgreSQL's `embedding` column holds them. Written and removed
-- by the store (`vector_blocks.put` and `.drop`, in the transaction that writes or
-- deletes the memory); secure_delete zeroes a rewritten block's old pages.
CREATE TABLE memory_vectors (
    user_id TEXT NOT NULL,
    block INTEGER NOT NULL,
    keys BLOB NOT NULL,
    vectors BLOB NOT NULL CHECK (length(vectors) = 192 * length(keys)),
    PRIMARY KEY (user_id, block)
);

-- Before this migration, memories_fts_delete (0003) also deleted from memories_vec, the
-- sqlite-vec table; made again as 0003 makes it now. (Upgrading, mnemo.store.vec0_upgrade
-- then copies the vectors out of memories_vec and drops it.)
DROP TRIGGER memories_fts_delete;
CREATE TRIGGER memories_fts_delete AFTER DELETE ON memories BEGIN
    INSERT INTO memories_fts(memories_fts, rowid, content, user_id)
        VALUES ('delete', old.rowid, old.content, old.user_id);
END;
