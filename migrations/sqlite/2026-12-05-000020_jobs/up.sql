-- Background jobs (issue 17), sqlite. Mirrors the other backend's migration of the same name.
-- Long work (an officer import: an argon2 hash per row) runs out of the request: the upload is
-- checked, queued here, and a worker on any app server claims it (services::jobs).
CREATE TABLE jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    payload BLOB NOT NULL,
    state TEXT NOT NULL DEFAULT 'queued',
    rows_done INTEGER NOT NULL DEFAULT 0,
    rows_total INTEGER NOT NULL DEFAULT 0,
    -- JSON when done; the initial passwords in it are erased once the starter has seen them
    result TEXT,
    -- why it failed, one line each
    errors TEXT,
    created_by BIGINT NOT NULL REFERENCES users(id),
    -- the worker holding it and when it last said so; a stale heartbeat puts it back in the queue
    claimed_by TEXT,
    heartbeat_at TIMESTAMP,
    -- how many times a worker claimed it (1 unless a server died while running it)
    runs INTEGER NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    started_at TIMESTAMP,
    finished_at TIMESTAMP
);
CREATE INDEX jobs_state ON jobs(state, id);
