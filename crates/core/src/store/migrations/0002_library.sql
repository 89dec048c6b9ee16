-- 0002: everything the Library shows and filters on, in columns; time-ordered row numbers; search
-- over prompts and voice-over scripts; where the user saved a clip; purchases.
-- Append-only: never edit a migration that has shipped; add the next numbered file instead.
--
-- The generations table is rebuilt (SQLite's documented "make a new table, copy, rename"
-- procedure; the migration runner turns foreign keys off around it and checks them before it
-- commits), because its row number changes meaning:
--
-- `seq` is now the row's place in creation order: the creation time in whole microseconds
-- times 1024, plus a slot (0..1023) that orders generations created in the same microsecond by
-- (exact creation time, id). So `ORDER BY seq` is exactly "by creation time, then id", and, as
-- `seq` is also the rowid the full-text index points at, FTS5 can hand out matches newest first
-- by itself and stop after one page, however common the word. A date range is a `seq` range.
-- The microsecond count is clamped to +-(2^53 - 1) so `seq` always fits in 64 bits.

DROP INDEX generations_newest;
DROP INDEX generations_by_status;
DROP INDEX generations_by_mode;
DROP INDEX generations_by_duration;
DROP INDEX generations_by_resolution;
DROP INDEX generations_by_aspect;
DROP INDEX generations_by_style;
DROP TABLE generations_fts;

CREATE TABLE generations_new (
    seq              INTEGER PRIMARY KEY,
    id               TEXT    NOT NULL UNIQUE,
    prompt           TEXT    NOT NULL,
    mode             TEXT    NOT NULL,
    status           TEXT    NOT NULL,
    progress         REAL    NOT NULL,
    credits_charged  INTEGER NOT NULL,
    -- Every Studio setting, one column each (settings_json below is the record as synced; these
    -- are written from the same value in the same statement and exist to be filtered, counted,
    -- sorted and searched).
    duration_seconds INTEGER NOT NULL,
    resolution       TEXT    NOT NULL,
    aspect_ratio     TEXT    NOT NULL,
    style_preset     TEXT,
    subject          TEXT,
    pacing           TEXT,
    voice_language   TEXT,
    voice_type       TEXT,
    voice_script     TEXT,
    music            INTEGER NOT NULL,
    subtitles        INTEGER NOT NULL,
    settings_json    TEXT    NOT NULL,
    -- [{name, kind, sizeBytes}]: the attached files' metadata (their bytes never come here).
    references_json  TEXT    NOT NULL,
    output_url       TEXT,
    thumbnail_url    TEXT,
    error            TEXT,
    created_at       TEXT    NOT NULL,
    -- created_at in Unix nanoseconds (RFC 3339 texts with different fraction digits do not sort).
    created_key      INTEGER NOT NULL,
    updated_at       TEXT    NOT NULL,
    deleted          INTEGER NOT NULL DEFAULT 0,
    deleted_at       TEXT,
    -- Where the user saved the clip on this device, and when. Local only: sync never writes it.
    local_file       TEXT,
    downloaded_at    TEXT,
    -- local_file IS NOT NULL, as a plain column so the filter indexes cover it (SQLite does not
    -- read a generated column's value from an index).
    has_download     INTEGER NOT NULL DEFAULT 0 CHECK (has_download = (local_file IS NOT NULL))
);

INSERT INTO generations_new (seq, id, prompt, mode, status, progress, credits_charged,
    duration_seconds, resolution, aspect_ratio, style_preset, subject, pacing, voice_language,
    voice_type, voice_script, music, subtitles, settings_json, references_json, output_url,
    thumbnail_url, error, created_at, created_key, updated_at, deleted, deleted_at)
SELECT
    bucket * 1024 + row_number() OVER (PARTITION BY bucket ORDER BY created_key, id) - 1,
    id, prompt, mode, status, progress, credits_charged,
    duration_seconds, resolution, aspect_ratio, style_preset,
    json_extract(settings_json, '$.subject'),
    json_extract(settings_json, '$.pacing'),
    json_extract(settings_json, '$.voiceOver.language'),
    json_extract(settings_json, '$.voiceOver.voice'),
    json_extract(settings_json, '$.voiceOver.script'),
    coalesce(json_extract(settings_json, '$.music'), 0),
    coalesce(json_extract(settings_json, '$.subtitles'), 0),
    settings_json, references_json, output_url, thumbnail_url, error, created_at, created_key,
    updated_at, deleted, deleted_at
FROM (
    SELECT *, min(max(
        -- floor(created_key / 1000): SQLite's integer division truncates towards zero.
        CASE WHEN created_key >= 0 THEN created_key / 1000 ELSE (created_key - 999) / 1000 END,
        -9007199254740991), 9007199254740991) AS bucket
    FROM generations
);

DROP TABLE generations;
ALTER TABLE generations_new RENAME TO generations;

-- Narrow copies of what filters read, so a filtered page or a search with filters reads a few
-- index pages instead of whole rows (prompts, settings, URLs).
CREATE INDEX generations_filters ON generations
    (seq, status, mode, resolution, aspect_ratio, style_preset, has_download);
-- The other two sorts, keyset-paged.
CREATE INDEX generations_most_credits ON generations (credits_charged DESC, seq DESC);
CREATE INDEX generations_longest ON generations (duration_seconds DESC, seq DESC);

CREATE TRIGGER generations_thumbnail_changed AFTER UPDATE OF thumbnail_url ON generations
WHEN old.thumbnail_url IS NOT new.thumbnail_url
BEGIN
    DELETE FROM thumbnails WHERE generation_id = new.id;
END;

-- Full-text search over prompts and voice-over scripts. External content: the text is stored
-- once, in generations. Prefix indexes for 1 to 3 characters keep search-as-you-type fast.
CREATE VIRTUAL TABLE generations_fts USING fts5 (
    prompt,
    voice_script,
    content = 'generations',
    content_rowid = 'seq',
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '1 2 3 4 5'
);

-- Deleted text leaves the index's segments at the next purge (`Store::purge_deleted_search_entries`,
-- run at the start of every sync after something was deleted), not row by row: FTS5's
-- per-row 'secure-delete' costs 5 to 25 ms a row on a large index with prefix indexes (100
-- deletions took 2.6 s; "delete all" of 100,000 would take most of an hour).

