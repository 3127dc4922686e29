-- One record of every change of a memory (docs/history.md): triggers on
-- memories write, in the transaction of the change, a row of memory_history (when, who,
-- the memory's stored JSON before and after). The actor (a key id,
-- "admin", "import", "extraction") is the transaction's setting mnemo.actor (set_config
-- with is_local), "system" when unset.
--
-- at: microseconds since the epoch. action: created, updated, deleted. old_json and
-- new_json: the memory's stored JSON before and after; both are set to NULL for every row
-- of a memory when it is deleted (deletion is permanent: only the fact remains).
CREATE TABLE memory_history (
    id BIGSERIAL PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    memory_id TEXT NOT NULL,
    action TEXT NOT NULL,
    actor TEXT NOT NULL,
    at BIGINT NOT NULL,
    old_json TEXT,
    new_json TEXT
);
CREATE INDEX memory_history_memory ON memory_history(user_id, memory_id, id);
CREATE INDEX memory_history_at ON memory_history(at);

-- A memory deleted with its user (ON DELETE CASCADE) leaves no row: the user's history
-- goes with them.
CREATE FUNCTION memory_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    actor TEXT := coalesce(nullif(current_setting('mnemo.actor', true), ''), 'system');
    at BIGINT := (extract(epoch FROM clock_timestamp()) * 1000000)::bigint;
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO memory_history (user_id, memory_id, action, actor, at, new_json)
        VALUES (NEW.user_id, NEW.id, 'created', actor, at, NEW.json);
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO memory_history (user_id, memory_id, action, actor, at, old_json, new_json)
        VALUES (NEW.user_id, NEW.id, 'updated', actor, at, OLD.json, NEW.json);
    ELSE
        UPDATE memory_history SET old_json = NULL, new_json = NULL
            WHERE user_id = OLD.user_id AND memory_id = OLD.id;
        INSERT INTO memory_history (user_id, memory_id, action, actor, at)
        SELECT OLD.user_id, OLD.id, 'deleted', actor, at
        WHERE EXISTS (SELECT 1 FROM users WHERE id = OLD.user_id);
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER history_created AFTER INSERT ON memories
    FOR EACH ROW EXECUTE FUNCTION memory_change();
CREATE TRIGGER history_updated AFTER UPDATE OF json ON memories
    FOR EACH ROW WHEN (NEW.json IS DISTINCT FROM OLD.json) EXECUTE FUNCTION memory_change();
CREATE TRIGGER history_deleted AFTER DELETE ON memories
    FOR EACH ROW EXECUTE FUNCTION memory_change();
