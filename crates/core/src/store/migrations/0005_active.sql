-- 0005: "is anything still queued or running?" without visiting every row.
-- The background sync asks after every sync (it syncs every second while the answer is yes).
-- Without this it walked a whole index: 60 ms on 100,000 rows in a debug build, holding the
-- store while the Library's first page waited at start-up. The partial index holds only the
-- few active rows.
CREATE INDEX generations_active ON generations (seq) WHERE status IN ('queued', 'running');
