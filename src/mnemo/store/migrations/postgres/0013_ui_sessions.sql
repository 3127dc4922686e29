-- The web page's sessions (docs/ui.md): one row per signed-in browser. id_hash is the
-- SHA-256 of the random session id the browser holds in its cookie (the id itself is
-- stored nowhere); key_id names the API key it was opened with (NULL for the operator's
-- admin session, whose admin_hash is the SHA-256 of MNEMO_ADMIN_TOKEN then). Every
-- request reads the key again, so a revoked key ends its sessions at once. csrf: the
-- session's anti-forgery token. Times are microseconds since the epoch; a row past
-- expires_at is dead and pruned.
CREATE TABLE ui_sessions (
    id_hash TEXT COLLATE "C" PRIMARY KEY,
    user_id TEXT COLLATE "C" REFERENCES users(id) ON DELETE CASCADE,
    key_id TEXT,
    admin_hash TEXT,
    csrf TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX ui_sessions_expiry ON ui_sessions(expires_at);
CREATE INDEX ui_sessions_user ON ui_sessions(user_id);

-- The page's "newest first" order, per user.
CREATE INDEX memories_user_newest ON memories(user_id, created_at DESC, id DESC);
