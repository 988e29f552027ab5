-- Undoes up.sql.
ALTER TABLE bank_imports ADD COLUMN parsed TEXT NOT NULL DEFAULT '';
UPDATE bank_imports SET parsed = json_object('defaults', json(defaults), 'data', lower(hex(data)));
ALTER TABLE bank_imports DROP COLUMN data;
ALTER TABLE bank_imports DROP COLUMN defaults;
