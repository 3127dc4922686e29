-- Conversations (docs/api.md "Conversations"), Omi's shape: a transcript of the user's
-- and what was extracted from it. transcript: the text of a text conversation, or the
-- JSON array of its segments (text_source NULL). geolocation: JSON or NULL. Times are
-- microseconds since the epoch. The transcript is the user's text: a deleted row is
-- zeroed (secure_delete), and the store purges the WAL after every delete or update.
CREATE TABLE conversations (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    text_source TEXT,
    text_source_spec TEXT,
    source TEXT,
    language TEXT NOT NULL,
    geolocation TEXT,
    started_at INTEGER NOT NULL,
    finished_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    discarded INTEGER NOT NULL,
    transcript TEXT NOT NULL
);
-- The list order (newest first), per user.
CREATE INDEX conversations_user_order ON conversations(user_id, created_at DESC, id DESC);

-- The conversation a memory was extracted from (NULL: written directly). Memories
-- written before keep NULL, and their stored JSON, byte for byte.
ALTER TABLE memories ADD COLUMN conversation_id TEXT;
CREATE INDEX memories_user_conversation ON memories(user_id, conversation_id)
    WHERE conversation_id IS NOT NULL;
CREATE INDEX action_items_user_conversation ON action_items(user_id, conversation_id)
    WHERE conversation_id IS NOT NULL;
