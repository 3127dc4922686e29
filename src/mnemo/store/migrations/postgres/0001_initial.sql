-- Users, their API keys (hashes only) and their memories.
-- Ids and scoring use the "C" collation so ordering is bytewise, as on SQLite.
CREATE TABLE users (
    id TEXT COLLATE "C" PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);

CREATE TABLE api_keys (
    id TEXT COLLATE "C" PRIMARY KEY,
    user_id TEXT COLLATE "C" NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    prefix TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    scopes TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at BIGINT
);

CREATE INDEX api_keys_user ON api_keys (user_id);

CREATE TABLE memories (
    id TEXT COLLATE "C" PRIMARY KEY,
    user_id TEXT COLLATE "C" NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    content TEXT NOT NULL,
    category TEXT COLLATE "C" NOT NULL,
    visibility TEXT NOT NULL,
    tags TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    manually_added BOOLEAN NOT NULL,
    scoring TEXT COLLATE "C" NOT NULL,
    reviewed BOOLEAN NOT NULL,
    user_review BOOLEAN,
    edited BOOLEAN NOT NULL
);

-- The list order, per user; the category index serves filtered lists.
CREATE INDEX memories_user_order
    ON memories (user_id, scoring DESC, created_at DESC, id DESC);
CREATE INDEX memories_user_category_order
    ON memories (user_id, category, scoring DESC, created_at DESC, id DESC);
