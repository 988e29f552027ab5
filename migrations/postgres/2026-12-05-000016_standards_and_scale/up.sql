-- Standard setting (modified Angoff) and scores on the calibrated scale (issue 16), postgres.
-- Mirrors the other backend's migration of the same name.

-- A standard-setting study for a certification level: the form the panel rates (each item's
-- question version, points and calibrated difficulty when the study was opened, JSON), the
-- round in progress (1 or 2), and once closed the panel's cut in points with its standard error
-- and on the calibrated scale (logits) with the scale values at cut ± SE.
-- status: 'open' (rating), 'closed' (round 2 done, cut computed), 'adopted'.
CREATE TABLE standard_studies (
    id BIGSERIAL PRIMARY KEY,
    level TEXT NOT NULL,
    blueprint_id BIGINT NOT NULL REFERENCES blueprints(id),
    form TEXT NOT NULL,
    round INTEGER NOT NULL,
    status TEXT NOT NULL,
    opened_by BIGINT NOT NULL REFERENCES users(id),
    opened_at TIMESTAMP NOT NULL,
    cut DOUBLE PRECISION,
    cut_se DOUBLE PRECISION,
    theta DOUBLE PRECISION,
    theta_low DOUBLE PRECISION,
    theta_high DOUBLE PRECISION,
    closed_at TIMESTAMP,
    adopted_by BIGINT REFERENCES users(id),
    adopted_at TIMESTAMP
);

-- One rater's rating of one item of a study's form in one round: the probability that a
-- minimally competent officer answers it right.
CREATE TABLE standard_ratings (
    study_id BIGINT NOT NULL REFERENCES standard_studies(id),
    round INTEGER NOT NULL,
    rater_id BIGINT NOT NULL REFERENCES users(id),
    item INTEGER NOT NULL,
    p DOUBLE PRECISION NOT NULL,
    rated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (study_id, round, rater_id, item)
);

-- The cut a certification sitting decides pass or fail with, fixed when the sitting is
-- created from the level's adopted study (a sitting without a row passes by its pass_percent).
CREATE TABLE sitting_pass_rules (
    sitting_id BIGINT PRIMARY KEY REFERENCES sittings(id),
    study_id BIGINT NOT NULL REFERENCES standard_studies(id),
    theta DOUBLE PRECISION NOT NULL
);

-- A graded attempt's score on the calibrated scale: ability (logits) and its standard error
-- from the calibrated difficulties of the items on its paper at grading, how many of the
-- paper's items were calibrated, and the rule its pass decision used ('percent' or 'scale',
-- with the cut in logits for 'scale'), and the difficulties used (JSON: version id → logits),
-- which a regrade after a challenge reuses so only the key changes a result.
CREATE TABLE scaled_scores (
    attempt_id BIGINT PRIMARY KEY REFERENCES attempts(id),
    ability DOUBLE PRECISION,
    ability_se DOUBLE PRECISION,
    calibrated_items INTEGER NOT NULL,
    paper_items INTEGER NOT NULL,
    rule TEXT NOT NULL,
    cut_theta DOUBLE PRECISION,
    raw_cut DOUBLE PRECISION,
    difficulties TEXT NOT NULL,
    graded_at TIMESTAMP NOT NULL
);
