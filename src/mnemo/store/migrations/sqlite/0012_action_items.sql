-- Action items (docs/api.md "Action items"), Omi's shape: a task of the user's, from a
-- conversation (conversation_id) or standalone (NULL). Times are microseconds since the
-- epoch; completed_at is set while completed. Deleted rows are zeroed (secure_delete).
CREATE TABLE action_items (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    conversation_id TEXT,
    description TEXT NOT NULL,
    completed INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    due_at INTEGER,
    completed_at INTEGER
);
-- The list order (newest first), per user.
CREATE INDEX action_items_user_order ON action_items(user_id, created_at DESC, id DESC);

-- The scopes of conversations and action items, granted to every existing key as its
-- memories scopes are (read to a reader, write to a writer), in the canonical order.
UPDATE api_keys SET scopes = trim(
    CASE WHEN ' ' || scopes || ' ' LIKE '% memories:read %' THEN 'memories:read ' ELSE '' END
    || CASE WHEN ' ' || scopes || ' ' LIKE '% memories:write %' THEN 'memories:write ' ELSE '' END
    || CASE WHEN ' ' || scopes || ' ' LIKE '% memories:read %' THEN 'conversations:read ' ELSE '' END
    || CASE WHEN ' ' || scopes || ' ' LIKE '% memories:write %' THEN 'conversations:write ' ELSE '' END
    || CASE WHEN ' ' || scopes || ' ' LIKE '% memories:read %' THEN 'action_items:read ' ELSE '' END
    || CASE WHEN ' ' || scopes || ' ' LIKE '% memories:write %' THEN 'action_items:write' ELSE '' END
);
