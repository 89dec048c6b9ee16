-- 0004: what the user did on this device that the server has not heard of yet.
-- Each row is one action, sent in `seq` order when the server can be reached. An action the
-- server refuses stays, as `failed` with the server's reason, until the user retries or
-- dismisses it: nothing a user did is dropped silently.
CREATE TABLE outbox (
    seq            INTEGER PRIMARY KEY,
    -- The client id that makes sending twice harmless (a generation's own id, for example).
    id             TEXT    NOT NULL UNIQUE,
    kind           TEXT    NOT NULL,
    -- The generation a delete is about: while it waits, a sync does not bring the row back.
    generation_id  TEXT,
    payload_json   TEXT    NOT NULL,
    created_at     TEXT    NOT NULL,
    state          TEXT    NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'failed')),
    attempts       INTEGER NOT NULL DEFAULT 0,
    error_code     TEXT,
    error_message  TEXT
);
CREATE INDEX outbox_generation ON outbox (generation_id) WHERE generation_id IS NOT NULL;