CREATE TRIGGER generations_fts_insert AFTER INSERT ON generations
BEGIN
    INSERT INTO generations_fts (rowid, prompt, voice_script)
    VALUES (new.seq, new.prompt, new.voice_script);
END;

CREATE TRIGGER generations_fts_delete AFTER DELETE ON generations
BEGIN
    INSERT INTO generations_fts (generations_fts, rowid, prompt, voice_script)
    VALUES ('delete', old.seq, old.prompt, old.voice_script);
END;

CREATE TRIGGER generations_fts_update AFTER UPDATE OF seq, prompt, voice_script ON generations
WHEN old.seq IS NOT new.seq OR old.prompt IS NOT new.prompt
    OR old.voice_script IS NOT new.voice_script
BEGIN
    INSERT INTO generations_fts (generations_fts, rowid, prompt, voice_script)
    VALUES ('delete', old.seq, old.prompt, old.voice_script);
    INSERT INTO generations_fts (rowid, prompt, voice_script)
    VALUES (new.seq, new.prompt, new.voice_script);
END;

INSERT INTO generations_fts (generations_fts) VALUES ('rebuild');

-- Credit purchases, as synced from users/{uid}/purchases.
CREATE TABLE purchases (
    id           TEXT    PRIMARY KEY,
    credits      INTEGER NOT NULL,
    amount_cents INTEGER NOT NULL,
    currency     TEXT    NOT NULL,
    created_at   TEXT    NOT NULL,
    created_key  INTEGER NOT NULL,
    updated_at   TEXT    NOT NULL
);

CREATE INDEX purchases_oldest ON purchases (created_key, id);
