-- Training files, remedial training, practice, HR rules, API tokens and the mail outbox (SQLite).
-- Mirrors ../../postgres/2026-11-25-000004_training/up.sql.

-- 身份证号, a field of the 执法资格等级考试情况信息集 HR sends on.
ALTER TABLE users ADD COLUMN id_number TEXT;

-- The officer's training file (民警训练档案): appended, never rewritten. A correction is a new
-- entry pointing at the one it corrects. The id is the HR feed's cursor, so entries are
-- numbered in commit order (SQLite's single writer; an advisory lock on PostgreSQL).
CREATE TABLE training_entries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL REFERENCES users(id),
    kind TEXT NOT NULL,
    occurred_on DATE NOT NULL,
    source TEXT NOT NULL,
    corrects_id BIGINT REFERENCES training_entries(id),
    data TEXT NOT NULL,
    note TEXT NOT NULL,
    recorded_by BIGINT REFERENCES users(id),
    recorded_at TIMESTAMP NOT NULL
);
CREATE INDEX training_entries_user ON training_entries(user_id, id);
CREATE INDEX training_entries_source ON training_entries(source, kind);

CREATE TABLE remedial_plans (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL REFERENCES users(id),
    trigger_kind TEXT NOT NULL,
    reason TEXT NOT NULL,
    source_attempt_id BIGINT REFERENCES attempts(id),
    referred_by BIGINT REFERENCES users(id),
    statutes TEXT NOT NULL,
    review_items TEXT NOT NULL,
    stage TEXT NOT NULL,
    status TEXT NOT NULL,
    mastery_percent INTEGER NOT NULL,
    opened_at TIMESTAMP NOT NULL,
    deadline TIMESTAMP NOT NULL,
    exam_sitting_id BIGINT REFERENCES sittings(id),
    exam_tries INTEGER NOT NULL,
    reminded_at TIMESTAMP,
    overdue_at TIMESTAMP,
    closed_at TIMESTAMP,
    outcome TEXT
);
CREATE INDEX remedial_plans_user ON remedial_plans(user_id, status);

CREATE TABLE remedial_reviews (
    plan_id BIGINT NOT NULL REFERENCES remedial_plans(id),
    question_version_id BIGINT NOT NULL REFERENCES question_versions(id),
    note TEXT NOT NULL,
    written_at TIMESTAMP NOT NULL,
    PRIMARY KEY (plan_id, question_version_id)
);

-- Practice (网上学法): study, kept apart from exam results.
CREATE TABLE practice_sessions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL REFERENCES users(id),
    mode TEXT NOT NULL,
    filter TEXT NOT NULL,
    plan_id BIGINT REFERENCES remedial_plans(id),
    items TEXT NOT NULL,
    started_at TIMESTAMP NOT NULL,
    last_active_at TIMESTAMP NOT NULL
);
CREATE INDEX practice_sessions_user ON practice_sessions(user_id);

CREATE TABLE practice_answers (
    session_id BIGINT NOT NULL REFERENCES practice_sessions(id),
    question_version_id BIGINT NOT NULL REFERENCES question_versions(id),
    choices TEXT NOT NULL,
    correct BOOLEAN NOT NULL,
    seconds INTEGER NOT NULL,
    answered_at TIMESTAMP NOT NULL,
    PRIMARY KEY (session_id, question_version_id)
);

-- Case-file evaluations (案件考评): deductions per case, imported from CSV.
CREATE TABLE case_evaluations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL REFERENCES users(id),
    month TEXT NOT NULL,
    case_ref TEXT NOT NULL,
    deduction_centi BIGINT NOT NULL,
    note TEXT NOT NULL,
    imported_by BIGINT REFERENCES users(id),
    imported_at TIMESTAMP NOT NULL,
    UNIQUE (user_id, month, case_ref)
);

CREATE TABLE promotion_rules (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    target TEXT NOT NULL,
    min_level TEXT,
    no_open_remedial BOOLEAN NOT NULL,
    no_failed_bimonthly_months INTEGER,
    cert_valid_on_date BOOLEAN NOT NULL,
    active BOOLEAN NOT NULL,
    updated_by BIGINT REFERENCES users(id),
    updated_at TIMESTAMP NOT NULL
);

-- Tokens for systems that call the API (the personnel system's HR feed); only a hash is kept.
CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    created_by BIGINT REFERENCES users(id),
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP,
    last_used_at TIMESTAMP
);

-- E-mail is written here in the transaction that causes it and sent by a background task.
CREATE TABLE mail_outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT REFERENCES users(id),
    to_addr TEXT NOT NULL,
    kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    text_body TEXT NOT NULL,
    html_body TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    tries INTEGER NOT NULL,
    next_try_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP,
    failed_at TIMESTAMP,
    last_error TEXT
);
CREATE INDEX mail_outbox_due ON mail_outbox(sent_at, failed_at, next_try_at);

-- Set once a closed sitting's results are in the training files (and remedial triggers run).
ALTER TABLE sittings ADD COLUMN filed BOOLEAN NOT NULL DEFAULT FALSE;
-- Set once candidates have been reminded that the sitting opens soon.
ALTER TABLE sittings ADD COLUMN reminded BOOLEAN NOT NULL DEFAULT FALSE;
