-- Undoes up.sql.
ALTER TABLE bank_imports ADD COLUMN parsed TEXT NOT NULL DEFAULT '';
UPDATE bank_imports SET parsed = json_build_object('defaults', defaults::json, 'data', encode(data, 'hex'))::text;
ALTER TABLE bank_imports DROP COLUMN data;
ALTER TABLE bank_imports DROP COLUMN defaults;
