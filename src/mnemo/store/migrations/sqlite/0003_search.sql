-- Search: a full-text index (FTS5, BM25) over memories. It follows the memories table: a
-- deleted memory leaves it in the same transaction, and FTS5's secure-delete removes its
-- words from the index at once. (The vectors: migration 0006. Databases made before it
-- have a sqlite-vec table here, memories_vec, which the upgrade to 0006 copies and drops.)
CREATE VIRTUAL TABLE memories_fts USING fts5(
    content, user_id,
    content = 'memories', content_rowid = 'rowid',
    tokenize = 'porter unicode61 remove_diacritics 2'
);
INSERT INTO memories_fts(memories_fts, rank) VALUES ('secure-delete', 1);
INSERT INTO memories_fts(memories_fts) VALUES ('rebuild');

CREATE TRIGGER memories_fts_insert AFTER INSERT ON memories BEGIN
    INSERT INTO memories_fts(rowid, content, user_id) VALUES (new.rowid, new.content, new.user_id);
END;
CREATE TRIGGER memories_fts_delete AFTER DELETE ON memories BEGIN
    INSERT INTO memories_fts(memories_fts, rowid, content, user_id)
        VALUES ('delete', old.rowid, old.content, old.user_id);
END;
CREATE TRIGGER memories_fts_update AFTER UPDATE OF content ON memories BEGIN
    INSERT INTO memories_fts(memories_fts, rowid, content, user_id)
        VALUES ('delete', old.rowid, old.content, old.user_id);
    INSERT INTO memories_fts(rowid, content, user_id) VALUES (new.rowid, new.content, new.user_id);
END;
