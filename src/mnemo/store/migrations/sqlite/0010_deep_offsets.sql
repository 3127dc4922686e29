-- A narrow index of the list order, for deep OFFSETs. Since 0007 the list's index
-- memories_user_order holds each memory's JSON (a first page is read from it alone),
-- so an OFFSET that steps over it reads ~0.4 KB an entry: a random page deep in a
-- 100,000-memory list read ~40 MB of index. A deep page now finds its 25 rowids by
-- stepping over this index (~60 bytes an entry), then reads those rows only
-- (store/sqlite.py, `_page_sql`). It holds no text of a memory but its id.
CREATE INDEX memories_user_rank ON memories(user_id, scoring DESC, created_at DESC, id DESC);
