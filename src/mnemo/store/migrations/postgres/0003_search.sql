-- Search: full-text (a generated tsvector with a GIN index) and an embedding per memory.
-- Without the pgvector extension, similarity is an exact scan of the user's embeddings.
ALTER TABLE memories ADD COLUMN embedding BYTEA;
ALTER TABLE memories ADD COLUMN search_tsv TSVECTOR
    GENERATED ALWAYS AS (to_tsvector('english', content)) STORED;
CREATE INDEX memories_search_tsv ON memories USING gin (search_tsv);
