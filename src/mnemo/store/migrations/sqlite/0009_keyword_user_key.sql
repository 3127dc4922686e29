-- The full-text index names each memory's user by one token, not five. A user id is a
-- UUID, which the tokenizer splits at its dashes into five words, so the filter
-- `user_id : "0190…-…"` was a five-word phrase matched against five posting lists
-- as long as the user has memories: ~3 ms of a keyword search at 10,000 memories,
-- against ~0.4 ms for one token. `memories.user_key` is the id without its dashes, a
-- generated column (nothing stores it twice); the index is made again over it, with
-- the same tokenizer, secure-delete and triggers (0003, 0006). Dropping the old index
-- frees its pages, which secure_delete zeroes.
ALTER TABLE memories ADD COLUMN user_key TEXT GENERATED ALWAYS AS (replace(user_id, '-', '')) VIRTUAL;

DROP TRIGGER memories_fts_insert;
DROP TRIGGER memories_fts_delete;
DROP TRIGGER memories_fts_update;
DROP TABLE memories_fts;

CREATE VIRTUAL TABLE memories_fts USING fts5(
    content, user_key,
    content = 'memories', content_rowid = 'rowid',
    tokenize = 'porter unicode61 remove_diacritics 2'
);
INSERT INTO memories_fts(memories_fts, rank) VALUES ('secure-delete', 1);
INSERT INTO memories_fts(memories_fts) VALUES ('rebuild');

CREATE TRIGGER memories_fts_insert AFTER INSERT ON memories BEGIN
    INSERT INTO memories_fts(rowid, content, user_key) VALUES (new.rowid, new.content, new.user_key);
END;
CREATE TRIGGER memories_fts_delete AFTER DELETE ON memories BEGIN
    INSERT INTO memories_fts(memories_fts, rowid, content, user_key)
        VALUES ('delete', old.rowid, old.content, old.user_key);
END;
CREATE TRIGGER memories_fts_update AFTER UPDATE OF content ON memories BEGIN
    INSERT INTO memories_fts(memories_fts, rowid, content, user_key)
        VALUES ('delete', old.rowid, old.content, old.user_key);
    INSERT INTO memories_fts(rowid, content, user_key) VALUES (new.rowid, new.content, new.user_key);
END;
