-- Accounts an admin can run, and sign-in throttling kept where every app server sees it.
-- Mirrors ../../postgres/2026-12-03-000010_accounts/up.sql.

-- Wrong passwords per (badge, client address), and per address across badges (badge = '').
-- `forget_at` is when a row stops mattering; rows past it are deleted.
CREATE TABLE sign_in_throttle (
    badge TEXT NOT NULL,
    source TEXT NOT NULL,
    failures INTEGER NOT NULL,
    last_failure_at TIMESTAMP NOT NULL,
    locked_until TIMESTAMP,
    forget_at TIMESTAMP NOT NULL,
    PRIMARY KEY (badge, source)
);
CREATE INDEX sign_in_throttle_source ON sign_in_throttle(source);
CREATE INDEX sign_in_throttle_forget ON sign_in_throttle(forget_at);

-- Set by an admin's reset: the one-time password must be changed at the next sign-in.
ALTER TABLE users ADD COLUMN must_change_password BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE users ADD COLUMN password_changed_at TIMESTAMP;

-- A user's API tokens are listed by their first characters and when they were last used.
ALTER TABLE sessions ADD COLUMN token_prefix TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN last_used_at TIMESTAMP;
CREATE INDEX sessions_user ON sessions(user_id, kind);
