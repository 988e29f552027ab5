-- Work that one app server at a time should do (issue 18), postgres. Mirrors the other backend's
-- migration of the same name. A server takes a lease by name (the dated sweep's is
-- 'dated_sweep') and renews it while it runs; the others skip that work until the lease runs
-- out, so a server that dies hands it on within one lease (services::operations).
CREATE TABLE leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
