DROP TRIGGER sittings_pool_changed ON sittings;
DROP FUNCTION sittings_pool_changed();
DROP TABLE prepared_papers;
ALTER TABLE sittings DROP COLUMN pool_hash;
