"""Search: offline embeddings, hybrid ranking, near-duplicate detection, FTS queries.

- `embed`: `default_embedder()` (all-MiniLM-L6-v2 under onnxruntime, 384-d,
  normalised), `to_blob` / `from_blob` / `vectors_from_blobs` for stored vectors.
- `rank`: `fuse(keyword, semantic, limit, keyword_half=...)` -> `(id, relevance in
  [0, 1])` best first; `nearest(keys, matrix, query, limit)` and
  `semantic_ranking(query_vector, rows, limit)`: exact cosine top-k.
- `dedup`: `find_duplicate(text, vector, candidates)`, `normalise(text)`.
- `keyword`: `fts5_query(query)` for SQLite FTS5 MATCH, `pg_tsquery_text(query)` for
  PostgreSQL `to_tsquery('english', ...)`.

Submodules are imported on use, so importing `mnemo.search` costs nothing; the
model loads on the first `default_embedder()` call.
"""
