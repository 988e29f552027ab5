-- A staged bank import keeps the uploaded file as bytes and the import page's defaults as JSON,
-- instead of both hex-encoded in one text column named `parsed` (it never held a parse).
ALTER TABLE bank_imports ADD COLUMN data BLOB NOT NULL DEFAULT x'';
ALTER TABLE bank_imports ADD COLUMN defaults TEXT NOT NULL DEFAULT '{}';
UPDATE bank_imports SET data = unhex(json_extract(parsed, '$.data')), defaults = json_extract(parsed, '$.defaults');
ALTER TABLE bank_imports DROP COLUMN parsed;
