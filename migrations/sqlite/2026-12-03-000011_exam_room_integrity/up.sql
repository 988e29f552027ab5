-- Exam-room integrity (issue 15), sqlite. Mirrors the other backend's migration of the same name.

-- Separation of duties: a user who can read keys (trainer) may sit a graded sitting only
-- under an exception an admin records for that sitting, with a reason (audited).
CREATE TABLE sitting_exceptions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    sitting_id BIGINT NOT NULL REFERENCES sittings(id),
    user_id BIGINT NOT NULL REFERENCES users(id),
    reason TEXT NOT NULL,
    granted_by BIGINT NOT NULL REFERENCES users(id),
    granted_at TIMESTAMP NOT NULL,
    UNIQUE (sitting_id, user_id)
);

-- Wrong access codes per candidate and sitting: at the limit the candidate's start is refused
-- until the proctor lets them in (which clears the count).
CREATE TABLE access_code_failures (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    sitting_id BIGINT NOT NULL REFERENCES sittings(id),
    user_id BIGINT NOT NULL REFERENCES users(id),
    failures INTEGER NOT NULL,
    last_at TIMESTAMP NOT NULL,
    UNIQUE (sitting_id, user_id)
);
