-- Background jobs for every bulk import and the bureau-wide export (issue 17), postgres. Mirrors the
-- other backend's migration of the same name.
-- The record a job works on, when it is one (a trainer's staged bank file in bank_imports,
-- whose bytes stay there: the job does not copy them).
ALTER TABLE jobs ADD COLUMN subject_id BIGINT;
-- What an export job produced, kept for the one who asked for it, and its file name.
ALTER TABLE jobs ADD COLUMN file BYTEA;
ALTER TABLE jobs ADD COLUMN file_name TEXT;
