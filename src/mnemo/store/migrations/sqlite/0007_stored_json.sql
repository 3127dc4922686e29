-- Each memory's public JSON, stored beside it (mnemo.store.render): rendered once, in
-- Python, by the write that stores the memory (insert, update, import), so that a page
-- is the stored texts joined by the database and a get by id is one stored text.
-- Existing memories get theirs here, from the SQL renderer that served lists until
-- this migration (its frozen copy; tests/contract/test_render.py holds it to the
-- Python renderer on an upgraded database).
ALTER TABLE memories ADD COLUMN json TEXT NOT NULL DEFAULT '';

UPDATE memories SET json = json_object('id', id, 'content', content,
    'category', category, 'visibility', visibility, 'tags', json(tags),
    'created_at', strftime('%Y-%m-%dT%H:%M:%S',
        ((created_at - (((created_at % 1000000) + 1000000) % 1000000)) / 1000000), 'unixepoch')
        || CASE WHEN (((created_at % 1000000) + 1000000) % 1000000) = 0 THEN 'Z'
        ELSE printf('.%06dZ', (((created_at % 1000000) + 1000000) % 1000000)) END,
    'updated_at', strftime('%Y-%m-%dT%H:%M:%S',
        ((updated_at - (((updated_at % 1000000) + 1000000) % 1000000)) / 1000000), 'unixepoch')
        || CASE WHEN (((updated_at % 1000000) + 1000000) % 1000000) = 0 THEN 'Z'
        ELSE printf('.%06dZ', (((updated_at % 1000000) + 1000000) % 1000000)) END,
    'manually_added', CASE WHEN manually_added THEN json('true') ELSE json('false') END,
    'scoring', scoring,
    'reviewed', CASE WHEN reviewed THEN json('true') ELSE json('false') END,
    'user_review', CASE WHEN user_review IS NULL THEN NULL
        WHEN user_review THEN json('true') ELSE json('false') END,
    'edited', CASE WHEN edited THEN json('true') ELSE json('false') END);

-- The list order with each memory's JSON in the index: a page is read from the index
-- alone, never from the table (the index holds the JSON as the table does;
-- secure_delete zeroes the old entry of a deleted or changed memory in both).
DROP INDEX memories_user_order;
CREATE INDEX memories_user_order
    ON memories(user_id, scoring DESC, created_at DESC, id DESC, json);

-- A write that forgot the JSON fails instead of leaving a memory that lists wrong: an
-- insert without it, an update that changes a field but not it.
CREATE TRIGGER memories_json_insert BEFORE INSERT ON memories WHEN NEW.json = '' BEGIN
    SELECT RAISE(ABORT, 'memories.json must be written with the memory');
END;
CREATE TRIGGER memories_json_update
BEFORE UPDATE OF id, content, category, visibility, tags,
    created_at, updated_at, manually_added, scoring, reviewed, user_review, edited ON memories
WHEN NEW.json IS OLD.json AND (
    NEW.id IS NOT OLD.id OR NEW.content IS NOT OLD.content OR NEW.category IS NOT
    OLD.category OR NEW.visibility IS NOT OLD.visibility OR NEW.tags IS NOT OLD.tags OR
    NEW.created_at IS NOT OLD.created_at OR NEW.updated_at IS NOT OLD.updated_at OR
    NEW.manually_added IS NOT OLD.manually_added OR NEW.scoring IS NOT OLD.scoring OR
    NEW.reviewed IS NOT OLD.reviewed OR NEW.user_review IS NOT OLD.user_review OR
    NEW.edited IS NOT OLD.edited)
BEGIN
    SELECT RAISE(ABORT, 'memories.json must be written with the memory');
END;
