-- A staged bank import keeps the uploaded file as bytes and the import page's defaults as JSON,
-- instead of both hex-encoded in one text column named `parsed` (it never held a parse).
ALTER TABLE bank_imports ADD COLUMN data BYTEA NOT NULL DEFAULT ''::bytea;
ALTER TABLE bank_imports ADD COLUMN defaults TEXT NOT NULL DEFAULT '{}';
UPDATE bank_imports SET data = decode((parsed::json)->>'data', 'hex'), defaults = ((parsed::json)->'defaults')::text;
ALTER TABLE bank_imports DROP COLUMN parsed;
