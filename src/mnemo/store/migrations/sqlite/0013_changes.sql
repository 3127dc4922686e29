-- One record of every change of a memory (docs/history.md): triggers on
-- memories write, in the transaction of the change, a row of memory_history (when, who,
-- the memory's stored JSON before and after).
--
-- change_actor: the one row the store sets in a write transaction to the actor of its
-- writes (a key id, "admin", "import", "extraction"; NULL: "system"), read by the triggers.
CREATE TABLE change_actor (
    only INTEGER PRIMARY KEY CHECK (only = 1),
    actor TEXT
);
INSERT INTO change_actor (only, actor) VALUES (1, NULL);

-- at: microseconds since the epoch. action: created, updated, deleted. old_json and
-- new_json: the memory's stored JSON before and after; both are set to NULL for every row
-- of a memory when it is deleted (deletion is permanent: only the fact remains). A memory
-- deleted with its user (ON DELETE CASCADE) leaves no row: the user's history goes too.
CREATE TABLE memory_history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    memory_id TEXT NOT NULL,
    action TEXT NOT NULL,
    actor TEXT NOT NULL,
    at INTEGER NOT NULL,
    old_json TEXT,
    new_json TEXT
);
CREATE INDEX memory_history_memory ON memory_history(user_id, memory_id, id);
CREATE INDEX memory_history_at ON memory_history(at);

CREATE TRIGGER history_created AFTER INSERT ON memories BEGIN
    INSERT INTO memory_history (user_id, memory_id, action, actor, at, old_json, new_json)
    VALUES (new.user_id, new.id, 'created',
        coalesce((SELECT actor FROM change_actor WHERE only = 1), 'system'),
        CAST((julianday('now') - 2440587.5) * 86400000000.0 AS INTEGER), NULL, new.json);
END;

CREATE TRIGGER history_updated AFTER UPDATE OF json ON memories
    WHEN new.json IS NOT old.json BEGIN
    INSERT INTO memory_history (user_id, memory_id, action, actor, at, old_json, new_json)
    VALUES (new.user_id, new.id, 'updated',
        coalesce((SELECT actor FROM change_actor WHERE only = 1), 'system'),
        CAST((julianday('now') - 2440587.5) * 86400000000.0 AS INTEGER), old.json, new.json);
END;

CREATE TRIGGER history_deleted AFTER DELETE ON memories BEGIN
    UPDATE memory_history SET old_json = NULL, new_json = NULL
        WHERE user_id = old.user_id AND memory_id = old.id;
    INSERT INTO memory_history (user_id, memory_id, action, actor, at, old_json, new_json)
    SELECT old.user_id, old.id, 'deleted',
        coalesce((SELECT actor FROM change_actor WHERE only = 1), 'system'),
        CAST((julianday('now') - 2440587.5) * 86400000000.0 AS INTEGER), NULL, NULL
    WHERE EXISTS (SELECT 1 FROM users WHERE id = old.user_id);
END;
