-- Conversations (docs/api.md "Conversations"), Omi's shape: a transcript of the user's
-- and what was extracted from it. transcript: the text of a text conversation, or the
-- JSON array of its segments (text_source NULL). geolocation: JSON or NULL. Times are
-- microseconds since the epoch.
CREATE TABLE conversations (
    id TEXT COLLATE "C" PRIMARY KEY,
    user_id TEXT COLLATE "C" NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    text_source TEXT,
    text_source_spec TEXT,
    source TEXT,
    language TEXT NOT NULL,
    geolocation TEXT,
    started_at BIGINT NOT NULL,
    finished_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    discarded BOOLEAN NOT NULL,
    transcript TEXT NOT NULL
);
-- The list order (newest first), per user.
CREATE INDEX conversations_user_order ON conversations(user_id, created_at DESC, id DESC);

-- The conversation a memory was extracted from (NULL: written directly). Memories
-- written before keep NULL, and their stored JSON, byte for byte.
ALTER TABLE memories ADD COLUMN conversation_id TEXT COLLATE "C";
CREATE INDEX memories_user_conversation ON memories(user_id, conversation_id)
    WHERE conversation_id IS NOT NULL;
CREATE INDEX action_items_user_conversation ON action_items(user_id, conversation_id)
    WHERE conversation_id IS NOT NULL;
