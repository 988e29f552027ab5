-- lawcert initial schema (SQLite). Mirrors ../../postgres/2026-11-24-000001_init/up.sql.
CREATE TABLE units (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    parent_id BIGINT REFERENCES units(id),
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    badge TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    unit_id BIGINT NOT NULL REFERENCES units(id),
    police_type TEXT NOT NULL,
    post TEXT NOT NULL,
    enforcement_post BOOLEAN NOT NULL,
    rank TEXT NOT NULL,
    hire_date DATE NOT NULL,
    is_leader BOOLEAN NOT NULL,
    is_legal_officer BOOLEAN NOT NULL,
    email TEXT,
    password_hash TEXT NOT NULL,
    active BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX users_unit ON users(unit_id);

CREATE TABLE user_roles (
    user_id BIGINT NOT NULL REFERENCES users(id),
    role TEXT NOT NULL,
    PRIMARY KEY (user_id, role)
);

CREATE TABLE sessions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash TEXT NOT NULL UNIQUE,
    user_id BIGINT NOT NULL REFERENCES users(id),
    kind TEXT NOT NULL,
    csrf_token TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);

CREATE TABLE statutes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    short_name TEXT NOT NULL
);

CREATE TABLE statute_editions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    statute_id BIGINT NOT NULL REFERENCES statutes(id),
    code TEXT NOT NULL,
    title TEXT NOT NULL,
    in_force DATE NOT NULL,
    UNIQUE (statute_id, code)
);

CREATE TABLE cases (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    code TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE questions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    code TEXT NOT NULL UNIQUE,
    case_id BIGINT REFERENCES cases(id),
    case_position INTEGER NOT NULL,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    origin TEXT NOT NULL,
    file_hash TEXT,
    latest_version INTEGER NOT NULL,
    live_version INTEGER,
    revision INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX questions_case ON questions(case_id);

CREATE TABLE question_versions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    question_id BIGINT NOT NULL REFERENCES questions(id),
    version INTEGER NOT NULL,
    statute_code TEXT NOT NULL,
    edition_code TEXT NOT NULL,
    articles TEXT NOT NULL,
    difficulty INTEGER NOT NULL,
    levels TEXT NOT NULL,
    stem TEXT NOT NULL,
    options TEXT NOT NULL,
    explanation TEXT NOT NULL,
    tags TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    created_by BIGINT REFERENCES users(id),
    created_at TIMESTAMP NOT NULL,
    reviewed_by BIGINT REFERENCES users(id),
    reviewed_at TIMESTAMP,
    UNIQUE (question_id, version)
);

-- The answer key lives apart from questions and from candidates' responses.
CREATE TABLE answer_keys (
    question_version_id BIGINT PRIMARY KEY REFERENCES question_versions(id),
    answer TEXT NOT NULL
);

CREATE TABLE blueprints (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    spec TEXT NOT NULL,
    created_by BIGINT REFERENCES users(id),
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE sittings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    title TEXT NOT NULL,
    kind TEXT NOT NULL,
    blueprint_id BIGINT NOT NULL REFERENCES blueprints(id),
    opens_at TIMESTAMP NOT NULL,
    closes_at TIMESTAMP NOT NULL,
    duration_minutes INTEGER NOT NULL,
    pass_percent INTEGER NOT NULL,
    multi_rule TEXT NOT NULL,
    score_release TEXT NOT NULL,
    answer_release TEXT NOT NULL,
    eligibility TEXT NOT NULL,
    pool TEXT NOT NULL,
    created_by BIGINT REFERENCES users(id),
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE attempts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    sitting_id BIGINT NOT NULL REFERENCES sittings(id),
    user_id BIGINT NOT NULL REFERENCES users(id),
    seed BIGINT NOT NULL,
    paper TEXT NOT NULL,
    started_at TIMESTAMP NOT NULL,
    deadline TIMESTAMP NOT NULL,
    last_saved_at TIMESTAMP,
    submitted_at TIMESTAMP,
    submit_kind TEXT,
    score_centi BIGINT,
    max_centi BIGINT NOT NULL,
    passed BOOLEAN,
    item_scores TEXT,
    -- one attempt per candidate per sitting, enforced by the database
    UNIQUE (sitting_id, user_id)
);
CREATE INDEX attempts_open_deadline ON attempts(submitted_at, deadline);
CREATE INDEX attempts_user ON attempts(user_id);

CREATE TABLE responses (
    attempt_id BIGINT NOT NULL REFERENCES attempts(id),
    question_version_id BIGINT NOT NULL,
    choices TEXT NOT NULL,
    flagged BOOLEAN NOT NULL,
    saved_at TIMESTAMP NOT NULL,
    PRIMARY KEY (attempt_id, question_version_id)
) WITHOUT ROWID; -- clustered by attempt: a save writes one B-tree page, not a row and an index
