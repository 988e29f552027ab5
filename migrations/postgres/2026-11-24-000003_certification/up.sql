-- Certification, recurring plans, exam-room controls (PostgreSQL). Mirrors ../../sqlite/2026-11-24-000003_certification/up.sql.

-- Rule values an admin edits (one JSON document per key; defaults come from the code).
CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_by BIGINT REFERENCES users(id),
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE certificates (
    id BIGSERIAL PRIMARY KEY,
    number TEXT NOT NULL UNIQUE,
    verify_code TEXT NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users(id),
    level TEXT NOT NULL,
    police_type TEXT NOT NULL,
    issued_on DATE NOT NULL,
    expires_on DATE NOT NULL,
    attempt_id BIGINT REFERENCES attempts(id),
    score_centi BIGINT,
    status TEXT NOT NULL,
    ended_on DATE,
    warned_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (attempt_id)
);
CREATE INDEX certificates_user ON certificates(user_id);

-- Post changes with the date they took effect: leaving an enforcement post starts the lapse clock.
CREATE TABLE post_changes (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id),
    post TEXT NOT NULL,
    enforcement_post BOOLEAN NOT NULL,
    effective_on DATE NOT NULL,
    recorded_by BIGINT REFERENCES users(id),
    recorded_at TIMESTAMP NOT NULL
);
CREATE INDEX post_changes_user ON post_changes(user_id, effective_on);

-- Applications and enrolments for a certification level.
CREATE TABLE cert_registrations (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id),
    level TEXT NOT NULL,
    status TEXT NOT NULL,
    registered_by BIGINT REFERENCES users(id),
    created_at TIMESTAMP NOT NULL,
    sitting_id BIGINT REFERENCES sittings(id)
);
CREATE INDEX cert_registrations_user ON cert_registrations(user_id, level);

CREATE TABLE exam_plans (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL,
    blueprint_id BIGINT NOT NULL REFERENCES blueprints(id),
    eligibility TEXT NOT NULL,
    schedule TEXT NOT NULL,
    duration_minutes INTEGER NOT NULL,
    pass_percent INTEGER NOT NULL,
    multi_rule TEXT NOT NULL,
    score_release TEXT NOT NULL,
    answer_release TEXT NOT NULL,
    last_created DATE,
    active BOOLEAN NOT NULL,
    created_by BIGINT REFERENCES users(id),
    created_at TIMESTAMP NOT NULL
);

ALTER TABLE sittings ADD COLUMN cert_level TEXT;
ALTER TABLE sittings ADD COLUMN controls TEXT NOT NULL DEFAULT '{}';
ALTER TABLE sittings ADD COLUMN plan_id BIGINT REFERENCES exam_plans(id);
ALTER TABLE sittings ADD COLUMN makeup_of BIGINT REFERENCES sittings(id);
ALTER TABLE sittings ADD COLUMN absences_recorded BOOLEAN NOT NULL DEFAULT FALSE;

ALTER TABLE attempts ADD COLUMN flagged BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE attempts ADD COLUMN client_ip TEXT;

-- What happened during an attempt: focus loss, leaving full screen, extra time, re-opening.
CREATE TABLE attempt_events (
    id BIGSERIAL PRIMARY KEY,
    attempt_id BIGINT NOT NULL REFERENCES attempts(id),
    at TIMESTAMP NOT NULL,
    kind TEXT NOT NULL,
    detail TEXT NOT NULL,
    actor_id BIGINT REFERENCES users(id)
);
CREATE INDEX attempt_events_attempt ON attempt_events(attempt_id);

CREATE TABLE absences (
    sitting_id BIGINT NOT NULL REFERENCES sittings(id),
    user_id BIGINT NOT NULL REFERENCES users(id),
    recorded_at TIMESTAMP NOT NULL,
    PRIMARY KEY (sitting_id, user_id)
);
