-- 0006: an action the server refused is stored as `refused`, the word the app uses for it
-- everywhere (the outbox, the sync report, the sync indicator); 0004 called it `failed`, which
-- the app also says of a generation that did not render. SQLite cannot change a CHECK
-- constraint, so the table is rebuilt with every row, in one transaction with the version.
CREATE TABLE outbox_refused (
    seq            INTEGER PRIMARY KEY,
    id             TEXT    NOT NULL UNIQUE,
    kind           TEXT    NOT NULL,
    generation_id  TEXT,
    payload_json   TEXT    NOT NULL,
    created_at     TEXT    NOT NULL,
    state          TEXT    NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'refused')),
    attempts       INTEGER NOT NULL DEFAULT 0,
    error_code     TEXT,
    error_message  TEXT
);
INSERT INTO outbox_refused (seq, id, kind, generation_id, payload_json, created_at, state,
                            attempts, error_code, error_message)
    SELECT seq, id, kind, generation_id, payload_json, created_at,
           CASE state WHEN 'failed' THEN 'refused' ELSE state END,
           attempts, error_code, error_message
    FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_refused RENAME TO outbox;
CREATE INDEX outbox_generation ON outbox (generation_id) WHERE generation_id IS NOT NULL;
