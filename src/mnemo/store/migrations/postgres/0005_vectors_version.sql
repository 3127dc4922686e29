-- A per-user counter of changes to the user's embeddings: a process keeps the vectors
-- it read for a search (mnemo.store.vector_cache) only while the counter is unchanged.
-- Inserts and deletes bump it with memories_version (migration 0004's statement
-- triggers, once per statement and user); an update bumps it when a memory's
-- embedding changes.
ALTER TABLE users ADD COLUMN vectors_version BIGINT NOT NULL DEFAULT 0;

CREATE OR REPLACE FUNCTION memories_version_rows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE users SET memories_version = memories_version + 1,
        vectors_version = vectors_version + 1
    WHERE id IN (SELECT user_id FROM changed);
    RETURN NULL;
END
$$;

CREATE FUNCTION vectors_version_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE users SET vectors_version = vectors_version + 1
    WHERE id IN (OLD.user_id, NEW.user_id);
    RETURN NULL;
END
$$;

CREATE TRIGGER vectors_version_update AFTER UPDATE OF embedding, user_id ON memories
    FOR EACH ROW
    WHEN (OLD.embedding IS DISTINCT FROM NEW.embedding
        OR OLD.user_id IS DISTINCT FROM NEW.user_id)
    EXECUTE FUNCTION vectors_version_row();
