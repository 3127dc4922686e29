-- Users, their API keys (hashes only) and their memories.
CREATE TABLE users (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);

CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    prefix TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    scopes TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at INTEGER
);

CREATE INDEX api_keys_user ON api_keys(user_id);

CREATE TABLE memories (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    content TEXT NOT NULL,
    category TEXT NOT NULL,
    visibility TEXT NOT NULL,
    tags TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    manually_added INTEGER NOT NULL,
    scoring TEXT NOT NULL,
    reviewed INTEGER NOT NULL,
    user_review INTEGER,
    edited INTEGER NOT NULL
);

-- The list order, per user; the category index serves filtered lists.
CREATE INDEX memories_user_order
    ON memories(user_id, scoring DESC, created_at DESC, id DESC);
CREATE INDEX memories_user_category_order
    ON memories(user_id, category, scoring DESC, created_at DESC, id DESC);
