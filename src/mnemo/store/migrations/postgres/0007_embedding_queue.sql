-- Embeddings off the request path, and dedup inside the write transaction (docs/search.md,
-- "The embedding queue" and "Duplicates").
--
-- memory_keys: each memory's dedup keys (mnemo.search.dedup.keys: a 64-bit hash of its
-- normalised text, and one of its sorted content words), written with the memory, replaced
-- when its content changes, removed with it. A create finds its few candidates by the
-- index, inside its write transaction, then applies the exact rule to them.
CREATE TABLE memory_keys (
    user_id TEXT NOT NULL,
    key BIGINT NOT NULL,
    memory_id TEXT NOT NULL REFERENCES memories(id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, key, memory_id)
);
CREATE INDEX memory_keys_memory ON memory_keys(memory_id);

-- The memories stored before this migration, whose keys the store computes (in Python)
-- when it next opens the database, then removes from here.
CREATE TABLE memory_keys_todo (
    memory_id TEXT PRIMARY KEY REFERENCES memories(id) ON DELETE CASCADE
);
INSERT INTO memory_keys_todo (memory_id) SELECT id FROM memories;

-- embedding_queue: one row per memory whose embedding is still to be computed (ids only,
-- no text), written in the transaction that inserts the memory or changes its content,
-- removed with the memory or when its vector is stored. claimed_until (microseconds since
-- the epoch): a worker's lease on the row; 0 or past, any worker may take it.
CREATE TABLE embedding_queue (
    memory_id TEXT PRIMARY KEY REFERENCES memories(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL,
    queued_at BIGINT NOT NULL,
    claimed_until BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX embedding_queue_user ON embedding_queue(user_id, queued_at);
