-- A per-user counter of changes to the list order: any memory added or removed, or
-- moved in the order (scoring, created_at) or between categories. A remembered page
-- position (mnemo.store.bookmarks) is valid only while the counter is unchanged.
ALTER TABLE users ADD COLUMN memories_version INTEGER NOT NULL DEFAULT 0;

CREATE TRIGGER memories_version_insert AFTER INSERT ON memories BEGIN
    UPDATE users SET memories_version = memories_version + 1 WHERE id = NEW.user_id;
END;

CREATE TRIGGER memories_version_delete AFTER DELETE ON memories BEGIN
    UPDATE users SET memories_version = memories_version + 1 WHERE id = OLD.user_id;
END;

CREATE TRIGGER memories_version_update
AFTER UPDATE OF id, user_id, scoring, created_at, category ON memories
WHEN OLD.id IS NOT NEW.id OR OLD.user_id IS NOT NEW.user_id
    OR OLD.scoring IS NOT NEW.scoring OR OLD.created_at IS NOT NEW.created_at
    OR OLD.category IS NOT NEW.category
BEGIN
    UPDATE users SET memories_version = memories_version + 1
    WHERE id IN (OLD.user_id, NEW.user_id);
END;
