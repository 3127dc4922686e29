-- Which vectors each change of a user's vectors_version touched: a process that keeps
-- the user's vectors (mnemo.store.vector_cache) then reads only those again. Each
-- user's last 100 changes are kept; `keys` lists the memories' ids (at most 64; NULL:
-- more, read them all). The triggers of migrations 0004 and 0005 write the records.
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

CREATE OR REPLACE FUNCTION vectors_version_row() RETURNS trigger LANGUAGE plpgsql AS $$
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
