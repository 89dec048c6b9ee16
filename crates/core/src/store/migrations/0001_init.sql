-- 0001: the account's history as synced from Cleom.
-- Append-only: never edit a migration that has shipped; add the next numbered file instead.

-- One row per generation. Tombstoned generations are deleted, not flagged, so their prompts do
-- not stay on disk; `deleted`/`deleted_at` mirror the server document for completeness.
CREATE TABLE generations (
    -- An explicit INTEGER PRIMARY KEY is the rowid the full-text index points at; an implicit
    -- rowid may be renumbered by VACUUM, which would silently corrupt search.
    seq              INTEGER PRIMARY KEY,
    id               TEXT    NOT NULL UNIQUE,
    prompt           TEXT    NOT NULL,
    mode             TEXT    NOT NULL,
    settings_json    TEXT    NOT NULL,
    references_json  TEXT    NOT NULL,
    status           TEXT    NOT NULL,
    progress         REAL    NOT NULL,
    credits_charged  INTEGER NOT NULL,
    output_url       TEXT,
    thumbnail_url    TEXT,
    error            TEXT,
    created_at       TEXT    NOT NULL,
    -- created_at in Unix nanoseconds: RFC 3339 strings with different numbers of fraction
    -- digits do not sort correctly as text.
    created_key      INTEGER NOT NULL,
    updated_at       TEXT    NOT NULL,
    deleted          INTEGER NOT NULL DEFAULT 0,
    deleted_at       TEXT,
    -- Copies of settings fields, so Library filters can use indexes.
    duration_seconds INTEGER NOT NULL,
    resolution       TEXT    NOT NULL,
    aspect_ratio     TEXT    NOT NULL,
    style_preset     TEXT
);

CREATE INDEX generations_newest       ON generations (created_key DESC, id DESC);
CREATE INDEX generations_by_status    ON generations (status, created_key DESC, id DESC);
CREATE INDEX generations_by_mode      ON generations (mode, created_key DESC, id DESC);
CREATE INDEX generations_by_duration  ON generations (duration_seconds, created_key DESC, id DESC);
CREATE INDEX generations_by_resolution ON generations (resolution, created_key DESC, id DESC);
CREATE INDEX generations_by_aspect    ON generations (aspect_ratio, created_key DESC, id DESC);
CREATE INDEX generations_by_style     ON generations (style_preset, created_key DESC, id DESC);

-- Poster images, kept inside the encrypted database rather than as loose files.
CREATE TABLE thumbnails (
    generation_id TEXT    PRIMARY KEY REFERENCES generations (id) ON DELETE CASCADE,
    mime          TEXT    NOT NULL,
    bytes         BLOB    NOT NULL,
    fetched_at    TEXT    NOT NULL
);

-- A cached thumbnail belongs to one URL: when the URL changes, fetch it again.
CREATE TRIGGER generations_thumbnail_changed AFTER UPDATE OF thumbnail_url ON generations
WHEN old.thumbnail_url IS NOT new.thumbnail_url
BEGIN
    DELETE FROM thumbnails WHERE generation_id = new.id;
END;

-- The account's profile: at most one row.
CREATE TABLE profile (
    singleton        INTEGER PRIMARY KEY CHECK (singleton = 1),
    uid              TEXT    NOT NULL,
    email            TEXT    NOT NULL,
    display_name     TEXT,
    credit_balance   INTEGER NOT NULL,
    analytics_opt_in INTEGER NOT NULL,
    created_at       TEXT    NOT NULL,
    updated_at       TEXT    NOT NULL
);

CREATE TABLE credit_ledger (
    id            TEXT    PRIMARY KEY,
    amount        INTEGER NOT NULL,
    reason        TEXT    NOT NULL,
    generation_id TEXT,
    balance_after INTEGER NOT NULL,
    created_at    TEXT    NOT NULL,
    created_key   INTEGER NOT NULL,
    updated_at    TEXT    NOT NULL
);

CREATE INDEX credit_ledger_oldest ON credit_ledger (created_key, id);

-- Sync cursors and similar small state, by name.
CREATE TABLE sync_state (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Full-text search over prompts. External content: the prompt is stored once, in generations.
CREATE VIRTUAL TABLE generations_fts USING fts5 (
    prompt,
    content = 'generations',
    content_rowid = 'seq',
    tokenize = 'unicode61 remove_diacritics 2'
);

-- Deleted prompts are removed from the index at once, not left in old segments until a merge.
INSERT INTO generations_fts (generations_fts, rank) VALUES ('secure-delete', 1);

CREATE TRIGGER generations_fts_insert AFTER INSERT ON generations
BEGIN
    INSERT INTO generations_fts (rowid, prompt) VALUES (new.seq, new.prompt);
END;

CREATE TRIGGER generations_fts_delete AFTER DELETE ON generations
BEGIN
    INSERT INTO generations_fts (generations_fts, rowid, prompt) VALUES ('delete', old.seq, old.prompt);
END;

CREATE TRIGGER generations_fts_update AFTER UPDATE OF prompt ON generations
WHEN old.prompt IS NOT new.prompt
BEGIN
    INSERT INTO generations_fts (generations_fts, rowid, prompt) VALUES ('delete', old.seq, old.prompt);
    INSERT INTO generations_fts (rowid, prompt) VALUES (new.seq, new.prompt);
END;
