-- Fair papers (issue 16), postgres. Mirrors the other backend's migration of the same name.

-- Item exposure: on how many papers of a closed sitting each question version appeared,
-- counted once from the attempts' stored papers when the sitting closes
-- (services::exposure::record_closed; open sittings are counted from their papers when asked).
-- Exposure overall is the sum over sittings.
CREATE TABLE item_exposure (
    sitting_id BIGINT NOT NULL REFERENCES sittings(id),
    question_version_id BIGINT NOT NULL REFERENCES question_versions(id),
    papers INTEGER NOT NULL,
    PRIMARY KEY (sitting_id, question_version_id)
);
CREATE INDEX item_exposure_version ON item_exposure(question_version_id);

-- The sittings whose exposure is recorded above, with their number of papers.
CREATE TABLE sitting_exposure (
    sitting_id BIGINT PRIMARY KEY REFERENCES sittings(id),
    papers INTEGER NOT NULL,
    recorded_at TIMESTAMP NOT NULL
);

-- Blueprints saved when a case rule's points were per item (so papers drawing cases of 3 and
-- of 5 items differed in total) are marked; domain::paper refuses to freeze a pool from them.
-- Sittings already frozen keep their pools and papers as they were.
UPDATE blueprints SET spec = '{"case_points_per_item":true,' || substr(spec, 2)
    WHERE spec LIKE '{%' AND spec LIKE '%"kind":"case"%';
