-- What a process that keeps a user's vectors for searches (mnemo.store.vector_cache)
-- needs to know what changed:
-- - users.vectors_version, a per-user counter of changes to the user's embeddings:
--   the kept vectors are used only while it is unchanged;
-- - vectors_changes, which memories' embeddings each change touched (each user's last
--   100 changes; `keys`: their ids, at most 64; NULL: more), so that after a change
--   only those are read again.
-- Inserts and deletes bump the counter with memories_version (migration 0004's
-- statement triggers, once per statement and user); an update bumps it when a
-- memory's embedding changes. Each records the change in the same transaction.
ALTER TABLE users ADD COLUMN vectors_version BIGINT NOT NULL DEFAULT 0;

CREATE TABLE vectors_changes (
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    version BIGINT NOT NULL,
    keys TEXT[],
    PRIMARY KEY (user_id, version)
);

CREATE OR REPLACE FUNCTION memories_version_rows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE users SET memories_version = memories_version + 1,
        vectors_version = vectors_version + 1
    WHERE id IN (SELECT user_id FROM changed);
    INSERT INTO vectors_changes (user_id, version, keys)
        SELECT u.id, u.vectors_version, CASE WHEN count(*) <= 64 THEN array_agg(c.id) END
        FROM changed c JOIN users u ON u.id = c.user_id
        GROUP BY u.id, u.vectors_version;
    DELETE FROM vectors_changes v USING users u
        WHERE u.id IN (SELECT user_id FROM changed) AND v.user_id = u.id
        AND v.version <= u.vectors_version - 100;
    RETURN NULL;
END
$$;

CREATE FUNCTION vectors_version_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE users SET vectors_version = vectors_version + 1
    WHERE id IN (OLD.user_id, NEW.user_id);
    INSERT INTO vectors_changes (user_id, version, keys)
        SELECT u.id, u.vectors_version, ARRAY[NEW.id] FROM users u
        WHERE u.id IN (OLD.user_id, NEW.user_id);
    DELETE FROM vectors_changes v USING users u
        WHERE u.id IN (OLD.user_id, NEW.user_id) AND v.user_id = u.id
        AND v.version <= u.vectors_version - 100;
    RETURN NULL;
END
$$;

CREATE TRIGGER vectors_version_update AFTER UPDATE OF embedding, user_id ON memories
    FOR EACH ROW
    WHEN (OLD.embedding IS DISTINCT FROM NEW.embedding
        OR OLD.user_id IS DISTINCT FROM NEW.user_id)
    EXECUTE FUNCTION vectors_version_row();
