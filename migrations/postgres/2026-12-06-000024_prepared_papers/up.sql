-- Papers prepared before a sitting opens (issue 18), postgres. Mirrors the other backend's
-- migration of the same name. Each listed candidate's paper is drawn from the frozen pool with
-- its own seed before the window opens (services::prepared), so a start only moves it into
-- `attempts`. A prepared paper is not an attempt: nothing that counts, lists or reports
-- attempts reads this table, and no page or API shows it.
CREATE TABLE prepared_papers (
    sitting_id BIGINT NOT NULL REFERENCES sittings(id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    seed BIGINT NOT NULL,
    paper TEXT NOT NULL,
    max_centi BIGINT NOT NULL,
    -- sittings.pool_hash of the pool it was drawn from: a start uses it only while they match
    pool_hash TEXT NOT NULL,
    prepared_at TIMESTAMP NOT NULL,
    PRIMARY KEY (sitting_id, user_id)
);
-- SHA-256 of the pool's JSON, written with the pool; '' = not known yet (sittings frozen before
-- this release, or a pool written without it: see the trigger)
ALTER TABLE sittings ADD COLUMN pool_hash TEXT NOT NULL DEFAULT '';
-- A pool written by any path (a re-freeze, an edit, a hand-made UPDATE) invalidates the papers
-- prepared from the old one; a write that did not set the new hash leaves it unknown.
CREATE FUNCTION sittings_pool_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.pool IS DISTINCT FROM OLD.pool THEN
        DELETE FROM prepared_papers WHERE sitting_id = NEW.id;
        IF NEW.pool_hash = OLD.pool_hash THEN
            NEW.pool_hash := '';
        END IF;
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER sittings_pool_changed BEFORE UPDATE OF pool ON sittings
FOR EACH ROW EXECUTE FUNCTION sittings_pool_changed();
