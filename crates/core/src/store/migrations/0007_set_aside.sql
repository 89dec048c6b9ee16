-- 0007: documents a sync could not read (a wrong type, a NaN), set aside with the reason, so one
-- malformed document never stalls the sync: the rest of its page is stored and the cursor moves
-- on. A document leaves this table when a later sync reads it (the server changed it).
CREATE TABLE set_aside (
    collection    TEXT NOT NULL,
    document      TEXT NOT NULL,
    reason        TEXT NOT NULL,
    set_aside_at  TEXT NOT NULL,
    PRIMARY KEY (collection, document)
) WITHOUT ROWID;
