-- 0003: finding the generations whose thumbnail is still to fetch without visiting every row.
-- Before this, each sync asked "which succeeded generations have no stored thumbnail?" by
-- probing the thumbnails table once per generation: about two seconds on 100,000 rows, during
-- which the store was busy and the Library waited. A flag kept by triggers, with a partial index
-- over just the rows still waiting, makes it a short index walk.
ALTER TABLE generations ADD COLUMN has_thumbnail INTEGER NOT NULL DEFAULT 0;
UPDATE generations SET has_thumbnail = 1 WHERE id IN (SELECT generation_id FROM thumbnails);

CREATE TRIGGER thumbnails_stored AFTER INSERT ON thumbnails BEGIN
    UPDATE generations SET has_thumbnail = 1 WHERE id = new.generation_id;
END;
CREATE TRIGGER thumbnails_removed AFTER DELETE ON thumbnails BEGIN
    UPDATE generations SET has_thumbnail = 0 WHERE id = old.generation_id;
END;

CREATE INDEX generations_thumbnail_wanted ON generations (seq)
    WHERE has_thumbnail = 0 AND status = 'succeeded' AND deleted = 0 AND thumbnail_url IS NOT NULL;
