-- A per-user counter of changes to the list order: any memory added or removed, or
-- moved in the order (scoring, created_at) or between categories. A remembered page
-- position (mnemo.store.bookmarks) is valid only while the counter is unchanged.
-- Inserts and deletes bump it once per statement and user (a batch of 25 is one
-- bump, an import does not rewrite the user's row per memory).
ALTER TABLE users ADD COLUMN memories_version BIGINT NOT NULL DEFAULT 0;

CREATE FUNCTION memories_version_rows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE users SET memories_version = memories_version + 1
    WHERE id IN (SELECT user_id FROM changed);
    RETURN NULL;
END
$$;

CREATE FUNCTION memories_version_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE users SET memories_version = memories_version + 1
    WHERE id IN (OLD.user_id, NEW.user_id);
    RETURN NULL;
END
$$;

CREATE TRIGGER memories_version_insert AFTER INSERT ON memories
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT
    EXECUTE FUNCTION memories_version_rows();

CREATE TRIGGER memories_version_delete AFTER DELETE ON memories
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT
    EXECUTE FUNCTION memories_version_rows();

CREATE TRIGGER memories_version_update
    AFTER UPDATE OF id, user_id, scoring, created_at, category ON memories
    FOR EACH ROW
    WHEN (OLD.id IS DISTINCT FROM NEW.id OR OLD.user_id IS DISTINCT FROM NEW.user_id
        OR OLD.scoring IS DISTINCT FROM NEW.scoring
        OR OLD.created_at IS DISTINCT FROM NEW.created_at
        OR OLD.category IS DISTINCT FROM NEW.category)
    EXECUTE FUNCTION memories_version_row();
