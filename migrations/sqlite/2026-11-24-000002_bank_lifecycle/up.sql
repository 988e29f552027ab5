-- Bank lifecycle (SQLite). Mirrors ../../postgres/2026-11-24-000002_bank_lifecycle/up.sql.

-- What a new edition changed: questions citing those articles of older editions are suspended.
ALTER TABLE statute_editions ADD COLUMN replaces TEXT;
ALTER TABLE statute_editions ADD COLUMN changed_articles TEXT NOT NULL DEFAULT '[]';
ALTER TABLE statute_editions ADD COLUMN changed_all BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE statute_editions ADD COLUMN registered_by BIGINT REFERENCES users(id);
ALTER TABLE statute_editions ADD COLUMN registered_at TIMESTAMP;

-- Days after a sitting closes during which candidates may challenge a question (复核).
ALTER TABLE sittings ADD COLUMN challenge_days INTEGER NOT NULL DEFAULT 7;

-- Append-only, hash-chained: each entry's hash covers the previous entry's hash.
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TIMESTAMP NOT NULL,
    actor_id BIGINT REFERENCES users(id),
    action TEXT NOT NULL,
    subject TEXT NOT NULL,
    detail TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);

CREATE TABLE challenges (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    attempt_id BIGINT NOT NULL REFERENCES attempts(id),
    sitting_id BIGINT NOT NULL REFERENCES sittings(id),
    user_id BIGINT NOT NULL REFERENCES users(id),
    question_version_id BIGINT NOT NULL REFERENCES question_versions(id),
    article TEXT NOT NULL,
    reason TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    status TEXT NOT NULL,
    resolution TEXT,
    decided_by BIGINT REFERENCES users(id),
    decided_at TIMESTAMP,
    decision_reason TEXT,
    UNIQUE (attempt_id, question_version_id)
);
CREATE INDEX challenges_sitting ON challenges(sitting_id, question_version_id);

-- Upheld challenges change how one question is graded in one sitting.
CREATE TABLE key_adjustments (
    sitting_id BIGINT NOT NULL REFERENCES sittings(id),
    question_version_id BIGINT NOT NULL REFERENCES question_versions(id),
    also_accepted TEXT NOT NULL,
    voided BOOLEAN NOT NULL,
    challenge_id BIGINT REFERENCES challenges(id),
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (sitting_id, question_version_id)
);

-- Item analysis of a closed sitting, per question version and for the sitting as a whole.
CREATE TABLE item_stats (
    sitting_id BIGINT NOT NULL REFERENCES sittings(id),
    question_version_id BIGINT NOT NULL REFERENCES question_versions(id),
    question_id BIGINT NOT NULL REFERENCES questions(id),
    n INTEGER NOT NULL,
    facility DOUBLE PRECISION NOT NULL,
    discrimination DOUBLE PRECISION,
    flagged BOOLEAN NOT NULL,
    detail TEXT NOT NULL,
    PRIMARY KEY (sitting_id, question_version_id)
);
CREATE INDEX item_stats_question ON item_stats(question_id);

CREATE TABLE sitting_stats (
    sitting_id BIGINT PRIMARY KEY REFERENCES sittings(id),
    detail TEXT NOT NULL,
    computed_at TIMESTAMP NOT NULL
);

-- An uploaded bank file between preview and commit.
CREATE TABLE bank_imports (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL REFERENCES users(id),
    file_name TEXT NOT NULL,
    format TEXT NOT NULL,
    file_hash TEXT NOT NULL,
    parsed TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    committed_at TIMESTAMP,
    report TEXT
);

-- Messages to users (shown in the site; the e-mail issue also mails them).
CREATE TABLE notifications (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL REFERENCES users(id),
    kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    read_at TIMESTAMP
);
CREATE INDEX notifications_user ON notifications(user_id, created_at);
