-- Each memory's public JSON, stored beside it (mnemo.store.render): rendered once, in
-- Python, by the write that stores the memory (insert, update, import), so that a page
-- is the stored texts joined by the database and a get by id is one stored text.
-- Existing memories get theirs here, from the SQL renderer that served lists until
-- this migration (its frozen copy; tests/contract/test_render.py holds it to the
-- Python renderer on an upgraded database). Concatenation, not json_build_object
-- (which adds spaces): pydantic's compact form. Tags are stored as JSON text with
-- spaces, so their array is rebuilt compactly.
ALTER TABLE memories ADD COLUMN json TEXT;

UPDATE memories SET json = '{"id":' || to_json(id)::text
    || ',"content":' || to_json(content)::text
    || ',"category":' || to_json(category)::text
    || ',"visibility":' || to_json(visibility)::text
    || ',"tags":[' || (SELECT coalesce(string_agg(to_json(t.tag)::text, ',' ORDER BY t.n), '')
        FROM json_array_elements_text(tags::json) WITH ORDINALITY AS t(tag, n)) || ']'
    || ',"created_at":"' || to_char(to_timestamp(
        ((created_at - (((created_at % 1000000) + 1000000) % 1000000)) / 1000000))
        AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS')
    || CASE WHEN (((created_at % 1000000) + 1000000) % 1000000) = 0 THEN 'Z"'
        ELSE '.' || lpad((((created_at % 1000000) + 1000000) % 1000000)::text, 6, '0') || 'Z"'
        END
    || ',"updated_at":"' || to_char(to_timestamp(
        ((updated_at - (((updated_at % 1000000) + 1000000) % 1000000)) / 1000000))
        AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS')
    || CASE WHEN (((updated_at % 1000000) + 1000000) % 1000000) = 0 THEN 'Z"'
        ELSE '.' || lpad((((updated_at % 1000000) + 1000000) % 1000000)::text, 6, '0') || 'Z"'
        END
    || ',"manually_added":' || CASE WHEN manually_added THEN 'true' ELSE 'false' END
    || ',"scoring":' || to_json(scoring)::text
    || ',"reviewed":' || CASE WHEN reviewed THEN 'true' ELSE 'false' END
    || ',"user_review":' || CASE WHEN user_review IS NULL THEN 'null'
        WHEN user_review THEN 'true' ELSE 'false' END
    || ',"edited":' || CASE WHEN edited THEN 'true' ELSE 'false' END || '}';

ALTER TABLE memories ALTER COLUMN json SET NOT NULL;

-- A write that forgot the JSON fails instead of leaving a memory that lists wrong: an
-- insert without it (NOT NULL), an update that changes a field but not it.
CREATE FUNCTION memories_json_stale() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'memories.json must be written with the memory'
        USING ERRCODE = 'check_violation';
END
$$;

CREATE TRIGGER memories_json_update
    BEFORE UPDATE OF id, content, category, visibility, tags,
        created_at, updated_at, manually_added, scoring, reviewed, user_review, edited ON memories
    FOR EACH ROW WHEN (NEW.json IS NOT DISTINCT FROM OLD.json AND (
        NEW.id IS DISTINCT FROM OLD.id OR NEW.content IS DISTINCT FROM OLD.content
        OR NEW.category IS DISTINCT FROM OLD.category OR NEW.visibility IS DISTINCT
        FROM OLD.visibility OR NEW.tags IS DISTINCT FROM OLD.tags OR NEW.created_at
        IS DISTINCT FROM OLD.created_at OR NEW.updated_at IS DISTINCT FROM
        OLD.updated_at OR NEW.manually_added IS DISTINCT FROM OLD.manually_added OR
        NEW.scoring IS DISTINCT FROM OLD.scoring OR NEW.reviewed IS DISTINCT FROM
        OLD.reviewed OR NEW.user_review IS DISTINCT FROM OLD.user_review OR
        NEW.edited IS DISTINCT FROM OLD.edited))
    EXECUTE FUNCTION memories_json_stale();
