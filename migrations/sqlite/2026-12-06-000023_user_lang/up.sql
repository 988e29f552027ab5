-- A user's language (issue 17), sqlite. Mirrors the other backend's migration of the same name.
-- Set when they switch language while signed in or on their account page; every mail to them
-- is written in it. The bureau's language until they choose.
ALTER TABLE users ADD COLUMN lang TEXT NOT NULL DEFAULT 'zh';
